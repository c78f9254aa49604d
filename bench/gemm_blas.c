/* Times single-precision GEMM through oneDNN (dnnl_sgemm) and OpenBLAS
 * (cblas_sgemm) at the shapes a 784-256-256-10 MLP uses at batch 128, and at
 * 1024^3. Evidence for the GEMM choice recorded in docs/dependencies.md.
 *
 * Build and run with `make bench-gemm` (one process per OMP_NUM_THREADS and
 * OPENBLAS_CORETYPE setting: OpenBLAS picks its kernels once, at load time).
 * Within a process the two libraries alternate sample by sample, so machine
 * noise hits both alike; each figure is the median of SAMPLES samples.
 *
 * Each shape waits (up to 2 min) for an idle machine; GEMM_BLAS_NO_WAIT=1
 * skips the wait on a machine known to be busy. The last line is the ceiling
 * make bench's fractions divide by (bench/compare.py --ceiling): oneDNN at
 * 1024^3, by the wall clock, and by the process's CPU time times the thread
 * count (what the threads reach while they run, which a busy machine's
 * preemption does not lower, so it also estimates the idle figure there). */
#include <cblas.h>
#include <dnnl.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { SAMPLES = 15, WARMUP_CALLS = 3 };
static const double SAMPLE_SECONDS = 0.02;

/* Row-major C[MxN] = op(A) op(B), op = transpose for 'T'. */
typedef struct {
    const char *name;
    char transa, transb;
    int m, n, k;
} gemm_shape;

/* Forward is X W^T (weights stored out x in, as PyTorch's Linear); the
 * backward pass needs dX = dY W and dW = dY^T X. The first layer's dX is not
 * computed (its input is the data). */
static const gemm_shape SHAPES[] = {
    {"fc1 forward X.W^T", 'N', 'T', 128, 256, 784},
    {"fc1 dW = dY^T.X", 'T', 'N', 256, 784, 128},
    {"fc2 forward X.W^T", 'N', 'T', 128, 256, 256},
    {"fc2 dX = dY.W", 'N', 'N', 128, 256, 256},
    {"fc2 dW = dY^T.X", 'T', 'N', 256, 256, 128},
    {"fc3 forward X.W^T", 'N', 'T', 128, 10, 256},
    {"fc3 dX = dY.W", 'N', 'N', 128, 256, 10},
    {"fc3 dW = dY^T.X", 'T', 'N', 10, 256, 128},
    {"square 1024^3", 'N', 'N', 1024, 1024, 1024},
};
enum { MLP_SHAPE_COUNT = 8 };

typedef enum { LIB_DNNL, LIB_OPENBLAS, LIB_COUNT } gemm_library;
static const char *const LIB_NAMES[LIB_COUNT] = {"oneDNN", "OpenBLAS"};

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int read_cpu_ticks(unsigned long long *busy, unsigned long long *total)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return -1;
    unsigned long long v[8] = {0};
    int got = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                     &v[3], &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    if (got < 5)
        return -1;
    *total = 0;
    for (int i = 0; i < 8; i++)
        *total += v[i];
    *busy = *total - v[3] - v[4]; /* minus idle and iowait */
    return 0;
}

/* BENCHMARKING.md: the machines are shared, so time only once fewer than 0.15
 * CPUs were busy over the last second. Gives up (and says so) after 2 min. */
static void wait_for_idle_cpu(void)
{
    const char *no_wait = getenv("GEMM_BLAS_NO_WAIT");
    if (no_wait && strcmp(no_wait, "0") != 0)
        return;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    for (int attempt = 0; attempt < 120; attempt++) {
        unsigned long long b0, t0, b1, t1;
        if (read_cpu_ticks(&b0, &t0) != 0)
            return;
        struct timespec second = {1, 0};
        nanosleep(&second, NULL);
        if (read_cpu_ticks(&b1, &t1) != 0 || t1 == t0)
            return;
        double busy_cpus = (double)(b1 - b0) / (double)(t1 - t0) * (double)cpus;
        if (busy_cpus < 0.15)
            return;
    }
    fprintf(stderr, "warning: CPU still busy after 120 s; timing anyway\n");
}

static void run_gemm(gemm_library lib, const gemm_shape *s, const float *a, const float *b,
                     float *c)
{
    int lda = s->transa == 'N' ? s->k : s->m;
    int ldb = s->transb == 'N' ? s->n : s->k;
    if (lib == LIB_DNNL) {
        dnnl_sgemm(s->transa, s->transb, s->m, s->n, s->k, 1.0f, a, lda, b, ldb, 0.0f, c, s->n);
    } else {
        cblas_sgemm(CblasRowMajor, s->transa == 'N' ? CblasNoTrans : CblasTrans,
                    s->transb == 'N' ? CblasNoTrans : CblasTrans, s->m, s->n, s->k, 1.0f, a, lda,
                    b, ldb, 0.0f, c, s->n);
    }
}

static int compare_double(const void *x, const void *y)
{
    double p = *(const double *)x, q = *(const double *)y;
    return (p > q) - (p < q);
}

static float *random_matrix(size_t count, unsigned *seed)
{
    float *m = malloc(count * sizeof *m);
    if (!m) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < count; i++)
        m[i] = (float)rand_r(seed) / (float)RAND_MAX * 2.0f - 1.0f;
    return m;
}

typedef struct {
    double median_gflops, min_gflops, max_gflops, median_seconds_per_call;
    double cpu_gflops; /* FLOPs over the process's CPU seconds, times the threads */
} gemm_timing;

