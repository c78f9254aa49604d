#include "train/distributed.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dist/data_parallel.h"
#include "optim/optimizer.h"
#include "train/batching.h"

nerve_status dist_shard_start(nerve_comm *comm, nerve_optimizer *opt, dist_shard *shard,
                              nerve_error *err)
{
    nerve_graph *g = opt->graph;
    int64_t total = (int64_t)nerve_graph_param_count(g), first;
    int size = nerve_comm_size(comm), rank = nerve_comm_rank(comm);
    shard->counts = malloc((size_t)size * sizeof *shard->counts);
    if (!shard->counts)
        return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory for the optimizer's shards");
    for (int r = 0; r < size; r++) nerve_dist_slice(total, r, size, &first, &shard->counts[r]);
    nerve_dist_slice(total, rank, size, &shard->begin, &first);
    shard->end = shard->begin + first;
    shard->reduced = malloc((size_t)(first + 1) * sizeof *shard->reduced);
    nerve_status st = shard->reduced ? NERVE_OK
                                     : nerve_error_set(err, NERVE_ERR_NOMEM,
                                                       "out of memory for the gradient shard");
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
                              dist_buckets *buckets, dist_step_sums *sums, nerve_error *err)
{
    sums->comm_seconds = sums->exposed_seconds = NAN;
    if (!comm) return NERVE_OK;
    nerve_status st = nerve_graph_comm_status(g, err);
    /* A failed collective in batch norm: the ranks are no longer in step
     * and the next collective may never complete; return at once. */
    if (st != NERVE_OK) return st;
    nerve_real *grad = nerve_graph_grads(g);
    bool finite = true;
    double start = nerve_seconds_now();
    if (buckets) {
        st = dist_buckets_finish(buckets, &sums->comm_seconds, &sums->exposed_seconds, err);
    } else if (shard && shard->counts) {
        st = nerve_comm_reduce_scatter(comm, grad, shard->reduced, shard->counts, NERVE_COMM_REAL,
                                       err);
        size_t total = nerve_graph_param_count(g);
        memset(grad, 0, total * sizeof *grad);
        memcpy(grad + shard->begin, shard->reduced,
               (size_t)(shard->end - shard->begin) * sizeof *grad);
        for (int64_t i = shard->begin; i < shard->end; i++) finite &= isfinite(grad[i]) != 0;
    } else {
        st = nerve_dist_allreduce_gradients(g, comm, err);
    }
    /* Without buckets the whole reduction waits after backward. */
    if (!buckets) sums->comm_seconds = sums->exposed_seconds = nerve_seconds_now() - start;
    double scalars[3] = {sums->loss, (double)sums->correct, !finite};
    if (st == NERVE_OK) st = nerve_comm_allreduce(comm, scalars, 3, NERVE_COMM_DOUBLE, err);
    sums->loss = scalars[0];
    sums->correct = (int64_t)scalars[1];
    if (scalars[2] > 0) {
        /* Into the first trainable gradient, which the finite check reads. */
        const unsigned char *trainable = nerve_graph_trainable_mask(g);
        for (size_t i = 0; i < nerve_graph_param_count(g); i++)
            if (trainable[i]) {
                grad[i] = NAN;
                break;
            }
    }
    return st;
}

nerve_status dist_gather_parameters(nerve_comm *comm, nerve_graph *g, const dist_shard *shard,
                                    nerve_error *err)
{
    if (!comm || !shard->counts) return NERVE_OK;
    return nerve_comm_allgather(comm, NULL, nerve_graph_params(g), shard->counts, NERVE_COMM_REAL,
                                err);
}

nerve_status dist_any(nerve_comm *comm, bool *flag, nerve_error *err)
{
    if (!comm) return NERVE_OK;
    double count = *flag;
    nerve_status st = nerve_comm_allreduce(comm, &count, 1, NERVE_COMM_DOUBLE, err);
    *flag = count > 0;
    return st;
}

nerve_status dist_agree(nerve_comm *comm, nerve_status st, nerve_error *err)
{
    if (!comm) return st;
    /* How many failed, and the sum of their rank + 1: the rank when one did. */
    double failed[2] = {st != NERVE_OK, st != NERVE_OK ? nerve_comm_rank(comm) + 1 : 0};
    nerve_error own = {0};
    nerve_status collective = nerve_comm_allreduce(comm, failed, 2, NERVE_COMM_DOUBLE, &own);
    if (st != NERVE_OK) return st;
    if (collective != NERVE_OK) return nerve_error_set(err, collective, "%s", own.message);
    if (failed[0] == 0) return NERVE_OK;
    if (failed[0] == 1)
        return nerve_error_set(err, NERVE_ERR_PEER, "rank %d failed", (int)failed[1] - 1);
    return nerve_error_set(err, NERVE_ERR_PEER, "%d ranks failed", (int)failed[0]);
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
