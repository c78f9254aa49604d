/* concat: 2..8 inputs [N, C_k, ...] joined along dim 1 into [N, sum C_k, ...]
 * (torch.cat(dim=1): Inception's branches, feature vectors side by side).
 * Sample n of the output is input 0's sample n, then input 1's, and so on. */
#include "core/graph_internal.h"

static nerve_status concat_infer_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    const nerve_node_data *first = nerve_node_input(g, node, 0);
    char a[64], b[64];
    if (first->shape.ndim < 2)
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "concat '%s': input 0 '%s' is %s, not [N, C, ...]", node->name,
                               first->name,
                               nerve_shape_format(&first->shape, a, sizeof a));
    node->shape = first->shape;
    for (int k = 1; k < node->input_count; k++) {
        const nerve_node_data *x = nerve_node_input(g, node, k);
        bool agree = x->shape.ndim == first->shape.ndim;
        for (int d = 0; agree && d < x->shape.ndim; d++)
            agree = d == 1 || x->shape.dim[d] == first->shape.dim[d];
        if (!agree)
            return nerve_error_set(err, NERVE_ERR_SHAPE,
                                   "concat '%s': input %d '%s' is %s but input 0 '%s' is %s; "
                                   "all dims but 1 must agree",
                                   node->name, k, x->name,
                                   nerve_shape_format(&x->shape, a, sizeof a), first->name,
                                   nerve_shape_format(&first->shape, b, sizeof b));
        node->shape.dim[1] += x->shape.dim[1];
    }
    return NERVE_OK;
}

static void concat_forward(nerve_graph *g, nerve_node_data *node)
{
    int64_t rows = nerve_shape_rows(&node->shape), cols = nerve_shape_cols(&node->shape);
    int64_t offset = 0;
    for (int k = 0; k < node->input_count; k++) {
        const nerve_node_data *x = nerve_node_input(g, node, k);
        int64_t part = nerve_shape_cols(&x->shape);
        g->backend->copy_block(rows, part, x->value, part, node->value + offset, cols);
        offset += part;
    }
}

static void concat_backward(nerve_graph *g, nerve_node_data *node)
{
    int64_t rows = nerve_shape_rows(&node->shape), cols = nerve_shape_cols(&node->shape);
    int64_t offset = 0;
    for (int k = 0; k < node->input_count; k++) {
        nerve_node_data *x = nerve_node_input(g, node, k);
        int64_t part = nerve_shape_cols(&x->shape);
        if (x->needs_grad)
            g->backend->add_block(rows, part, node->grad + offset, cols, x->grad, part);
        offset += part;
    }
}

static const nerve_op concat_op = {
    .name = "concat",
    .infer_shape = concat_infer_shape,
    .forward = concat_forward,
    .backward = concat_backward,
};

nerve_node nerve_concat(nerve_graph *g, const char *name, const nerve_node *inputs, int count,
                        nerve_error *err)
{
    if (count < 2 || count > NERVE_MAX_INPUTS) {
        nerve_error_set(err, NERVE_ERR_INVALID, "concat: takes 2 to %d inputs, got %d",
                        NERVE_MAX_INPUTS, count);
        return -1;
    }
    nerve_node_data proto = {0};
    if (nerve_graph_name_op(&proto, "concat", name, err) != NERVE_OK) return -1;
    return nerve_graph_add_op(g, &concat_op, inputs, count, &proto, err);
}
