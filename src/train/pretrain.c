/* Greedy layer-wise pre-training (Hinton & Salakhutdinov 2006; Bengio et al.
 * 2007): bottom up, each hidden dense layer is the encoder of a small
 * autoencoder, built in code, that learns to reconstruct the layer's input;
 * its weights then go back into the model. The input of a layer is the
 * training set passed once, in eval mode, through the model's own graph up
 * to the layer, so that any parameterless layers in between (activations,
 * dropout, reshapes, joins) act as they will when the model runs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_internal.h"
#include "core/options.h"
#include "model/model_internal.h"
#include "train/batching.h"

static nerve_pretrain_options nerve_pretrain_options_from_value(const nerve_model *m)
{
    nerve_pretrain_options o = {0};
    o.epochs = m->settings.epochs;
    o.batch = m->settings.batch;
    o.lr = m->settings.optimizer.lr;
    o.seed = m->settings.seed;
    return o;
}

void nerve_pretrain_options_from_sized(const nerve_model *m,
                                       nerve_pretrain_options *out, size_t size)
{
    nerve_pretrain_options value = nerve_pretrain_options_from_value(m);
    nerve_options_write(out, size, &value, sizeof value);
}

/* One hidden layer to pre-train: where its input comes from in the model's
 * graph, its parameters there, and the encoder's activation. */
typedef struct pretrain_layer {
    const model_layer *layer;
    nerve_node feed;             /* the linear op's input: [N, in], or [N, T, in] */
    nerve_node weight, bias;     /* bias -1 when the layer has none */
    int64_t inputs, units;
    nerve_activation activation; /* NERVE_ACT_IDENTITY without one */
    nerve_activation_params activation_params;
} pretrain_layer;

static bool layer_has_trainable_params(nerve_graph *g, const model_layer *layer)
{
    for (nerve_node n = layer->first_node; n < layer->end_node; n++)
        if (nerve_node_is_param(g, n) && !nerve_node_is_buffer(g, n)) return true;
    return false;
}

static bool is_op(nerve_graph *g, nerve_node n, const char *op)
{
    const char *name = nerve_node_op_name(g, n);
    return name && strcmp(name, op) == 0;
}

/* A [dense] layer: a linear op on its weight and bias, then at most one
 * activation op (nerve_activate's fixed element-wise kinds; not prelu or a
 * learnable swish, which have parameters, nor rrelu or crelu). */
static nerve_status describe_dense(nerve_graph *g, const model_layer *layer, pretrain_layer *out,
                                   nerve_error *err)
{
    nerve_node linear = -1;
    for (nerve_node n = layer->first_node; n < layer->end_node; n++)
        if (is_op(g, n, "linear")) linear = n;
    const nerve_node_data *op = nerve_graph_node(g, linear);
    out->layer = layer;
    out->feed = op->input[0];
    out->weight = op->input[1];
    out->bias = op->input_count > 2 ? op->input[2] : -1;
    nerve_shape w = nerve_node_shape(g, out->weight);
    out->units = w.dim[0];
    out->inputs = w.dim[1];
    out->activation = NERVE_ACT_IDENTITY;
    out->activation_params = nerve_activation_defaults();
    if (layer->output == linear) return NERVE_OK;
    bool own_params = false;
    for (nerve_node n = layer->first_node; n < layer->end_node; n++)
        own_params |= nerve_node_is_param(g, n) && n != out->weight && n != out->bias;
    const nerve_node_data *act = nerve_graph_node(g, layer->output);
    if (own_params || !is_op(g, layer->output, "activation") || act->input[0] != linear)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "pretrain: layer '%s': its activation ('%s', op %s) cannot be "
                               "pre-trained: only fixed element-wise ones (sigmoid, tanh, relu, "
                               "...) can",
                               layer->name, nerve_node_name(g, layer->output),
                               nerve_node_op_name(g, layer->output));
    out->activation = act->attr.activation.kind;
    out->activation_params = act->attr.activation.params;
    return NERVE_OK;
}

/* The layers below the output layer (the last with trainable parameters),
 * in cfg order; *count 0 is an error. */
