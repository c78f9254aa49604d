/* Synchronised batch norm (as torch.nn.SyncBatchNorm): each rank sums its
 * slice's x and x^2 per channel, in double, and one all-reduce of
 * [sum x, sum x^2, n] gives every rank the global batch's mean and variance
 * (E[x^2] - mean^2: one collective rather than the two a two-pass variance
 * needs). Backward all-reduces [sum dy, sum dy * (x - mean), n] the same
 * way. The loss each rank backpropagates is its share of the global loss
 * (the trainer seeds it with n_rank / n), so these sums are the global
 * batch's and the formulas are the one-process ones with global counts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dist/comm_internal.h"
#include "dist/data_parallel.h"
#include "dist/sync_batch_norm.h"

struct graph_sync {
    nerve_comm *comm;
    double *sums;             /* 4 * channels + 1 of the widest batch norm */
    nerve_status status;      /* the first failed collective's */
    nerve_error error;
    /* The collectives this rank made since nerve_graph_sync_begin_step, and
     * how many of them a join is still to pass over (made already). */
    int64_t made, skip;
};

void nerve_graph_sync_free(struct graph_sync *sync)
{
    if (!sync) return;
    free(sync->sums);
    free(sync);
}

/* A batch norm op (ops/batch_norm.c), whose statistics are synchronised. */
static bool takes_batch_statistics(const nerve_node_data *node)
{
    return node->op && node->op->batch_statistics;
}

static int64_t channels_of(nerve_graph *g, const nerve_node_data *node)
{
    return nerve_node_input(g, node, 0)->shape.dim[1];
}

nerve_status nerve_graph_set_comm(nerve_graph *g, nerve_comm *c, nerve_error *err)
{
    nerve_graph_sync_free(g->sync);
    g->sync = NULL;
    if (!c) return NERVE_OK;
    int64_t widest = 0;
    for (int i = 0; i < g->node_count; i++) {
        nerve_node_data *node = &g->nodes[i];
        if (takes_batch_statistics(node) && channels_of(g, node) > widest)
            widest = channels_of(g, node);
    }
    nerve_status st = nerve_dist_test_alloc(c, "sync", err);
    struct graph_sync *sync = st == NERVE_OK ? calloc(1, sizeof *sync) : NULL;
    if (sync) sync->sums = malloc((size_t)(4 * widest + 1) * sizeof *sync->sums);
    if (!sync || !sync->sums) {
        /* Without its sums batch norm would normalise each rank's slice
         * alone: the caller learns it here, not from diverging ranks. */
        nerve_graph_sync_free(sync);
        return st != NERVE_OK ? st
                              : nerve_error_set(err, NERVE_ERR_NOMEM,
                                                "out of memory for batch norm's sums");
    }
    sync->comm = c;
    g->sync = sync;
    return NERVE_OK;
}

nerve_status nerve_graph_comm_status(nerve_graph *g, nerve_error *err)
{
    if (!g->sync || g->sync->status == NERVE_OK) return NERVE_OK;
    return nerve_error_set(err, g->sync->status, "%s", g->sync->error.message);
}

/* False (the sums left as they were) once a collective has failed. */
static bool reduce(nerve_graph *g, double *sums, int64_t count)
{
    struct graph_sync *sync = g->sync;
    if (sync->status != NERVE_OK) return false;
    if (sync->skip > 0) {
        sync->skip--;
        return false;
    }
    sync->made++;
    sync->status = nerve_comm_allreduce(sync->comm, sums, count, NERVE_COMM_DOUBLE, &sync->error);
    return sync->status == NERVE_OK;
}

static nerve_real *optional_value(nerve_graph *g, const nerve_node_data *node, int slot)
{
    return slot ? nerve_node_input(g, node, slot)->value : NULL;
}

void nerve_sync_batch_norm_statistics(nerve_graph *g, const nerve_node_data *node,
                                      const nerve_real *x, nerve_real *mean, nerve_real *var,
                                      int64_t outer, int64_t channels, int64_t inner)
{
    double *sums = g->sync->sums;
#pragma omp parallel for if (outer * channels * inner > 65536 && channels > 1)
    for (int64_t c = 0; c < channels; c++) {
        double sum = 0, squares = 0;
        for (int64_t o = 0; o < outer; o++) {
            const nerve_real *xc = x + (o * channels + c) * inner;
#pragma omp simd reduction(+ : sum, squares)
            for (int64_t i = 0; i < inner; i++) {
                sum += xc[i];
                squares += (double)xc[i] * xc[i];
            }
        }
        sums[c] = sum;
        sums[channels + c] = squares;
    }
    sums[2 * channels] = (double)(outer * inner);
    /* mean NULL: a join with no memory planned, which only takes part. */
    if (!reduce(g, sums, 2 * channels + 1) || !mean) return;
    const nerve_batch_norm_attr *a = &node->attr.batch_norm;
    nerve_real *running_mean = optional_value(g, node, a->running_mean);
    nerve_real *running_var = optional_value(g, node, a->running_var);
    nerve_real *counter = optional_value(g, node, a->num_batches_tracked);
    const double count = sums[2 * channels], momentum = a->momentum;
    for (int64_t c = 0; c < channels; c++) {
        const double mu = sums[c] / count;
        const double variance = fmax(sums[channels + c] / count - mu * mu, 0);
        mean[c] = (nerve_real)mu;
        var[c] = (nerve_real)variance;
        if (running_mean && count > 1) {
            running_mean[c] = (nerve_real)((1 - momentum) * running_mean[c] + momentum * mu);
            running_var[c] = (nerve_real)((1 - momentum) * running_var[c] +
                                          momentum * variance * count / (count - 1));
        }
    }
    if (running_mean && counter && count > 1) counter[0] += 1;
}

