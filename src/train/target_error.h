/* The step and time at which a target error is first reached: the
 * instrument of "ReLU reaches 25% training error six times faster than
 * tanh" (Krizhevsky et al. 2012, Fig. 1), checked at each epoch's end. */
#ifndef NERVE_TARGET_ERROR_H
#define NERVE_TARGET_ERROR_H

#include <stdbool.h>

#include "nerve.h"
#include "train/metrics_log.h"

/* Checks the options against the model and the validation set. */
nerve_status target_error_check_options(const nerve_model *m, const nerve_train_options *o,
                                        const nerve_dataset *val, nerve_error *err);
/* After epoch r (at global step `step`): the first time its error is at
 * most the target, a `target` row in the log and a note through
 * on_warning; *reached is kept across calls (false at the start), and
 * *stop says whether training ends here (target_stop). */
void target_error_epoch(bool *reached, const nerve_train_options *o, const nerve_epoch_report *r,
                        int64_t step, metrics_log *log, bool *stop);

#endif
