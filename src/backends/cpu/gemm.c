/* GEMM for the CPU backend. float32 goes to oneDNN's dnnl_sgemm (measured
 * fastest here without tuning: docs/dependencies.md). The float64 build, used
 * only by the gradient checks, has a plain loop: correctness, not speed.
 * nerve_cpu_matmul is the routine the other kernels call; nerve_cpu_gemm, the
 * table entry, wraps it. */
#include "backends/cpu/cpu.h"

#ifndef NERVE_F64
#include <dnnl.h>
#include <omp.h>

void nerve_cpu_matmul(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, nerve_real alpha,
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
void nerve_cpu_matmul(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, nerve_real alpha,
                      const nerve_real *a, int64_t lda, const nerve_real *b, int64_t ldb,
                      nerve_real beta, nerve_real *c, int64_t ldc)
{
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = 0; j < n; j++) {
            nerve_real sum = 0;
            for (int64_t p = 0; p < k; p++) {
                nerve_real av = trans_a ? a[p * lda + i] : a[i * lda + p];
                nerve_real bv = trans_b ? b[j * ldb + p] : b[p * ldb + j];
                sum += av * bv;
            }
            c[i * ldc + j] = alpha * sum + (beta == 0 ? 0 : beta * c[i * ldc + j]);
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
