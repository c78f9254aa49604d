/* Loss settings that change during training: large_margin_softmax's lambda,
 * annealed from a large value (plain softmax's easy start) towards
 * lambda_min, as Liu et al. (2016) do in their released code:
 * lambda_t = max(lambda_min, lambda (1 + gamma t)^-power). */
#include <math.h>

#include "core/graph_internal.h"
#include "model/model_internal.h"

void nerve_model_anneal_loss(nerve_model *m, int64_t step)
{
    const nerve_loss_options *o = &m->settings.loss_options;
    if (m->settings.loss != NERVE_LOSS_LARGE_MARGIN_SOFTMAX || o->lambda_gamma == 0) return;
    double lambda = o->lambda * pow(1 + o->lambda_gamma * (double)step, -o->lambda_power);
    m->graph->nodes[m->loss].attr.loss.param = lambda > o->lambda_min ? lambda : o->lambda_min;
}
