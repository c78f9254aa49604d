/* The MPI communicator's collectives for ranks that all run on one host:
 * through an MPI-3 shared-memory window (MPI_Win_allocate_shared over
 * MPI_Comm_split_type(MPI_COMM_TYPE_SHARED)) rather than messages through
 * Open MPI's shared-memory transport. Each rank copies its buffer into its
 * segment of the window; each sums its slice of every rank's segment and
 * the others copy the sums out: every value read once, no copy through the
 * kernel (vader's CMA), no fragments, no reduction buffers. Sums are in rank
 * order, so the same on every rank and every run, and with N = 2 equal to
 * any MPI algorithm's (a + b is b + a). Functions return MPI error codes. */
#ifndef NERVE_COMM_SHARED_H
#define NERVE_COMM_SHARED_H

#include <mpi.h>

#include "dist/comm_internal.h"

typedef struct shared_window shared_window;

/* A collective over comm: *out the window's state when every rank of comm
 * shares this host, there are several and NERVE_MPI_SHARED_MEMORY is not 0
 * on any; NULL (the generic collectives) otherwise. The window itself is
 * allocated by the first collective that uses it, and grown by a larger
 * one (every rank calls a collective with the same sizes). */
int shared_open(MPI_Comm comm, shared_window **out);
/* Whether a collective of this many bytes goes through the window: small
 * ones are latency, where Open MPI's own algorithms are quicker. The same
 * answer on every rank. */
bool shared_takes(const shared_window *s, int64_t bytes);
int shared_allreduce(shared_window *s, void *buf, int64_t count, nerve_comm_type type);
/* counts[r] values from offset counts[0] + ... + counts[r - 1] are rank r's
 * block; recv gets the sum of this rank's block, allgather's recv every
 * rank's block (send NULL: this rank's block is in recv already). */
int shared_reduce_scatter(shared_window *s, const void *send, void *recv, const int64_t *counts,
                          nerve_comm_type type);
int shared_allgather(shared_window *s, const void *send, void *recv, const int64_t *counts,
                     nerve_comm_type type);
/* A collective; a broken communicator's window is left alone (the others
 * may be inside a collective). */
void shared_close(shared_window *s, bool broken);

#endif
