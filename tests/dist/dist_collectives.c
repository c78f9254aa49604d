/* The communicator's collectives equal serial sums: every rank builds every
 * rank's contribution (a function of rank and index), so each can compute
 * the expected sums itself. Sizes 1, 7 and 1,000,003 (odd, not a multiple
 * of the world size), float and double. Run under mpirun with any number of
 * ranks, or alone (the MPI singleton). Exits non-zero on a mismatch. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nerve.h"

static int failures;

static void check(bool ok, const char *what, int64_t size, int rank)
{
    if (ok)
        return;
    fprintf(stderr, "rank %d: %s differs from the serial sum at size %lld\n", rank, what,
            (long long)size);
    failures++;
}

/* Small integers and halves: float sums of a few of them are exact. */
static double contribution(int rank, int64_t i) { return (double)((i * 7 + rank * 3) % 41) * 0.5; }

static void test_size(nerve_comm *c, int64_t n)
{
    int rank = nerve_comm_rank(c), size = nerve_comm_size(c);
    nerve_error err = {0};
    float *f = malloc((size_t)n * sizeof *f);
    double *d = malloc((size_t)n * sizeof *d), *expected = malloc((size_t)n * sizeof *expected);
    int64_t *counts = malloc((size_t)size * sizeof *counts);
    for (int64_t i = 0; i < n; i++) {
        f[i] = (float)contribution(rank, i);
        d[i] = contribution(rank, i);
        expected[i] = 0;
        for (int r = 0; r < size; r++)
            expected[i] += contribution(r, i);
    }
    bool ok = nerve_comm_allreduce(c, f, n, NERVE_COMM_FLOAT, &err) == NERVE_OK;
    for (int64_t i = 0; ok && i < n; i++)
        ok = f[i] == (float)expected[i];
    check(ok, "float all-reduce", n, rank);
    ok = nerve_comm_allreduce(c, d, n, NERVE_COMM_DOUBLE, &err) == NERVE_OK;
    for (int64_t i = 0; ok && i < n; i++)
        ok = d[i] == expected[i];
    check(ok, "double all-reduce", n, rank);

    /* Non-blocking, tested until done. */
    for (int64_t i = 0; i < n; i++)
        d[i] = contribution(rank, i);
    nerve_comm_request request;
    bool done = false;
    ok = nerve_comm_iallreduce(c, d, n, NERVE_COMM_DOUBLE, &request, &err) == NERVE_OK;
    while (ok && !done)
        ok = nerve_comm_test(&request, &done, &err) == NERVE_OK;
    ok = ok && nerve_comm_wait(&request, &err) == NERVE_OK;
    for (int64_t i = 0; ok && i < n; i++)
        ok = d[i] == expected[i];
    check(ok, "non-blocking all-reduce", n, rank);

    /* Reduce-scatter into uneven blocks, then all-gather them back. */
    int64_t first = 0;
    for (int r = 0; r < size; r++) {
        counts[r] = n * (r + 1) / size - n * r / size;
        if (r < rank)
            first += counts[r];
    }
    for (int64_t i = 0; i < n; i++)
        d[i] = contribution(rank, i);
    double *block = malloc((size_t)(counts[rank] + 1) * sizeof *block);
    ok = nerve_comm_reduce_scatter(c, d, block, counts, NERVE_COMM_DOUBLE, &err) == NERVE_OK;
    for (int64_t i = 0; ok && i < counts[rank]; i++)
        ok = block[i] == expected[first + i];
    check(ok, "reduce-scatter", n, rank);
    memset(d, 0, (size_t)n * sizeof *d);
    ok = nerve_comm_allgather(c, block, d, counts, NERVE_COMM_DOUBLE, &err) == NERVE_OK;
    for (int64_t i = 0; ok && i < n; i++)
        ok = d[i] == expected[i];
    check(ok, "all-gather", n, rank);
    for (int64_t i = 0; i < n; i++)
        d[i] = i >= first && i < first + counts[rank] ? expected[i] : -1;
    ok = nerve_comm_allgather(c, NULL, d, counts, NERVE_COMM_DOUBLE, &err) == NERVE_OK;
    for (int64_t i = 0; ok && i < n; i++)
        ok = d[i] == expected[i];
    check(ok, "in-place all-gather", n, rank);

    /* Broadcast from the last rank. */
    for (int64_t i = 0; i < n; i++)
        f[i] = (float)contribution(rank, i);
    ok = nerve_comm_broadcast(c, f, n, NERVE_COMM_FLOAT, size - 1, &err) == NERVE_OK;
    for (int64_t i = 0; ok && i < n; i++)
        ok = f[i] == (float)contribution(size - 1, i);
    check(ok, "broadcast", n, rank);
    if (err.status)
        fprintf(stderr, "rank %d: %s\n", rank, err.message);
    free(block);
    free(f);
    free(d);
    free(expected);
    free(counts);
}

int main(int argc, char **argv)
{
    nerve_error err = {0};
    nerve_comm *c = nerve_comm_single();
    /* --single: the one-process communicator, without MPI. */
    if (!(argc > 1 && strcmp(argv[1], "--single") == 0) && nerve_comm_mpi(&c, &err) != NERVE_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    const int64_t sizes[] = {1, 7, 1000003};
    for (int k = 0; k < 3; k++)
        test_size(c, sizes[k]);
    int rank = nerve_comm_rank(c), size = nerve_comm_size(c);
    nerve_comm_free(c);
    if (rank == 0 && !failures)
        printf("collectives on %d ranks equal the serial sums\n", size);
    return failures ? 1 : 0;
}
