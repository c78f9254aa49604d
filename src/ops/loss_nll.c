/* Negative log-likelihood of log-probabilities [N, C], as torch.nn.NLLLoss:
 * -w_y log_probs[y], and with weights the mean divides by the batch's sum
 * of w_y. The input is meant to be log_softmax's output; NLL of raw scores
 * has no lower bound. */
#include "core/options.h"
#include "ops/loss.h"

/* aux: the reduction factor of the last forward. */
static nerve_status nll_infer_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    node->aux_size = 1;
    return loss_infer_labels(g, node, err);
}

static nerve_status nll_forward(nerve_graph *g, nerve_node_data *node)
{
    const nerve_node_data *log_probs = nerve_node_input(g, node, 0);
    const nerve_node_data *labels = nerve_node_input(g, node, 1);
    return NERVE_RUN(g, nll, log_probs->value, labels->value, node->constants,
                     loss_rows(&log_probs->shape), loss_cols(&log_probs->shape), 1,
                     node->attr.loss.reduction == NERVE_REDUCTION_MEAN, node->value, node->aux);
}

static nerve_status nll_backward(nerve_graph *g, nerve_node_data *node)
{
    nerve_node_data *log_probs = nerve_node_input(g, node, 0);
    const nerve_node_data *labels = nerve_node_input(g, node, 1);
    if (!log_probs->needs_grad) return NERVE_OK;
    return NERVE_RUN(g, nll_backward, labels->value, node->constants, node->grad, node->aux,
                     log_probs->grad, loss_rows(&log_probs->shape), loss_cols(&log_probs->shape));
}

static int64_t nll_flops(const nerve_graph *g, const nerve_node_data *node) { return 2; }

static const nerve_op nll_op = {
    .name = "nll",
    .infer_shape = nll_infer_shape,
    .forward = nll_forward,
    .backward = nll_backward,
    .flops = nll_flops,
    .divisor = loss_label_weight_divisor,
};

nerve_node nerve_nll(nerve_graph *g, nerve_node log_probs, nerve_node labels,
                     const nerve_loss_options *options, nerve_error *err)
{
    NERVE_OPTIONS_IN(nerve_loss_options, options, one_hot, "nerve_nll", err, -1);
    nerve_loss_options o = loss_options_or_default(options);
    int inputs[2] = {log_probs, labels};
    return loss_add(g, &nll_op, inputs, 2, &o, LOSS_CLASS_WEIGHTS, 0, 0, err);
}