static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void time_shape(const gemm_shape *s, gemm_timing out[LIB_COUNT], double *max_abs_diff)
{
    unsigned seed = 42;
    size_t mn = (size_t)s->m * s->n;
    float *a = random_matrix((size_t)s->m * s->k, &seed);
    float *b = random_matrix((size_t)s->k * s->n, &seed);
    float *c[LIB_COUNT];
    for (int lib = 0; lib < LIB_COUNT; lib++)
        c[lib] = random_matrix(mn, &seed);

    /* Warm up (oneDNN generates its kernels on the first call) and pick a
     * call count that makes one sample last about SAMPLE_SECONDS. */
    int calls[LIB_COUNT];
    for (int lib = 0; lib < LIB_COUNT; lib++) {
        double t0 = now_seconds();
        for (int i = 0; i < WARMUP_CALLS; i++)
            run_gemm(lib, s, a, b, c[lib]);
        double per_call = (now_seconds() - t0) / WARMUP_CALLS;
        calls[lib] = per_call > 0 ? (int)ceil(SAMPLE_SECONDS / per_call) : 1000;
    }
    *max_abs_diff = 0;
    for (size_t i = 0; i < mn; i++)
        *max_abs_diff = fmax(*max_abs_diff, fabs((double)c[LIB_DNNL][i] - c[LIB_OPENBLAS][i]));

    wait_for_idle_cpu();
    double seconds_per_call[LIB_COUNT][SAMPLES], cpu[LIB_COUNT] = {0};
    long total_calls[LIB_COUNT] = {0};
    for (int sample = 0; sample < SAMPLES; sample++) {
        for (int lib = 0; lib < LIB_COUNT; lib++) {
            double t0 = now_seconds(), c0 = cpu_seconds();
            for (int i = 0; i < calls[lib]; i++)
                run_gemm(lib, s, a, b, c[lib]);
            seconds_per_call[lib][sample] = (now_seconds() - t0) / calls[lib];
            cpu[lib] += cpu_seconds() - c0;
            total_calls[lib] += calls[lib];
        }
    }

    double flops = 2.0 * s->m * s->n * s->k;
    for (int lib = 0; lib < LIB_COUNT; lib++) {
        out[lib].cpu_gflops = flops * total_calls[lib] / cpu[lib] * omp_get_max_threads() * 1e-9;
        qsort(seconds_per_call[lib], SAMPLES, sizeof(double), compare_double);
        out[lib].median_seconds_per_call = seconds_per_call[lib][SAMPLES / 2];
        out[lib].median_gflops = flops / out[lib].median_seconds_per_call * 1e-9;
        out[lib].min_gflops = flops / seconds_per_call[lib][SAMPLES - 1] * 1e-9;
        out[lib].max_gflops = flops / seconds_per_call[lib][0] * 1e-9;
    }
    free(a);
    free(b);
    for (int lib = 0; lib < LIB_COUNT; lib++)
        free(c[lib]);
}

int main(void)
{
    const char *coretype = getenv("OPENBLAS_CORETYPE");
    printf("threads %d, OPENBLAS_CORETYPE=%s (OpenBLAS kernels: %s), %d samples, GFLOP/s "
           "median (min-max)\n",
           omp_get_max_threads(), coretype ? coretype : "(unset)", openblas_get_corename(),
           SAMPLES);
    printf("%-20s %2s %5s %5s %5s  %-22s %-22s %7s %9s\n", "shape", "op", "M", "N", "K",
           LIB_NAMES[LIB_DNNL], LIB_NAMES[LIB_OPENBLAS], "ratio", "max|diff|");

    double mlp_seconds[LIB_COUNT] = {0};
    gemm_timing square[LIB_COUNT];
    for (size_t i = 0; i < sizeof SHAPES / sizeof SHAPES[0]; i++) {
        const gemm_shape *s = &SHAPES[i];
        gemm_timing t[LIB_COUNT];
        double diff;
        time_shape(s, t, &diff);
        memcpy(square, t, sizeof square); /* the last shape, 1024^3, is the ceiling */
        char cell[LIB_COUNT][32];
        for (int lib = 0; lib < LIB_COUNT; lib++) {
            snprintf(cell[lib], sizeof cell[lib], "%6.1f (%5.1f-%5.1f)", t[lib].median_gflops,
                     t[lib].min_gflops, t[lib].max_gflops);
            if (i < MLP_SHAPE_COUNT)
                mlp_seconds[lib] += t[lib].median_seconds_per_call;
        }
        printf("%-20s %c%c %5d %5d %5d  %-22s %-22s %6.2fx %9.1e\n", s->name, s->transa,
               s->transb, s->m, s->n, s->k, cell[LIB_DNNL], cell[LIB_OPENBLAS],
               t[LIB_DNNL].median_gflops / t[LIB_OPENBLAS].median_gflops, diff);
        fflush(stdout);
    }
    printf("MLP step (8 GEMMs above): oneDNN %.1f us, OpenBLAS %.1f us, ratio %.2fx\n",
           mlp_seconds[LIB_DNNL] * 1e6, mlp_seconds[LIB_OPENBLAS] * 1e6,
           mlp_seconds[LIB_OPENBLAS] / mlp_seconds[LIB_DNNL]);
    printf("ceiling (oneDNN 1024^3, %d threads): %.1f GFLOP/s by the wall clock, %.1f by CPU "
           "time\n",
           omp_get_max_threads(), square[LIB_DNNL].median_gflops, square[LIB_DNNL].cpu_gflops);
    return 0;
}
