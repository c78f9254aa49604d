/* GEMM through cuBLAS. nerve's matrices are row-major and cuBLAS's
 * column-major: a row-major X is the column-major X^T, so C = op(A) op(B)
 * is computed as C^T = op(B)^T op(A)^T, B and A swapped, nothing copied. */
#include <cublas_v2.h>

#include "backends/cuda/cuda.h"

nerve_status nerve_cuda_gemm(const nerve_kernel_ctx *ctx, bool trans_a, bool trans_b, int64_t m,
                             int64_t n, int64_t k, nerve_real alpha, const nerve_real *a,
                             int64_t lda, const nerve_real *b, int64_t ldb, nerve_real beta,
                             nerve_real *c, int64_t ldc)
{
    if (m <= 0 || n <= 0) return NERVE_OK;
    /* k = 0 leaves C = beta C, as cuBLAS defines it. */
    cublasStatus_t st = cublasSgemm(nerve_cuda_blas(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                                    trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, (int)n, (int)m, (int)k,
                                    &alpha, b, (int)(ldb > 0 ? ldb : 1), a,
                                    (int)(lda > 0 ? lda : 1), &beta, c, (int)ldc);
    if (st != CUBLAS_STATUS_SUCCESS)
        return nerve_engine->kernel_fail(ctx, NERVE_ERR_INVALID, "cuda: gemm %lldx%lldx%lld: %s",
                                 (long long)m, (long long)n, (long long)k,
                                 cublasGetStatusString(st));
    return NERVE_OK;
}
