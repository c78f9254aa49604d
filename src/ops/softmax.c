/* softmax and log_softmax along one axis, as torch's F.softmax(x, dim) and
 * F.log_softmax(x, dim). The axis is kept as given (negative counts from the
 * end) and resolved against the input's rank whenever shapes are inferred. */
#include "core/graph_internal.h"

/* x viewed as [outer, len, inner] around the axis. */
typedef struct axis_view {
    int64_t outer, len, inner;
} axis_view;

static axis_view view_around(const nerve_shape *s, int axis)
{
    axis_view v = {1, s->dim[axis], 1};
    for (int d = 0; d < axis; d++) v.outer *= s->dim[d];
    for (int d = axis + 1; d < s->ndim; d++) v.inner *= s->dim[d];
    return v;
}

static int resolved_axis(const nerve_node_data *node, const nerve_shape *s)
{
    int axis = (int)node->attr.i[0];
    return axis < 0 ? axis + s->ndim : axis;
}

static nerve_status softmax_infer_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    node->shape = nerve_node_input(g, node, 0)->shape;
    int axis = resolved_axis(node, &node->shape);
    char s[64];
    if (axis < 0 || axis >= node->shape.ndim)
        return nerve_error_set(err, NERVE_ERR_SHAPE, "%s '%s': axis %lld is outside input %s",
                               node->op->name, node->name, (long long)node->attr.i[0],
                               nerve_shape_format(&node->shape, s, sizeof s));
    return NERVE_OK;
}

static axis_view node_view(const nerve_node_data *node)
{
    return view_around(&node->shape, resolved_axis(node, &node->shape));
}

static nerve_status softmax_forward(nerve_graph *g, nerve_node_data *node)
{
    axis_view v = node_view(node);
    NERVE_TRY(NERVE_RUN(g, softmax, nerve_node_input(g, node, 0)->value, node->value, v.outer,
                        v.len, v.inner));
    return NERVE_OK;
}

static nerve_status softmax_backward(nerve_graph *g, nerve_node_data *node)
{
    nerve_node_data *x = nerve_node_input(g, node, 0);
    if (!x->needs_grad) return NERVE_OK;
    axis_view v = node_view(node);
    NERVE_TRY(
        NERVE_RUN(g, softmax_backward, node->value, node->grad, x->grad, v.outer, v.len, v.inner));
    return NERVE_OK;
}

static nerve_status log_softmax_forward(nerve_graph *g, nerve_node_data *node)
{
    axis_view v = node_view(node);
    NERVE_TRY(NERVE_RUN(g, log_softmax, nerve_node_input(g, node, 0)->value, node->value, v.outer,
                        v.len, v.inner));
    return NERVE_OK;
}

static nerve_status log_softmax_backward(nerve_graph *g, nerve_node_data *node)
{
    nerve_node_data *x = nerve_node_input(g, node, 0);
    if (!x->needs_grad) return NERVE_OK;
    axis_view v = node_view(node);
    NERVE_TRY(NERVE_RUN(g, log_softmax_backward, node->value, node->grad, x->grad, v.outer, v.len,
                        v.inner));
    return NERVE_OK;
}

static int64_t softmax_flops(const nerve_graph *g, const nerve_node_data *node)
{
    return 4 * nerve_shape_cols(&node->shape); /* max, exp, sum, divide (or subtract) */
}

static const nerve_op softmax_op = {
    .name = "softmax",
    .infer_shape = softmax_infer_shape,
    .forward = softmax_forward,
    .backward = softmax_backward,
    .flops = softmax_flops,
};

static const nerve_op log_softmax_op = {
    .name = "log_softmax",
    .infer_shape = softmax_infer_shape,
    .forward = log_softmax_forward,
    .backward = log_softmax_backward,
    .flops = softmax_flops,
};

static nerve_node add_along_axis(nerve_graph *g, const nerve_op *op, nerve_node x, int axis,
                                 nerve_error *err)
{
    nerve_node_data proto = {0};
    proto.attr.i[0] = axis;
    return nerve_graph_add_op(g, op, &x, 1, &proto, err);
}

nerve_node nerve_softmax(nerve_graph *g, nerve_node x, nerve_error *err)
{
    return add_along_axis(g, &softmax_op, x, -1, err);
}

nerve_node nerve_softmax_axis(nerve_graph *g, nerve_node x, int axis, nerve_error *err)
{
    return add_along_axis(g, &softmax_op, x, axis, err);
}

nerve_node nerve_log_softmax(nerve_graph *g, nerve_node x, int axis, nerve_error *err)
{
    return add_along_axis(g, &log_softmax_op, x, axis, err);
}
