#include "train/metrics_log.h"

#include "core/graph_internal.h"
#include "io/log_file.h"
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
    free(log->before);
    free(log->step_ratios);
    free(log->ratio_sums);
    free(log->ratio_counts);
    log->params = NULL;
    log->step_norms = log->epoch_sums = log->step_ratios = log->ratio_sums = NULL;
    log->before = NULL;
    log->ratio_counts = NULL;
}

/* The parameter tensors that learn: buffers (running statistics) have no gradient. */
static bool list_params(metrics_log *log, nerve_graph *g)
{
    int nodes = nerve_graph_node_count(g), count = 0;
    log->params = malloc((size_t)(nodes ? nodes : 1) * sizeof *log->params);
    log->step_norms = calloc((size_t)(nodes ? nodes : 1), sizeof *log->step_norms);
    log->epoch_sums = calloc((size_t)(nodes ? nodes : 1), sizeof *log->epoch_sums);
    log->step_ratios = calloc((size_t)(nodes ? nodes : 1), sizeof *log->step_ratios);
    log->ratio_sums = calloc((size_t)(nodes ? nodes : 1), sizeof *log->ratio_sums);
    log->ratio_counts = calloc((size_t)(nodes ? nodes : 1), sizeof *log->ratio_counts);
    if (!log->params || !log->step_norms || !log->epoch_sums || !log->step_ratios ||
        !log->ratio_sums || !log->ratio_counts)
        return false;
    size_t values = 0;
    for (nerve_node n = 0; n < nodes; n++)
        if (nerve_node_is_param(g, n) && !nerve_node_is_buffer(g, n) && nerve_node_grad(g, n)) {
            nerve_shape shape = nerve_node_shape(g, n);
            log->params[count++] = n;
            values += (size_t)nerve_shape_numel(&shape);
        }
    log->param_count = count;
    log->before = malloc((values ? values : 1) * sizeof *log->before);
    for (int k = 0; k < count; k++) log->step_ratios[k] = NAN;
    return log->before != NULL;
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
          "samples_per_second,grad_norm,elapsed,comm_seconds,exposed_comm_seconds,test_loss,"
          "test_accuracy,train_eval_loss,train_eval_accuracy", log->file);
    for (int k = 0; k < log->param_count; k++)
        fprintf(log->file, ",grad_norm:%s", nerve_node_name(g, log->params[k]));
    for (int k = 0; k < log->param_count; k++)
        fprintf(log->file, ",update_ratio:%s", nerve_node_name(g, log->params[k]));
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
        nerve_real *device = nerve_node_grad(log->graph, n);
        int64_t size = nerve_shape_numel(&shape);
        /* read on the host: a copy on a device without host memory */
        nerve_real *grad = nerve_graph_host_view(log->graph, device, size, true, NULL);
        double squares = grad ? 0 : NAN;
        for (int64_t i = 0; grad && i < size; i++) squares += (double)grad[i] * (double)grad[i];
        nerve_graph_host_view_end(log->graph, device, grad, size, false, NULL);
        log->step_norms[k] = sqrt(squares);
        log->epoch_sums[k] += log->step_norms[k];
    }
    log->epoch_steps += whole;
    nerve_real *kept = log->before;
    for (int k = 0; k < log->param_count; k++) {
        nerve_node n = log->params[k];
        nerve_shape shape = nerve_node_shape(log->graph, n);
        int64_t size = nerve_shape_numel(&shape);
        (void)nerve_node_read(log->graph, n, kept, size, NULL); /* through the device */
        kept += size;
    }
}

void metrics_log_updated(metrics_log *log)
{
    if (!log->file) return;
    const nerve_real *kept = log->before;
    for (int k = 0; k < log->param_count; k++) {
        nerve_node n = log->params[k];
        nerve_shape shape = nerve_node_shape(log->graph, n);
        int64_t size = nerve_shape_numel(&shape);
        nerve_real *now = nerve_node_host_view(log->graph, n, true, NULL);
        if (!now) return;
        double moved = 0, weight = 0;
        for (int64_t i = 0; i < size; i++) {
            double d = (double)now[i] - (double)kept[i];
            moved += d * d;
            weight += (double)kept[i] * (double)kept[i];
        }
        nerve_node_host_view_end(log->graph, n, now, false, NULL);
        kept += size;
        /* A tensor at zero (a bias at its start) has no ratio. */
        log->step_ratios[k] = weight > 0 ? sqrt(moved / weight) : NAN;
        if (weight > 0) {
            log->ratio_sums[k] += log->step_ratios[k];
            log->ratio_counts[k]++;
        }
    }
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
    fputs(",,,,", log->file); /* the epoch's evaluations */
    for (int k = 0; k < log->param_count; k++) field(log->file, log->step_norms[k]);
    for (int k = 0; k < log->param_count; k++) field(log->file, log->step_ratios[k]);
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
    field(log->file, r->test_loss);
    field(log->file, r->test_accuracy);
    field(log->file, r->train_eval_loss);
    field(log->file, r->train_eval_accuracy);
    for (int k = 0; k < log->param_count; k++) {
        field(log->file, log->epoch_steps ? log->epoch_sums[k] / (double)log->epoch_steps : NAN);
        log->epoch_sums[k] = 0;
    }
    for (int k = 0; k < log->param_count; k++) {
        field(log->file, log->ratio_counts[k] ? log->ratio_sums[k] / (double)log->ratio_counts[k]
                                              : NAN);
        log->ratio_sums[k] = 0;
        log->ratio_counts[k] = 0;
    }
    log->epoch_steps = 0;
    fputc('\n', log->file);
    fflush(log->file);
}

/* The end of a row that is not a training step's (eval, target): elapsed,
 * then the communication, evaluation and per-tensor columns left empty. */
static void end_row_at_elapsed(metrics_log *log, double elapsed)
{
    field(log->file, elapsed);
    fputs(",,,,,,", log->file); /* comm_seconds, exposed_comm_seconds, test_*, train_eval_* */
    for (int k = 0; k < 2 * log->param_count; k++) fputc(',', log->file);
    fputc('\n', log->file);
    fflush(log->file);
}

void metrics_log_eval(metrics_log *log, int epoch, int64_t step, double val_loss,
                      double val_accuracy, double lr)
{
    if (!log->file) return;
    fprintf(log->file, "eval,%d,%lld,,", epoch, (long long)step);
    field(log->file, val_loss);
    field(log->file, val_accuracy);
    field(log->file, lr);
    fputs(",,,", log->file);
    end_row_at_elapsed(log, nerve_seconds_now() - log->start);
}

double metrics_log_target(metrics_log *log, const nerve_epoch_report *r, int64_t step)
{
    double elapsed = nerve_seconds_now() - log->start;
    if (!log->file) return elapsed;
    fprintf(log->file, "target,%d,%lld", r->epoch, (long long)step);
    field(log->file, r->train_loss);
    field(log->file, r->train_accuracy);
    field(log->file, r->val_loss);
    field(log->file, r->val_accuracy);
    field(log->file, r->lr);
    fputs(",,,", log->file);
    end_row_at_elapsed(log, elapsed);
    return elapsed;
}

nerve_status metrics_log_status(const metrics_log *log, nerve_error *err)
{
    if (!log->file || !ferror(log->file)) return NERVE_OK;
    return nerve_error_set(err, NERVE_ERR_IO, "%s: writing the metrics log failed", log->path);
}

nerve_status metrics_log_close(metrics_log *log, nerve_error *err)
{
    free_columns(log);
    return nerve_log_file_close(&log->file, log->path, "the metrics log", err);
}
