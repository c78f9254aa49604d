#include "train/distributed.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_internal.h"
#include "dist/data_parallel.h"
#include "optim/optimizer.h"
#include "train/batching.h"

nerve_status dist_shard_start(nerve_comm *comm, nerve_optimizer *opt, dist_shard *shard,
                              nerve_error *err)
{
    nerve_graph *g = opt->graph;
    int64_t total = (int64_t)nerve_graph_param_count(g), first;
    int size = nerve_comm_size(comm), rank = nerve_comm_rank(comm);
    nerve_dist_slice(total, rank, size, &shard->begin, &first);
    shard->end = shard->begin + first;
    shard->counts = malloc((size_t)size * sizeof *shard->counts);
    shard->reduced = malloc((size_t)(first + 1) * sizeof *shard->reduced);
    nerve_status st = shard->counts && shard->reduced
                          ? NERVE_OK
                          : nerve_error_set(err, NERVE_ERR_NOMEM,
                                            "out of memory for the optimizer's shards");
    for (int r = 0; st == NERVE_OK && r < size; r++)
        nerve_dist_slice(total, r, size, &first, &shard->counts[r]);
    /* optim_shard's agreement is made by every rank or by none. */
    st = nerve_dist_agree(comm, st, err);
    if (st == NERVE_OK) st = optim_shard(opt, comm, shard->begin, shard->end, err);
    if (st != NERVE_OK) {
        free(shard->counts);
        free(shard->reduced);
        *shard = (dist_shard){0};
    }
    return st;
}

nerve_status dist_shard_end(nerve_optimizer *opt, dist_shard *shard, nerve_error *err)
{
    if (!shard->counts) return NERVE_OK;
    nerve_status st = optim_unshard(opt, err);
    free(shard->counts);
    free(shard->reduced);
    *shard = (dist_shard){0};
    return st;
}

nerve_status dist_reduce_step(nerve_comm *comm, nerve_graph *g, const dist_shard *shard,
                              dist_buckets *buckets, dist_step_sums *sums, nerve_status local,
                              nerve_error *err)
{
    sums->comm_seconds = sums->exposed_seconds = NAN;
    if (!comm) return local;
    /* A failed collective (batch norm's, the buckets'), unlike a failure
     * of this rank's own: the ranks are no longer in step and the next
     * collective may never complete; return at once. */
    nerve_error own = {0};
    nerve_status st = nerve_graph_comm_status(g, &own);
    if (st != NERVE_OK) return nerve_dist_collective_failed(local, st, &own, err);
    nerve_real *grad = nerve_graph_grads(g);
    int64_t total = (int64_t)nerve_graph_param_count(g), first, count;
    nerve_dist_slice(total, nerve_comm_rank(comm), nerve_comm_size(comm), &first, &count);
    bool finite = true;
    double start = nerve_seconds_now();
    if (buckets) {
        st = dist_buckets_finish(buckets, &sums->comm_seconds, &sums->exposed_seconds, &own);
    } else if (shard && shard->counts) {
        st = nerve_comm_reduce_scatter(comm, grad, shard->reduced, shard->counts, NERVE_COMM_REAL,
                                       &own);
        memcpy(grad + shard->begin, shard->reduced,
               (size_t)(shard->end - shard->begin) * sizeof *grad);
    } else {
        st = nerve_dist_allreduce_gradients(g, comm, &own);
    }
    /* Without buckets the whole reduction waits after backward. */
    if (!buckets) sums->comm_seconds = sums->exposed_seconds = nerve_seconds_now() - start;
    /* The non-finite check of the summed gradients, which every rank holds
     * alike (or, sharded, its shard of): each checks its slice (its shard)
     * and the flags are summed below, rather than every rank reading the
     * whole buffer (3.3 million values a step for LeNet). */
    if (st == NERVE_OK) {
        nerve_status checked = NERVE_RUN(g, all_finite, grad + first,
                                         nerve_graph_trainable_mask(g) + first, count, &finite);
        if (local == NERVE_OK && checked != NERVE_OK) local = nerve_graph_pass_error(g, checked, err);
    }
    /* The loss, the correct labels, a non-finite shard; this rank's
     * failure; its own loss not finite (flagged as a failure is). */
    double scalars[7] = {sums->loss, (double)sums->correct, !finite};
    nerve_dist_failure_flags(comm, local, scalars + 3);
    nerve_dist_failure_flags(comm, isfinite(sums->loss) ? NERVE_OK : NERVE_ERR_NUMERIC, scalars + 5);
    if (st == NERVE_OK) st = nerve_comm_allreduce(comm, scalars, 7, NERVE_COMM_DOUBLE, &own);
    if (st != NERVE_OK) return nerve_dist_collective_failed(local, st, &own, err);
    sums->loss = scalars[0];
    sums->correct = (int64_t)scalars[1];
    sums->nonfinite_ranks = (int)scalars[5];
    sums->nonfinite_rank = scalars[5] == 1 ? (int)scalars[6] - 1 : -1;
    sums->gradients_finite = scalars[2] == 0;
    if (scalars[2] > 0) {
        /* Sharded, the rest of the buffer holds this rank's own gradients,
         * not the step's: zeroed for the report that locates the non-finite
         * value (it reads every gradient); not in every step, which would
         * write the whole buffer (12.8 MB for LeNet) for nothing. */
        if (shard && shard->counts) {
            memset(grad, 0, (size_t)shard->begin * sizeof *grad);
            memset(grad + shard->end, 0, (size_t)(total - shard->end) * sizeof *grad);
        }
        /* Into the first trainable gradient, which the finite check reads. */
        const unsigned char *trainable = nerve_graph_trainable_mask(g);
        for (size_t i = 0; i < nerve_graph_param_count(g); i++)
            if (trainable[i]) {
                grad[i] = NAN;
                break;
            }
    }
    return nerve_dist_failure_outcome(local, scalars + 3, err);
}

