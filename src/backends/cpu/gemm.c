/* GEMM for the CPU backend. float32 goes to oneDNN's dnnl_sgemm where the
 * build has oneDNN (measured fastest here without tuning:
 * docs/dependencies.md). The float64 engine of the gradient checks and a
 * build without oneDNN (NERVE_WITH_DNNL=OFF) run the blocked GEMM below:
 * plain C that the compiler vectorises for whatever CPU it targets, so the
 * portable build stays correct on any x86-64 (and elsewhere).
 * nerve_cpu_matmul is the routine the other kernels call; nerve_cpu_gemm, the
 * table entry, wraps it. */
#include <omp.h>

#include "backends/cpu/cpu.h"

#ifdef NERVE_CPU_DNNL
#include <dnnl.h>

/* A large product is cut into nerve_get_threads() slabs of C's rows (when
 * A is transposed or C has more rows than columns: for a weight gradient's
 * A^T B rows beat columns in 7 of 9 busy-machine runs; its columns
 * otherwise), each one single-threaded dnnl_sgemm:
 * the cut depends on the thread count asked for, never on how many threads
 * run the slabs, so nerve_cpu_team can give a busy machine's slabs to fewer
 * threads without changing a bit of the result. Inside a parallel region
 * (the recurrent kernels split their batch) the product is one call, as
 * before, on its thread alone. */
typedef struct {
    bool trans_a, trans_b, by_rows;
    int64_t m, n, k, lda, ldb, ldc, slab;
    nerve_real alpha, beta;
    const nerve_real *a, *b;
    nerve_real *c;
} gemm_job;

static void gemm_slab(const gemm_job *g, int64_t s)
{
    int64_t first = s * g->slab, rows = g->m, cols = g->n;
    const nerve_real *a = g->a, *b = g->b;
    nerve_real *c = g->c;
    if (g->by_rows) {
        rows = first + g->slab < g->m ? g->slab : g->m - first;
        a += g->trans_a ? first : first * g->lda;
        c += first * g->ldc;
    } else {
        cols = first + g->slab < g->n ? g->slab : g->n - first;
        b += g->trans_b ? first * g->ldb : first;
        c += first;
    }
    dnnl_sgemm(g->trans_a ? 'T' : 'N', g->trans_b ? 'T' : 'N', rows, cols, g->k, g->alpha, a,
               g->lda, b, g->ldb, g->beta, c, g->ldc);
}

void nerve_cpu_matmul(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, nerve_real alpha,
                      const nerve_real *a, int64_t lda, const nerve_real *b, int64_t ldb,
                      nerve_real beta, nerve_real *c, int64_t ldc)
{
    if (m == 0 || n == 0) return;
    gemm_job g = {trans_a, trans_b, trans_a || m > n, m, n, k, lda, ldb, ldc, 0, alpha, beta,
                  a, b, c};
    int64_t length = g.by_rows ? m : n, slabs = 1;
    if (m * n * k >= NERVE_CPU_PARALLEL_MIN_MACS && !omp_in_parallel()) {
        /* Slabs of whole 16-float vectors where they can be. */
        slabs = nerve_get_threads();
        if (slabs > (length + 15) / 16) slabs = (length + 15) / 16;
    }
    g.slab = slabs > 1 ? ((length + slabs - 1) / slabs + 15) / 16 * 16 : length;
    slabs = (length + g.slab - 1) / g.slab;
    int team = slabs > 1 ? nerve_cpu_team() : 1;
    if (team > 1) {
        /* Inside the region dnnl_sgemm runs on its own thread alone. */
#pragma omp parallel for schedule(dynamic, 1) num_threads(team)
        for (int64_t s = 0; s < slabs; s++) gemm_slab(&g, s);
        return;
    }
    int threads = omp_get_max_threads();
    if (threads > 1) omp_set_num_threads(1);
    for (int64_t s = 0; s < slabs; s++) gemm_slab(&g, s);
    if (threads > 1) omp_set_num_threads(threads);
}
#else
/* The blocking (Goto and van de Geijn's loop order, without hand-written
 * micro-kernels): a KC x NC panel of op(B) is packed once per (k, n) block
 * and shared; C is cut into MC x NR tiles, one task each, that pack their
 * MC x KC block of alpha op(A) and update four rows of C at a time, each
 * B row loaded once per four multiply-adds. The packed blocks fit the
 * caches: A's 32 KiB in L1/L2 (float), B's panel 256 KiB in L2. */
#define GEMM_MC 64
#define GEMM_KC 128
#define GEMM_NC 512
#define GEMM_NR 128

/* C = beta C, with beta = 0 writing zeros (whatever C held, NaN included),
 * as BLAS does. */
static void scale_c(int64_t m, int64_t n, nerve_real beta, nerve_real *c, int64_t ldc)
{
    if (beta == 1) return;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j];
}

