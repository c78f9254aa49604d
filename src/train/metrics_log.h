/* The metrics log: a CSV with one row per epoch (and optionally per N
 * steps), the file later plotting reads. */
#ifndef NERVE_METRICS_LOG_H
#define NERVE_METRICS_LOG_H

#include <stdio.h>

#include "nerve.h"

typedef struct metrics_log {
    FILE *file;
    const char *path;
} metrics_log;

nerve_status metrics_log_open(metrics_log *log, const char *path, nerve_error *err);
void metrics_log_step(metrics_log *log, int epoch, int64_t step, double loss, double accuracy,
                      double lr, double grad_norm);
void metrics_log_epoch(metrics_log *log, const nerve_epoch_report *r, int64_t step);
nerve_status metrics_log_close(metrics_log *log, nerve_error *err);

#endif