static nerve_status find_hidden_layers(nerve_model *m, pretrain_layer *layers, int *count,
                                       nerve_error *err)
{
    nerve_graph *g = m->graph;
    int output = m->layer_count - 1;
    while (output >= 0 && !layer_has_trainable_params(g, &m->layers[output])) output--;
    if (output < 0)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "pretrain: the network has no layer with trainable parameters");
    *count = 0;
    for (int i = 0; i < output; i++) {
        const model_layer *layer = &m->layers[i];
        if (!layer_has_trainable_params(g, layer)) continue;
        if (strcmp(layer->type, "dense") != 0)
            return nerve_error_set(err, NERVE_ERR_INVALID,
                                   "pretrain: layer '%s' is a [%s]: only [dense] layers can be "
                                   "pre-trained (below the output layer '%s')",
                                   layer->name, layer->type, m->layers[output].name);
        nerve_status st = describe_dense(g, layer, &layers[(*count)++], err);
        if (st != NERVE_OK) return st;
    }
    if (*count == 0)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "pretrain: no hidden layer to pre-train: '%s' is the output layer, "
                               "which stays as initialised",
                               m->layers[output].name);
    return NERVE_OK;
}

/* The layer's inputs for the whole training set: rows of `inputs` values.
 * When the feed is the model's input itself (maybe flattened) these are the
 * training inputs, not copied (*owned false). */
static nerve_status layer_inputs(nerve_model *m, const nerve_dataset *train,
                                 const pretrain_layer *layer, int64_t batch, nerve_dataset *out,
                                 bool *owned, nerve_error *err)
{
    nerve_graph *g = m->graph;
    nerve_shape sample = nerve_node_shape(g, layer->feed);
    int64_t rows_per_sample = nerve_shape_cols(&sample) / layer->inputs;
    memset(out, 0, sizeof *out);
    out->count = train->count * rows_per_sample;
    out->sample_shape = nerve_shape_1d(layer->inputs);
    out->sample_size = layer->inputs;
    nerve_node source = layer->feed;
    while (nerve_graph_node(g, source)->op && nerve_graph_node(g, source)->op->aliases_input)
        source = nerve_graph_node(g, source)->input[0];
    *owned = source != m->input;
    if (!*owned) { /* the training set itself, as it is stored */
        out->inputs = train->inputs;
        out->pixels = train->pixels;
        memcpy(out->pixel_values, train->pixel_values, sizeof out->pixel_values);
        return NERVE_OK;
    }
    out->inputs = malloc((size_t)out->count * (size_t)layer->inputs * sizeof *out->inputs);
    int64_t *index = malloc((size_t)batch * sizeof *index);
    if (!out->inputs || !index) {
        free(index);
        free(out->inputs);
        return nerve_error_set(err, NERVE_ERR_NOMEM, "pretrain: out of memory for the inputs of "
                               "layer '%s'", layer->layer->name);
    }
    size_t row = (size_t)rows_per_sample * (size_t)layer->inputs;
    for (int64_t first = 0; first < train->count; first += batch) {
        int64_t n = train->count - first < batch ? train->count - first : batch;
        for (int64_t i = 0; i < n; i++) index[i] = first + i;
        nerve_status st = nerve_batching_load(m, train, index, n, err);
        if (st == NERVE_OK) st = nerve_graph_forward(g, layer->feed, err);
        nerve_real *codes = st == NERVE_OK ? nerve_node_host_view(g, layer->feed, true, err) : NULL;
        if (!codes) {
            free(index);
            return st != NERVE_OK ? st : err ? err->status : NERVE_ERR_NOMEM;
        }
        float *dst = out->inputs + (size_t)first * row;
        for (size_t k = 0; k < (size_t)n * row; k++) dst[k] = (float)codes[k];
        nerve_node_host_view_end(g, layer->feed, codes, false, err);
    }
    free(index);
    return NERVE_OK;
}

static bool all_in_unit_interval(const nerve_dataset *ds)
{
    size_t n = (size_t)ds->count * (size_t)ds->sample_size;
    for (size_t k = 0; k < n; k++) {
        float x = ds->pixels ? ds->pixel_values[ds->pixels[k]] : ds->inputs[k];
        if (!(x >= 0 && x <= 1)) return false;
    }
    return true;
}

/* The autoencoder of one layer: input -> encoder (the layer) -> decoder ->
 * MSE against the clean input, which is a second input only with noise. */
typedef struct autoencoder {
    nerve_graph *graph;
    nerve_node input, clean, loss, encoder_weight, encoder_bias;
    nerve_optimizer *optimizer;
} autoencoder;