nerve_status dist_agree_stop(nerve_comm *comm, nerve_status st, int *stop, nerve_error *err)
{
    if (!comm) return st;
    /* The failures; the stops: how many, the sum of their values and of
     * their squares (all the same value when count x squares = sum^2). */
    double v[5] = {0, 0, *stop != 0, *stop, (double)*stop * *stop};
    nerve_dist_failure_flags(comm, st, v);
    nerve_error own = {0};
    nerve_status collective = nerve_comm_allreduce(comm, v, 5, NERVE_COMM_DOUBLE, &own);
    if (collective != NERVE_OK) return nerve_dist_collective_failed(st, collective, &own, err);
    if (*stop == 0 && v[2] > 0) *stop = v[2] * v[4] == v[3] * v[3] ? (int)(v[3] / v[2]) : -1;
    return nerve_dist_failure_outcome(st, v, err);
}

nerve_status dist_test_failure(nerve_comm *comm, const char *variable, int64_t step,
                               nerve_error *err)
{
    const char *hooked = nerve_dist_test_hook(comm, variable);
    if (!hooked || (*hooked && strtoll(hooked, NULL, 10) != step)) return NERVE_OK;
    return nerve_error_set(err, NERVE_ERR_INVALID, "%s failed on purpose (%s=%s)",
                           step >= 0 ? "the training step" : "evaluation", variable,
                           getenv(variable));
}

nerve_status dist_gather_parameters(nerve_comm *comm, nerve_graph *g, const dist_shard *shard,
                                    nerve_error *err)
{
    if (!comm || !shard->counts) return NERVE_OK;
    return nerve_comm_allgather(comm, NULL, nerve_graph_params(g), shard->counts, NERVE_COMM_REAL,
                                err);
}

nerve_status dist_from_root(nerve_comm *comm, nerve_status st, nerve_error *err)
{
    if (!comm) return st;
    double root_status = st;
    nerve_error own = {0};
    nerve_status collective =
        nerve_comm_broadcast(comm, &root_status, 1, NERVE_COMM_DOUBLE, 0, &own);
    if (nerve_comm_rank(comm) == 0) return st;
    if (collective != NERVE_OK) return nerve_error_set(err, collective, "%s", own.message);
    return root_status == NERVE_OK ? NERVE_OK
                                   : nerve_error_set(err, NERVE_ERR_PEER, "rank 0 failed");
}
