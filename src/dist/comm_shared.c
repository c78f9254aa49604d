#include "dist/comm_shared.h"

#include <stdlib.h>
#include <string.h>

#include "dist/data_parallel.h"

/* Below this a collective is latency (three barriers here against one
 * recursive doubling); above it, the bytes. */
#define SHARED_MIN_BYTES ((int64_t)256 * 1024)

struct shared_window {
    MPI_Comm host;
    MPI_Win window; /* MPI_WIN_NULL until a collective needs it */
    int rank, size;
    int64_t bytes;  /* each rank's segment */
    char **segment; /* [size]: every rank's segment, mapped into this process */
    const void **inputs; /* [size]: a sum's operands */
};

int shared_open(MPI_Comm comm, shared_window **out)
{
    *out = NULL;
    int size, rank, rc = MPI_Comm_size(comm, &size);
    if (rc == MPI_SUCCESS) rc = MPI_Comm_rank(comm, &rank);
    if (rc != MPI_SUCCESS || size == 1) return rc;
    MPI_Comm host;
    rc = MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &host);
    if (rc != MPI_SUCCESS) return rc;
    int host_size = 0;
    MPI_Comm_size(host, &host_size);
    const char *setting = getenv("NERVE_MPI_SHARED_MEMORY");
    shared_window *s = calloc(1, sizeof *s);
    char **segment = calloc((size_t)size, sizeof *segment);
    const void **inputs = calloc((size_t)size, sizeof *inputs);
    /* Every rank decides alike: a rank out of memory here, or told not to,
     * turns the window off everywhere. */
    int usable = host_size == size && !(setting && strcmp(setting, "0") == 0) && s && segment &&
                 inputs;
    rc = MPI_Allreduce(MPI_IN_PLACE, &usable, 1, MPI_INT, MPI_MIN, comm);
    if (rc == MPI_SUCCESS) rc = MPI_Comm_set_errhandler(host, MPI_ERRORS_RETURN);
    if (rc != MPI_SUCCESS || !usable) {
        MPI_Comm_free(&host);
        free(s);
        free(segment);
        free(inputs);
        return rc;
    }
    *s = (shared_window){host, MPI_WIN_NULL, rank, size, 0, segment, inputs};
    *out = s;
    return MPI_SUCCESS;
}

bool shared_takes(const shared_window *s, int64_t bytes)
{
    return s && bytes >= SHARED_MIN_BYTES;
}

static int free_window(shared_window *s)
{
    if (s->window == MPI_WIN_NULL) return MPI_SUCCESS;
    MPI_Win_unlock_all(s->window);
    s->bytes = 0;
    return MPI_Win_free(&s->window);
}

/* Segments of at least bytes on every rank (a collective when it grows). */
static int reserve(shared_window *s, int64_t bytes)
{
    if (bytes <= s->bytes) return MPI_SUCCESS;
    int rc = free_window(s);
    if (rc != MPI_SUCCESS) return rc;
    /* Each segment on its own pages (first touched by its rank). */
    MPI_Info info;
    MPI_Info_create(&info);
    MPI_Info_set(info, "alloc_shared_noncontig", "true");
    void *mine;
    rc = MPI_Win_allocate_shared((MPI_Aint)bytes, 1, info, s->host, &mine, &s->window);
    MPI_Info_free(&info);
    if (rc != MPI_SUCCESS) return rc;
    rc = MPI_Win_set_errhandler(s->window, MPI_ERRORS_RETURN);
    for (int r = 0; rc == MPI_SUCCESS && r < s->size; r++) {
        MPI_Aint size;
        int unit;
        rc = MPI_Win_shared_query(s->window, r, &size, &unit, &s->segment[r]);
    }
    /* One passive epoch for the window's life; barriers order the accesses. */
    if (rc == MPI_SUCCESS) rc = MPI_Win_lock_all(MPI_MODE_NOCHECK, s->window);
    if (rc == MPI_SUCCESS) s->bytes = bytes;
    return rc;
}

/* Every rank's writes to its segment visible to the others, and theirs to
 * it (MPI-3's unified model: sync, barrier, sync). */
static int barrier(shared_window *s)
{
    MPI_Win_sync(s->window);
    int rc = MPI_Barrier(s->host);
    MPI_Win_sync(s->window);
    return rc;
}

/* out[i] = in[0][i] + in[1][i] + ... in this order on every rank, and the
 * same into mirror (when not NULL). An input may be out itself: the partial
 * sums then go into mirror, out is written by the last pass only (element i
 * read before it is written). */
#define DEFINE_SUM(name, T)                                                                   \
    static void name(void *out_, void *mirror_, const void *const *in_, int inputs, int64_t n) \
    {                                                                                         \
        T *out = out_, *mirror = mirror_, *partial = mirror ? mirror : out;                   \
        const T *const *in = (const T *const *)in_;                                           \
        for (int k = 1; k < inputs; k++) {                                                    \
            const T *sum = k == 1 ? in[0] : partial, *add = in[k];                            \
            if (k == inputs - 1 && mirror) {                                                  \
                _Pragma("omp parallel for simd if (n > 262144)")                               \
                for (int64_t i = 0; i < n; i++)                                               \
                    mirror[i] = out[i] = sum[i] + add[i];                                     \
            } else {                                                                          \
                _Pragma("omp parallel for simd if (n > 262144)")                               \
                for (int64_t i = 0; i < n; i++)                                               \
                    partial[i] = sum[i] + add[i];                                             \
            }                                                                                 \
        }                                                                                     \
    }
