/* Matrix products, row broadcasts and reductions, sums and copies of
 * blocks, per-row scaling: the reference's linear algebra, one dot product
 * per output element, summed in double. */
#include "backends/ref/ref.h"

nerve_status nerve_ref_gemm(const nerve_kernel_ctx *ctx, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, nerve_real alpha,
                    const nerve_real *a, int64_t lda, const nerve_real *b, int64_t ldb,
                    nerve_real beta, nerve_real *c, int64_t ldc)
{
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double sum = 0;
            for (int64_t p = 0; p < k; p++)
                sum += (double)(trans_a ? a[p * lda + i] : a[i * lda + p]) *
                       (double)(trans_b ? b[j * ldb + p] : b[p * ldb + j]);
            /* beta == 0 never reads C, which may hold anything (NaN). */
            double old = beta == 0 ? 0 : (double)beta * c[i * ldc + j];
            c[i * ldc + j] = (nerve_real)((double)alpha * sum + old);
        }
    return NERVE_OK;
}

nerve_status nerve_ref_copy_block(const nerve_kernel_ctx *ctx, int64_t rows, int64_t cols, const nerve_real *src, int64_t src_stride,
                          nerve_real *dst, int64_t dst_stride)
{
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++) dst[r * dst_stride + c] = src[r * src_stride + c];
    return NERVE_OK;
}

nerve_status nerve_ref_add_block(const nerve_kernel_ctx *ctx, int64_t rows, int64_t cols, const nerve_real *src, int64_t src_stride,
                         nerve_real *dst, int64_t dst_stride)
{
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++) dst[r * dst_stride + c] += src[r * src_stride + c];
    return NERVE_OK;
}

nerve_status nerve_ref_scale_rows(const nerve_kernel_ctx *ctx, const nerve_real *x, const nerve_real *scale, nerve_real *y,
                          int64_t rows, int64_t inner)
{
    for (int64_t r = 0; r < rows; r++)
        for (int64_t i = 0; i < inner; i++) y[r * inner + i] = x[r * inner + i] * scale[r];
    return NERVE_OK;
}

nerve_status nerve_ref_scale_rows_backward(const nerve_kernel_ctx *ctx, const nerve_real *dy, const nerve_real *scale, nerve_real *dx,
                                   int64_t rows, int64_t inner)
{
    for (int64_t r = 0; r < rows; r++)
        for (int64_t i = 0; i < inner; i++) dx[r * inner + i] += dy[r * inner + i] * scale[r];
    return NERVE_OK;
}
