/* batchnorm: torch.nn.BatchNorm1d / BatchNorm2d, whose state_dict entries it
 * declares under the same names, in the same order, with the same initial
 * values: <name>.weight (1) and <name>.bias (0) when affine, then the
 * buffers <name>.running_mean (0), <name>.running_var (1) and the int64
 * scalar <name>.num_batches_tracked (0) when tracking running statistics. */
#include <stdio.h>

#include "core/graph_internal.h"
#include "core/options.h"

static nerve_batchnorm_options nerve_batchnorm_defaults_value(void)
{
    return (nerve_batchnorm_options){
        .eps = 1e-5, .momentum = 0.1, .no_affine = false, .no_running_stats = false};
}

void nerve_batchnorm_defaults_sized(nerve_batchnorm_options *out, size_t size)
{
    nerve_batchnorm_options value = nerve_batchnorm_defaults_value();
    nerve_options_write(out, size, &value, sizeof value);
}

typedef nerve_node (*tensor_declarer)(nerve_graph *g, const char *name, nerve_shape shape,
                                      nerve_error *err);

/* Declares <layer>.<suffix> with `declare` (a parameter or a buffer) and
 * sets every value to value. */
static nerve_node filled(nerve_graph *g, tensor_declarer declare, const char *layer,
                         const char *suffix, nerve_shape shape, double value, nerve_error *err)
{
    char name[NERVE_NAME_MAX + 32];
    snprintf(name, sizeof name, "%s.%s", layer, suffix);
    nerve_node n = declare(g, name, shape, err);
    if (n < 0) return -1;
    nerve_status st = nerve_graph_fill(g, nerve_node_value(g, n), nerve_shape_numel(&shape),
                                       (nerve_real)value);
    return nerve_graph_pass_error(g, st, err) == NERVE_OK ? n : -1;
}

nerve_node nerve_batchnorm_layer(nerve_graph *g, const char *name, nerve_node x,
                                 const nerve_batchnorm_options *options, nerve_error *err)
{
    NERVE_OPTIONS_IN(nerve_batchnorm_options, options, no_running_stats, "nerve_batchnorm_layer",
                     err, -1);
    nerve_batchnorm_options o = options ? *options : nerve_batchnorm_defaults();
    nerve_shape shape = nerve_node_shape(g, x);
    if (shape.ndim < 2) {
        nerve_error_set(err, NERVE_ERR_SHAPE, "batchnorm '%s': the input has no channel "
                        "dimension (dim 1)", name);
        return -1;
    }
    nerve_shape channels = nerve_shape_1d(shape.dim[1]);
    nerve_node weight = -1, bias = -1, mean = -1, var = -1, count = -1;
    if (!o.no_affine) {
        weight = filled(g, nerve_param, name, "weight", channels, 1, err);
        bias = weight < 0 ? -1 : filled(g, nerve_param, name, "bias", channels, 0, err);
        if (bias < 0) return -1;
    }
    if (!o.no_running_stats) {
        mean = filled(g, nerve_buffer, name, "running_mean", channels, 0, err);
        var = mean < 0 ? -1 : filled(g, nerve_buffer, name, "running_var", channels, 1, err);
        count = var < 0 ? -1
                        : filled(g, nerve_integer_buffer, name, "num_batches_tracked",
                                 nerve_shape_make(0, NULL), 0, err);
        if (count < 0) return -1;
    }
    nerve_node y = nerve_batch_norm(g, x, weight, bias, mean, var, count, o.eps, o.momentum, err);
    if (y < 0 || nerve_graph_rename(g, y, name, err) != NERVE_OK) return -1;
    return y;
}
