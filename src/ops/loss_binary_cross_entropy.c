/* Binary cross-entropy on probabilities, as torch.nn.BCELoss: element-wise
 * -(y log p + (1 - y) log(1 - p)) with each log clamped at -100, targets y
 * of the prediction's shape (0/1 labels or probabilities). */
#include "core/options.h"
#include "ops/loss.h"

static nerve_status bce_forward(nerve_graph *g, nerve_node_data *node)
{
    const nerve_node_data *p = nerve_node_input(g, node, 0);
    const nerve_node_data *y = nerve_node_input(g, node, 1);
    int64_t n = nerve_shape_numel(&p->shape);
    return NERVE_RUN(g, binary_cross_entropy, p->value, y->value, n,
                     loss_reduction_factor(node, (double)n), node->value);
}

static nerve_status bce_backward(nerve_graph *g, nerve_node_data *node)
{
    nerve_node_data *p = nerve_node_input(g, node, 0);
    const nerve_node_data *y = nerve_node_input(g, node, 1);
    int64_t n = nerve_shape_numel(&p->shape);
    if (!p->needs_grad) return NERVE_OK;
    nerve_real scale = (nerve_real)loss_reduction_factor(node, (double)n);
    return NERVE_RUN(g, binary_cross_entropy_backward, p->value, y->value, node->grad, scale,
                     p->grad, n);
}

static int64_t bce_flops(const nerve_graph *g, const nerve_node_data *node)
{
    return loss_flops_per_column(g, node, 6);
}

static const nerve_op bce_op = {
    .name = "bce",
    .infer_shape = loss_infer_same_shape,
    .forward = bce_forward,
    .backward = bce_backward,
    .flops = bce_flops,
    .divisor = loss_divisor,
};

nerve_node nerve_binary_cross_entropy(nerve_graph *g, nerve_node probs, nerve_node target,
                                      const nerve_loss_options *options, nerve_error *err)
{
    NERVE_OPTIONS_IN(nerve_loss_options, options, one_hot, "nerve_binary_cross_entropy",
                     err, -1);
    nerve_loss_options o = loss_options_or_default(options);
    int inputs[2] = {probs, target};
    return loss_add(g, &bce_op, inputs, 2, &o, LOSS_NO_WEIGHTS, 0, 0, err);
}
