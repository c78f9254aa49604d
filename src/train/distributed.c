#include "train/distributed.h"

#include "dist/data_parallel.h"

nerve_status dist_reduce_step(nerve_comm *comm, nerve_graph *g, dist_step_sums *sums,
                              nerve_error *err)
{
    if (!comm) return NERVE_OK;
    nerve_status st = nerve_graph_comm_status(g, err);
    /* A failed collective in batch norm: the ranks are no longer in step
     * and the next collective may never complete; return at once. */
    if (st != NERVE_OK) return st;
    st = nerve_dist_allreduce_gradients(g, comm, err);
    double scalars[2] = {sums->loss, (double)sums->correct};
    if (st == NERVE_OK) st = nerve_comm_allreduce(comm, scalars, 2, NERVE_COMM_DOUBLE, err);
    sums->loss = scalars[0];
    sums->correct = (int64_t)scalars[1];
    return st;
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
