/* nerve comm-bench: the all-reduce of float32 buffers from 4 KB to 64 MB
 * between the ranks mpirun started, measured as nccl-tests measures it:
 * time per all-reduce (the slowest rank's average), algorithm bandwidth
 * algbw = bytes / time, and bus bandwidth busbw = algbw * 2 (N - 1) / N,
 * what each link of a ring carries, comparable across rank counts
 * (docs/distributed.md, "Performance model"). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli/cli.h"

static const cli_command comm_bench_command = {
    "comm-bench", NULL,
    "Measures the all-reduce between the ranks of an MPI launch (mpirun -np N nerve "
    "comm-bench).",
    "Prints, per size from --min-bytes to --max-bytes (doubling): the time of one\n"
    "all-reduce of float32 values, the algorithm bandwidth (bytes / time) and the bus\n"
    "bandwidth (algbw x 2 (N - 1) / N, as nccl-tests). Alone it measures the\n"
    "one-process communicator, which does nothing."};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Seconds per all-reduce of count floats: the slowest rank's mean over iterations. */
static nerve_status time_allreduce(nerve_comm *c, float *buf, int64_t count, int64_t iterations,
                                   double *seconds, nerve_error *err)
{
    nerve_status st = nerve_comm_allreduce(c, buf, count, NERVE_COMM_FLOAT, err); /* warm-up */
    double start = now();
    for (int64_t k = 0; st == NERVE_OK && k < iterations; k++)
        st = nerve_comm_allreduce(c, buf, count, NERVE_COMM_FLOAT, err);
    double elapsed = (now() - start) / (double)iterations;
    /* The slowest rank's: the communicator sums only, so each rank's time
     * is broadcast in turn (N tiny collectives, outside the timing). */
    double slowest = elapsed;
    for (int r = 0; st == NERVE_OK && r < nerve_comm_size(c); r++) {
        double theirs = elapsed;
        st = nerve_comm_broadcast(c, &theirs, 1, NERVE_COMM_DOUBLE, r, err);
        if (theirs > slowest)
            slowest = theirs;
    }
    *seconds = slowest;
    return st;
}

int cmd_comm_bench(int argc, char **argv)
{
    int64_t min_bytes = 4096, max_bytes = 64 << 20, iterations = 20;
    const char *unused;
    cli_option options[] = {
        CLI_INT("--min-bytes", "B", &min_bytes, 4, INT64_C(1) << 32,
                "smallest size (default: 4096)"),
        CLI_INT("--max-bytes", "B", &max_bytes, 4, INT64_C(1) << 32,
                "largest size (default: 67108864, 64 MiB)"),
        CLI_INT("--iterations", "N", &iterations, 1, 1000000,
                "all-reduces timed per size (default: 20)"),
    };
    int code = cli_parse(&comm_bench_command, options, 3, argc, argv, &unused);
    if (code >= 0)
        return code;
    nerve_comm *c = cli_comm ? cli_comm : nerve_comm_single();
    int ranks = nerve_comm_size(c);
    float *buf = calloc((size_t)max_bytes / sizeof(float) + 1, sizeof *buf);
    if (!buf) {
        fprintf(stderr, "nerve: out of memory for %lld bytes\n", (long long)max_bytes);
        return CLI_EXIT_FAILURE;
    }
    printf("all-reduce of float32 on %d rank%s\n%12s %12s %12s %12s\n", ranks,
           ranks == 1 ? "" : "s", "bytes", "time (us)", "algbw (GB/s)", "busbw (GB/s)");
    nerve_error err = {0};
    nerve_status st = NERVE_OK;
    for (int64_t bytes = min_bytes; st == NERVE_OK && bytes <= max_bytes; bytes *= 2) {
        double seconds;
        st = time_allreduce(c, buf, bytes / (int64_t)sizeof(float), iterations, &seconds, &err);
        double algbw = seconds > 0 ? (double)bytes / seconds / 1e9 : 0;
        if (st == NERVE_OK)
            printf("%12lld %12.1f %12.3f %12.3f\n", (long long)bytes, seconds * 1e6, algbw,
                   algbw * 2 * (ranks - 1) / ranks);
    }
    free(buf);
    return st ? cli_fail(&err, CLI_EXIT_FAILURE) : CLI_EXIT_OK;
}
