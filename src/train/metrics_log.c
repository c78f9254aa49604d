#include "train/metrics_log.h"

#include "train/batching.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void free_columns(metrics_log *log)
{
    free(log->params);
    free(log->step_norms);
    free(log->epoch_sums);
    log->params = NULL;
    log->step_norms = log->epoch_sums = NULL;
}

/* The parameter tensors that learn: buffers (running statistics) have no gradient. */
static bool list_params(metrics_log *log, nerve_graph *g)
{
    int nodes = nerve_graph_node_count(g), count = 0;
    log->params = malloc((size_t)(nodes ? nodes : 1) * sizeof *log->params);
    log->step_norms = calloc((size_t)(nodes ? nodes : 1), sizeof *log->step_norms);
    log->epoch_sums = calloc((size_t)(nodes ? nodes : 1), sizeof *log->epoch_sums);
    if (!log->params || !log->step_norms || !log->epoch_sums) return false;
    for (nerve_node n = 0; n < nodes; n++)
        if (nerve_node_is_param(g, n) && !nerve_node_is_buffer(g, n) && nerve_node_grad(g, n))
            log->params[count++] = n;
    log->param_count = count;
    return true;
}

nerve_status metrics_log_open(metrics_log *log, const char *path, nerve_graph *g, nerve_error *err)
{
    memset(log, 0, sizeof *log);
    log->path = path;
    log->graph = g;
    log->start = nerve_seconds_now();
    log->step_comm = log->step_exposed = NAN;
    if (!path) return NERVE_OK;
    if (!list_params(log, g)) {
        free_columns(log);
        return nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory for the metrics log",
                               path);
    }
    log->file = fopen(path, "w");
    if (!log->file) {
        free_columns(log);
        return nerve_error_set(err, NERVE_ERR_IO, "%s: cannot write the metrics log: %s", path,
                               strerror(errno));
    }
    fputs("kind,epoch,step,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds,"
          "samples_per_second,grad_norm,elapsed,comm_seconds,exposed_comm_seconds", log->file);
    for (int k = 0; k < log->param_count; k++)
        fprintf(log->file, ",grad_norm:%s", nerve_node_name(g, log->params[k]));
    fputc('\n', log->file);
    return NERVE_OK;
}

void metrics_log_measure(metrics_log *log, bool whole)
{
    if (!log->file) return;
    for (int k = 0; k < log->param_count && !whole; k++) log->step_norms[k] = NAN;
    for (int k = 0; k < log->param_count && whole; k++) {
        nerve_node n = log->params[k];
        nerve_shape shape = nerve_node_shape(log->graph, n);
        const nerve_real *grad = nerve_node_grad(log->graph, n);
        int64_t size = nerve_shape_numel(&shape);
        double squares = 0;
        for (int64_t i = 0; i < size; i++) squares += (double)grad[i] * (double)grad[i];
        log->step_norms[k] = sqrt(squares);
        log->epoch_sums[k] += log->step_norms[k];
    }
    log->epoch_steps += whole;
}

void metrics_log_comm(metrics_log *log, double comm_seconds, double exposed_seconds)
{
    log->step_comm = comm_seconds;
    log->step_exposed = exposed_seconds;
    if (isnan(comm_seconds)) return;
    log->epoch_comm += comm_seconds;
    log->epoch_exposed += exposed_seconds;
    log->comm_steps++;
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
    field(log->file, nerve_seconds_now() - log->start);
    field(log->file, log->step_comm);
    field(log->file, log->step_exposed);
    for (int k = 0; k < log->param_count; k++) field(log->file, log->step_norms[k]);
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
    field(log->file, nerve_seconds_now() - log->start);
    /* Per step, the epoch's mean. */
    field(log->file, log->comm_steps ? log->epoch_comm / (double)log->comm_steps : NAN);
    field(log->file, log->comm_steps ? log->epoch_exposed / (double)log->comm_steps : NAN);
    log->epoch_comm = log->epoch_exposed = 0;
    log->comm_steps = 0;
    for (int k = 0; k < log->param_count; k++) {
        field(log->file, log->epoch_steps ? log->epoch_sums[k] / (double)log->epoch_steps : NAN);
        log->epoch_sums[k] = 0;
    }
    log->epoch_steps = 0;
    fputc('\n', log->file);
    fflush(log->file);
}

nerve_status metrics_log_close(metrics_log *log, nerve_error *err)
{
    free_columns(log);
    if (!log->file) return NERVE_OK;
    int failed = ferror(log->file) | fclose(log->file);
    log->file = NULL;
    if (failed)
        return nerve_error_set(err, NERVE_ERR_IO, "%s: writing the metrics log failed", log->path);
    return NERVE_OK;
}
