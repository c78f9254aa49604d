/* The MPI communicator: MPI_COMM_WORLD duplicated (so that nerve's traffic
 * never matches a caller's), errors returned rather than fatal, and counts
 * cut into pieces MPI's int can hold. Open MPI carries the bytes: TCP or UCX
 * between hosts; when every rank is on one host, the large blocking
 * collectives go through a shared-memory window (comm_shared.c). */
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/comm_internal.h"
#include "dist/comm_shared.h"

typedef struct mpi_comm {
    MPI_Comm comm;
    bool initialised_here;
    int *counts, *displacements; /* [size]: the v-collectives' arguments */
    shared_window *shared;       /* NULL: the ranks span hosts */
} mpi_comm;

_Static_assert(sizeof(MPI_Request) <= sizeof(((nerve_comm_request *)0)->handle),
               "an MPI_Request fits a nerve_comm_request");

/* The largest piece one call sends: MPI counts are int. */
#define PIECE ((int64_t)1 << 30)

static MPI_Datatype mpi_type(nerve_comm_type type)
{
    return type == NERVE_COMM_DOUBLE ? MPI_DOUBLE : MPI_FLOAT;
}

static nerve_status mpi_fail(int code, const char *what, nerve_error *err)
{
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) snprintf(text, sizeof text, "?");
    return nerve_error_set(err, NERVE_ERR_IO, "MPI %s failed: %.*s", what, length, text);
}

static MPI_Comm world(nerve_comm *c) { return ((mpi_comm *)c->impl)->comm; }

static nerve_status mpi_allreduce(nerve_comm *c, void *buf, int64_t count, nerve_comm_type type,
                                  nerve_error *err)
{
    shared_window *shared = ((mpi_comm *)c->impl)->shared;
    if (shared_takes(shared, count * (int64_t)nerve_comm_type_size(type))) {
        int rc = shared_allreduce(shared, buf, count, type);
        return rc == MPI_SUCCESS ? NERVE_OK : mpi_fail(rc, "all-reduce", err);
    }
    char *bytes = buf;
    for (int64_t done = 0; done < count; done += PIECE) {
        int n = (int)(count - done < PIECE ? count - done : PIECE);
        int rc = MPI_Allreduce(MPI_IN_PLACE, bytes + done * nerve_comm_type_size(type), n,
                               mpi_type(type), MPI_SUM, world(c));
        if (rc != MPI_SUCCESS) return mpi_fail(rc, "all-reduce", err);
    }
    return NERVE_OK;
}

/* The v-collectives' int counts and offsets; false when one does not fit. */
static bool int_counts(nerve_comm *c, const int64_t *counts)
{
    mpi_comm *m = c->impl;
    int64_t offset = 0;
    for (int r = 0; r < c->size; r++) {
        if (counts[r] < 0 || counts[r] > INT_MAX || offset > INT_MAX) return false;
        m->counts[r] = (int)counts[r];
        m->displacements[r] = (int)offset;
        offset += counts[r];
    }
    return true;
}

static int64_t total_bytes(const nerve_comm *c, const int64_t *counts, nerve_comm_type type)
{
    int64_t total = 0;
    for (int r = 0; r < c->size; r++)
        total += counts[r];
    return total * (int64_t)nerve_comm_type_size(type);
}

static nerve_status too_large(nerve_error *err)
{
    return nerve_error_set(err, NERVE_ERR_INVALID,
                           "a sharded collective holds more than %d values", INT_MAX);
}

static nerve_status mpi_reduce_scatter(nerve_comm *c, const void *send, void *recv,
                                       const int64_t *counts, nerve_comm_type type,
                                       nerve_error *err)
{
    mpi_comm *m = c->impl;
    if (shared_takes(m->shared, total_bytes(c, counts, type))) {
        int rc = shared_reduce_scatter(m->shared, send, recv, counts, type);
        return rc == MPI_SUCCESS ? NERVE_OK : mpi_fail(rc, "reduce-scatter", err);
    }
    if (!int_counts(c, counts)) return too_large(err);
    int rc = MPI_Reduce_scatter(send, recv, m->counts, mpi_type(type), MPI_SUM, m->comm);
    return rc == MPI_SUCCESS ? NERVE_OK : mpi_fail(rc, "reduce-scatter", err);
}

static nerve_status mpi_allgather(nerve_comm *c, const void *send, void *recv,
                                  const int64_t *counts, nerve_comm_type type, nerve_error *err)
{
    mpi_comm *m = c->impl;
    if (shared_takes(m->shared, total_bytes(c, counts, type))) {
        int rc = shared_allgather(m->shared, send, recv, counts, type);
        return rc == MPI_SUCCESS ? NERVE_OK : mpi_fail(rc, "all-gather", err);
    }
    if (!int_counts(c, counts)) return too_large(err);
    int rc = MPI_Allgatherv(send ? send : MPI_IN_PLACE, m->counts[c->rank], mpi_type(type), recv,
                            m->counts, m->displacements, mpi_type(type), m->comm);
    return rc == MPI_SUCCESS ? NERVE_OK : mpi_fail(rc, "all-gather", err);
}

