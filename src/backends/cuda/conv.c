/* 2-D convolution: through cuDNN where it runs the call (conv_cudnn.c), else
 * as im2col + cuBLAS: for a chunk of samples and one group, the columns of
 * the windows (conv.cu) times the group's weight, one strided batched GEMM
 * per chunk; the adjoint is the transposed product gathered back into the
 * image; the weight gradient one GEMM per sample, accumulated. The
 * workspace holds cuDNN's scratch or the chunk's columns, whichever is
 * larger; conv_workspace asks for enough for the planned batch, the columns
 * up to WORKSPACE_LIMIT elements. */
#include <cublas_v2.h>

#include "backends/cuda/cuda.h"

/* 256 MiB of columns at most: larger batches run in chunks. */
#define WORKSPACE_LIMIT ((int64_t)64 << 20)

/* Columns per sample and group: K rows (the group's channels x taps) of P
 * output positions. */
static int64_t rows_k(const nerve_conv_geometry *g)
{
    return g->channels / g->groups * g->kernel[0] * g->kernel[1];
}

static int64_t positions(const nerve_conv_geometry *g) { return g->col_height * g->col_width; }

nerve_status nerve_cuda_conv_workspace(const nerve_kernel_ctx *ctx, const nerve_conv_geometry *geo,
                                       int64_t batch, int64_t *size)
{
    int64_t per_sample = rows_k(geo) * positions(geo);
    int64_t fits = per_sample > 0 ? WORKSPACE_LIMIT / per_sample : batch;
    int64_t count = batch < fits ? batch : fits > 0 ? fits : 1;
    int64_t dnn = nerve_cuda_dnn_workspace(geo, batch);
    *size = count * per_sample > dnn ? count * per_sample : dnn;
    return NERVE_OK;
}

/* Samples per chunk that the workspace holds, or a failure. */
static nerve_status chunk_of(const nerve_kernel_ctx *ctx, const nerve_conv_geometry *geo,
                             int64_t workspace_size, const char *kernel, int64_t *chunk)
{
    int64_t per_sample = rows_k(geo) * positions(geo);
    *chunk = per_sample > 0 ? workspace_size / per_sample : 1;
    if (*chunk >= 1) return NERVE_OK;
    return nerve_engine->kernel_fail(ctx, NERVE_ERR_INVALID,
                             "cuda: %s needs a workspace of %lld elements, got %lld", kernel,
                             (long long)per_sample, (long long)workspace_size);
}

static nerve_status blas(const nerve_kernel_ctx *ctx, cublasStatus_t st, const char *kernel)
{
    if (st == CUBLAS_STATUS_SUCCESS) return nerve_cuda_launched(ctx, kernel);
    return nerve_engine->kernel_fail(ctx, NERVE_ERR_INVALID, "cuda: %s: %s", kernel,
                             cublasGetStatusString(st));
}

nerve_status nerve_cuda_conv_columns(const nerve_kernel_ctx *ctx, const nerve_conv_geometry *geo,
                                     int64_t batch, const float *image, const float *weight,
                                     const float *bias, bool accumulate, float *cols,
                                     float *workspace, int64_t workspace_size)
{
    const int64_t K = rows_k(geo), P = positions(geo), og = geo->col_channels / geo->groups;
    const int64_t image_size = geo->channels * geo->height * geo->width;
    const int64_t cols_size = geo->col_channels * P;
    int64_t chunk;
    nerve_status st;
    if (batch <= 0 || cols_size <= 0) return NERVE_OK;
    if (nerve_cuda_dnn_run(ctx, NERVE_CUDA_DNN_FORWARD, geo, batch, (float *)image,
                           (float *)weight, cols, accumulate ? 1 : 0, workspace, workspace_size,
                           &st)) {
        if (st == NERVE_OK && bias)
            nerve_cuda_bias_planes(cols, bias, true, batch, geo->col_channels, P);
        return st == NERVE_OK ? nerve_cuda_launched(ctx, "conv_columns") : st;
    }
    NERVE_TRY(chunk_of(ctx, geo, workspace_size, "conv_columns", &chunk));
    const float one = 1, zero = 0;
    for (int64_t first = 0; first < batch; first += chunk) {
        int64_t count = batch - first < chunk ? batch - first : chunk;
        float *out = cols + first * cols_size;
        if (bias) nerve_cuda_bias_planes(out, bias, accumulate, count, geo->col_channels, P);
        const float *beta = bias || accumulate ? &one : &zero;
        for (int64_t g = 0; g < geo->groups; g++) {
            nerve_cuda_im2col(geo, image + first * image_size, count, g, workspace);
            /* out_s[g block] (og x P) = W_g (og x K) * columns_s (K x P) */
            NERVE_TRY(blas(ctx,
                           cublasSgemmStridedBatched(
                               nerve_cuda_blas(), CUBLAS_OP_N, CUBLAS_OP_N, (int)P, (int)og,
                               (int)K, &one, workspace, (int)P, K * P, weight + g * og * K,
                               (int)K, 0, beta, out + g * og * P, (int)P, cols_size, (int)count),
                           "conv_columns"));
        }
    }
    return NERVE_OK;
}

