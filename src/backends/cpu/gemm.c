/* GEMM for the CPU backend. float32 goes to oneDNN's dnnl_sgemm where the
 * build has oneDNN (measured fastest here without tuning:
 * docs/dependencies.md). The float64 engine of the gradient checks and a
 * build without oneDNN (NERVE_WITH_DNNL=OFF) run the blocked GEMM below:
 * plain C that the compiler vectorises for whatever CPU it targets, so the
 * portable build stays correct on any x86-64 (and elsewhere). */
#include <omp.h>

#include "backends/cpu/cpu.h"

#ifdef NERVE_CPU_DNNL
#include <dnnl.h>

void nerve_cpu_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, nerve_real alpha,
                    const nerve_real *a, int64_t lda, const nerve_real *b, int64_t ldb,
                    nerve_real beta, nerve_real *c, int64_t ldc)
{
    if (m == 0 || n == 0) return;
    int threads = omp_get_max_threads();
    bool small = m * n * k < NERVE_CPU_PARALLEL_MIN_MACS;
    if (small && threads > 1) omp_set_num_threads(1);
    dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c,
               ldc);
    if (small && threads > 1) omp_set_num_threads(threads);
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

void nerve_cpu_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, nerve_real alpha,
                    const nerve_real *a, int64_t lda, const nerve_real *b, int64_t ldb,
                    nerve_real beta, nerve_real *c, int64_t ldc)
{
    if (m == 0 || n == 0) return;
    scale_c(m, n, beta, c, ldc);
    if (k == 0 || alpha == 0) return;
    /* The shared panel, per calling thread: no allocation per call. */
    static _Thread_local nerve_real packed_b[GEMM_KC * GEMM_NC];
    const bool parallel = m * n * k >= NERVE_CPU_PARALLEL_MIN_MACS;
    for (int64_t j0 = 0; j0 < n; j0 += GEMM_NC) {
        int64_t nc = n - j0 < GEMM_NC ? n - j0 : GEMM_NC;
        for (int64_t p0 = 0; p0 < k; p0 += GEMM_KC) {
            int64_t kc = k - p0 < GEMM_KC ? k - p0 : GEMM_KC;
            pack_b(trans_b, b, ldb, p0, kc, j0, nc, packed_b);
            const nerve_real *panel = packed_b;
            int64_t row_blocks = (m + GEMM_MC - 1) / GEMM_MC;
            int64_t col_blocks = (nc + GEMM_NR - 1) / GEMM_NR;
            /* Each tile's C is its own, so the order of the sum over k, and
             * the result, do not depend on the thread count. */
#pragma omp parallel for schedule(static) if (parallel)
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