static nerve_status mpi_broadcast(nerve_comm *c, void *buf, int64_t count, nerve_comm_type type,
                                  int root, nerve_error *err)
{
    char *bytes = buf;
    for (int64_t done = 0; done < count; done += PIECE) {
        int n = (int)(count - done < PIECE ? count - done : PIECE);
        int rc = MPI_Bcast(bytes + done * nerve_comm_type_size(type), n, mpi_type(type), root,
                           world(c));
        if (rc != MPI_SUCCESS) return mpi_fail(rc, "broadcast", err);
    }
    return NERVE_OK;
}

static nerve_status mpi_iallreduce(nerve_comm *c, void *buf, int64_t count, nerve_comm_type type,
                                   nerve_comm_request *request, nerve_error *err)
{
    if (count > INT_MAX) return too_large(err);
    MPI_Request handle;
    int rc = MPI_Iallreduce(MPI_IN_PLACE, buf, (int)count, mpi_type(type), MPI_SUM, world(c),
                            &handle);
    if (rc != MPI_SUCCESS) return mpi_fail(rc, "non-blocking all-reduce", err);
    memcpy(request->handle, &handle, sizeof handle);
    request->active = true;
    return NERVE_OK;
}

static nerve_status mpi_test(nerve_comm_request *request, bool *done, nerve_error *err)
{
    MPI_Request handle;
    memcpy(&handle, request->handle, sizeof handle);
    int flag = 0;
    int rc = MPI_Test(&handle, &flag, MPI_STATUS_IGNORE);
    memcpy(request->handle, &handle, sizeof handle);
    if (rc != MPI_SUCCESS) {
        request->active = false;
        return mpi_fail(rc, "non-blocking all-reduce", err);
    }
    *done = flag != 0;
    if (*done) request->active = false;
    return NERVE_OK;
}

/* A broken communicator (comm.c) is neither freed nor finalised: both
 * would wait for ranks that may still be inside the failed collective. */
static void mpi_free(nerve_comm *c)
{
    mpi_comm *m = c->impl;
    int finalized = 0;
    MPI_Finalized(&finalized);
    shared_close(m->shared, c->broken);
    if (!c->broken) MPI_Comm_free(&m->comm);
    if (m->initialised_here && !finalized && !c->broken) MPI_Finalize();
    free(m->counts);
    free(m->displacements);
    free(m);
    free(c);
}

static const nerve_comm_ops mpi_ops = {mpi_allreduce, mpi_reduce_scatter, mpi_allgather,
                                       mpi_broadcast, mpi_iallreduce, mpi_test, mpi_free};

nerve_status nerve_comm_mpi_new(nerve_comm **out, nerve_error *err)
{
    int initialised = 0, rc;
    MPI_Initialized(&initialised);
    if (!initialised) {
        /* OpenMP's threads never make MPI calls; the buckets' progress
         * helper (src/dist/buckets.c) may, one call at a time (comm.c's
         * lock), so SERIALIZED, not MULTIPLE. */
        int provided;
        rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided);
        if (rc != MPI_SUCCESS) return mpi_fail(rc, "initialisation", err);
    }
    /* An application may have initialised MPI at a lower level itself. */
    int level = MPI_THREAD_SINGLE;
    MPI_Query_thread(&level);
    nerve_comm *c = calloc(1, sizeof *c);
    mpi_comm *m = calloc(1, sizeof *m);
    if (!c || !m) {
        free(c);
        free(m);
        return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory for a communicator");
    }
    m->initialised_here = !initialised;
    c->threads_serialized = level >= MPI_THREAD_SERIALIZED;
    rc = MPI_Comm_dup(MPI_COMM_WORLD, &m->comm);
    if (rc == MPI_SUCCESS) rc = MPI_Comm_set_errhandler(m->comm, MPI_ERRORS_RETURN);
    if (rc == MPI_SUCCESS) rc = MPI_Comm_rank(m->comm, &c->rank);
    if (rc == MPI_SUCCESS) rc = MPI_Comm_size(m->comm, &c->size);
    if (rc == MPI_SUCCESS) rc = shared_open(m->comm, &m->shared);
    if (rc != MPI_SUCCESS) {
        free(c);
        free(m);
        return mpi_fail(rc, "communicator set-up", err);
    }
    m->counts = calloc((size_t)c->size, sizeof *m->counts);
    m->displacements = calloc((size_t)c->size, sizeof *m->displacements);
    c->ops = &mpi_ops;
    c->impl = m;
    if (!m->counts || !m->displacements) {
        mpi_free(c);
        return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory for a communicator");
    }
    *out = c;
    return NERVE_OK;
}