static void autoencoder_free(autoencoder *ae)
{
    nerve_optimizer_free(ae->optimizer);
    nerve_graph_free(ae->graph);
}

static nerve_status autoencoder_build(nerve_model *m, const pretrain_layer *layer,
                                      bool sigmoid_decoder, const nerve_pretrain_options *o,
                                      nerve_rng *rng, autoencoder *ae, nerve_error *err)
{
    memset(ae, 0, sizeof *ae);
    nerve_graph *g = ae->graph = nerve_graph_new();
    if (!g) return nerve_error_set(err, NERVE_ERR_NOMEM, "pretrain: out of memory");
    nerve_error own = {0};
    /* on the model's backend, whatever NERVE_BACKEND says */
    nerve_graph_set_backend(g, nerve_graph_backend(nerve_model_graph(m)), &own);
    nerve_shape row = nerve_shape_1d(layer->inputs);
    ae->input = nerve_input(g, "input", row, &own);
    ae->clean = o->noise > 0 && ae->input >= 0 ? nerve_input(g, "clean", row, &own) : ae->input;
    nerve_dense_options encoder = {.units = layer->units, .no_bias = layer->bias < 0,
                                   .activation = layer->activation,
                                   .activation_params = &layer->activation_params};
    nerve_dense_options decoder = {.units = layer->inputs,
                                   .activation = sigmoid_decoder ? NERVE_ACT_SIGMOID
                                                                 : NERVE_ACT_IDENTITY};
    nerve_node code = ae->clean >= 0 ? nerve_dense(g, "encoder", ae->input, &encoder, rng, &own)
                                     : -1;
    nerve_node reconstruction = code >= 0 ? nerve_dense(g, "decoder", code, &decoder, rng, &own)
                                          : -1;
    /* Summed: backward scales it by 1 / batch, giving the squared error summed
     * over a row's values and averaged over the rows (Vincent et al.'s
     * objective); the per-element mean would shrink every gradient by the
     * input width and leave the autoencoder barely trained in a few epochs. */
    nerve_loss_options summed = nerve_loss_options_default();
    summed.reduction = NERVE_REDUCTION_SUM;
    ae->loss = reconstruction >= 0 ? nerve_mse(g, reconstruction, ae->clean, &summed, &own) : -1;
    if (ae->loss < 0 || nerve_graph_plan(g, o->batch, &own) != NERVE_OK)
        return nerve_error_set(err, own.status, "pretrain: layer '%s': %s", layer->layer->name,
                               own.message);
    ae->encoder_weight = nerve_graph_find(g, "encoder.weight");
    ae->encoder_bias = nerve_graph_find(g, "encoder.bias");
    /* The encoder starts from the model's own initial weights. */
    nerve_graph *model = m->graph;
    nerve_status st = nerve_graph_transfer(g, nerve_node_value(g, ae->encoder_weight), model,
                                           nerve_node_value(model, layer->weight),
                                           layer->units * layer->inputs, err);
    if (st == NERVE_OK && layer->bias >= 0)
        st = nerve_graph_transfer(g, nerve_node_value(g, ae->encoder_bias), model,
                                  nerve_node_value(model, layer->bias), layer->units, err);
    if (st != NERVE_OK) return st;
    nerve_optimizer_options options = m->settings.optimizer;
    options.lr = o->lr;
    ae->optimizer = nerve_optimizer_new(g, &options, &own);
    if (!ae->optimizer)
        return nerve_error_set(err, own.status, "pretrain: [optimizer] %s", own.message);
    return NERVE_OK;
}

/* Masking noise (Vincent et al. 2008): each value zeroed with probability p. */
static void mask_inputs(nerve_real *x, int64_t count, double p, nerve_rng *rng)
{
    for (int64_t k = 0; k < count; k++)
        if (nerve_rng_uniform(rng) < p) x[k] = 0;
}

/* Loads rows index[0..n) of ds as the input (and the clean target), then
 * masks the input with probability noise (rng NULL: no noise). */
