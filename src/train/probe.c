#include "train/probe.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_internal.h"
#include "io/atomic_file.h"
#include "io/log_file.h"
#include "model/model_internal.h"
#include "train/batching.h"
#include "train/evaluation.h"

#define PROBE_DEFAULT_SIZE 256

static void free_buffers(probe *p)
{
    free(p->index);
    free(p->layers);
    free(p->sorted);
    free(p->active);
    free(p->lo);
    free(p->hi);
    p->index = NULL;
    p->layers = NULL;
    p->sorted = NULL;
    p->active = NULL;
    p->lo = p->hi = NULL;
}

/* Values per sample of a layer's output. */
static int64_t sample_size(const nerve_graph *g, nerve_node n)
{
    return nerve_shape_cols(&g->nodes[n].shape);
}

/* The columns before the histograms: position, then each layer's statistics. */
static void write_statistics_columns(const probe *p, FILE *f)
{
    static const char *const stats[] = {"mean", "std", "p15", "p50", "p85",
                                        "saturated", "zero", "dead"};
    fputs("epoch,step,elapsed", f);
    for (int i = 0; i < p->layer_count; i++)
        for (size_t s = 0; s < sizeof stats / sizeof *stats; s++)
            fprintf(f, ",%s:%s", stats[s], p->m->layers[p->layers[i]].name);
}

static void write_header(probe *p)
{
    write_statistics_columns(p, p->file);
    for (int i = 0; i < p->layer_count; i++) {
        double width = (p->hi[i] - p->lo[i]) / PROBE_BINS;
        for (int b = 0; b < PROBE_BINS; b++)
            fprintf(p->file, ",hist:%s:%.4g", p->m->layers[p->layers[i]].name,
                    p->lo[i] + (b + 0.5) * width);
    }
    fputc('\n', p->file);
}

/* The histogram ranges a header's bin centres give (to their 4 digits):
 * false if the header is not this probe's. */
static bool read_header(probe *p, char *header)
{
    char *expected = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&expected, &size);
    if (!f) return false;
    write_statistics_columns(p, f);
    fclose(f);
    bool same = expected && strncmp(header, expected, size) == 0;
    char *column = header + size;
    free(expected);
    for (int i = 0; same && i < p->layer_count; i++) {
        double first = 0, last = 0;
        for (int b = 0; same && b < PROBE_BINS; b++) {
            char prefix[NERVE_LAYER_NAME_MAX + 16];
            int n = snprintf(prefix, sizeof prefix, ",hist:%s:", p->m->layers[p->layers[i]].name);
            char *end = column;
            same = strncmp(column, prefix, (size_t)n) == 0;
            double centre = same ? strtod(column + n, &end) : 0;
            same = same && end != column + n && (*end == ',' || *end == '\n' || !*end);
            if (b == 0) first = centre;
            last = centre;
            column = same ? end : column;
        }
        double width = (last - first) / (PROBE_BINS - 1);
        p->lo[i] = first - width / 2;
        p->hi[i] = last + width / 2;
    }
    return same && (*column == '\n' || !*column);
}

/* Keeps the header and the rows up to `step` of the file a resumed run
 * continues (rewritten atomically), and reopens it to append. */
static nerve_status resume_file(probe *p, int64_t step, nerve_error *err)
{
    FILE *in = fopen(p->path, "r");
    if (!in) {
        if (errno != ENOENT)
            return nerve_error_set(err, NERVE_ERR_IO, "%s: cannot read the activation statistics "
                                   "to continue: %s", p->path, strerror(errno));
        p->file = fopen(p->path, "w");
        return NERVE_OK;
    }
    char *line = NULL;
    size_t capacity = 0;
    nerve_atomic_file out = {0};
    nerve_status st = NERVE_OK;
    if (getline(&line, &capacity, in) < 0 || !read_header(p, line))
        st = nerve_error_set(err, NERVE_ERR_INVALID,
                             "%s: not this network's activation statistics (other columns): "
                             "resume with another --probe file, or remove it", p->path);
    if (st == NERVE_OK) st = nerve_atomic_file_open(&out, p->path, err);
    if (st == NERVE_OK) fputs(line, out.stream);
    double elapsed = 0;
    while (st == NERVE_OK && getline(&line, &capacity, in) >= 0) {
        long long row_step;
        double row_elapsed;
        if (sscanf(line, "%*d,%lld,%lf", &row_step, &row_elapsed) != 2 || row_step > step)
            continue;
        fputs(line, out.stream);
        p->last_step = row_step;
        elapsed = row_elapsed;
    }
    free(line);
    fclose(in);
    if (st == NERVE_OK) st = nerve_atomic_file_commit(&out, err);
    else if (out.stream) nerve_atomic_file_abort(&out);
    if (st != NERVE_OK) return st;
    p->started = true;
    p->start = nerve_seconds_now() - elapsed;
    p->file = fopen(p->path, "a");
    return NERVE_OK;
}

