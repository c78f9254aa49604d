/* Knowledge distillation with soft targets (Hinton, Vinyals and Dean,
 * "Distilling the Knowledge in a Neural Network", 2015):
 *   T^2 KL(softmax(teacher / T) || softmax(student / T))
 * = T^2 * F.kl_div(F.log_softmax(s / T), F.softmax(t / T), reduction='batchmean').
 * The T^2 keeps the gradient's size independent of T (it is
 * T (p_student - p_teacher) per logit). The teacher's logits are data: no
 * gradient reaches them. Mean is over samples (kl_div's batchmean, not its
 * per-element mean). attr.loss.param holds T.
 * With labels, Hinton's mix: alpha * the above + (1 - alpha) * the softmax
 * cross-entropy with the labels (at T = 1), alpha in attr.loss.soft_weight. */
#include <math.h>

#include "core/options.h"
#include "ops/loss.h"

/* aux: the student's, then the teacher's probabilities at temperature T. */
static nerve_status distillation_infer_shape(nerve_graph *g, nerve_node_data *node,
                                             nerve_error *err)
{
    const nerve_node_data *student = nerve_node_input(g, node, 0);
    const nerve_node_data *teacher = nerve_node_input(g, node, 1);
    char ss[64], ts[64];
    if (student->shape.ndim != 2 || !nerve_shape_equal(&student->shape, &teacher->shape))
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "distillation: student logits %s and teacher logits %s differ "
                               "(expected [N, C] both)",
                               nerve_shape_format(&student->shape, ss, sizeof ss),
                               nerve_shape_format(&teacher->shape, ts, sizeof ts));
    node->aux_size = 2 * nerve_shape_numel(&student->shape);
    loss_set_scalar(node);
    return NERVE_OK;
}

static nerve_status distillation_forward(nerve_graph *g, nerve_node_data *node)
{
    const nerve_node_data *student = nerve_node_input(g, node, 0);
    const nerve_node_data *teacher = nerve_node_input(g, node, 1);
    int64_t rows = student->shape.dim[0], cols = student->shape.dim[1];
    double t = node->attr.loss.param;
    return NERVE_RUN(g, distillation, student->value, teacher->value, (nerve_real)t, node->aux,
                     node->aux + rows * cols, rows, cols,
                     t * t * loss_reduction_factor(node, (double)rows), node->value);
}

static nerve_status distillation_backward(nerve_graph *g, nerve_node_data *node)
{
    nerve_node_data *student = nerve_node_input(g, node, 0);
    int64_t rows = student->shape.dim[0], n = nerve_shape_numel(&student->shape);
    if (!student->needs_grad) return NERVE_OK;
    double t = node->attr.loss.param;
    nerve_real scale = (nerve_real)(t * loss_reduction_factor(node, (double)rows));
    return NERVE_RUN(g, add_scaled_difference, n, node->grad, scale, node->aux, node->aux + n,
                     student->grad);
}

static int64_t distillation_flops(const nerve_graph *g, const nerve_node_data *node)
{
    return loss_flops_per_column(g, node, 11);
}

/* aux: the two probabilities at T as above, then the student's at T = 1. */
static nerve_status labelled_infer_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    nerve_status st = distillation_infer_shape(g, node, err);
    if (st != NERVE_OK) return st;
    const nerve_node_data *student = nerve_node_input(g, node, 0);
    const nerve_node_data *labels = nerve_node_input(g, node, 2);
    char ss[64], ls[64];
    if (nerve_shape_numel(&labels->shape) != student->shape.dim[0])
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "distillation: logits %s and labels %s do not agree (expected "
                               "[N, C] and N labels)",
                               nerve_shape_format(&student->shape, ss, sizeof ss),
                               nerve_shape_format(&labels->shape, ls, sizeof ls));
    /* both probabilities, the cross-entropy's, then the soft term's value
     * and the hard term's factor */
    node->aux_size = 3 * nerve_shape_numel(&student->shape) + 2;
    return NERVE_OK;
}

