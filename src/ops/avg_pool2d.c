/* 2-D average pooling, as torch's avg_pool2d: count_include_pad,
 * divisor_override and ceil_mode's clipped edge windows (the divisor rules
 * are in the CPU kernel, src/backends/cpu/pool.c). */
#include "core/options.h"
#include "ops/pool2d.h"

static nerve_status avg_pool2d_forward(nerve_graph *g, nerve_node_data *node)
{
    nerve_pool2d_geometry p = pool2d_geometry(g, node);
    NERVE_TRY(
        NERVE_RUN(g, avg_pool2d_forward, &p, nerve_node_input(g, node, 0)->value, node->value));
    return NERVE_OK;
}

static nerve_status avg_pool2d_backward(nerve_graph *g, nerve_node_data *node)
{
    nerve_node_data *x = nerve_node_input(g, node, 0);
    if (!x->needs_grad) return NERVE_OK;
    nerve_pool2d_geometry p = pool2d_geometry(g, node);
    NERVE_TRY(NERVE_RUN(g, avg_pool2d_backward, &p, node->grad, x->grad));
    return NERVE_OK;
}

static const nerve_op avg_pool2d_op = {
    .name = "avg_pool2d",
    .infer_shape = pool2d_infer_shape,
    .forward = avg_pool2d_forward,
    .backward = avg_pool2d_backward,
    .flops = pool2d_flops,
};

nerve_node nerve_avg_pool2d(nerve_graph *g, nerve_node x, const nerve_pool2d_options *options,
                            nerve_error *err)
{
    NERVE_OPTIONS_IN(nerve_pool2d_options, options, divisor_override, "nerve_avg_pool2d", err, -1);
    return pool2d_add(g, &avg_pool2d_op, x, options, false, err);
}
