/* dense: a fully connected layer, PyTorch nn.Linear's parameters
 * (<name>.weight [units, in], <name>.bias [units]) and an optional activation. */
#include <stdio.h>

#include "core/graph_internal.h"

nerve_node nerve_dense(nerve_graph *g, const char *name, nerve_node x,
                       const nerve_dense_options *options, nerve_rng *rng, nerve_error *err)
{
    char pname[NERVE_NAME_MAX + 16];
    if (options->units < 1) {
        nerve_error_set(err, NERVE_ERR_INVALID, "dense '%s': units must be at least 1", name);
        return -1;
    }
    nerve_shape in_shape = nerve_node_shape(g, x);
    if (in_shape.ndim != 2) x = nerve_flatten(g, x, err);
    if (x < 0) return -1;
    int64_t in = nerve_shape_cols(&in_shape);

    snprintf(pname, sizeof pname, "%s.weight", name);
    nerve_node w = nerve_param(g, pname, nerve_shape_2d(options->units, in), err);
    if (w < 0) return -1;
    nerve_init_fill(nerve_node_value(g, w), options->units * in, in, options->units,
                    options->init, rng);
    nerve_node b = -1;
    if (options->bias) {
        snprintf(pname, sizeof pname, "%s.bias", name);
        b = nerve_param(g, pname, nerve_shape_1d(options->units), err);
        if (b < 0) return -1;
        /* PyTorch draws Linear's bias from U(-1/sqrt(in), 1/sqrt(in)) whatever
         * the weight's initialiser; zeros when the weight is Xavier or He, as
         * those schemes assume. */
        nerve_init bias_init = options->init == NERVE_INIT_DEFAULT ? NERVE_INIT_DEFAULT
                                                                   : NERVE_INIT_ZEROS;
        nerve_init_fill(nerve_node_value(g, b), options->units, in, options->units, bias_init, rng);
    }
    nerve_node y = nerve_linear(g, x, w, b, err);
    if (y < 0 || nerve_graph_rename(g, y, name, err) != NERVE_OK) return -1;
    if (options->activation == NERVE_ACT_IDENTITY) return y;
    nerve_node a = nerve_activate(g, y, options->activation, options->activation_params, err);
    snprintf(pname, sizeof pname, "%s.%s", name, nerve_activation_name(options->activation));
    if (a < 0 || nerve_graph_rename(g, a, pname, err) != NERVE_OK) return -1;
    return a;
}
