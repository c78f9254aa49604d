/* Shared by the loss ops (src/ops/loss_*.c): their options, the checks of
 * their inputs, and the reduction. Every loss node is a scalar [1]. */
#ifndef NERVE_OPS_LOSS_H
#define NERVE_OPS_LOSS_H

#include "core/graph_internal.h"

/* What options->weights mean to a loss. */
typedef enum loss_weights {
    LOSS_NO_WEIGHTS,      /* weights are an error */
    LOSS_CLASS_WEIGHTS,   /* one per class (the last dimension of input 0) */
    LOSS_OUTPUT_WEIGHTS   /* one per output column, or one for all of them */
} loss_weights;

/* *options, or the defaults when options is NULL. */
nerve_loss_options loss_options_or_default(const nerve_loss_options *options);
/* Adds the loss op after checking the reduction and the weights: the node
 * keeps the reduction, margin and param in attr.loss and the weights (one
 * per column) as its constants. */
nerve_node loss_add(nerve_graph *g, const nerve_op *op, const int *inputs, int input_count,
                    const nerve_loss_options *options, loss_weights weights, int margin,
                    double param, nerve_error *err);
/* Fails with "<loss>: <what> must be <range>" unless ok. */
bool loss_check_option(bool ok, const char *loss, const char *what, const char *range,
                       nerve_error *err);

/* infer_shape of losses between a prediction and a target of the same shape. */
nerve_status loss_infer_same_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err);
/* infer_shape of losses on scores [N, C] (input 0) and N class labels
 * (input 1), or on a sequence's scores [N, T, C] and N * T labels: each
 * step is a row, as torch's losses on [N, C, T] scores with [N, T] targets. */
nerve_status loss_infer_labels(nerve_graph *g, nerve_node_data *node, nerve_error *err);
/* A loss's view of its input 0 [N, ..., C]: rows (every position but the
 * last dimension; N * T for a sequence) of loss_cols = C values. Class
 * weights and pos_weight go along the last dimension. */
int64_t loss_rows(const nerve_shape *s);
int64_t loss_cols(const nerve_shape *s);
/* Sets the scalar output shape. */
void loss_set_scalar(nerve_node_data *node);
/* The factor that turns a sum over `count` terms into the loss: 1 / count
 * for reduction mean, 1 for sum. */
double loss_reduction_factor(const nerve_node_data *node, double count);
/* The divisor (nerve_op.divisor) of a loss whose mean is over samples (or
 * a multiple of them: elements, sequence steps): the batch's samples. */
double loss_divisor(const nerve_graph *g, const nerve_node_data *node);
/* That of a loss on class labels (input 1) whose mean divides by the
 * labels' summed class weights when it has weights (torch's NLLLoss). */
double loss_label_weight_divisor(const nerve_graph *g, const nerve_node_data *node);
/* Flops of one sample of a per-element loss: `per_element` per output column. */
int64_t loss_flops_per_column(const nerve_graph *g, const nerve_node_data *node,
                              int64_t per_element);

#endif
