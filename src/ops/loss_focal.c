/* Focal loss, multi-class on softmax (Lin et al., "Focal Loss for Dense
 * Object Detection", 2017): FL = -alpha_t (1 - p_t)^gamma log p_t with
 * p_t = softmax(logits)[y]. gamma = 0 and no alpha is cross-entropy; larger
 * gamma down-weights well-classified samples. alpha (the node's constants)
 * is per class, or 1. The mean is over samples (and over the steps of a
 * sequence), not weighted by alpha
 * (torchvision's sigmoid_focal_loss, the paper's binary form, averages the
 * same way). attr.loss.param holds gamma. */
#include <math.h>

#include "core/options.h"
#include "ops/loss.h"

/* aux: the probabilities [N, C], then log p_t per row [N] (per step of a
 * sequence). */
static nerve_status focal_infer_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    const nerve_shape *s = &nerve_node_input(g, node, 0)->shape;
    node->aux_size = nerve_shape_numel(s) + loss_rows(s);
    return loss_infer_labels(g, node, err);
}

static nerve_status focal_forward(nerve_graph *g, nerve_node_data *node)
{
    const nerve_node_data *logits = nerve_node_input(g, node, 0);
    const nerve_node_data *labels = nerve_node_input(g, node, 1);
    int64_t rows = loss_rows(&logits->shape), cols = loss_cols(&logits->shape);
    return NERVE_RUN(g, focal, logits->value, labels->value, node->constants,
                     (nerve_real)node->attr.loss.param, node->aux, node->aux + rows * cols, rows,
                     cols, loss_reduction_factor(node, (double)rows), node->value);
}

static nerve_status focal_backward(nerve_graph *g, nerve_node_data *node)
{
    nerve_node_data *logits = nerve_node_input(g, node, 0);
    const nerve_node_data *labels = nerve_node_input(g, node, 1);
    int64_t rows = loss_rows(&logits->shape), cols = loss_cols(&logits->shape);
    if (!logits->needs_grad) return NERVE_OK;
    nerve_real scale = (nerve_real)loss_reduction_factor(node, (double)rows);
    return NERVE_RUN(g, focal_backward, node->aux, node->aux + rows * cols, labels->value,
                     node->constants, (nerve_real)node->attr.loss.param, node->grad, scale,
                     logits->grad, rows, cols);
}

static int64_t focal_flops(const nerve_graph *g, const nerve_node_data *node)
{
    return loss_flops_per_column(g, node, 4) + 6;
}

static const nerve_op focal_op = {
    .name = "focal",
    .infer_shape = focal_infer_shape,
    .forward = focal_forward,
    .backward = focal_backward,
    .flops = focal_flops,
    .divisor = loss_divisor,
};

nerve_node nerve_focal(nerve_graph *g, nerve_node logits, nerve_node labels,
                       const nerve_loss_options *options, nerve_error *err)
{
    NERVE_OPTIONS_IN(nerve_loss_options, options, one_hot, "nerve_focal", err, -1);
    nerve_loss_options o = loss_options_or_default(options);
    if (!loss_check_option(o.gamma >= 0 && isfinite(o.gamma), "focal", "gamma", ">= 0", err))
        return -1;
    int inputs[2] = {logits, labels};
    return loss_add(g, &focal_op, inputs, 2, &o, LOSS_CLASS_WEIGHTS, 0, o.gamma, err);
}