void nerve_sync_batch_norm_backward(nerve_graph *g, const nerve_node_data *node,
                                    const nerve_real *x, const nerve_real *dy,
                                    const nerve_real *mean, const nerve_real *var,
                                    const nerve_real *weight, nerve_real *dx, nerve_real *dweight,
                                    nerve_real *dbias, int64_t outer, int64_t channels,
                                    int64_t inner)
{
    double *local = g->sync->sums, *global = local + 2 * channels;
    double eps = node->attr.batch_norm.eps;
#pragma omp parallel for if (outer * channels * inner > 65536 && channels > 1)
    for (int64_t c = 0; c < channels; c++) {
        const double mu = outer > 0 ? mean[c] : 0;
        double sum_dy = 0, sum_dy_centered = 0;
        for (int64_t o = 0; o < outer; o++) {
            const int64_t base = (o * channels + c) * inner;
#pragma omp simd reduction(+ : sum_dy, sum_dy_centered)
            for (int64_t i = base; i < base + inner; i++) {
                sum_dy += dy[i];
                sum_dy_centered += dy[i] * (x[i] - mu);
            }
        }
        local[c] = global[c] = sum_dy;
        local[channels + c] = global[channels + c] = sum_dy_centered;
    }
    global[2 * channels] = (double)(outer * inner);
    if (!reduce(g, global, 2 * channels + 1) || (!dx && !dweight && !dbias)) return;
    const double count = global[2 * channels];
#pragma omp parallel for if (outer * channels * inner > 65536 && channels > 1)
    for (int64_t c = 0; c < channels; c++) {
        const double invstd = 1 / sqrt((double)var[c] + eps);
        if (dbias) dbias[c] += (nerve_real)local[c];
        if (dweight) dweight[c] += (nerve_real)(local[channels + c] * invstd);
        if (!dx) continue;
        /* dy - mean(dy) - (x - mean) * invstd^2 * mean(dy * (x - mean)),
         * the means over the global batch. */
        const nerve_real k = (nerve_real)((weight ? weight[c] : 1.0) * invstd);
        const nerve_real a = (nerve_real)(global[c] / count);
        const nerve_real b = (nerve_real)(global[channels + c] * invstd * invstd / count);
        const nerve_real m = mean[c];
        for (int64_t o = 0; o < outer; o++) {
            const int64_t base = (o * channels + c) * inner;
            for (int64_t i = base; i < base + inner; i++)
                dx[i] += k * (dy[i] - a - (x[i] - m) * b);
        }
    }
}

void nerve_graph_sync_begin_step(nerve_graph *g)
{
    if (g->sync) g->sync->made = 0;
}

/* The nodes whose forward or backward a step towards loss runs are those
 * nerve_graph_forward and backward_seeded run; a rank with no samples
 * takes part in the same batch norms' collectives in the same order. With
 * rest, the ones this rank made in this step are passed over. */
void nerve_graph_join_step(nerve_graph *g, nerve_node loss, bool rest)
{
    bool sync = g->sync && g->training;
    if (sync) g->sync->skip = rest ? g->sync->made : 0;
    nerve_graph_mark_needed(g, loss);
    for (int i = 0; sync && i <= loss; i++) {
        nerve_node_data *node = &g->nodes[i];
        if (!takes_batch_statistics(node) || !g->needed[i]) continue;
        int64_t channels = channels_of(g, node);
        nerve_sync_batch_norm_statistics(g, node, NULL, node->aux,
                                         node->aux ? node->aux + channels : NULL, 0, channels, 1);
    }
    /* The backward hook at every node, as backward calls it: the gradient
     * buckets start here at the nodes they start at on the other ranks
     * (the hook starts each bucket once, however often it runs). */
    for (int i = loss; i >= 0; i--) {
        nerve_node_data *node = &g->nodes[i];
        if (sync && takes_batch_statistics(node) && g->needed[i] && node->needs_grad) {
            int64_t channels = channels_of(g, node);
            nerve_sync_batch_norm_backward(g, node, NULL, NULL, node->aux,
                                           node->aux ? node->aux + channels : NULL, NULL, NULL,
                                           NULL, NULL, 0, channels, 1);
        }
        if (g->backward_hook) g->backward_hook(g, i, g->backward_hook_user);
    }
    if (sync) g->sync->skip = 0;
}

void nerve_graph_join_empty_step(nerve_graph *g, nerve_node loss)
{
    nerve_graph_join_step(g, loss, false);
}
