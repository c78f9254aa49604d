/* The metrics log: a CSV with one row per epoch (and optionally per N
 * steps), the file later plotting reads. Besides the loss, accuracy and
 * rates, every row has the gradient norm of each parameter tensor, so that
 * vanishing and exploding gradients show layer by layer, and each tensor's
 * update-to-weight ratio ||dW|| / ||W||, the step size the optimizer
 * really took (Karpathy's rule of thumb: about 1e-3). */
#ifndef NERVE_METRICS_LOG_H
#define NERVE_METRICS_LOG_H

#include <stdio.h>

#include "nerve.h"

typedef struct metrics_log {
    FILE *file;
    const char *path;
    nerve_graph *graph;
    nerve_node *params;      /* the trained tensors, in parameter order */
    int param_count;
    double *step_norms;      /* each tensor's gradient norm at the last step */
    double *epoch_sums;      /* their sums over the epoch's steps so far */
    int64_t epoch_steps;
    nerve_real *before;      /* the trained tensors' values before the step, back to back */
    double *step_ratios;     /* each tensor's ||after - before|| / ||before||; NaN: undefined */
    double *ratio_sums;      /* their sums over the epoch's steps where defined, */
    int64_t *ratio_counts;   /* and how many */
    /* The data-parallel gradient reduction's seconds at the last step and
     * summed over the epoch's (NaN, empty columns, without a communicator). */
    double step_comm, step_exposed, epoch_comm, epoch_exposed;
    int64_t comm_steps;
    double start;            /* when the log was opened: the elapsed column counts from it */
} metrics_log;

/* Opens path (NULL: no log, every call a no-op) and writes the header, with
 * two columns (grad_norm:, update_ratio:) per parameter tensor of g that has
 * a gradient. */
nerve_status metrics_log_open(metrics_log *log, const char *path, nerve_graph *g, nerve_error *err);
/* Measures the gradient norms of the step just back-propagated (before the
 * optimizer clips anything: the gradient buffers are never clipped in place).
 * whole false: the buffer holds one ZeRO-1 shard of the summed gradient, and
 * the step's per-tensor norms are left empty. */
void metrics_log_measure(metrics_log *log, bool whole);
/* After the optimizer's step (the parameters whole again on every rank):
 * each tensor's update-to-weight ratio against the values measure kept. */
void metrics_log_updated(metrics_log *log);
/* The step's gradient reduction: its seconds and those the step waited for
 * them after backward (dist_step_sums); NaN for a run without ranks. */
void metrics_log_comm(metrics_log *log, double comm_seconds, double exposed_seconds);
void metrics_log_step(metrics_log *log, int epoch, int64_t step, double loss, double accuracy,
                      double lr, double grad_norm);
/* An epoch row: the per-tensor norms are the means over the epoch's steps. */
void metrics_log_epoch(metrics_log *log, const nerve_epoch_report *r, int64_t step);
/* An `eval` row: the validation figures at a step inside an epoch
 * (nerve_train_options.eval_every). */
void metrics_log_eval(metrics_log *log, int epoch, int64_t step, double val_loss,
                      double val_accuracy, double lr);
/* A `target` row (target_error.h): the epoch row's figures at the step a
 * target error was first reached, the per-tensor columns empty. Returns the
 * elapsed seconds (also without a file). */
double metrics_log_target(metrics_log *log, const nerve_epoch_report *r, int64_t step);
/* NERVE_ERR_IO once a row could not be written (a full disk): checked
 * after every step, so that training ends there rather than at close. */
nerve_status metrics_log_status(const metrics_log *log, nerve_error *err);
nerve_status metrics_log_close(metrics_log *log, nerve_error *err);

#endif
