/* The activations that own a parameter, as layers: they declare it under
 * the layer's name, as torch.nn.PReLU and a learnable-beta Swish module
 * would name it in a state_dict, and initialise it. */
#include <stdio.h>

#include "core/graph_internal.h"

/* torch.nn.PReLU's init. */
#define PRELU_INITIAL_SLOPE 0.25

/* Declares <layer>.<suffix> of shape [count] with every value set to value. */
static nerve_node constant_param(nerve_graph *g, const char *layer, const char *suffix,
                                 int64_t count, double value, nerve_error *err)
{
    char name[NERVE_NAME_MAX + 16];
    snprintf(name, sizeof name, "%s.%s", layer, suffix);
    nerve_node p = nerve_param(g, name, nerve_shape_1d(count), err);
    if (p < 0) return -1;
    nerve_status st = nerve_graph_fill(g, nerve_node_value(g, p), count, (nerve_real)value);
    return nerve_graph_pass_error(g, st, err) == NERVE_OK ? p : -1;
}

static nerve_node named(nerve_graph *g, nerve_node y, const char *name, nerve_error *err)
{
    if (y < 0 || nerve_graph_rename(g, y, name, err) != NERVE_OK) return -1;
    return y;
}

nerve_node nerve_prelu_layer(nerve_graph *g, const char *name, nerve_node x, bool per_channel,
                             nerve_error *err)
{
    nerve_shape shape = nerve_node_shape(g, x);
    if (per_channel && shape.ndim < 2) {
        nerve_error_set(err, NERVE_ERR_SHAPE, "prelu '%s': per-channel slopes need a dim 1",
                        name);
        return -1;
    }
    int64_t count = per_channel ? shape.dim[1] : 1;
    nerve_node weight = constant_param(g, name, "weight", count, PRELU_INITIAL_SLOPE, err);
    if (weight < 0) return -1;
    return named(g, nerve_prelu(g, x, weight, err), name, err);
}

nerve_node nerve_swish_layer(nerve_graph *g, const char *name, nerve_node x, float beta,
                             nerve_error *err)
{
    nerve_node b = constant_param(g, name, "beta", 1, beta, err);
    if (b < 0) return -1;
    return named(g, nerve_swish_learnable(g, x, b, err), name, err);
}
