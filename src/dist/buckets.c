#include "dist/buckets.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The engine's clock (src/train's nerve_seconds_now is not in the float64
 * engine the equivalence test links). */
static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void start(dist_buckets *b, dist_bucket *k)
{
    if (b->started == 0) b->first_start = seconds_now();
    b->started++;
    k->done = false;
    if (b->status != NERVE_OK) return;
    b->status = nerve_comm_iallreduce(b->comm, b->g->param_grads + k->begin, k->end - k->begin,
                                      NERVE_COMM_REAL, &k->request, &b->error);
}

/* Tests every started bucket once: completes the finished ones and lets
 * MPI move the others on. */
static void progress(dist_buckets *b)
{
    for (int i = 0; i < b->started && b->status == NERVE_OK; i++) {
        dist_bucket *k = &b->bucket[i];
        if (k->done) continue;
        b->status = nerve_comm_test(&k->request, &k->done, &b->error);
        if (k->done) b->last_done = seconds_now();
    }
}

/* After node's backward: every node from it on has run, so a parameter at
 * node - 1 or later has its whole gradient. */
static void after_node(nerve_graph *g, int node, void *user)
{
    dist_buckets *b = user;
    while (b->started < b->count && b->bucket[b->started].first_node >= node - 1)
        start(b, &b->bucket[b->started]);
    progress(b);
}

nerve_status dist_buckets_init(dist_buckets *b, nerve_comm *comm, nerve_graph *g, double mb,
                               nerve_error *err)
{
    memset(b, 0, sizeof *b);
    b->comm = comm;
    b->g = g;
    /* At most one bucket per parameter tensor. */
    b->bucket = calloc((size_t)g->node_count + 1, sizeof *b->bucket);
    if (!b->bucket)
        return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory for the gradient buckets");
    const double cap = mb * 1024 * 1024 / (double)sizeof(nerve_real);
    dist_bucket *open = NULL;
    for (int i = g->node_count - 1; i >= 0; i--) {
        const nerve_node_data *n = &g->nodes[i];
        int64_t size = nerve_shape_numel(&n->shape);
        if (n->kind != NERVE_NODE_PARAM || size == 0) continue;
        if (!open || (double)(open->end - open->begin) >= cap) {
            open = &b->bucket[b->count++];
            open->end = (int64_t)(n->param_offset + (size_t)size);
        }
        open->begin = (int64_t)n->param_offset;
        open->first_node = i;
    }
    g->backward_hook = after_node;
    g->backward_hook_user = b;
    return NERVE_OK;
}

void dist_buckets_free(dist_buckets *b)
{
    if (b->g && b->g->backward_hook_user == b) {
        b->g->backward_hook = NULL;
        b->g->backward_hook_user = NULL;
    }
    free(b->bucket);
    memset(b, 0, sizeof *b);
}

void dist_buckets_begin(dist_buckets *b)
{
    b->started = 0;
    b->status = NERVE_OK;
    b->first_start = b->last_done = 0;
}

nerve_status dist_buckets_finish(dist_buckets *b, double *comm_seconds, double *exposed_seconds,
                                 nerve_error *err)
{
    double backward_end = seconds_now();
    while (b->started < b->count) start(b, &b->bucket[b->started]);
    for (int i = 0; i < b->count && b->status == NERVE_OK; i++) {
        dist_bucket *k = &b->bucket[i];
        if (k->done) continue;
        b->status = nerve_comm_wait(&k->request, &b->error);
        k->done = true;
        b->last_done = seconds_now();
    }
    if (b->status != NERVE_OK) return nerve_error_set(err, b->status, "%s", b->error.message);
    if (b->count == 0) b->first_start = b->last_done = backward_end;
    *comm_seconds = b->last_done - b->first_start;
    *exposed_seconds = b->last_done > backward_end ? b->last_done - backward_end : 0;
    return NERVE_OK;
}
