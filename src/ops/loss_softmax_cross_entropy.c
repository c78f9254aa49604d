/* Softmax cross-entropy, fused, as torch.nn.CrossEntropyLoss with class
 * weights and label smoothing: the gradient w.r.t. the logits is simply
 * softmax * sum(q) - q for the smoothed, weighted target q, and the
 * max-subtracted log-sum-exp keeps logits of any finite size finite. With
 * weights, the mean divides by the batch's sum of w_y, as torch does. */
#include <math.h>

#include "core/options.h"
#include "ops/loss.h"

/* aux: the probabilities [N, C] (or [N, T, C]), then the reduction factor of
 * the last forward. */
static nerve_status sce_infer_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    nerve_status st = loss_infer_labels(g, node, err);
    node->aux_size = nerve_shape_numel(&nerve_node_input(g, node, 0)->shape) + 1;
    return st;
}

static nerve_status sce_forward(nerve_graph *g, nerve_node_data *node)
{
    const nerve_node_data *logits = nerve_node_input(g, node, 0);
    const nerve_node_data *labels = nerve_node_input(g, node, 1);
    int64_t rows = loss_rows(&logits->shape), cols = loss_cols(&logits->shape);
    return NERVE_RUN(g, cross_entropy, logits->value, labels->value, node->constants,
                     (nerve_real)node->attr.loss.param, node->aux, rows, cols, 1,
                     node->attr.loss.reduction == NERVE_REDUCTION_MEAN, node->value,
                     node->aux + rows * cols);
}

static nerve_status sce_backward(nerve_graph *g, nerve_node_data *node)
{
    nerve_node_data *logits = nerve_node_input(g, node, 0);
    const nerve_node_data *labels = nerve_node_input(g, node, 1);
    int64_t rows = loss_rows(&logits->shape), cols = loss_cols(&logits->shape);
    if (!logits->needs_grad) return NERVE_OK;
    return NERVE_RUN(g, cross_entropy_backward, node->aux, labels->value, node->constants,
                     (nerve_real)node->attr.loss.param, node->grad, node->aux + rows * cols,
                     logits->grad, rows, cols);
}

static int64_t sce_flops(const nerve_graph *g, const nerve_node_data *node)
{
    return loss_flops_per_column(g, node, 4);
}

static const nerve_op softmax_cross_entropy_op = {
    .name = "softmax_cross_entropy",
    .infer_shape = sce_infer_shape,
    .forward = sce_forward,
    .backward = sce_backward,
    .flops = sce_flops,
    .divisor = loss_label_weight_divisor,
};

nerve_node nerve_softmax_cross_entropy(nerve_graph *g, nerve_node logits, nerve_node labels,
                                       const nerve_loss_options *options, nerve_error *err)
{
    NERVE_OPTIONS_IN(nerve_loss_options, options, one_hot, "nerve_softmax_cross_entropy",
                     err, -1);
    nerve_loss_options o = loss_options_or_default(options);
    if (!loss_check_option(o.label_smoothing >= 0 && o.label_smoothing <= 1,
                           "softmax_cross_entropy", "label_smoothing", "in [0, 1]", err))
        return -1;
    int inputs[2] = {logits, labels};
    return loss_add(g, &softmax_cross_entropy_op, inputs, 2, &o, LOSS_CLASS_WEIGHTS, 0,
                    o.label_smoothing, err);
}
