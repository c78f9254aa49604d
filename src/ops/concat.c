/* concat: 2..8 inputs joined along one axis (torch.cat(dim)): along dim 1,
 * [N, C_k, ...] into [N, sum C_k, ...] (Inception's branches, feature
 * vectors side by side); along the last, [N, T, F_k] into [N, T, sum F_k]
 * (a bidirectional layer's two directions). The output is, for each index
 * of the dims before the axis, input 0's block, then input 1's, and so on.
 * attr.i[0] is the axis. */
#include "core/graph_internal.h"

/* The product of the dims before the axis: blocks of the output. */
static int64_t outer_size(const nerve_shape *s, int axis)
{
    int64_t outer = 1;
    for (int d = 0; d < axis; d++) outer *= s->dim[d];
    return outer;
}

static nerve_status concat_infer_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    const nerve_node_data *first = nerve_node_input(g, node, 0);
    int axis = (int)node->attr.i[0];
    char a[64], b[64];
    if (first->shape.ndim < 2 || axis >= first->shape.ndim)
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "concat '%s': input 0 '%s' is %s, which has no dim %d", node->name,
                               first->name, nerve_shape_format(&first->shape, a, sizeof a), axis);
    node->shape = first->shape;
    for (int k = 1; k < node->input_count; k++) {
        const nerve_node_data *x = nerve_node_input(g, node, k);
        bool agree = x->shape.ndim == first->shape.ndim;
        for (int d = 0; agree && d < x->shape.ndim; d++)
            agree = d == axis || x->shape.dim[d] == first->shape.dim[d];
        if (!agree)
            return nerve_error_set(err, NERVE_ERR_SHAPE,
                                   "concat '%s': input %d '%s' is %s but input 0 '%s' is %s; "
                                   "all dims but %d must agree",
                                   node->name, k, x->name,
                                   nerve_shape_format(&x->shape, a, sizeof a), first->name,
                                   nerve_shape_format(&first->shape, b, sizeof b), axis);
        node->shape.dim[axis] += x->shape.dim[axis];
    }
    return NERVE_OK;
}

static nerve_status concat_forward(nerve_graph *g, nerve_node_data *node)
{
    int axis = (int)node->attr.i[0];
    int64_t rows = outer_size(&node->shape, axis);
    int64_t cols = nerve_shape_numel(&node->shape) / rows, offset = 0;
    for (int k = 0; k < node->input_count; k++) {
        const nerve_node_data *x = nerve_node_input(g, node, k);
        int64_t part = nerve_shape_numel(&x->shape) / rows;
        NERVE_TRY(NERVE_RUN(g, copy_block, rows, part, x->value, part, node->value + offset, cols));
        offset += part;
    }
    return NERVE_OK;
}

static nerve_status concat_backward(nerve_graph *g, nerve_node_data *node)
{
    int axis = (int)node->attr.i[0];
    int64_t rows = outer_size(&node->shape, axis);
    int64_t cols = nerve_shape_numel(&node->shape) / rows, offset = 0;
    for (int k = 0; k < node->input_count; k++) {
        nerve_node_data *x = nerve_node_input(g, node, k);
        int64_t part = nerve_shape_numel(&x->shape) / rows;
        if (x->needs_grad)
            NERVE_TRY(
                NERVE_RUN(g, add_block, rows, part, node->grad + offset, cols, x->grad, part));
        offset += part;
    }
    return NERVE_OK;
}

static const nerve_op concat_op = {
    .name = "concat",
    .infer_shape = concat_infer_shape,
    .forward = concat_forward,
    .backward = concat_backward,
};

nerve_node nerve_concat_axis(nerve_graph *g, const char *name, const nerve_node *inputs, int count,
                             int axis, nerve_error *err)
{
    if (count < 2 || count > NERVE_MAX_INPUTS) {
        nerve_error_set(err, NERVE_ERR_INVALID, "concat: takes 2 to %d inputs, got %d",
                        NERVE_MAX_INPUTS, count);
        return -1;
    }
    if (inputs[0] < 0 || inputs[0] >= g->node_count) {
        nerve_error_set(err, NERVE_ERR_INVALID, "concat: input 0 is not a node of this graph");
        return -1;
    }
    int ndim = g->nodes[inputs[0]].shape.ndim;
    if (axis < 0) axis += ndim;
    if (axis < 1 || axis >= ndim) {
        nerve_error_set(err, NERVE_ERR_INVALID,
                        "concat: axis must be one of the %d non-batch dims of input 0", ndim - 1);
        return -1;
    }
    nerve_node_data proto = {0};
    proto.attr.i[0] = axis;
    if (nerve_graph_name_op(&proto, "concat", name, err) != NERVE_OK) return -1;
    return nerve_graph_add_op(g, &concat_op, inputs, count, &proto, err);
}

nerve_node nerve_concat(nerve_graph *g, const char *name, const nerve_node *inputs, int count,
                        nerve_error *err)
{
    return nerve_concat_axis(g, name, inputs, count, 1, err);
}
