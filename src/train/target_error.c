#include "train/target_error.h"

#include <math.h>
#include <stdio.h>

#include "model/model_internal.h"

nerve_status target_error_check_options(const nerve_model *m, const nerve_train_options *o,
                                        const nerve_dataset *val, nerve_error *err)
{
    if (o->target_error == 0) return NERVE_OK;
    if (!(o->target_error > 0 && o->target_error < 1))
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "the target error must be between 0 and 1 (exclusive), not %g",
                               o->target_error);
    if (!m->classes)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "a target error needs a classifier (a class-label [loss], or bce "
                               "with one output): this network has no error rate");
    if (o->target_on_val && (!val || val->count == 0))
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "a target validation error needs a validation set: set [data] "
                               "validation = N");
    return NERVE_OK;
}

void target_error_epoch(bool *reached, const nerve_train_options *o, const nerve_epoch_report *r,
                        int64_t step, metrics_log *log, bool *stop)
{
    *stop = false;
    if (o->target_error == 0 || *reached) return;
    double error = 1 - (o->target_on_val ? r->val_accuracy : r->train_accuracy);
    if (!(error <= o->target_error)) return; /* NaN: not reached */
    *reached = true;
    *stop = o->target_stop;
    double elapsed = metrics_log_target(log, r, step);
    if (!o->on_warning) return;
    char message[240];
    snprintf(message, sizeof message,
             "target %s error %g reached at epoch %d, step %lld, %.3f s (%s error %.4g)%s",
             o->target_on_val ? "validation" : "training", o->target_error, r->epoch,
             (long long)step, elapsed, o->target_on_val ? "validation" : "training", error,
             *stop ? ": training stops" : "");
    o->on_warning(message, o->user);
}
