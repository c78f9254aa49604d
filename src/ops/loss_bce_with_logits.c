/* Binary cross-entropy on logits, as torch.nn.BCEWithLogitsLoss: sigmoid
 * and BCE fused into max(x, 0) - x y + log(1 + exp(-|x|)), finite for any
 * finite x. pos_weight (one per output column, the node's constants; along
 * the last dimension of [N, ..., F], as torch broadcasts it) multiplies the
 * positive term: (1 - y) x + (1 + (pw - 1) y) log(1 + exp(-x)). */
#include "core/options.h"
#include "ops/loss.h"

static nerve_status bce_with_logits_forward(nerve_graph *g, nerve_node_data *node)
{
    const nerve_node_data *x = nerve_node_input(g, node, 0);
    const nerve_node_data *y = nerve_node_input(g, node, 1);
    int64_t rows = loss_rows(&x->shape), cols = loss_cols(&x->shape);
    return NERVE_RUN(g, bce_with_logits, x->value, y->value, node->constants, rows, cols,
                     loss_reduction_factor(node, (double)(rows * cols)), node->value);
}

static nerve_status bce_with_logits_backward(nerve_graph *g, nerve_node_data *node)
{
    nerve_node_data *x = nerve_node_input(g, node, 0);
    const nerve_node_data *y = nerve_node_input(g, node, 1);
    int64_t rows = loss_rows(&x->shape), cols = loss_cols(&x->shape);
    if (!x->needs_grad) return NERVE_OK;
    nerve_real scale = (nerve_real)loss_reduction_factor(node, (double)(rows * cols));
    return NERVE_RUN(g, bce_with_logits_backward, x->value, y->value, node->constants, node->grad,
                     scale, x->grad, rows, cols);
}

static int64_t bce_with_logits_flops(const nerve_graph *g, const nerve_node_data *node)
{
    return loss_flops_per_column(g, node, 8);
}

static const nerve_op bce_with_logits_op = {
    .name = "bce_with_logits",
    .infer_shape = loss_infer_same_shape,
    .forward = bce_with_logits_forward,
    .backward = bce_with_logits_backward,
    .flops = bce_with_logits_flops,
    .divisor = loss_divisor,
};

nerve_node nerve_bce_with_logits(nerve_graph *g, nerve_node logits, nerve_node target,
                                 const nerve_loss_options *options, nerve_error *err)
{
    NERVE_OPTIONS_IN(nerve_loss_options, options, one_hot, "nerve_bce_with_logits", err, -1);
    nerve_loss_options o = loss_options_or_default(options);
    int inputs[2] = {logits, target};
    return loss_add(g, &bce_with_logits_op, inputs, 2, &o, LOSS_OUTPUT_WEIGHTS, 0, 0, err);
}
