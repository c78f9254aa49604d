/* The L1 family, element-wise between a prediction and a target of one
 * shape, with d = pred - target:
 *   l1         |d|                                          torch L1Loss
 *   smooth_l1  0.5 d^2 / beta if |d| < beta, else |d| - 0.5 beta   SmoothL1Loss
 *   huber      0.5 d^2 if |d| < delta, else delta (|d| - 0.5 delta)  HuberLoss
 * Huber is delta * smooth_l1 with beta = delta, so the two share a kernel.
 * attr.loss.param holds beta (or delta). */
#include <math.h>

#include "core/options.h"
#include "ops/loss.h"

static const nerve_op l1_op, smooth_l1_op, huber_op;

/* huber = delta * smooth_l1(beta = delta); l1 and smooth_l1 are unscaled. */
static double family_scale(const nerve_node_data *node)
{
    return node->op == &huber_op ? node->attr.loss.param : 1;
}

static nerve_status l1_family_forward(nerve_graph *g, nerve_node_data *node)
{
    const nerve_node_data *pred = nerve_node_input(g, node, 0);
    const nerve_node_data *target = nerve_node_input(g, node, 1);
    int64_t n = nerve_shape_numel(&pred->shape);
    nerve_real beta = (nerve_real)node->attr.loss.param;
    double factor = family_scale(node) * loss_reduction_factor(node, (double)n);
    if (node->op == &l1_op)
        return NERVE_RUN(g, absolute_error, pred->value, target->value, n, factor, node->value);
    return NERVE_RUN(g, smooth_l1, pred->value, target->value, beta, n, factor, node->value);
}

static nerve_status l1_family_backward(nerve_graph *g, nerve_node_data *node)
{
    nerve_node_data *pred = nerve_node_input(g, node, 0);
    const nerve_node_data *target = nerve_node_input(g, node, 1);
    int64_t n = nerve_shape_numel(&pred->shape);
    if (!pred->needs_grad) return NERVE_OK;
    nerve_real scale = (nerve_real)(family_scale(node) * loss_reduction_factor(node, (double)n));
    if (node->op == &l1_op)
        return NERVE_RUN(g, absolute_error_backward, pred->value, target->value, node->grad, scale,
                         pred->grad, n);
    return NERVE_RUN(g, smooth_l1_backward, pred->value, target->value,
                     (nerve_real)node->attr.loss.param, node->grad, scale, pred->grad, n);
}

static int64_t l1_family_flops(const nerve_graph *g, const nerve_node_data *node)
{
    return loss_flops_per_column(g, node, 3);
}

#define L1_FAMILY_OP(op_name)                                                                  \
    {                                                                                          \
        .name = op_name, .infer_shape = loss_infer_same_shape, .forward = l1_family_forward,   \
        .backward = l1_family_backward, .flops = l1_family_flops,                              \
        .divisor = loss_divisor,                                                               \
    }
static const nerve_op l1_op = L1_FAMILY_OP("l1");
static const nerve_op smooth_l1_op = L1_FAMILY_OP("smooth_l1");
static const nerve_op huber_op = L1_FAMILY_OP("huber");

static nerve_node add_l1_family(nerve_graph *g, const nerve_op *op, nerve_node pred,
                                nerve_node target, const nerve_loss_options *o, double param,
                                nerve_error *err)
{
    int inputs[2] = {pred, target};
    return loss_add(g, op, inputs, 2, o, LOSS_NO_WEIGHTS, 0, param, err);
}

nerve_node nerve_l1(nerve_graph *g, nerve_node pred, nerve_node target,
                    const nerve_loss_options *options, nerve_error *err)
{
    NERVE_OPTIONS_IN(nerve_loss_options, options, one_hot, "nerve_l1", err, -1);
    nerve_loss_options o = loss_options_or_default(options);
    return add_l1_family(g, &l1_op, pred, target, &o, 0, err);
}

nerve_node nerve_smooth_l1(nerve_graph *g, nerve_node pred, nerve_node target,
                           const nerve_loss_options *options, nerve_error *err)
{
    NERVE_OPTIONS_IN(nerve_loss_options, options, one_hot, "nerve_smooth_l1", err, -1);
    nerve_loss_options o = loss_options_or_default(options);
    if (!loss_check_option(o.beta >= 0 && isfinite(o.beta), "smooth_l1", "beta", ">= 0", err))
        return -1;
    return add_l1_family(g, &smooth_l1_op, pred, target, &o, o.beta, err);
}

nerve_node nerve_huber(nerve_graph *g, nerve_node pred, nerve_node target,
                       const nerve_loss_options *options, nerve_error *err)
{
    NERVE_OPTIONS_IN(nerve_loss_options, options, one_hot, "nerve_huber", err, -1);
    nerve_loss_options o = loss_options_or_default(options);
    if (!loss_check_option(o.delta > 0 && isfinite(o.delta), "huber", "delta", "> 0", err))
        return -1;
    return add_l1_family(g, &huber_op, pred, target, &o, o.delta, err);
}