static nerve_status labelled_forward(nerve_graph *g, nerve_node_data *node)
{
    const nerve_node_data *student = nerve_node_input(g, node, 0);
    const nerve_node_data *teacher = nerve_node_input(g, node, 1);
    const nerve_node_data *labels = nerve_node_input(g, node, 2);
    int64_t rows = student->shape.dim[0], cols = student->shape.dim[1], n = rows * cols;
    double t = node->attr.loss.param, alpha = node->attr.loss.soft_weight;
    double factor = loss_reduction_factor(node, (double)rows);
    nerve_real *soft = node->aux + 3 * n, *hard_factor = soft + 1;
    NERVE_TRY(NERVE_RUN(g, distillation, student->value, teacher->value, (nerve_real)t, node->aux,
                        node->aux + n, rows, cols, alpha * t * t * factor, soft));
    NERVE_TRY(NERVE_RUN(g, cross_entropy, student->value, labels->value, NULL, 0, node->aux + 2 * n,
                        rows, cols, (1 - alpha) * factor, false, node->value, hard_factor));
    return NERVE_RUN(g, add_block, 1, 1, soft, 1, node->value, 1);
}

static nerve_status labelled_backward(nerve_graph *g, nerve_node_data *node)
{
    nerve_node_data *student = nerve_node_input(g, node, 0);
    const nerve_node_data *labels = nerve_node_input(g, node, 2);
    int64_t rows = student->shape.dim[0], cols = student->shape.dim[1], n = rows * cols;
    if (!student->needs_grad) return NERVE_OK;
    double t = node->attr.loss.param, alpha = node->attr.loss.soft_weight;
    double factor = loss_reduction_factor(node, (double)rows);
    NERVE_TRY(NERVE_RUN(g, add_scaled_difference, n, node->grad, (nerve_real)(factor * alpha * t),
                        node->aux, node->aux + n, student->grad));
    return NERVE_RUN(g, cross_entropy_backward, node->aux + 2 * n, labels->value, NULL, 0,
                     node->grad, node->aux + 3 * n + 1, student->grad, rows, cols);
}

static int64_t labelled_flops(const nerve_graph *g, const nerve_node_data *node)
{
    return loss_flops_per_column(g, node, 15);
}

static const nerve_op distillation_with_labels_op = {
    .name = "distillation_with_labels",
    .infer_shape = labelled_infer_shape,
    .forward = labelled_forward,
    .backward = labelled_backward,
    .flops = labelled_flops,
    .divisor = loss_divisor,
};

static const nerve_op distillation_op = {
    .name = "distillation",
    .infer_shape = distillation_infer_shape,
    .forward = distillation_forward,
    .backward = distillation_backward,
    .flops = distillation_flops,
    .divisor = loss_divisor,
};

nerve_node nerve_distillation(nerve_graph *g, nerve_node student_logits,
                              nerve_node teacher_logits, const nerve_loss_options *options,
                              nerve_error *err)
{
    NERVE_OPTIONS_IN(nerve_loss_options, options, one_hot, "nerve_distillation", err, -1);
    nerve_loss_options o = loss_options_or_default(options);
    if (!loss_check_option(o.temperature > 0 && isfinite(o.temperature), "distillation",
                           "temperature", "> 0", err))
        return -1;
    int inputs[2] = {student_logits, teacher_logits};
    return loss_add(g, &distillation_op, inputs, 2, &o, LOSS_NO_WEIGHTS, 0, o.temperature, err);
}

nerve_node nerve_distillation_with_labels(nerve_graph *g, nerve_node student_logits,
                                          nerve_node teacher_logits, nerve_node labels,
                                          const nerve_loss_options *options, nerve_error *err)
{
    NERVE_OPTIONS_IN(nerve_loss_options, options, one_hot, "nerve_distillation_with_labels",
                     err, -1);
    nerve_loss_options o = loss_options_or_default(options);
    if (!loss_check_option(o.temperature > 0 && isfinite(o.temperature), "distillation",
                           "temperature", "> 0", err) ||
        !loss_check_option(o.soft_weight >= 0 && o.soft_weight <= 1, "distillation",
                           "soft_weight (alpha)", "in [0, 1]", err))
        return -1;
    int inputs[3] = {student_logits, teacher_logits, labels};
    nerve_node n = loss_add(g, &distillation_with_labels_op, inputs, 3, &o, LOSS_NO_WEIGHTS, 0,
                            o.temperature, err);
    if (n >= 0) g->nodes[n].attr.loss.soft_weight = o.soft_weight;
    return n;
}
