/* Large-margin softmax loss, L-Softmax (Liu, Wen, Yu and Yang, ICML 2016):
 * softmax cross-entropy in which each sample's target logit
 * W_y.x = |W_y||x| cos(theta_y) is replaced by
 *   (lambda W_y.x + |W_y||x| psi(theta_y)) / (1 + lambda),
 *   psi(theta) = (-1)^k cos(m theta) - 2k,  theta in [k pi/m, (k+1) pi/m].
 * lambda is the paper's beta, fixed in the op (the paper anneals it towards
 * 0: the model's [loss] lambda_gamma has the trainer set it each step);
 * m = 1 is plain softmax cross-entropy. It needs the angle between x and
 * W_y, so the logits must come from nerve_linear(x, W) without a bias; the
 * op takes x and W from that node. Only training sees the margin: the
 * logits themselves, what prediction uses, are plain W.x.
 * attr.loss: margin m, param lambda. */
#include <math.h>
#include <string.h>

#include "ops/loss.h"

enum { LOGITS, LABELS, FEATURES, WEIGHT };

/* aux: the margin logits (reused for their gradient in backward), then
 * their softmax, both [N, C]. */
static nerve_status lsoftmax_infer_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    /* the margin logits (their gradient in backward), the probabilities,
     * the cross-entropy's factor */
    node->aux_size = 2 * nerve_shape_numel(&nerve_node_input(g, node, LOGITS)->shape) + 1;
    return loss_infer_labels(g, node, err);
}

static nerve_status lsoftmax_forward(nerve_graph *g, nerve_node_data *node)
{
    const nerve_node_data *logits = nerve_node_input(g, node, LOGITS);
    const nerve_node_data *labels = nerve_node_input(g, node, LABELS);
    const nerve_node_data *x = nerve_node_input(g, node, FEATURES);
    const nerve_node_data *w = nerve_node_input(g, node, WEIGHT);
    int64_t rows = loss_rows(&logits->shape), cols = loss_cols(&logits->shape);
    int64_t dim = w->shape.dim[1];
    nerve_real *margin_logits = node->aux, *prob = node->aux + rows * cols;
    NERVE_TRY(NERVE_RUN(g, large_margin_logits, logits->value, x->value, w->value, labels->value,
                        node->attr.loss.margin, (nerve_real)node->attr.loss.param, margin_logits,
                        rows, cols, dim));
    return NERVE_RUN(g, cross_entropy, margin_logits, labels->value, NULL, 0, prob, rows, cols,
                     loss_reduction_factor(node, (double)rows), false, node->value,
                     prob + rows * cols);
}

static nerve_status lsoftmax_backward(nerve_graph *g, nerve_node_data *node)
{
    nerve_node_data *logits = nerve_node_input(g, node, LOGITS);
    const nerve_node_data *labels = nerve_node_input(g, node, LABELS);
    nerve_node_data *x = nerve_node_input(g, node, FEATURES);
    nerve_node_data *w = nerve_node_input(g, node, WEIGHT);
    int64_t rows = loss_rows(&logits->shape), cols = loss_cols(&logits->shape);
    int64_t dim = w->shape.dim[1];
    if (!logits->needs_grad) return NERVE_OK;
    nerve_real *dmargin_logits = node->aux, *prob = node->aux + rows * cols;
    NERVE_TRY(nerve_graph_zero(g, dmargin_logits, rows * cols));
    NERVE_TRY(NERVE_RUN(g, cross_entropy_backward, prob, labels->value, NULL, 0, node->grad,
                        prob + rows * cols, dmargin_logits, rows, cols));
    NERVE_TRY(NERVE_RUN(g, large_margin_backward, logits->value, x->value, w->value, labels->value,
                        node->attr.loss.margin, (nerve_real)node->attr.loss.param, dmargin_logits,
                        logits->grad, x->needs_grad ? x->grad : NULL,
                        w->needs_grad ? w->grad : NULL, rows, cols, dim));
    return NERVE_OK;
}

static int64_t lsoftmax_flops(const nerve_graph *g, const nerve_node_data *node)
{
    const nerve_node_data *w = &g->nodes[node->input[WEIGHT]];
    const nerve_shape *logits = &g->nodes[node->input[LOGITS]].shape;
    int64_t rows_per_sample = nerve_shape_cols(logits) / loss_cols(logits);
    return loss_flops_per_column(g, node, 4) + rows_per_sample * (4 * w->shape.dim[1] + 12);
}

static const nerve_op large_margin_softmax_op = {
    .name = "large_margin_softmax",
    .infer_shape = lsoftmax_infer_shape,
    .forward = lsoftmax_forward,
    .backward = lsoftmax_backward,
    .flops = lsoftmax_flops,
};

nerve_node nerve_large_margin_softmax(nerve_graph *g, nerve_node logits, nerve_node labels,
                                      const nerve_loss_options *options, nerve_error *err)
{
    nerve_loss_options o = loss_options_or_default(options);
    if (!loss_check_option(o.margin >= 1 && o.margin <= 4, "large_margin_softmax", "margin",
                           "in 1..4", err) ||
        !loss_check_option(o.lambda >= 0 && isfinite(o.lambda), "large_margin_softmax", "lambda",
                           ">= 0", err))
        return -1;
    const char *op = nerve_node_op_name(g, logits);
    if (!op || strcmp(op, "linear") != 0 || g->nodes[logits].input_count != 2) {
        nerve_error_set(err, NERVE_ERR_INVALID,
                        "large_margin_softmax: the logits must be a linear node without bias "
                        "(the loss needs its input x and weight W)");
        return -1;
    }
    const nerve_node_data *linear = &g->nodes[logits];
    int inputs[4] = {[LOGITS] = logits, [LABELS] = labels, [FEATURES] = linear->input[0],
                     [WEIGHT] = linear->input[1]};
    return loss_add(g, &large_margin_softmax_op, inputs, 4, &o, LOSS_NO_WEIGHTS, o.margin,
                    o.lambda, err);
}
