/* log_softmax over the last axis: x - log sum exp(x), max-subtracted; the
 * input nerve_nll expects (torch's F.log_softmax). */
#include "core/graph_internal.h"

static nerve_status log_softmax_infer_shape(nerve_graph *g, nerve_node_data *node,
                                            nerve_error *err)
{
    node->shape = nerve_node_input(g, node, 0)->shape;
    if (node->shape.ndim != 2)
        return nerve_error_set(err, NERVE_ERR_SHAPE, "log_softmax '%s': expected [N, C] scores",
                               node->name);
    return NERVE_OK;
}

static void log_softmax_forward(nerve_graph *g, nerve_node_data *node)
{
    g->backend->log_softmax_rows(nerve_node_input(g, node, 0)->value, node->value,
                                 nerve_shape_rows(&node->shape), nerve_shape_cols(&node->shape));
}

static void log_softmax_backward(nerve_graph *g, nerve_node_data *node)
{
    nerve_node_data *x = nerve_node_input(g, node, 0);
    if (!x->needs_grad) return;
    g->backend->log_softmax_rows_backward(node->value, node->grad, x->grad,
                                          nerve_shape_rows(&node->shape),
                                          nerve_shape_cols(&node->shape));
}

static int64_t log_softmax_flops(const nerve_graph *g, const nerve_node_data *node)
{
    return 4 * nerve_shape_cols(&node->shape); /* max, exp, sum, subtract */
}

static const nerve_op log_softmax_op = {
    .name = "log_softmax",
    .infer_shape = log_softmax_infer_shape,
    .forward = log_softmax_forward,
    .backward = log_softmax_backward,
    .flops = log_softmax_flops,
};

nerve_node nerve_log_softmax(nerve_graph *g, nerve_node x, nerve_error *err)
{
    return nerve_graph_add_op(g, &log_softmax_op, &x, 1, NULL, err);
}