DEFINE_SUM(sum_float, float)
DEFINE_SUM(sum_double, double)

/* Into out (and mirror), the sum over the ranks of values [first, first +
 * n): from mine for this rank (its buffer), from the segments for the
 * others. */
static void sum_block(shared_window *s, void *out, void *mirror, const char *mine, int64_t first,
                      int64_t n, nerve_comm_type type)
{
    size_t width = nerve_comm_type_size(type);
    for (int r = 0; r < s->size; r++)
        s->inputs[r] = r == s->rank ? mine : s->segment[r] + first * (int64_t)width;
    (type == NERVE_COMM_DOUBLE ? sum_double : sum_float)(out, mirror, s->inputs, s->size, n);
}

/* Copies [from, to) of buf into this rank's segment. */
static void share(shared_window *s, const void *buf, int64_t from, int64_t to, size_t width)
{
    memcpy(s->segment[s->rank] + from * (int64_t)width, (const char *)buf + from * (int64_t)width,
           (size_t)(to - from) * width);
}

/* The total values of buf but this rank's block [first, first + n), which
 * only this rank reads, into its segment, and every rank's visible to all
 * when it returns. */
static int share_others_blocks(shared_window *s, const void *buf, int64_t first, int64_t n,
                               int64_t total, size_t width)
{
    int rc = reserve(s, total * (int64_t)width);
    if (rc != MPI_SUCCESS) return rc;
    share(s, buf, 0, first, width);
    share(s, buf, first + n, total, width);
    return barrier(s);
}

int shared_allreduce(shared_window *s, void *buf, int64_t count, nerve_comm_type type)
{
    size_t width = nerve_comm_type_size(type);
    char *bytes = buf;
    int64_t first, n;
    nerve_dist_slice(count, s->rank, s->size, &first, &n);
    int rc = share_others_blocks(s, buf, first, n, count, width);
    if (rc != MPI_SUCCESS) return rc;
    /* The slice's sums into the buffer and, for the others, the segment. */
    char *slice = bytes + first * (int64_t)width;
    sum_block(s, slice, s->segment[s->rank] + first * (int64_t)width, slice, first, n, type);
    rc = barrier(s);
    for (int r = 0; rc == MPI_SUCCESS && r < s->size; r++) {
        int64_t from, length;
        nerve_dist_slice(count, r, s->size, &from, &length);
        if (r != s->rank)
            memcpy(bytes + from * (int64_t)width, s->segment[r] + from * (int64_t)width,
                   (size_t)length * width);
    }
    /* No rank refills its segment while another still reads the sums. */
    return rc == MPI_SUCCESS ? barrier(s) : rc;
}

/* The offset of rank's block and the total. */
static int64_t block_offset(const int64_t *counts, int rank, int size, int64_t *total)
{
    int64_t offset = 0;
    *total = 0;
    for (int r = 0; r < size; r++) {
        if (r == rank) offset = *total;
        *total += counts[r];
    }
    return offset;
}

int shared_reduce_scatter(shared_window *s, const void *send, void *recv, const int64_t *counts,
                          nerve_comm_type type)
{
    size_t width = nerve_comm_type_size(type);
    int64_t total, first = block_offset(counts, s->rank, s->size, &total);
    int64_t n = counts[s->rank];
    int rc = share_others_blocks(s, send, first, n, total, width);
    if (rc != MPI_SUCCESS) return rc;
    sum_block(s, recv, NULL, (const char *)send + first * (int64_t)width, first, n, type);
    return barrier(s);
}

int shared_allgather(shared_window *s, const void *send, void *recv, const int64_t *counts,
                     nerve_comm_type type)
{
    size_t width = nerve_comm_type_size(type);
    int64_t total, first = block_offset(counts, s->rank, s->size, &total);
    int rc = reserve(s, total * (int64_t)width);
    if (rc != MPI_SUCCESS) return rc;
    char *bytes = recv;
    const char *mine = send ? send : bytes + first * (int64_t)width;
    memcpy(s->segment[s->rank] + first * (int64_t)width, mine, (size_t)counts[s->rank] * width);
    rc = barrier(s);
    int64_t from = 0;
    for (int r = 0; rc == MPI_SUCCESS && r < s->size; from += counts[r], r++)
        if (r != s->rank || send)
            memcpy(bytes + from * (int64_t)width, s->segment[r] + from * (int64_t)width,
                   (size_t)counts[r] * width);
    return rc == MPI_SUCCESS ? barrier(s) : rc;
}

void shared_close(shared_window *s, bool broken)
{
    if (!s) return;
    if (!broken) {
        free_window(s);
        MPI_Comm_free(&s->host);
    }
    free(s->segment);
    free(s->inputs);
    free(s);
}
