/* The gradient all-reduce overlapped with backward (nerve_train_options.
 * bucket_mb, PyTorch DDP's buckets): the flat gradient buffer is cut into
 * contiguous ranges of whole tensors, about bucket_mb MiB each, from its
 * end (the parameters backward reaches first: the buffer is in graph
 * order). The graph's backward hook starts a bucket's non-blocking
 * all-reduce as soon as backward has passed below its first parameter
 * (every op that reads a parameter comes after it), and tests the started
 * ones after every node, which drives Open MPI's progress (it has no
 * progress thread). Between nodes a long op (a convolution's backward)
 * would leave a started all-reduce idle, so where MPI allows a second
 * thread (MPI_THREAD_SERIALIZED) a helper thread tests the started buckets
 * every PROGRESS_INTERVAL_US while any is under way, and sleeps otherwise
 * (NERVE_MPI_PROGRESS_THREAD=0: none). Every rank starts the same buckets in the same order
 * at the same node: a rank with no samples calls the hook from
 * nerve_graph_join_empty_step. Each element is summed over the same ranks
 * as by one all-reduce of the whole buffer; the order of the additions is
 * MPI's (docs/distributed.md: bit-equal on 2 ranks). */
#ifndef NERVE_DIST_BUCKETS_H
#define NERVE_DIST_BUCKETS_H

#include "core/graph_internal.h"

#include <pthread.h>

typedef struct dist_bucket {
    int64_t begin, end;          /* its range of the flat buffer */
    int first_node;              /* its lowest parameter's node */
    nerve_comm_request request;
    bool done;
} dist_bucket;

typedef struct dist_buckets {
    nerve_comm *comm;
    nerve_graph *g;
    dist_bucket *bucket;         /* in the order they start */
    int count;
    int started;                 /* buckets [0, started) are under way or done */
    nerve_status status;         /* the first failure in the hook, which cannot return it */
    nerve_error error;
    double first_start, last_done;
    /* The progress helper (helper false: none). lock guards the fields
     * above from started on; comm_lock is the communicator's serial lock
     * while the buckets exist. */
    bool helper, stop;
    int in_flight;               /* started, not yet done */
    pthread_t thread;
    pthread_mutex_t lock, comm_lock;
    pthread_cond_t wake;
} dist_buckets;

/* Cuts g's gradient buffer into buckets of about mb MiB and installs the
 * hook; dist_buckets_free uninstalls it. */
nerve_status dist_buckets_init(dist_buckets *b, nerve_comm *comm, nerve_graph *g, double mb,
                               nerve_error *err);
void dist_buckets_free(dist_buckets *b);
/* Before a step's backward pass (or empty join). */
void dist_buckets_begin(dist_buckets *b);
/* After it: starts the buckets not yet started and waits for all.
 * *comm_seconds: from the first bucket's start to the last one's
 * completion; *exposed_seconds: the part of it after backward had ended. */
nerve_status dist_buckets_finish(dist_buckets *b, double *comm_seconds, double *exposed_seconds,
                                 nerve_error *err);

#endif