nerve_status nerve_cuda_conv_image(const nerve_kernel_ctx *ctx, const nerve_conv_geometry *geo,
                                   int64_t batch, const float *cols, const float *weight,
                                   const float *bias, bool accumulate, float *image,
                                   float *workspace, int64_t workspace_size)
{
    const int64_t K = rows_k(geo), P = positions(geo), og = geo->col_channels / geo->groups;
    const int64_t plane = geo->height * geo->width, image_size = geo->channels * plane;
    const int64_t cols_size = geo->col_channels * P;
    int64_t chunk;
    nerve_status st;
    if (batch <= 0 || image_size <= 0) return NERVE_OK;
    if (nerve_cuda_dnn_run(ctx, NERVE_CUDA_DNN_BACKWARD_DATA, geo, batch, image, (float *)weight,
                           (float *)cols, accumulate ? 1 : 0, workspace, workspace_size, &st)) {
        if (st == NERVE_OK && bias)
            nerve_cuda_bias_planes(image, bias, true, batch, geo->channels, plane);
        return st == NERVE_OK ? nerve_cuda_launched(ctx, "conv_image") : st;
    }
    NERVE_TRY(chunk_of(ctx, geo, workspace_size, "conv_image", &chunk));
    const float one = 1, zero = 0;
    for (int64_t first = 0; first < batch; first += chunk) {
        int64_t count = batch - first < chunk ? batch - first : chunk;
        float *out = image + first * image_size;
        if (bias || !accumulate)
            nerve_cuda_bias_planes(out, bias, accumulate, count, geo->channels, plane);
        for (int64_t g = 0; g < geo->groups && P > 0; g++) {
            /* columns_s (K x P) = W_g^T (K x og) * cols_s[g block] (og x P) */
            NERVE_TRY(blas(ctx,
                           cublasSgemmStridedBatched(
                               nerve_cuda_blas(), CUBLAS_OP_N, CUBLAS_OP_T, (int)P, (int)K,
                               (int)og, &one, cols + first * cols_size + g * og * P, (int)P,
                               cols_size, weight + g * og * K, (int)K, 0, &zero, workspace,
                               (int)P, K * P, (int)count),
                           "conv_image"));
            nerve_cuda_col2im(geo, workspace, count, g, out);
        }
    }
    return nerve_cuda_launched(ctx, "conv_image");
}

nerve_status nerve_cuda_conv_weight_gradient(const nerve_kernel_ctx *ctx,
                                             const nerve_conv_geometry *geo, int64_t batch,
                                             const float *image, const float *cols,
                                             float *dweight, float *workspace,
                                             int64_t workspace_size)
{
    const int64_t K = rows_k(geo), P = positions(geo), og = geo->col_channels / geo->groups;
    const int64_t image_size = geo->channels * geo->height * geo->width;
    const int64_t cols_size = geo->col_channels * P;
    int64_t chunk;
    nerve_status st;
    if (batch <= 0 || P <= 0 || K <= 0) return NERVE_OK;
    if (nerve_cuda_dnn_run(ctx, NERVE_CUDA_DNN_BACKWARD_FILTER, geo, batch, (float *)image,
                           dweight, (float *)cols, 1, workspace, workspace_size, &st))
        return st;
    NERVE_TRY(chunk_of(ctx, geo, workspace_size, "conv_weight_gradient", &chunk));
    const float one = 1;
    for (int64_t first = 0; first < batch; first += chunk) {
        int64_t count = batch - first < chunk ? batch - first : chunk;
        for (int64_t g = 0; g < geo->groups; g++) {
            nerve_cuda_im2col(geo, image + first * image_size, count, g, workspace);
            /* dW_g (og x K) += cols_s[g block] (og x P) * columns_s^T (P x K) */
            for (int64_t s = 0; s < count; s++)
                NERVE_TRY(blas(ctx,
                               cublasSgemm(nerve_cuda_blas(), CUBLAS_OP_T, CUBLAS_OP_N, (int)K,
                                           (int)og, (int)P, &one, workspace + s * K * P, (int)P,
                                           cols + (first + s) * cols_size + g * og * P, (int)P,
                                           &one, dweight + g * og * K, (int)K),
                               "conv_weight_gradient"));
        }
    }
    return NERVE_OK;
}