static nerve_status autoencoder_load(autoencoder *ae, const nerve_dataset *ds,
                                     const int64_t *index, int64_t n, double noise,
                                     nerve_rng *rng, nerve_error *err)
{
    nerve_graph *g = ae->graph;
    nerve_status st = nerve_graph_set_batch(g, n, err);
    if (st != NERVE_OK) return st;
    nerve_real *x = nerve_node_host_view(g, ae->input, false, err);
    if (!x) return err ? err->status : NERVE_ERR_NOMEM;
    nerve_dataset_gather(ds, index, n, x, NULL);
    if (ae->clean != ae->input)
        st = nerve_graph_upload(g, nerve_node_value(g, ae->clean), x, n * ds->sample_size);
    if (rng && noise > 0) mask_inputs(x, n * ds->sample_size, noise, rng);
    nerve_status end = nerve_node_host_view_end(g, ae->input, x, true, err);
    return st != NERVE_OK ? nerve_graph_pass_error(g, st, err) : end;
}

/* *error = the mean squared error per value of the clean rows of ds. */
static nerve_status reconstruction_error(autoencoder *ae, const nerve_dataset *ds, int64_t batch,
                                         int64_t *index, double *error, nerve_error *err)
{
    double sum = 0;
    for (int64_t first = 0; first < ds->count; first += batch) {
        int64_t n = ds->count - first < batch ? ds->count - first : batch;
        for (int64_t i = 0; i < n; i++) index[i] = first + i;
        nerve_real loss;
        nerve_status st = autoencoder_load(ae, ds, index, n, 0, NULL, err);
        if (st == NERVE_OK) st = nerve_graph_forward(ae->graph, ae->loss, err);
        if (st == NERVE_OK) st = nerve_node_read(ae->graph, ae->loss, &loss, 1, err);
        if (st != NERVE_OK) return st;
        sum += (double)loss;
    }
    *error = sum / ((double)ds->count * (double)ds->sample_size);
    return NERVE_OK;
}

static nerve_status train_autoencoder(autoencoder *ae, const nerve_dataset *ds,
                                      const nerve_pretrain_options *o, nerve_rng *rng,
                                      int64_t *order, nerve_pretrain_report *r, double start,
                                      nerve_error *err)
{
    for (int64_t i = 0; i < ds->count; i++) order[i] = i;
    nerve_graph *g = ae->graph;
    for (int epoch = 1; epoch <= o->epochs; epoch++) {
        nerve_rng_shuffle(rng, order, ds->count);
        double sum = 0;
        for (int64_t first = 0; first < ds->count; first += o->batch) {
            int64_t n = ds->count - first < o->batch ? ds->count - first : o->batch;
            nerve_status loaded = autoencoder_load(ae, ds, order + first, n, o->noise, rng, err);
            if (loaded != NERVE_OK) return loaded;
            nerve_real per_row = (nerve_real)(1.0 / (double)n);
            nerve_graph_zero_grad(g);
            nerve_real value;
            nerve_status st = nerve_graph_forward(g, ae->loss, err);
            if (st == NERVE_OK) st = nerve_graph_backward_from(g, ae->loss, &per_row, err);
            if (st == NERVE_OK) st = nerve_node_read(g, ae->loss, &value, 1, err);
            if (st != NERVE_OK) return st;
            st = nerve_optimizer_step(ae->optimizer);
            if (st != NERVE_OK) return nerve_graph_pass_error(g, st, err);
            double loss = (double)value;
            if (!isfinite(loss))
                return nerve_error_set(err, NERVE_ERR_NUMERIC,
                                       "pretrain: layer '%s', epoch %d: the reconstruction loss is "
                                       "%g (lower the learning rate)",
                                       r->layer, epoch, loss);
            sum += loss;
        }
        r->epoch = epoch;
        r->loss = sum / ((double)ds->count * (double)ds->sample_size);
        r->seconds = nerve_seconds_now() - start;
        if (o->on_epoch) o->on_epoch(r, o->user);
    }
    return NERVE_OK;
}

