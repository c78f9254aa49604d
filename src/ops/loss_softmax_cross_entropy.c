/* Softmax cross-entropy, fused: the gradient w.r.t. the logits is simply
 * (softmax - onehot) / N, and the max-subtracted log-sum-exp keeps logits of
 * any finite size finite. Mean over the batch, as torch.nn.CrossEntropyLoss. */
#include "core/graph_internal.h"

static nerve_status sce_infer_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    const nerve_node_data *logits = nerve_node_input(g, node, 0);
    const nerve_node_data *labels = nerve_node_input(g, node, 1);
    char ls[64], ys[64];
    if (logits->shape.ndim != 2 || nerve_shape_numel(&labels->shape) != logits->shape.dim[0])
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "softmax_cross_entropy: logits %s and labels %s do not agree "
                               "(expected [N, C] and N labels)",
                               nerve_shape_format(&logits->shape, ls, sizeof ls),
                               nerve_shape_format(&labels->shape, ys, sizeof ys));
    node->shape = nerve_shape_1d(1);
    node->batched = false;
    node->aux_size = nerve_shape_numel(&logits->shape); /* the probabilities */
    return NERVE_OK;
}

static void sce_forward(nerve_graph *g, nerve_node_data *node)
{
    const nerve_node_data *logits = nerve_node_input(g, node, 0);
    const nerve_node_data *labels = nerve_node_input(g, node, 1);
    node->value[0] = (nerve_real)g->backend->softmax_cross_entropy(
        logits->value, labels->value, node->aux, logits->shape.dim[0], logits->shape.dim[1]);
}

static void sce_backward(nerve_graph *g, nerve_node_data *node)
{
    nerve_node_data *logits = nerve_node_input(g, node, 0);
    const nerve_node_data *labels = nerve_node_input(g, node, 1);
    int64_t rows = logits->shape.dim[0];
    if (!logits->needs_grad) return;
    g->backend->softmax_cross_entropy_backward(node->aux, labels->value, node->grad[0] / rows,
                                               logits->grad, rows, logits->shape.dim[1]);
}

static int64_t sce_flops(const nerve_graph *g, const nerve_node_data *node)
{
    return 4 * g->nodes[node->input[0]].shape.dim[1];
}

static const nerve_op softmax_cross_entropy_op = {
    .name = "softmax_cross_entropy",
    .infer_shape = sce_infer_shape,
    .forward = sce_forward,
    .backward = sce_backward,
    .flops = sce_flops,
};

nerve_node nerve_softmax_cross_entropy(nerve_graph *g, nerve_node logits, nerve_node labels,
                                       nerve_error *err)
{
    int inputs[2] = {logits, labels};
    return nerve_graph_add_op(g, &softmax_cross_entropy_op, inputs, 2, NULL, err);
}