/* packed[i][p] = alpha op(A)[i0 + i][p0 + p], mc x kc. */
static void pack_a(bool trans, const nerve_real *a, int64_t lda, int64_t i0, int64_t mc,
                   int64_t p0, int64_t kc, nerve_real alpha, nerve_real *packed)
{
    for (int64_t i = 0; i < mc; i++)
        for (int64_t p = 0; p < kc; p++)
            packed[i * kc + p] =
                alpha * (trans ? a[(p0 + p) * lda + i0 + i] : a[(i0 + i) * lda + p0 + p]);
}

/* packed[p][j] = op(B)[p0 + p][j0 + j], kc x nc. */
static void pack_b(bool trans, const nerve_real *b, int64_t ldb, int64_t p0, int64_t kc,
                   int64_t j0, int64_t nc, nerve_real *packed)
{
    for (int64_t p = 0; p < kc; p++)
        for (int64_t j = 0; j < nc; j++)
            packed[p * nc + j] = trans ? b[(j0 + j) * ldb + p0 + p] : b[(p0 + p) * ldb + j0 + j];
}

/* c[i][j] += sum_p a[i][p] b[p][j] for an mc x nr tile; a is mc x kc, b a
 * kc x nr window of rows ldb apart. */
static void tile(const nerve_real *restrict a, int64_t mc, int64_t kc, const nerve_real *b,
                 int64_t ldb, int64_t nr, nerve_real *c, int64_t ldc)
{
    int64_t i = 0;
    for (; i + 4 <= mc; i += 4) {
        nerve_real *restrict c0 = c + i * ldc, *restrict c1 = c0 + ldc;
        nerve_real *restrict c2 = c1 + ldc, *restrict c3 = c2 + ldc;
        for (int64_t p = 0; p < kc; p++) {
            const nerve_real *restrict row = b + p * ldb;
            nerve_real a0 = a[i * kc + p], a1 = a[(i + 1) * kc + p];
            nerve_real a2 = a[(i + 2) * kc + p], a3 = a[(i + 3) * kc + p];
            for (int64_t j = 0; j < nr; j++) {
                c0[j] += a0 * row[j];
                c1[j] += a1 * row[j];
                c2[j] += a2 * row[j];
                c3[j] += a3 * row[j];
            }
        }
    }
    for (; i < mc; i++) {
        nerve_real *restrict c0 = c + i * ldc;
        for (int64_t p = 0; p < kc; p++) {
            const nerve_real *restrict row = b + p * ldb;
            nerve_real a0 = a[i * kc + p];
            for (int64_t j = 0; j < nr; j++) c0[j] += a0 * row[j];
        }
    }
}

void nerve_cpu_matmul(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, nerve_real alpha,
                      const nerve_real *a, int64_t lda, const nerve_real *b, int64_t ldb,
                      nerve_real beta, nerve_real *c, int64_t ldc)
{
    if (m == 0 || n == 0) return;
    scale_c(m, n, beta, c, ldc);
    if (k == 0 || alpha == 0) return;
    /* The shared panel, per calling thread: no allocation per call. */
    static _Thread_local nerve_real packed_b[GEMM_KC * GEMM_NC];
    const bool parallel = m * n * k >= NERVE_CPU_PARALLEL_MIN_MACS;
    const int team = parallel ? nerve_cpu_team() : 1;
    for (int64_t j0 = 0; j0 < n; j0 += GEMM_NC) {
        int64_t nc = n - j0 < GEMM_NC ? n - j0 : GEMM_NC;
        for (int64_t p0 = 0; p0 < k; p0 += GEMM_KC) {
            int64_t kc = k - p0 < GEMM_KC ? k - p0 : GEMM_KC;
            pack_b(trans_b, b, ldb, p0, kc, j0, nc, packed_b);
            const nerve_real *panel = packed_b;
            int64_t row_blocks = (m + GEMM_MC - 1) / GEMM_MC;
            int64_t col_blocks = (nc + GEMM_NR - 1) / GEMM_NR;
            /* Each tile's C is its own, so the order of the sum over k, and
             * the result, do not depend on the thread count: a busy machine's
             * team runs it. */
#pragma omp parallel for schedule(static) if (parallel) num_threads(team)
            for (int64_t t = 0; t < row_blocks * col_blocks; t++) {
                nerve_real packed_a[GEMM_MC * GEMM_KC];
                int64_t i0 = t / col_blocks * GEMM_MC, jr = t % col_blocks * GEMM_NR;
                int64_t mc = m - i0 < GEMM_MC ? m - i0 : GEMM_MC;
                int64_t nr = nc - jr < GEMM_NR ? nc - jr : GEMM_NR;
                pack_a(trans_a, a, lda, i0, mc, p0, kc, alpha, packed_a);
                tile(packed_a, mc, kc, panel + jr, nc, nr, c + i0 * ldc + j0 + jr, ldc);
            }
        }
    }
}
#endif

nerve_status nerve_cpu_gemm(const nerve_kernel_ctx *ctx, bool trans_a, bool trans_b, int64_t m,
                            int64_t n, int64_t k, nerve_real alpha, const nerve_real *a,
                            int64_t lda, const nerve_real *b, int64_t ldb, nerve_real beta,
                            nerve_real *c, int64_t ldc)
{
    nerve_cpu_matmul(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return NERVE_OK;
}
