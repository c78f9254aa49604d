/* dense: a fully connected layer, PyTorch nn.Linear's parameters
 * (<name>.weight [units, in], <name>.bias [units]) and an optional activation. */
#include <math.h>
#include <stdio.h>

#include "core/options.h"
#include "layers/layer_support.h"

nerve_init nerve_dense_default_weight_init(void)
{
    /* nn.Linear.reset_parameters: kaiming_uniform_(weight, a=sqrt(5)). The
     * gain sqrt(2 / (1 + 5)) makes the bound sqrt(3) * gain / sqrt(fan_in)
     * equal to 1/sqrt(fan_in). */
    nerve_init init = nerve_init_of(NERVE_INIT_KAIMING_UNIFORM);
    init.a = sqrt(5.0);
    return init;
}

nerve_init nerve_dense_default_bias_init(int64_t fan_in)
{
    /* PyTorch keeps this bias whatever initialiser the weight later gets. */
    double bound = fan_in > 0 ? 1 / sqrt((double)fan_in) : 0;
    nerve_init init = nerve_init_of(NERVE_INIT_UNIFORM);
    init.a = -bound;
    init.b = bound;
    return init;
}

bool nerve_layer_fill_param(nerve_graph *g, nerve_node p, const nerve_init *init, nerve_rng *rng,
                            nerve_error *err)
{
    /* drawn on the host (one stream, whatever the device), then uploaded */
    nerve_error fill_err = {0};
    nerve_real *host = nerve_node_host_view(g, p, false, err);
    if (!host) return false;
    nerve_status st = nerve_init_fill(host, nerve_node_shape(g, p), init, rng, &fill_err);
    if (st != NERVE_OK) {
        nerve_node_host_view_end(g, p, host, false, err);
        nerve_error_set(err, fill_err.status, "%s: %s", nerve_node_name(g, p), fill_err.message);
        return false;
    }
    return nerve_node_host_view_end(g, p, host, true, err) == NERVE_OK;
}

nerve_node nerve_dense(nerve_graph *g, const char *name, nerve_node x,
                       const nerve_dense_options *options, nerve_rng *rng, nerve_error *err)
{
    NERVE_OPTIONS_IN(nerve_dense_options, options, activation_params, "nerve_dense", err, -1);
    char pname[NERVE_NAME_MAX + 16];
    if (options->units < 1) {
        nerve_error_set(err, NERVE_ERR_INVALID, "dense '%s': units must be at least 1", name);
        return -1;
    }
    /* [N, T, C] is a sequence: nn.Linear maps each step. Images and other
     * inputs of more dimensions are flattened, as before any sequence layer. */
    nerve_shape in_shape = nerve_node_shape(g, x);
    if (in_shape.ndim != 2 && in_shape.ndim != 3) x = nerve_flatten(g, x, err);
    if (x < 0) return -1;
    int64_t in = in_shape.ndim == 3 ? in_shape.dim[2] : nerve_shape_cols(&in_shape);

    if (options->no_bias && options->bias_init.kind != NERVE_INIT_DEFAULT) {
        nerve_error_set(err, NERVE_ERR_INVALID, "dense '%s': bias_init given for a layer without "
                        "a bias", name);
        return -1;
    }
    snprintf(pname, sizeof pname, "%s.weight", name);
    nerve_node w = nerve_param(g, pname, nerve_shape_2d(options->units, in), err);
    if (w < 0) return -1;
    nerve_init weight_init = options->init.kind == NERVE_INIT_DEFAULT
                                 ? nerve_dense_default_weight_init()
                                 : options->init;
    if (!nerve_layer_fill_param(g, w, &weight_init, rng, err)) return -1;
    nerve_node b = -1;
    if (!options->no_bias) {
        snprintf(pname, sizeof pname, "%s.bias", name);
        b = nerve_param(g, pname, nerve_shape_1d(options->units), err);
        if (b < 0) return -1;
        nerve_init bias_init = options->bias_init.kind == NERVE_INIT_DEFAULT
                                   ? nerve_dense_default_bias_init(in)
                                   : options->bias_init;
        if (!nerve_layer_fill_param(g, b, &bias_init, rng, err)) return -1;
    }
    nerve_node y = nerve_linear(g, x, w, b, err);
    if (y < 0 || nerve_graph_rename(g, y, name, err) != NERVE_OK) return -1;
    if (options->activation == NERVE_ACT_IDENTITY) return y;
    nerve_node a = nerve_activate(g, y, options->activation, options->activation_params, err);
    snprintf(pname, sizeof pname, "%s.%s", name, nerve_activation_name(options->activation));
    if (a < 0 || nerve_graph_rename(g, a, pname, err) != NERVE_OK) return -1;
    return a;
}
