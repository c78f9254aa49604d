/* The layer sections that have no parameters and only move, pool or join
 * activations: [maxpool2d], [avgpool2d], [global_avgpool], [reshape],
 * [identity], and the joins [add] and [concat] (input = a,b,...). Each layer's
 * output node takes the layer's name. */
#include <stdlib.h>

#include "model/model_internal.h"

#define POOL_SIZE_MAX (1 << 20)

/* The keys both poolings take; stride defaults to the kernel. */
static bool read_pool_options(cfg_reader *r, nerve_pool2d_options *o)
{
    int64_t kernel[2];
    if (!cfg_read_pair(r, "kernel", true, 1, POOL_SIZE_MAX, kernel)) return false;
    *o = nerve_pool2d_defaults(kernel[0], kernel[1]);
    if (!cfg_read_pair(r, "stride", false, 1, POOL_SIZE_MAX, o->stride) ||
        !cfg_read_pair(r, "padding", false, 0, POOL_SIZE_MAX, o->padding) ||
        !cfg_read_bool(r, "ceil_mode", false, &o->ceil_mode))
        return false;
    for (int a = 0; a < 2; a++)
        if (o->padding[a] > o->kernel[a] / 2)
            return cfg_fail(r, "padding", "%lld is more than half the kernel (%lld)",
                            (long long)o->padding[a], (long long)o->kernel[a]);
    return true;
}

static nerve_node named(nerve_graph *g, nerve_node y, const char *name, nerve_error *err)
{
    if (y < 0) return -1;
    return nerve_graph_rename(g, y, name, err) == NERVE_OK ? y : -1;
}

nerve_node nerve_maxpool2d_section_build(nerve_graph *g, const char *name, nerve_node input,
                                         cfg_reader *r, nerve_rng *rng, nerve_error *err)
{
    nerve_pool2d_options o;
    if (!read_pool_options(r, &o) || !cfg_read_pair(r, "dilation", false, 1, POOL_SIZE_MAX, o.dilation) ||
        cfg_reader_finish(r) != NERVE_OK)
        return -1;
    return named(g, nerve_max_pool2d(g, input, &o, err), name, err);
}

nerve_node nerve_avgpool2d_section_build(nerve_graph *g, const char *name, nerve_node input,
                                         cfg_reader *r, nerve_rng *rng, nerve_error *err)
{
    nerve_pool2d_options o;
    if (!read_pool_options(r, &o) ||
        !cfg_read_bool(r, "count_include_pad", true, &o.count_include_pad) ||
        !cfg_read_int(r, "divisor_override", false, 0, 1, POOL_SIZE_MAX, &o.divisor_override) ||
        cfg_reader_finish(r) != NERVE_OK)
        return -1;
    return named(g, nerve_avg_pool2d(g, input, &o, err), name, err);
}

nerve_node nerve_global_avgpool_section_build(nerve_graph *g, const char *name, nerve_node input,
                                              cfg_reader *r, nerve_rng *rng, nerve_error *err)
{
    if (cfg_reader_finish(r) != NERVE_OK) return -1;
    return named(g, nerve_global_avg_pool(g, input, err), name, err);
}

/* shape = 16,7,7: the per-sample shape; one dimension may be -1. */
nerve_node nerve_reshape_section_build(nerve_graph *g, const char *name, nerve_node input,
                                       cfg_reader *r, nerve_rng *rng, nerve_error *err)
{
    float *values;
    int64_t count;
    if (!cfg_read_list(r, "shape", -1, 1 << 30, &values, &count)) return -1;
    if (!values) return cfg_fail(r, NULL, "requires the key 'shape'"), -1;
    nerve_shape shape = {.ndim = (int)count};
    bool valid = count <= NERVE_MAX_DIMS - 1;
    for (int64_t d = 0; valid && d < count; d++) {
        shape.dim[d] = (int64_t)values[d];
        valid = shape.dim[d] == values[d] && shape.dim[d] != 0;
    }
    free(values);
    if (!valid)
        return cfg_fail(r, "shape", "not a shape of 1 to %d positive integers, one of them "
                        "possibly -1", NERVE_MAX_DIMS - 1), -1;
    if (cfg_reader_finish(r) != NERVE_OK) return -1;
    return named(g, nerve_reshape(g, input, shape, err), name, err);
}

nerve_node nerve_identity_section_build(nerve_graph *g, const char *name, nerve_node input,
                                        cfg_reader *r, nerve_rng *rng, nerve_error *err)
{
    if (cfg_reader_finish(r) != NERVE_OK) return -1;
    return named(g, nerve_identity(g, input, err), name, err);
}

nerve_node nerve_add_section_join(nerve_graph *g, const char *name, const nerve_node *inputs,
                                  int input_count, cfg_reader *r, nerve_error *err)
{
    if (cfg_reader_finish(r) != NERVE_OK) return -1;
    return nerve_add(g, name, inputs, input_count, err);
}

nerve_node nerve_concat_section_join(nerve_graph *g, const char *name, const nerve_node *inputs,
                                     int input_count, cfg_reader *r, nerve_error *err)
{
    if (cfg_reader_finish(r) != NERVE_OK) return -1;
    return nerve_concat(g, name, inputs, input_count, err);
}
