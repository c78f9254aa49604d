/* Maxout's reduction (Goodfellow et al. 2013): [N, units * pieces] ->
 * [N, units], the max over each unit's run of pieces. The winner's index is
 * kept in aux for backward. The affine map before it is a linear op
 * (src/layers/maxout.c). */
#include "core/graph_internal.h"

static nerve_status maxout_infer_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    const nerve_node_data *x = nerve_node_input(g, node, 0);
    int64_t pieces = node->attr.i[0];
    char xs[64];
    if (x->shape.ndim != 2 || x->shape.dim[1] % pieces != 0)
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "maxout '%s': input %s is not [N, units * %lld]", node->name,
                               nerve_shape_format(&x->shape, xs, sizeof xs), (long long)pieces);
    node->shape = nerve_shape_2d(x->shape.dim[0], x->shape.dim[1] / pieces);
    node->aux_size = nerve_shape_numel(&node->shape); /* the argmax of each unit */
    return NERVE_OK;
}

static nerve_status maxout_forward(nerve_graph *g, nerve_node_data *node)
{
    NERVE_TRY(NERVE_RUN(g, maxout_forward, nerve_node_input(g, node, 0)->value, node->value,
                        node->aux, nerve_shape_numel(&node->shape), node->attr.i[0]));
    return NERVE_OK;
}

static nerve_status maxout_backward(nerve_graph *g, nerve_node_data *node)
{
    nerve_node_data *x = nerve_node_input(g, node, 0);
    if (!x->needs_grad) return NERVE_OK;
    NERVE_TRY(NERVE_RUN(g, maxout_backward, node->aux, node->grad, x->grad,
                        nerve_shape_numel(&node->shape), node->attr.i[0]));
    return NERVE_OK;
}

/* pieces - 1 comparisons per unit. */
static int64_t maxout_flops(const nerve_graph *g, const nerve_node_data *node)
{
    return nerve_shape_cols(&node->shape) * (node->attr.i[0] - 1);
}

static const nerve_op maxout_op = {
    .name = "maxout",
    .infer_shape = maxout_infer_shape,
    .forward = maxout_forward,
    .backward = maxout_backward,
    .flops = maxout_flops,
};

nerve_node nerve_maxout_reduce(nerve_graph *g, nerve_node x, int64_t pieces, nerve_error *err)
{
    if (pieces < 1) {
        nerve_error_set(err, NERVE_ERR_INVALID, "maxout: pieces must be at least 1, got %lld",
                        (long long)pieces);
        return -1;
    }
    nerve_node_data proto = {0};
    proto.attr.i[0] = pieces;
    return nerve_graph_add_op(g, &maxout_op, &x, 1, &proto, err);
}
