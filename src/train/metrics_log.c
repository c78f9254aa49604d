#include "train/metrics_log.h"

#include <errno.h>
#include <math.h>
#include <string.h>

nerve_status metrics_log_open(metrics_log *log, const char *path, nerve_error *err)
{
    log->file = NULL;
    log->path = path;
    if (!path) return NERVE_OK;
    log->file = fopen(path, "w");
    if (!log->file)
        return nerve_error_set(err, NERVE_ERR_IO, "%s: cannot write the metrics log: %s", path,
                               strerror(errno));
    fputs("kind,epoch,step,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds,"
          "samples_per_second,grad_norm\n", log->file);
    return NERVE_OK;
}

/* Empty fields where a value does not apply (NaN), so CSV readers see missing data. */
static void field(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, ",%.6g", v);
    else
        fputs(",", f);
}

void metrics_log_step(metrics_log *log, int epoch, int64_t step, double loss, double accuracy,
                      double lr, double grad_norm)
{
    if (!log->file) return;
    fprintf(log->file, "step,%d,%lld", epoch, (long long)step);
    field(log->file, loss);
    field(log->file, accuracy);
    fputs(",,", log->file);
    field(log->file, lr);
    fputs(",,", log->file);
    field(log->file, grad_norm);
    fputc('\n', log->file);
}

void metrics_log_epoch(metrics_log *log, const nerve_epoch_report *r, int64_t step)
{
    if (!log->file) return;
    fprintf(log->file, "epoch,%d,%lld", r->epoch, (long long)step);
    field(log->file, r->train_loss);
    field(log->file, r->train_accuracy);
    field(log->file, r->val_loss);
    field(log->file, r->val_accuracy);
    field(log->file, r->lr);
    field(log->file, r->seconds);
    field(log->file, r->samples_per_second);
    field(log->file, r->grad_norm);
    fputc('\n', log->file);
    fflush(log->file);
}

nerve_status metrics_log_close(metrics_log *log, nerve_error *err)
{
    if (!log->file) return NERVE_OK;
    int failed = ferror(log->file) | fclose(log->file);
    log->file = NULL;
    if (failed)
        return nerve_error_set(err, NERVE_ERR_IO, "%s: writing the metrics log failed", log->path);
    return NERVE_OK;
}
