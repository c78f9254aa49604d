/* add: the element-wise sum of 2..8 inputs of one shape (residual
 * shortcuts). Each input's gradient is the output's; an input given twice
 * takes it twice. The ReLU that alone reads the sum (a residual block's
 * output) folds into it (core/fold.c). */
#include "core/graph_internal.h"

static nerve_status add_infer_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    const nerve_node_data *first = nerve_node_input(g, node, 0);
    for (int k = 1; k < node->input_count; k++) {
        const nerve_node_data *x = nerve_node_input(g, node, k);
        char a[64], b[64];
        if (!nerve_shape_equal(&x->shape, &first->shape))
            return nerve_error_set(err, NERVE_ERR_SHAPE,
                                   "add '%s': input %d '%s' is %s but input 0 '%s' is %s",
                                   node->name, k, x->name,
                                   nerve_shape_format(&x->shape, a, sizeof a), first->name,
                                   nerve_shape_format(&first->shape, b, sizeof b));
    }
    node->shape = first->shape;
    return NERVE_OK;
}

static nerve_status add_forward(nerve_graph *g, nerve_node_data *node)
{
    node->grad_from_relu = false; /* set by the next backward's ReLU, if any */
    const nerve_real *x[NERVE_MAX_INPUTS];
    for (int k = 0; k < node->input_count; k++) x[k] = nerve_node_input(g, node, k)->value;
    int64_t n = nerve_shape_numel(&node->shape);
    nerve_node_data *relu = nerve_fold_take(g, node); /* the ReLU folded into it */
    if (relu) return NERVE_RUN(g, add_relu_forward, x, node->input_count, relu->value, n);
    NERVE_TRY(NERVE_RUN(g, add_forward, x, node->input_count, node->value, n));
    return NERVE_OK;
}

static nerve_status add_backward(nerve_graph *g, nerve_node_data *node)
{
    int64_t rows = nerve_shape_rows(&node->shape), cols = nerve_shape_cols(&node->shape);
    /* A folded ReLU left its gradient: each input takes it masked, in the
     * pass that would have copied it (the ReLU's output gives the mask), all
     * inputs in one. */
    const nerve_node_data *relu = node->grad_from_relu ? &g->nodes[node->fold_consumer - 1] : NULL;
    node->grad_from_relu = false;
    if (relu) { /* every input in one pass (add_relu_backward) */
        nerve_real *dx[NERVE_MAX_INPUTS];
        bool accumulate[NERVE_MAX_INPUTS];
        int count = 0;
        for (int k = 0; k < node->input_count; k++) {
            nerve_node_data *x = nerve_node_input(g, node, k);
            if (!x->needs_grad) continue;
            accumulate[count] = nerve_graph_grad_accumulate(g, x);
            dx[count++] = x->grad;
        }
        return NERVE_RUN(g, add_relu_backward, relu->value, relu->grad, dx, accumulate, count,
                         rows * cols);
    }
    for (int k = 0; k < node->input_count; k++) {
        nerve_node_data *x = nerve_node_input(g, node, k);
        if (!x->needs_grad) continue;
        if (nerve_graph_grad_accumulate(g, x))
            NERVE_TRY(NERVE_RUN(g, add_block, rows, cols, node->grad, cols, x->grad, cols));
        else
            NERVE_TRY(NERVE_RUN(g, copy_block, rows, cols, node->grad, cols, x->grad, cols));
    }
    return NERVE_OK;
}

/* count - 1 additions per element. */
static int64_t add_flops(const nerve_graph *g, const nerve_node_data *node)
{
    return nerve_shape_cols(&node->shape) * (node->input_count - 1);
}

static const nerve_op add_op = {
    .name = "add",
    .infer_shape = add_infer_shape,
    .forward = add_forward,
    .backward = add_backward,
    .flops = add_flops,
    .assigns_grads = true,
    .absorbs_relu = true,
};

nerve_node nerve_add(nerve_graph *g, const char *name, const nerve_node *inputs, int count,
                     nerve_error *err)
{
    if (count < 2 || count > NERVE_MAX_INPUTS) {
        nerve_error_set(err, NERVE_ERR_INVALID, "add: takes 2 to %d inputs, got %d",
                        NERVE_MAX_INPUTS, count);
        return -1;
    }
    nerve_node_data proto = {0};
    if (nerve_graph_name_op(&proto, "add", name, err) != NERVE_OK) return -1;
    return nerve_graph_add_op(g, &add_op, inputs, count, &proto, err);
}