nerve_status probe_open(probe *p, const nerve_train_options *o, const train_run *run,
                        nerve_error *err)
{
    memset(p, 0, sizeof *p);
    if (!o->probe_path) return NERVE_OK;
    p->path = o->probe_path;
    if (o->probe_every < 0 || o->probe_size < 0)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "the probe's size and interval must be at least 0");
    if (run->stream)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "activation statistics need samples of their own: a text cut "
                               "into a stream ([net] bptt) cannot be probed");
    if (o->comm)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "activation statistics are taken in one process, not under mpirun");
    nerve_model *m = run->m;
    nerve_graph *g = m->graph;
    p->m = m;
    p->train = run->train;
    int64_t size = o->probe_size > 0 ? o->probe_size : PROBE_DEFAULT_SIZE;
    if (size > run->batch) size = run->batch; /* the graph's plan holds one batch */
    if (size > run->train->count) size = run->train->count;
    p->count = size;
    p->index = nerve_identity_index(size);
    p->layers = malloc((size_t)(m->layer_count ? m->layer_count : 1) * sizeof *p->layers);
    p->lo = malloc((size_t)(m->layer_count ? m->layer_count : 1) * sizeof *p->lo);
    p->hi = malloc((size_t)(m->layer_count ? m->layer_count : 1) * sizeof *p->hi);
    int64_t largest = 1;
    for (int k = 0; p->layers && k < m->layer_count; k++) {
        nerve_node out = m->layers[k].output;
        if (out < 0 || !g->nodes[out].batched) continue;
        p->layers[p->layer_count++] = k;
        if (sample_size(g, out) > largest) largest = sample_size(g, out);
    }
    p->sorted = malloc((size_t)(largest * size) * sizeof *p->sorted);
    p->active = malloc((size_t)largest);
    if (!p->index || !p->layers || !p->lo || !p->hi || !p->sorted || !p->active) {
        free_buffers(p);
        return nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory for the probe",
                               o->probe_path);
    }
    p->last_step = -1;
    p->start = nerve_seconds_now();
    nerve_status st = NERVE_OK;
    if (o->resume_path)
        st = resume_file(p, run->global_step, err);
    else
        p->file = fopen(o->probe_path, "w");
    if (st == NERVE_OK && !p->file)
        st = nerve_error_set(err, NERVE_ERR_IO, "%s: cannot write the activation statistics: %s",
                             o->probe_path, strerror(errno));
    if (st != NERVE_OK) free_buffers(p);
    return st;
}

static int compare_values(const void *a, const void *b)
{
    nerve_real x = *(const nerve_real *)a, y = *(const nerve_real *)b;
    return (x > y) - (x < y);
}

/* The activation whose asymptotes count as saturation: sigmoid's 0 and 1,
 * tanh's -1 and 1; 0: none (the column is empty). */
static nerve_activation saturating(const nerve_graph *g, nerve_node n)
{
    const nerve_node_data *node = &g->nodes[n];
    if (!node->op || strcmp(node->op->name, "activation") != 0) return 0;
    nerve_activation kind = node->attr.activation.kind;
    return kind == NERVE_ACT_SIGMOID || kind == NERVE_ACT_TANH ? kind : 0;
}

static bool is_saturated(nerve_activation kind, double y)
{
    return kind == NERVE_ACT_SIGMOID ? (y <= 0.01 || y >= 0.99) : fabs(y) >= 0.99;
}

/* The histogram's range: the activation's own for sigmoid and tanh,
 * otherwise the first probe's least and greatest values. */
static void fix_range(probe *p, int i, nerve_activation kind, const nerve_real *y, int64_t n)
{
    double lo = kind == NERVE_ACT_SIGMOID ? 0 : -1, hi = 1;
    if (!kind) {
        lo = INFINITY;
        hi = -INFINITY;
        for (int64_t j = 0; j < n; j++) {
            if (!isfinite(y[j])) continue;
            lo = y[j] < lo ? y[j] : lo;
            hi = y[j] > hi ? y[j] : hi;
        }
        if (!(lo < hi)) {
            lo = isfinite(lo) ? lo - 0.5 : -0.5;
            hi = lo + 1;
        }
    }
    p->lo[i] = lo;
    p->hi[i] = hi;
}

static void field(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, ",%.6g", v);
    else
        fputs(",", f);
}