/* Pre-trains one layer on its inputs and copies the encoder into it. */
static nerve_status pretrain_layer_on(nerve_model *m, const pretrain_layer *layer,
                                      const nerve_dataset *inputs, const nerve_pretrain_options *o,
                                      nerve_pretrain_report *r, nerve_error *err)
{
    double start = nerve_seconds_now();
    nerve_rng rng;
    /* Each layer its own stream, apart from the weights' and the model's. */
    nerve_rng_seed(&rng, o->seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)r->index));
    r->sigmoid_decoder = all_in_unit_interval(inputs);
    autoencoder ae = {0};
    int64_t *order = malloc((size_t)inputs->count * sizeof *order);
    nerve_status st = order ? autoencoder_build(m, layer, r->sigmoid_decoder, o, &rng, &ae, err)
                            : nerve_error_set(err, NERVE_ERR_NOMEM, "pretrain: out of memory");
    if (st == NERVE_OK) {
        nerve_graph_set_training(ae.graph, true);
        r->end_loss = NAN;
        st = reconstruction_error(&ae, inputs, o->batch, order, &r->start_loss, err);
    }
    if (st == NERVE_OK) st = train_autoencoder(&ae, inputs, o, &rng, order, r, start, err);
    if (st == NERVE_OK) st = reconstruction_error(&ae, inputs, o->batch, order, &r->end_loss, err);
    if (st == NERVE_OK) {
        nerve_graph *model = m->graph;
        st = nerve_graph_transfer(model, nerve_node_value(model, layer->weight), ae.graph,
                                  nerve_node_value(ae.graph, ae.encoder_weight),
                                  layer->units * layer->inputs, err);
        if (st == NERVE_OK && layer->bias >= 0)
            st = nerve_graph_transfer(model, nerve_node_value(model, layer->bias), ae.graph,
                                      nerve_node_value(ae.graph, ae.encoder_bias), layer->units,
                                      err);
    }
    if (st == NERVE_OK) {
        r->epoch = o->epochs;
        r->seconds = nerve_seconds_now() - start;
        if (o->on_layer) o->on_layer(r, o->user);
    }
    autoencoder_free(&ae);
    free(order);
    return st;
}

static nerve_status check_options(const nerve_pretrain_options *o, const nerve_dataset *train,
                                  nerve_error *err)
{
    if (o->epochs < 1)
        return nerve_error_set(err, NERVE_ERR_INVALID, "pretrain: epochs must be at least 1, got %d",
                               o->epochs);
    if (o->batch < 1)
        return nerve_error_set(err, NERVE_ERR_INVALID, "pretrain: batch must be at least 1, got %lld",
                               (long long)o->batch);
    if (!(o->noise >= 0 && o->noise < 1))
        return nerve_error_set(err, NERVE_ERR_INVALID, "pretrain: noise %g is out of range [0, 1)",
                               o->noise);
    if (!(o->lr > 0 && isfinite(o->lr)))
        return nerve_error_set(err, NERVE_ERR_INVALID, "pretrain: lr must be above 0, got %g",
                               o->lr);
    if (train->count == 0)
        return nerve_error_set(err, NERVE_ERR_INVALID, "pretrain: no training samples");
    if (train->lanes > 0)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "pretrain: a text stream ([net] bptt) cannot be pre-trained");
    return NERVE_OK;
}

nerve_status nerve_pretrain(nerve_model *m, const nerve_dataset *train,
                            const nerve_pretrain_options *options, nerve_error *err)
{
    NERVE_OPTIONS_IN(nerve_pretrain_options, options, user, "nerve_pretrain",
                     err, NERVE_ERR_INVALID);
    nerve_pretrain_options o = *options;
    if (o.batch == 0) o.batch = train->count;
    nerve_status st = check_options(&o, train, err);
    if (st != NERVE_OK) return st;
    pretrain_layer *layers = malloc((size_t)m->layer_count * sizeof *layers);
    if (!layers) return nerve_error_set(err, NERVE_ERR_NOMEM, "pretrain: out of memory");
    int count = 0;
    st = find_hidden_layers(m, layers, &count, err);
    if (st == NERVE_OK)
        st = nerve_model_check_dataset_tokens(m, train, "training set", err);
    if (st == NERVE_OK) st = nerve_graph_plan(m->graph, o.batch, err);
    /* The codes passed up are the model's eval-mode outputs (no dropout). */
    nerve_graph_set_training(m->graph, false);
    for (int k = 0; st == NERVE_OK && k < count; k++) {
        nerve_dataset inputs;
        bool owned;
        st = layer_inputs(m, train, &layers[k], o.batch, &inputs, &owned, err);
        if (st != NERVE_OK) break;
        nerve_pretrain_report r = {.layer = layers[k].layer->name, .index = k + 1, .count = count,
                                   .inputs = layers[k].inputs, .units = layers[k].units,
                                   .epochs = o.epochs};
        st = pretrain_layer_on(m, &layers[k], &inputs, &o, &r, err);
        if (owned) free(inputs.inputs);
    }
    free(layers);
    return st;
}
