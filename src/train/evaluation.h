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
 * rate and per-class accuracy. */
void nerve_evaluation_finish(nerve_evaluation *out, int64_t count, int64_t steps,
                             double loss_sum);
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
