#include "dist/buckets.h"

#include "dist/comm_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How often the helper tests the buckets under way: often enough that a
 * link keeps moving data through a long op (a 10 Gbit/s link moves 64 KiB
 * in 50 us), rarely enough that its wake-ups cost the op beside it little. */
#define PROGRESS_INTERVAL_US 50

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
    if (b->status == NERVE_OK) b->in_flight++;
}

/* Tests every started bucket once: completes the finished ones and lets
 * MPI move the others on. */
static void progress(dist_buckets *b)
{
    for (int i = 0; i < b->started && b->status == NERVE_OK; i++) {
        dist_bucket *k = &b->bucket[i];
        if (k->done) continue;
        b->status = nerve_comm_test(&k->request, &k->done, &b->error);
        if (k->done) {
            b->last_done = seconds_now();
            b->in_flight--;
        }
    }
}

/* The helper: while a bucket is under way, tests them all every
 * PROGRESS_INTERVAL_US; otherwise waits to be woken. */
static void *drive_progress(void *user)
{
    dist_buckets *b = user;
    const struct timespec interval = {0, PROGRESS_INTERVAL_US * 1000L};
    pthread_mutex_lock(&b->lock);
    for (;;) {
        while (!b->stop && (b->in_flight == 0 || b->status != NERVE_OK))
            pthread_cond_wait(&b->wake, &b->lock);
        if (b->stop) break;
        progress(b);
        pthread_mutex_unlock(&b->lock);
        nanosleep(&interval, NULL);
        pthread_mutex_lock(&b->lock);
    }
    pthread_mutex_unlock(&b->lock);
    return NULL;
}

static void lock(dist_buckets *b)
{
    if (b->helper) pthread_mutex_lock(&b->lock);
}

static void unlock(dist_buckets *b)
{
    if (b->helper) pthread_mutex_unlock(&b->lock);
}

/* Undoes start_helper's set-up once the thread is gone (or never was). */
static void release_helper(dist_buckets *b)
{
    b->helper = false;
    b->comm->serial = NULL;
    pthread_cond_destroy(&b->wake);
    pthread_mutex_destroy(&b->comm_lock);
    pthread_mutex_destroy(&b->lock);
}

/* Starts the helper where MPI allows a second thread and the user has not
 * turned it off; without it the hook's tests between nodes drive progress. */
static void start_helper(dist_buckets *b)
{
    const char *env = getenv("NERVE_MPI_PROGRESS_THREAD");
    if (!b->comm->threads_serialized || b->comm->serial || (env && strcmp(env, "0") == 0)) return;
    if (pthread_mutex_init(&b->lock, NULL) != 0) return;
    if (pthread_mutex_init(&b->comm_lock, NULL) != 0) {
        pthread_mutex_destroy(&b->lock);
        return;
    }
    if (pthread_cond_init(&b->wake, NULL) != 0) {
        pthread_mutex_destroy(&b->comm_lock);
        pthread_mutex_destroy(&b->lock);
        return;
    }
    b->comm->serial = &b->comm_lock;
    b->helper = true;
    if (pthread_create(&b->thread, NULL, drive_progress, b) != 0) release_helper(b);
}

/* After node's backward: every node from it on has run, so a parameter at
 * node - 1 or later has its whole gradient. */
static void after_node(nerve_graph *g, int node, void *user)
{
    dist_buckets *b = user;
    lock(b);
    int before = b->in_flight;
    while (b->started < b->count && b->bucket[b->started].first_node >= node - 1)
        start(b, &b->bucket[b->started]);
    if (b->helper && b->in_flight > before) pthread_cond_signal(&b->wake);
    if (!b->helper) progress(b);
    unlock(b);
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
    start_helper(b);
    return NERVE_OK;
}

void dist_buckets_free(dist_buckets *b)
{
    if (b->helper) {
        pthread_mutex_lock(&b->lock);
        b->stop = true;
        pthread_cond_signal(&b->wake);
        pthread_mutex_unlock(&b->lock);
        pthread_join(b->thread, NULL);
        release_helper(b);
    }
    if (b->g && b->g->backward_hook_user == b) {
        b->g->backward_hook = NULL;
        b->g->backward_hook_user = NULL;
    }
    free(b->bucket);
    memset(b, 0, sizeof *b);
}

void dist_buckets_begin(dist_buckets *b)
{
    lock(b);
    b->started = 0;
    b->in_flight = 0;
    b->status = NERVE_OK;
    b->first_start = b->last_done = 0;
    unlock(b);
}

nerve_status dist_buckets_finish(dist_buckets *b, double *comm_seconds, double *exposed_seconds,
                                 nerve_error *err)
{
    double backward_end = seconds_now();
    /* The helper waits on the lock meanwhile: this thread finishes alone. */
    lock(b);
    while (b->started < b->count) start(b, &b->bucket[b->started]);
    for (int i = 0; i < b->count && b->status == NERVE_OK; i++) {
        dist_bucket *k = &b->bucket[i];
        if (k->done) continue;
        b->status = nerve_comm_wait(&k->request, &b->error);
        k->done = true;
        b->last_done = seconds_now();
    }
    b->in_flight = 0; /* the helper goes back to waiting, and leaves b alone */
    unlock(b);
    if (b->status != NERVE_OK) return nerve_error_set(err, b->status, "%s", b->error.message);
    if (b->count == 0) b->first_start = b->last_done = backward_end;
    *comm_seconds = b->last_done - b->first_start;
    *exposed_seconds = b->last_done > backward_end ? b->last_done - backward_end : 0;
    return NERVE_OK;
}
