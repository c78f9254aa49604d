/* Global average pooling: [N, C, ...] -> [N, C], the mean of each channel
 * (nn.AdaptiveAvgPool2d(1) followed by flatten). */
#include "core/graph_internal.h"

static nerve_status global_avg_pool_infer_shape(nerve_graph *g, nerve_node_data *node,
                                                nerve_error *err)
{
    const nerve_node_data *x = nerve_node_input(g, node, 0);
    const nerve_shape *in = &x->shape;
    char text[64];
    if (in->ndim < 3)
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "global_avg_pool: input '%s' %s is not [N, C, H, W]", x->name,
                               nerve_shape_format(in, text, sizeof text));
    node->shape = nerve_shape_2d(in->dim[0], in->dim[1]);
    return NERVE_OK;
}

/* Elements per channel of one sample. */
static int64_t channel_size(nerve_graph *g, const nerve_node_data *node)
{
    return nerve_shape_cols(&nerve_node_input(g, node, 0)->shape) / node->shape.dim[1];
}

static nerve_status global_avg_pool_forward(nerve_graph *g, nerve_node_data *node)
{
    NERVE_TRY(NERVE_RUN(g, mean_rows, nerve_node_input(g, node, 0)->value, node->value,
                        nerve_shape_numel(&node->shape), channel_size(g, node)));
    return NERVE_OK;
}

static nerve_status global_avg_pool_backward(nerve_graph *g, nerve_node_data *node)
{
    nerve_node_data *x = nerve_node_input(g, node, 0);
    if (!x->needs_grad) return NERVE_OK;
    NERVE_TRY(NERVE_RUN(g, mean_rows_backward, node->grad, x->grad, nerve_shape_numel(&node->shape),
                        channel_size(g, node)));
    return NERVE_OK;
}

static int64_t global_avg_pool_flops(const nerve_graph *g, const nerve_node_data *node)
{
    return nerve_shape_cols(&g->nodes[node->input[0]].shape);
}

static const nerve_op global_avg_pool_op = {
    .name = "global_avg_pool",
    .infer_shape = global_avg_pool_infer_shape,
    .forward = global_avg_pool_forward,
    .backward = global_avg_pool_backward,
    .flops = global_avg_pool_flops,
};

nerve_node nerve_global_avg_pool(nerve_graph *g, nerve_node x, nerve_error *err)
{
    return nerve_graph_add_op(g, &global_avg_pool_op, &x, 1, NULL, err);
}
