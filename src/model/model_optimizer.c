/* A model's optimizer: its [optimizer] settings over its graph, with the
 * layers' own weight_decay and l1 as parameter groups. The model only
 * describes it; whoever trains (nerve_train, a GAN, the caller) owns it. */
#include <math.h>

#include "model/model_internal.h"

/* A layer's weight_decay and l1 (cfg overrides) replace the optimizer's for
 * the layer's parameters, as a PyTorch parameter group. */
static nerve_status apply_layer_regularization(const nerve_model *m, nerve_optimizer *opt,
                                               nerve_error *err)
{
    const nerve_optimizer_options *o = &m->settings.optimizer;
    for (int i = 0; i < m->layer_count; i++) {
        const model_layer *layer = &m->layers[i];
        if (isnan(layer->weight_decay) && isnan(layer->l1)) continue;
        double weight_decay = isnan(layer->weight_decay) ? o->weight_decay : layer->weight_decay;
        double l1 = isnan(layer->l1) ? o->l1 : layer->l1;
        for (nerve_node n = layer->first_node; n < layer->end_node; n++) {
            if (!nerve_node_is_param(m->graph, n)) continue;
            nerve_status st = nerve_optimizer_set_regularization(opt, n, weight_decay, l1, err);
            if (st != NERVE_OK) return st;
        }
    }
    return NERVE_OK;
}

nerve_optimizer *nerve_model_optimizer_new(nerve_model *m, nerve_error *err)
{
    nerve_error own = {0};
    nerve_optimizer *opt = nerve_optimizer_new(m->graph, &m->settings.optimizer, &own);
    if (!opt) {
        nerve_error_set(err, own.status, "[optimizer] %s", own.message);
        return NULL;
    }
    if (apply_layer_regularization(m, opt, err) != NERVE_OK) {
        nerve_optimizer_free(opt);
        return NULL;
    }
    return opt;
}
