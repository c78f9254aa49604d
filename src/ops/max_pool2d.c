/* 2-D max pooling, as torch's max_pool2d on the CPU. Each output's argmax
 * (its index within the input plane) is kept in aux for backward. */
#include "core/options.h"
#include "ops/pool2d.h"

/* The argmax is stored as a real: float32 holds every integer up to 2^24. */
#define MAX_POOL_PLANE_MAX ((int64_t)1 << 24)

static nerve_status max_pool2d_infer_shape(nerve_graph *g, nerve_node_data *node,
                                           nerve_error *err)
{
    nerve_status st = pool2d_infer_shape(g, node, err);
    if (st != NERVE_OK) return st;
    const nerve_node_data *x = nerve_node_input(g, node, 0);
    if (x->shape.dim[2] * x->shape.dim[3] > MAX_POOL_PLANE_MAX)
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "max_pool2d: input '%s' has planes of %lldx%lld, more than %lld "
                               "elements", x->name, (long long)x->shape.dim[2],
                               (long long)x->shape.dim[3],
                               (long long)MAX_POOL_PLANE_MAX);
    node->aux_size = nerve_shape_numel(&node->shape);
    return NERVE_OK;
}

static nerve_status max_pool2d_forward(nerve_graph *g, nerve_node_data *node)
{
    nerve_pool2d_geometry p = pool2d_geometry(g, node);
    NERVE_TRY(NERVE_RUN(g, max_pool2d_forward, &p, nerve_node_input(g, node, 0)->value, node->value,
                        node->aux));
    return NERVE_OK;
}

static nerve_status max_pool2d_backward(nerve_graph *g, nerve_node_data *node)
{
    nerve_node_data *x = nerve_node_input(g, node, 0);
    if (!x->needs_grad) return NERVE_OK;
    nerve_pool2d_geometry p = pool2d_geometry(g, node);
    NERVE_TRY(NERVE_RUN(g, max_pool2d_backward, &p, node->aux, node->grad, x->grad));
    return NERVE_OK;
}

static const nerve_op max_pool2d_op = {
    .name = "max_pool2d",
    .infer_shape = max_pool2d_infer_shape,
    .forward = max_pool2d_forward,
    .backward = max_pool2d_backward,
    .flops = pool2d_flops,
};

nerve_node nerve_max_pool2d(nerve_graph *g, nerve_node x, const nerve_pool2d_options *options,
                            nerve_error *err)
{
    NERVE_OPTIONS_IN(nerve_pool2d_options, options, divisor_override, "nerve_max_pool2d", err, -1);
    return pool2d_add(g, &max_pool2d_op, x, options, true, err);
}
