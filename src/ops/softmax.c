/* softmax over the last axis. */
#include "core/graph_internal.h"

static nerve_status softmax_infer_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    node->shape = nerve_node_input(g, node, 0)->shape;
    if (node->shape.ndim < 1)
        return nerve_error_set(err, NERVE_ERR_SHAPE, "softmax '%s': input has no axis",
                               node->name);
    return NERVE_OK;
}

static void last_axis(const nerve_shape *s, int64_t *rows, int64_t *cols)
{
    *cols = s->dim[s->ndim - 1];
    *rows = *cols ? nerve_shape_numel(s) / *cols : 0;
}

static void softmax_forward(nerve_graph *g, nerve_node_data *node)
{
    int64_t rows, cols;
    last_axis(&node->shape, &rows, &cols);
    g->backend->softmax_rows(nerve_node_input(g, node, 0)->value, node->value, rows, cols);
}

static void softmax_backward(nerve_graph *g, nerve_node_data *node)
{
    nerve_node_data *x = nerve_node_input(g, node, 0);
    int64_t rows, cols;
    if (!x->needs_grad) return;
    last_axis(&node->shape, &rows, &cols);
    g->backend->softmax_rows_backward(node->value, node->grad, x->grad, rows, cols);
}

static int64_t softmax_flops(const nerve_graph *g, const nerve_node_data *node)
{
    return 4 * nerve_shape_cols(&node->shape); /* max, exp, sum, divide */
}

static const nerve_op softmax_op = {
    .name = "softmax",
    .infer_shape = softmax_infer_shape,
    .forward = softmax_forward,
    .backward = softmax_backward,
    .flops = softmax_flops,
};

nerve_node nerve_softmax(nerve_graph *g, nerve_node x, nerve_error *err)
{
    return nerve_graph_add_op(g, &softmax_op, &x, 1, NULL, err);
}
