/* The communicator's entry points and the single-process implementation,
 * in which a sum over one rank is the rank's own values: collectives are
 * copies or nothing, and a non-blocking one is finished when it starts.
 * A collective that fails on one rank (MPI out of memory there) may leave
 * the others waiting inside it: the entry points mark the communicator
 * broken, every later collective on it fails at once rather than wait for
 * or mismatch the others', and nerve_comm_free does not finalise MPI
 * (MPI_Finalize waits for every rank); the process's non-zero exit then
 * makes mpirun end the other ranks. */
#include <stdlib.h>
#include <string.h>

#include "dist/comm_internal.h"

static nerve_status single_allreduce(nerve_comm *c, void *buf, int64_t count, nerve_comm_type type,
                                     nerve_error *err)
{
    return NERVE_OK;
}

static nerve_status single_reduce_scatter(nerve_comm *c, const void *send, void *recv,
                                          const int64_t *counts, nerve_comm_type type,
                                          nerve_error *err)
{
    if (send != recv) memmove(recv, send, (size_t)counts[0] * nerve_comm_type_size(type));
    return NERVE_OK;
}

static nerve_status single_allgather(nerve_comm *c, const void *send, void *recv,
                                     const int64_t *counts, nerve_comm_type type,
                                     nerve_error *err)
{
    if (send && send != recv) memmove(recv, send, (size_t)counts[0] * nerve_comm_type_size(type));
    return NERVE_OK;
}

static nerve_status single_broadcast(nerve_comm *c, void *buf, int64_t count, nerve_comm_type type,
                                     int root, nerve_error *err)
{
    return NERVE_OK;
}

static nerve_status single_iallreduce(nerve_comm *c, void *buf, int64_t count,
                                      nerve_comm_type type, nerve_comm_request *request,
                                      nerve_error *err)
{
    request->active = false;
    return NERVE_OK;
}

static nerve_status single_test(nerve_comm_request *request, bool *done, nerve_error *err)
{
    *done = true;
    return NERVE_OK;
}

static const nerve_comm_ops single_ops = {single_allreduce, single_reduce_scatter,
                                          single_allgather, single_broadcast,
                                          single_iallreduce, single_test, NULL};
static nerve_comm single_comm = {&single_ops, 0, 1, NULL, false, NULL, false};

nerve_comm *nerve_comm_single(void) { return &single_comm; }

bool nerve_comm_mpi_available(void)
{
#ifdef NERVE_WITH_MPI
    return true;
#else
    return false;
#endif
}

/* Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE, PMIx launchers (srun
 * --mpi=pmix, prterun) PMIX_RANK, MPICH's Hydra and srun's PMI-2 PMI_SIZE. */
bool nerve_comm_mpi_launched(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_SIZE");
}

nerve_status nerve_comm_mpi(nerve_comm **out, nerve_error *err)
{
    *out = NULL;
#ifdef NERVE_WITH_MPI
    return nerve_comm_mpi_new(out, err);
#else
    return nerve_error_set(err, NERVE_ERR_INVALID,
                           "this nerve was built without MPI (configure with NERVE_MPI=ON and "
                           "libopenmpi-dev installed)");
#endif
}

nerve_status nerve_comm_break(nerve_comm *c, nerve_status st)
{
    if (st != NERVE_OK) c->broken = true;
    return st;
}

/* One call at a time when another thread shares the communicator. */
static void enter(nerve_comm *c)
{
    if (c->serial) pthread_mutex_lock(c->serial);
}

static nerve_status leave(nerve_comm *c, nerve_status st)
{
    if (c->serial) pthread_mutex_unlock(c->serial);
    return st;
}

static nerve_status broken(nerve_error *err)
{
    return nerve_error_set(err, NERVE_ERR_IO,
                           "an earlier collective failed on this rank: the ranks are out of step");
}

void nerve_comm_free(nerve_comm *c)
{
    if (c && c->ops->free) c->ops->free(c);
}

int nerve_comm_rank(const nerve_comm *c) { return c->rank; }
int nerve_comm_size(const nerve_comm *c) { return c->size; }

nerve_status nerve_comm_allreduce(nerve_comm *c, void *buf, int64_t count, nerve_comm_type type,
                                  nerve_error *err)
{
    enter(c);
    if (c->broken) return leave(c, broken(err));
    if (count <= 0) return leave(c, NERVE_OK);
    return leave(c, nerve_comm_break(c, c->ops->allreduce(c, buf, count, type, err)));
}

nerve_status nerve_comm_reduce_scatter(nerve_comm *c, const void *send, void *recv,
                                       const int64_t *counts, nerve_comm_type type,
                                       nerve_error *err)
{
    enter(c);
    if (c->broken) return leave(c, broken(err));
    return leave(c, nerve_comm_break(c, c->ops->reduce_scatter(c, send, recv, counts, type, err)));
}

nerve_status nerve_comm_allgather(nerve_comm *c, const void *send, void *recv,
                                  const int64_t *counts, nerve_comm_type type, nerve_error *err)
{
    enter(c);
    if (c->broken) return leave(c, broken(err));
    return leave(c, nerve_comm_break(c, c->ops->allgather(c, send, recv, counts, type, err)));
}

nerve_status nerve_comm_broadcast(nerve_comm *c, void *buf, int64_t count, nerve_comm_type type,
                                  int root, nerve_error *err)
{
    if (root < 0 || root >= c->size)
        return nerve_error_set(err, NERVE_ERR_INVALID, "broadcast from rank %d of %d", root,
                               c->size);
    enter(c);
    if (c->broken) return leave(c, broken(err));
    if (count <= 0) return leave(c, NERVE_OK);
    return leave(c, nerve_comm_break(c, c->ops->broadcast(c, buf, count, type, root, err)));
}

nerve_status nerve_comm_iallreduce(nerve_comm *c, void *buf, int64_t count, nerve_comm_type type,
                                   nerve_comm_request *request, nerve_error *err)
{
    request->comm = c;
    request->active = false;
    enter(c);
    if (c->broken) return leave(c, broken(err));
    if (count <= 0) return leave(c, NERVE_OK);
    return leave(c, nerve_comm_break(c, c->ops->iallreduce(c, buf, count, type, request, err)));
}

nerve_status nerve_comm_test(nerve_comm_request *request, bool *done, nerve_error *err)
{
    *done = true;
    if (!request->active) return NERVE_OK;
    nerve_comm *c = request->comm;
    enter(c);
    return leave(c, nerve_comm_break(c, c->ops->test(request, done, err)));
}

nerve_status nerve_comm_wait(nerve_comm_request *request, nerve_error *err)
{
    bool done = false;
    nerve_status st = NERVE_OK;
    while (st == NERVE_OK && !done) st = nerve_comm_test(request, &done, err);
    return st;
}
