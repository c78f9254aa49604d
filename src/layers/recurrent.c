/* Recurrent layers as torch.nn.RNN, LSTM and GRU (batch_first=True): stacked
 * layers, each one or two recurrent ops (the reverse direction beside the
 * forward one, their sequences concatenated per step), dropout between
 * layers, and PyTorch's state_dict names and initialisation. */
#include <math.h>
#include <stdio.h>

#include "layers/layer_support.h"

nerve_recurrent_options nerve_recurrent_options_default(nerve_recurrent_cell cell, int64_t hidden)
{
    return (nerve_recurrent_options){.cell = cell, .hidden = hidden, .layers = 1};
}

/* One tensor named <layer>.<what>_l<k><suffix>, filled from law. */
static nerve_node recurrent_param(nerve_graph *g, const char *name, const char *what, int64_t k,
                                  const char *suffix, nerve_shape shape, const nerve_init *law,
                                  nerve_rng *rng, nerve_error *err)
{
    char pname[NERVE_NAME_MAX + 32];
    snprintf(pname, sizeof pname, "%s.%s_l%lld%s", name, what, (long long)k, suffix);
    nerve_node p = nerve_param(g, pname, shape, err);
    if (p < 0 || !nerve_layer_fill_param(g, p, law, rng, err)) return -1;
    return p;
}

/* One direction of layer k over x: its parameters, in PyTorch's order
 * (weight_ih, weight_hh, bias_ih, bias_hh), and its op <name>_l<k><suffix>. */
static nerve_node direction(nerve_graph *g, const char *name, nerve_node x, int64_t k,
                            bool reverse, bool last, const nerve_recurrent_options *o,
                            nerve_rng *rng, nerve_error *err)
{
    const char *suffix = reverse ? "_reverse" : "";
    int64_t GH = nerve_recurrent_gate_count(o->cell) * o->hidden;
    int64_t in = nerve_node_shape(g, x).dim[2];
    /* RNNBase.reset_parameters: every tensor from U(-1/sqrt(H), 1/sqrt(H)). */
    double bound = 1 / sqrt((double)o->hidden);
    nerve_init pytorch = nerve_init_of(NERVE_INIT_UNIFORM);
    pytorch.a = -bound;
    pytorch.b = bound;
    const nerve_init *weight_law = o->init.kind == NERVE_INIT_DEFAULT ? &pytorch : &o->init;
    const nerve_init *hh_law = o->init_hh.kind == NERVE_INIT_DEFAULT ? weight_law : &o->init_hh;
    const nerve_init *bias_law = o->bias_init.kind == NERVE_INIT_DEFAULT ? &pytorch : &o->bias_init;
    nerve_node w_ih = recurrent_param(g, name, "weight_ih", k, suffix, nerve_shape_2d(GH, in),
                                      weight_law, rng, err);
    if (w_ih < 0) return -1;
    nerve_node w_hh = recurrent_param(g, name, "weight_hh", k, suffix,
                                      nerve_shape_2d(GH, o->hidden), hh_law, rng, err);
    if (w_hh < 0) return -1;
    nerve_node b_ih = -1, b_hh = -1;
    if (!o->no_bias) {
        b_ih = recurrent_param(g, name, "bias_ih", k, suffix, nerve_shape_1d(GH), bias_law, rng,
                               err);
        if (b_ih < 0) return -1;
        b_hh = recurrent_param(g, name, "bias_hh", k, suffix, nerve_shape_1d(GH), bias_law, rng,
                               err);
        if (b_hh < 0) return -1;
    }
    nerve_node y = nerve_recurrent(g, o->cell, x, w_ih, w_hh, b_ih, b_hh, reverse, last, err);
    char op_name[NERVE_NAME_MAX + 32];
    snprintf(op_name, sizeof op_name, "%s_l%lld%s", name, (long long)k, suffix);
    if (y < 0 || nerve_graph_rename(g, y, op_name, err) != NERVE_OK) return -1;
    return y;
}

static nerve_status check_options(nerve_graph *g, const char *name, nerve_node x,
                                  const nerve_recurrent_options *o, nerve_error *err)
{
    char xs[64];
    nerve_shape in = nerve_node_shape(g, x);
    if (o->cell < NERVE_CELL_RNN_TANH || o->cell > NERVE_CELL_GRU)
        return nerve_error_set(err, NERVE_ERR_INVALID, "recurrent '%s': unknown cell %d", name,
                               (int)o->cell);
    if (o->hidden < 1 || o->layers < 1)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "recurrent '%s': hidden and layers must be at least 1", name);
    if (!(o->dropout >= 0 && o->dropout < 1))
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "recurrent '%s': dropout must be in [0, 1), got %g", name,
                               o->dropout);
    if (in.ndim != 3)
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "recurrent '%s': input %s is not a batch of sequences [N, T, "
                               "features] (input = TxF)",
                               name, nerve_shape_format(&in, xs, sizeof xs));
    return NERVE_OK;
}

nerve_node nerve_recurrent_layer(nerve_graph *g, const char *name, nerve_node x,
                                 const nerve_recurrent_options *options, nerve_rng *rng,
                                 nerve_error *err)
{
    if (check_options(g, name, x, options, err) != NERVE_OK) return -1;
    char node_name[NERVE_NAME_MAX + 32];
    nerve_node y = x;
    for (int64_t k = 0; k < options->layers; k++) {
        bool top = k == options->layers - 1, last = top && options->last;
        nerve_node out[2];
        for (int d = 0; d < (options->bidirectional ? 2 : 1); d++) {
            out[d] = direction(g, name, y, k, d == 1, last, options, rng, err);
            if (out[d] < 0) return -1;
        }
        /* The layer's output is the next layer's input: [N, T, D H]. */
        snprintf(node_name, sizeof node_name, "%s_l%lld_out", name, (long long)k);
        if (options->bidirectional)
            y = nerve_concat_axis(g, top ? name : node_name, out, 2, -1, err);
        else if (top)
            y = nerve_identity(g, out[0], err);
        else
            y = out[0];
        if (y < 0) return -1;
        if (top && !options->bidirectional && nerve_graph_rename(g, y, name, err) != NERVE_OK)
            return -1;
        if (top || options->dropout == 0) continue;
        /* nn.RNN's dropout: on each layer's output but the last, in training. */
        y = nerve_dropout(g, y, options->dropout, err);
        snprintf(node_name, sizeof node_name, "%s_l%lld_dropout", name, (long long)k);
        if (y < 0 || nerve_graph_rename(g, y, node_name, err) != NERVE_OK) return -1;
    }
    return y;
}
