/* linear: y = x W^T + b, PyTorch's nn.Linear layout (W is [out, in]). As
 * nn.Linear, x [N, ..., in] maps its last dimension: the leading positions
 * (N * T of a sequence) are the rows of one GEMM. */
#include "core/graph_internal.h"

/* Rows of the GEMM: every position of x but its last dimension. */
static int64_t linear_rows(const nerve_node_data *x)
{
    return nerve_shape_numel(&x->shape) / x->shape.dim[x->shape.ndim - 1];
}

static nerve_status linear_infer_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    const nerve_node_data *x = nerve_node_input(g, node, 0);
    const nerve_node_data *w = nerve_node_input(g, node, 1);
    char xs[64], ws[64];
    if (x->shape.ndim < 2 || w->shape.ndim != 2 ||
        w->shape.dim[1] != x->shape.dim[x->shape.ndim - 1])
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "linear '%s': input %s does not fit weight %s (expected [N, ..., "
                               "%lld])",
                               node->name, nerve_shape_format(&x->shape, xs, sizeof xs),
                               nerve_shape_format(&w->shape, ws, sizeof ws),
                               (long long)(w->shape.ndim == 2 ? w->shape.dim[1] : -1));
    if (node->input_count == 3) {
        const nerve_node_data *b = nerve_node_input(g, node, 2);
        if (b->shape.ndim != 1 || b->shape.dim[0] != w->shape.dim[0])
            return nerve_error_set(err, NERVE_ERR_SHAPE,
                                   "linear '%s': bias must have shape [%lld]", node->name,
                                   (long long)w->shape.dim[0]);
    }
    node->shape = x->shape;
    node->shape.dim[node->shape.ndim - 1] = w->shape.dim[0];
    return NERVE_OK;
}

static nerve_status linear_forward(nerve_graph *g, nerve_node_data *node)
{
    const nerve_node_data *x = nerve_node_input(g, node, 0);
    const nerve_node_data *w = nerve_node_input(g, node, 1);
    int64_t n = linear_rows(x), in = w->shape.dim[1], out = w->shape.dim[0];
    if (node->input_count == 3) {
        NERVE_TRY(
            NERVE_RUN(g, fill_rows, node->value, nerve_node_input(g, node, 2)->value, n, out));
        return NERVE_RUN(g, gemm, false, true, n, out, in, 1, x->value, in, w->value, in, 1,
                         node->value, out);
    }
    return NERVE_RUN(g, gemm, false, true, n, out, in, 1, x->value, in, w->value, in, 0,
                     node->value, out);
}

static nerve_status linear_backward(nerve_graph *g, nerve_node_data *node)
{
    nerve_node_data *x = nerve_node_input(g, node, 0);
    nerve_node_data *w = nerve_node_input(g, node, 1);
    int64_t n = linear_rows(x), in = w->shape.dim[1], out = w->shape.dim[0];
    if (x->needs_grad) /* dx (+)= dy W */
        NERVE_TRY(NERVE_RUN(g, gemm, false, false, n, in, out, 1, node->grad, out, w->value, in,
                            nerve_graph_grad_accumulate(g, x) ? 1 : 0, x->grad, in));
    if (w->needs_grad) /* dW (+)= dy^T x */
        NERVE_TRY(NERVE_RUN(g, gemm, true, false, out, in, n, 1, node->grad, out, x->value, in,
                            nerve_graph_grad_accumulate(g, w) ? 1 : 0, w->grad, in));
    if (node->input_count == 3) {
        nerve_node_data *b = nerve_node_input(g, node, 2);
        if (b->needs_grad) {
            NERVE_TRY(nerve_graph_grad_prepare_add(g, b));
            NERVE_TRY(NERVE_RUN(g, sum_rows, node->grad, b->grad, n, out));
        }
    }
    return NERVE_OK;
}

/* Per sample: every row of x (T of them for a sequence). */
static int64_t linear_flops(const nerve_graph *g, const nerve_node_data *node)
{
    const nerve_node_data *w = &g->nodes[node->input[1]];
    int64_t rows_per_sample = nerve_shape_cols(&node->shape) / w->shape.dim[0];
    return rows_per_sample *
           (2 * w->shape.dim[0] * w->shape.dim[1] + (node->input_count == 3 ? w->shape.dim[0] : 0));
}

static const nerve_op linear_op = {
    .name = "linear",
    .infer_shape = linear_infer_shape,
    .forward = linear_forward,
    .backward = linear_backward,
    .flops = linear_flops,
    .assigns_grads = true,
};

nerve_node nerve_linear(nerve_graph *g, nerve_node x, nerve_node weight, nerve_node bias,
                        nerve_error *err)
{
    int inputs[3] = {x, weight, bias};
    return nerve_graph_add_op(g, &linear_op, inputs, bias >= 0 ? 3 : 2, NULL, err);
}