/* The summary of layer i's output: n samples of `units` values each. */
static void write_stats(probe *p, int i, const nerve_real *y, int64_t n, int64_t units,
                        nerve_activation kind)
{
    int64_t total = n * units, saturated = 0, zeros = 0, dead = 0;
    double sum = 0, squares = 0;
    memset(p->active, 0, (size_t)units);
    for (int64_t j = 0; j < total; j++) {
        sum += y[j];
        zeros += y[j] == 0;
        saturated += kind && is_saturated(kind, y[j]);
        if (y[j] != 0) p->active[j % units] = 1;
    }
    double mean = sum / (double)total;
    for (int64_t j = 0; j < total; j++) squares += (y[j] - mean) * (y[j] - mean);
    for (int64_t u = 0; u < units; u++) dead += !p->active[u];
    memcpy(p->sorted, y, (size_t)total * sizeof *p->sorted);
    qsort(p->sorted, (size_t)total, sizeof *p->sorted, compare_values);
    field(p->file, mean);
    field(p->file, sqrt(squares / (double)total));
    /* Nearest-rank percentiles. */
    static const double ranks[] = {0.15, 0.50, 0.85};
    for (int r = 0; r < 3; r++) {
        int64_t at = (int64_t)ceil(ranks[r] * (double)total) - 1;
        field(p->file, p->sorted[at < 0 ? 0 : at]);
    }
    field(p->file, kind ? (double)saturated / (double)total : NAN);
    field(p->file, (double)zeros / (double)total);
    field(p->file, (double)dead / (double)units);
}

static void write_histogram(probe *p, int i, const nerve_real *y, int64_t total)
{
    int64_t counts[PROBE_BINS] = {0};
    double width = (p->hi[i] - p->lo[i]) / PROBE_BINS;
    for (int64_t j = 0; j < total; j++) {
        if (!isfinite(y[j])) continue;
        /* Values outside the first probe's range land in the end bins. */
        double at = floor((y[j] - p->lo[i]) / width);
        int b = at < 0 ? 0 : at >= PROBE_BINS ? PROBE_BINS - 1 : (int)at;
        counts[b]++;
    }
    for (int b = 0; b < PROBE_BINS; b++) field(p->file, (double)counts[b] / (double)total);
}

nerve_status probe_run(probe *p, int epoch, int64_t step, nerve_error *err)
{
    if (!p->file || step == p->last_step) return NERVE_OK;
    p->last_step = step;
    nerve_graph *g = p->m->graph;
    nerve_eval_mode mode = nerve_eval_mode_enter(g, false);
    nerve_status st = nerve_batching_load(p->m, p->train, p->index, p->count, err);
    if (st == NERVE_OK) st = nerve_graph_forward(g, p->m->output, err);
    nerve_eval_mode_leave(g, mode);
    if (st != NERVE_OK) return st;
    /* the layers' outputs, read on the host (copies on a device without host memory) */
    nerve_real **values = calloc((size_t)p->layer_count + 1, sizeof *values);
    if (!values) return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory probing layers");
    for (int i = 0; i < p->layer_count; i++) {
        nerve_node out = p->m->layers[p->layers[i]].output;
        if (g->needed[out] && !(values[i] = nerve_node_host_view(g, out, true, err))) {
            for (int k = 0; k < i; k++)
                nerve_node_host_view_end(g, p->m->layers[p->layers[k]].output, values[k], false,
                                         NULL);
            free(values);
            return err ? err->status : NERVE_ERR_NOMEM;
        }
    }
    if (!p->started) {
        for (int i = 0; i < p->layer_count; i++) {
            nerve_node out = p->m->layers[p->layers[i]].output;
            fix_range(p, i, saturating(g, out), values[i],
                      p->count * sample_size(g, out));
        }
        write_header(p);
        p->started = true;
    }
    fprintf(p->file, "%d,%lld", epoch, (long long)step);
    field(p->file, nerve_seconds_now() - p->start);
    /* A layer the output does not depend on was not run: its fields are empty. */
    for (int i = 0; i < p->layer_count; i++) {
        nerve_node out = p->m->layers[p->layers[i]].output;
        if (g->needed[out])
            write_stats(p, i, values[i], p->count, sample_size(g, out),
                        saturating(g, out));
        else
            fputs(",,,,,,,,", p->file);
    }
    for (int i = 0; i < p->layer_count; i++) {
        nerve_node out = p->m->layers[p->layers[i]].output;
        if (g->needed[out])
            write_histogram(p, i, values[i], p->count * sample_size(g, out));
        else
            for (int b = 0; b < PROBE_BINS; b++) fputc(',', p->file);
    }
    fputc('\n', p->file);
    fflush(p->file);
    for (int i = 0; i < p->layer_count; i++)
        nerve_node_host_view_end(g, p->m->layers[p->layers[i]].output, values[i], false, NULL);
    free(values);
    return NERVE_OK;
}

nerve_status probe_close(probe *p, nerve_error *err)
{
    free_buffers(p);
    return nerve_log_file_close(&p->file, p->path, "the activation statistics", err);
}
