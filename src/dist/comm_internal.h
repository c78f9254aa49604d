/* A communicator is a table of collectives over one group of processes:
 * comm.c holds the single-process one and the public entry points,
 * comm_mpi.c the MPI one (built only when CMake finds MPI). */
#ifndef NERVE_COMM_INTERNAL_H
#define NERVE_COMM_INTERNAL_H

#include "nerve.h"

#include <pthread.h>

typedef struct nerve_comm_ops {
    nerve_status (*allreduce)(nerve_comm *c, void *buf, int64_t count, nerve_comm_type type,
                              nerve_error *err);
    nerve_status (*reduce_scatter)(nerve_comm *c, const void *send, void *recv,
                                   const int64_t *counts, nerve_comm_type type, nerve_error *err);
    nerve_status (*allgather)(nerve_comm *c, const void *send, void *recv, const int64_t *counts,
                              nerve_comm_type type, nerve_error *err);
    nerve_status (*broadcast)(nerve_comm *c, void *buf, int64_t count, nerve_comm_type type,
                              int root, nerve_error *err);
    nerve_status (*iallreduce)(nerve_comm *c, void *buf, int64_t count, nerve_comm_type type,
                               nerve_comm_request *request, nerve_error *err);
    nerve_status (*test)(nerve_comm_request *request, bool *done, nerve_error *err);
    void (*free)(nerve_comm *c);
} nerve_comm_ops;

struct nerve_comm {
    const nerve_comm_ops *ops;
    int rank, size;
    void *impl;
    /* A collective failed on this rank (comm.c): the others may be inside
     * it still, so the ranks are out of step for good. */
    bool broken;
    /* Another thread may make this communicator's calls too (the buckets'
     * progress helper, src/dist/buckets.c): every entry point of comm.c
     * holds this lock around its MPI calls, as MPI_THREAD_SERIALIZED asks.
     * NULL: one thread only, no lock. */
    pthread_mutex_t *serial;
    /* MPI was initialised at MPI_THREAD_SERIALIZED or above: a second
     * thread may call it, one call at a time. */
    bool threads_serialized;
};

/* Marks c broken (as its failed collectives do) and returns st: for a
 * test hook that fails a collective without making it. */
nerve_status nerve_comm_break(nerve_comm *c, nerve_status st);

static inline size_t nerve_comm_type_size(nerve_comm_type type)
{
    return type == NERVE_COMM_DOUBLE ? sizeof(double) : sizeof(float);
}

#ifdef NERVE_WITH_MPI
nerve_status nerve_comm_mpi_new(nerve_comm **out, nerve_error *err);
#endif

#endif
