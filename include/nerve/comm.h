/* nerve/comm.h, part of nerve.h (include that, or this part alone): communicators: a group of
 * processes training one model (docs/distributed.md). */
#ifndef NERVE_PUBLIC_COMM_H
#define NERVE_PUBLIC_COMM_H

#include "nerve/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- communicators */

/* A group of processes that train one model (docs/distributed.md): rank
 * 0..size-1, and the collectives data-parallel training needs. Two
 * implementations: one process (nerve_comm_single, every collective a copy
 * or nothing) and MPI (nerve_comm_mpi, when nerve is built with it). Every
 * rank must call the same collectives in the same order with the same
 * counts; a failed collective returns NERVE_ERR_IO and leaves the
 * communicator broken (the other ranks may be inside it still): every later
 * collective on it fails at once, and nerve_comm_free neither frees the MPI
 * communicator nor finalises MPI, which would wait for every rank; a
 * process that then exits non-zero makes mpirun end the others. */
typedef struct nerve_comm nerve_comm;

typedef enum nerve_comm_type {
    NERVE_COMM_FLOAT = 0,
    NERVE_COMM_DOUBLE
} nerve_comm_type;

/* nerve_real's type: float, or double in the float64 engine. */
#ifdef NERVE_F64
#define NERVE_COMM_REAL NERVE_COMM_DOUBLE
#else
#define NERVE_COMM_REAL NERVE_COMM_FLOAT
#endif

/* The one-process communicator (static; nerve_comm_free ignores it). */
NERVE_API nerve_comm *nerve_comm_single(void);
/* Whether this build has MPI, and whether the process was started by an MPI
 * launcher (mpirun, srun): OMPI_COMM_WORLD_SIZE, PMIX_RANK or PMI_SIZE is set. */
NERVE_API bool nerve_comm_mpi_available(void);
NERVE_API bool nerve_comm_mpi_launched(void);
/* MPI_COMM_WORLD's processes (MPI initialised here at MPI_THREAD_SERIALIZED,
 * finalised by nerve_comm_free; an application that initialised MPI itself
 * keeps its level, and below SERIALIZED training's gradient buckets go
 * without their progress helper thread); NERVE_ERR_INVALID in a build without MPI. A collective;
 * when every rank shares one host, blocking collectives of 256 KB or more
 * go through an MPI-3 shared-memory window rather than Open MPI's messages
 * (NERVE_MPI_SHARED_MEMORY=0 on any rank: never; docs/distributed.md). */
NERVE_API nerve_status nerve_comm_mpi(nerve_comm **out, nerve_error *err);
NERVE_API void nerve_comm_free(nerve_comm *c);
NERVE_API int nerve_comm_rank(const nerve_comm *c);
NERVE_API int nerve_comm_size(const nerve_comm *c);

/* Sums buf (count values of type) over every rank, in place. */
NERVE_API nerve_status nerve_comm_allreduce(nerve_comm *c, void *buf, int64_t count,
                                            nerve_comm_type type, nerve_error *err);
/* send holds sum(counts) values on every rank; recv gets rank r's block
 * (counts[r] values from offset counts[0] + ... + counts[r-1]) summed over
 * every rank. */
NERVE_API nerve_status nerve_comm_reduce_scatter(nerve_comm *c, const void *send, void *recv,
                                                 const int64_t *counts, nerve_comm_type type,
                                                 nerve_error *err);
/* Each rank's counts[r] values of send are concatenated in rank order into
 * recv (sum(counts) values) on every rank. send NULL: in place, rank r's
 * block is already at its offset in recv. */
NERVE_API nerve_status nerve_comm_allgather(nerve_comm *c, const void *send, void *recv,
                                            const int64_t *counts, nerve_comm_type type,
                                            nerve_error *err);
/* root's buf to every rank. */
NERVE_API nerve_status nerve_comm_broadcast(nerve_comm *c, void *buf, int64_t count,
                                            nerve_comm_type type, int root, nerve_error *err);

/* A started all-reduce (caller-owned; no allocation). It progresses only
 * inside MPI calls (Open MPI has no progress thread): test it between pieces
 * of work, or from a thread of your own (MPI at MPI_THREAD_SERIALIZED or
 * above; nerve's calls on a communicator never overlap while training's
 * buckets run, and yours must not overlap them), and wait for it before
 * reading buf. */
typedef struct nerve_comm_request {
    nerve_comm *comm;
    bool active;
    uint64_t handle[2];
} nerve_comm_request;
NERVE_API nerve_status nerve_comm_iallreduce(nerve_comm *c, void *buf, int64_t count,
                                             nerve_comm_type type, nerve_comm_request *request,
                                             nerve_error *err);
/* *done: whether the all-reduce has finished (the request is then inactive). */
NERVE_API nerve_status nerve_comm_test(nerve_comm_request *request, bool *done, nerve_error *err);
NERVE_API nerve_status nerve_comm_wait(nerve_comm_request *request, nerve_error *err);

#ifdef __cplusplus
}
#endif
#endif /* NERVE_PUBLIC_COMM_H */
