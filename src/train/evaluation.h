/* The parts of a nerve_evaluation that single-model and ensemble
 * evaluation share: its buffers, and the figures read off its confusion
 * matrix. */
#ifndef NERVE_EVALUATION_H
#define NERVE_EVALUATION_H

#include "nerve.h"

/* Zeroes out and allocates its per-class accuracy and confusion matrix for
 * `classes` classes (none for 0); NERVE_ERR_NOMEM names the count samples. */
nerve_status nerve_evaluation_alloc(nerve_evaluation *out, int classes, int64_t count,
                                    nerve_error *err);
/* Sets count, labels (count x steps), the mean loss from loss_sum (a sum
 * over samples), and from the filled confusion matrix the accuracy, error
 * rate and per-class accuracy; from the reliability bins' sums, their means
 * and the expected calibration error. */
void nerve_evaluation_finish(nerve_evaluation *out, int64_t count, int64_t steps,
                             double loss_sum);
/* Adds one label to the reliability bins: its confidence (the predicted
 * class's probability) and whether the prediction was right. */
void nerve_calibration_add(nerve_evaluation *out, double confidence, bool correct);
/* The confidence of a row of the model's raw output (cols values): its
 * prediction's softmax or sigmoid, as nerve_model_prediction computes it. */
double nerve_output_confidence(const nerve_model *m, const nerve_real *row, int64_t cols);
/* Scores n samples' averaged predictions (probabilities for classifiers,
 * rows of width values, from sample `start` of ds): the confusion matrix,
 * the reliability bins; returns the summed loss (the negative log of the
 * averaged probability of the true class; the mean squared error for
 * regression). */
double nerve_score_averaged(nerve_evaluation *e, const nerve_dataset *ds, const nerve_real *mean,
                            int64_t start, int64_t n, int64_t width, int64_t steps);
/* A graph's training mode and state carrying, kept while it evaluates. */
typedef struct nerve_eval_mode {
    bool was_training, carried, stream;
} nerve_eval_mode;

/* Eval mode; for a stream (a data set with lanes) the recurrent state is
 * carried from batch to batch from a reset. */
nerve_eval_mode nerve_eval_mode_enter(nerve_graph *g, bool stream);
/* Restores what nerve_eval_mode_enter changed (a stream's state is reset). */
void nerve_eval_mode_leave(nerve_graph *g, nerve_eval_mode mode);
/* 0, 1, ..., n - 1 (allocated; NULL when out of memory): the samples of a
 * data set in order, for nerve_batching_load. */
int64_t *nerve_identity_index(int64_t n);

#endif
