/* Per-channel reductions: bias gradients (sum_channels, sum_rows), batch
 * normalisation (statistics, forward, backward: the reference's two passes
 * in double, one block per channel, in a fixed order), and the trainer's
 * finiteness check. */
#include <math.h>

#include "backends/cuda/cuda_device.cuh"

/* Element j of channel c's outer * inner values of x [outer, channels, inner]. */
__device__ static inline int64_t channel_at(int64_t j, int64_t c, int64_t channels, int64_t inner)
{
    return (j / inner * channels + c) * inner + j % inner;
}

__global__ static void sum_channels(const float *x, float *db, int64_t batch, int64_t channels,
                                    int64_t plane)
{
    const int64_t c = blockIdx.x;
    double sum = 0;
    for (int64_t j = threadIdx.x; j < batch * plane; j += blockDim.x)
        sum += x[channel_at(j, c, channels, plane)];
    sum = block_sum(sum);
    if (threadIdx.x == 0) db[c] = (float)(db[c] + sum);
}

extern "C" nerve_status nerve_cuda_sum_channels(const nerve_kernel_ctx *ctx, const float *x,
                                                float *db, int64_t batch, int64_t channels,
                                                int64_t plane)
{
    if (channels <= 0) return NERVE_OK;
    CUDA_LAUNCH_BLOCKS(sum_channels, channels)(x, db, batch, channels, plane);
    return nerve_cuda_launched(ctx, "sum_channels");
}

/* db[c] += the column's sum: one thread per column, rows in order (a
 * column's values are ld apart, neighbouring threads read neighbours). */
__global__ static void column_sums(const float *x, int64_t rows, int64_t cols, int64_t ld,
                                   float *db)
{
    CUDA_FOR(c, cols)
    {
        double sum = 0;
        for (int64_t r = 0; r < rows; r++) sum += x[r * ld + c];
        db[c] = (float)(db[c] + sum);
    }
}

extern "C" void nerve_cuda_column_sums(const float *x, int64_t rows, int64_t cols, int64_t ld,
                                       float *db)
{
    if (cols > 0) CUDA_LAUNCH(column_sums, cols)(x, rows, cols, ld, db);
}

extern "C" nerve_status nerve_cuda_sum_rows(const nerve_kernel_ctx *ctx, const float *dy,
                                            float *db, int64_t rows, int64_t cols)
{
    nerve_cuda_column_sums(dy, rows, cols, cols, db);
    return nerve_cuda_launched(ctx, "sum_rows");
}

__global__ static void batch_norm_statistics(const float *x, float *mean, float *var,
                                             double momentum, float *running_mean,
                                             float *running_var, int64_t outer, int64_t channels,
                                             int64_t inner)
{
    const int64_t c = blockIdx.x, count = outer * inner;
    double sum = 0, squares = 0;
    for (int64_t j = threadIdx.x; j < count; j += blockDim.x) sum += x[channel_at(j, c, channels, inner)];
    double mu = block_sum(sum) / (double)count;
    for (int64_t j = threadIdx.x; j < count; j += blockDim.x) {
        double d = x[channel_at(j, c, channels, inner)] - mu;
        squares += d * d;
    }
    squares = block_sum(squares);
    if (threadIdx.x != 0) return;
    mean[c] = (float)mu;
    var[c] = (float)(squares / (double)count);
    if (running_mean && count > 1) {
        running_mean[c] = (float)((1 - momentum) * running_mean[c] + momentum * mu);
        running_var[c] =
            (float)((1 - momentum) * running_var[c] + momentum * squares / (double)(count - 1));
    }
}

__global__ static void count_batch(float *counter) { counter[0] += 1; }

extern "C" nerve_status nerve_cuda_batch_norm_statistics(
    const nerve_kernel_ctx *ctx, const float *x, float *mean, float *var, double momentum,
    float *running_mean, float *running_var, float *counter, int64_t outer, int64_t channels,
    int64_t inner)
{
    if (channels <= 0) return NERVE_OK;
    CUDA_LAUNCH_BLOCKS(batch_norm_statistics, channels)(x, mean, var, momentum, running_mean,
                                                        running_var, outer, channels, inner);
    if (running_mean && counter && outer * inner > 1)
        count_batch<<<1, 1, 0, nerve_cuda_stream()>>>(counter);
    return nerve_cuda_launched(ctx, "batch_norm_statistics");
}

__global__ static void batch_norm_forward(const float *x, const float *mean, const float *var,
                                          double eps, const float *weight, const float *bias,
                                          float *y, int64_t n, int64_t channels, int64_t inner)
{
    CUDA_FOR(k, n)
    {
        int64_t c = k / inner % channels;
        double xhat = (x[k] - (double)mean[c]) / sqrt((double)var[c] + eps);
        y[k] = (float)(xhat * (weight ? (double)weight[c] : 1.0) + (bias ? (double)bias[c] : 0));
    }
}

extern "C" nerve_status nerve_cuda_batch_norm_forward(const nerve_kernel_ctx *ctx, const float *x,
                                                      const float *mean, const float *var,
                                                      double eps, const float *weight,
                                                      const float *bias, float *y, int64_t outer,
                                                      int64_t channels, int64_t inner)
{
    int64_t n = outer * channels * inner;
    if (n <= 0) return NERVE_OK;
    CUDA_LAUNCH(batch_norm_forward, n)(x, mean, var, eps, weight, bias, y, n, channels, inner);
    return nerve_cuda_launched(ctx, "batch_norm_forward");
}

/* One block per channel: its two sums, then dx over its values. */
__global__ static void batch_norm_backward(const float *x, const float *dy, const float *mean,
                                           const float *var, double eps, const float *weight,
                                           bool batch_statistics, bool accumulate, float *dx,
                                           float *dweight, float *dbias, int64_t outer,
                                           int64_t channels, int64_t inner)
{
    const int64_t c = blockIdx.x, count = outer * inner;
    const double invstd = 1 / sqrt((double)var[c] + eps), mu = mean[c];
    double sum_dy = 0, sum_dy_xhat = 0;
    for (int64_t j = threadIdx.x; j < count; j += blockDim.x) {
        int64_t k = channel_at(j, c, channels, inner);
        sum_dy += dy[k];
        sum_dy_xhat += dy[k] * (x[k] - mu) * invstd;
    }
    sum_dy = block_sum(sum_dy);
    sum_dy_xhat = block_sum(sum_dy_xhat);
    if (threadIdx.x == 0) {
        if (dbias) dbias[c] = (float)(dbias[c] + sum_dy);
        if (dweight) dweight[c] = (float)(dweight[c] + sum_dy_xhat);
    }
    if (!dx) return;
    const double w = weight ? (double)weight[c] : 1.0;
    for (int64_t j = threadIdx.x; j < count; j += blockDim.x) {
        int64_t k = channel_at(j, c, channels, inner);
        double xhat = (x[k] - mu) * invstd, d = dy[k];
        if (batch_statistics) d -= (sum_dy + xhat * sum_dy_xhat) / (double)count;
        double old = accumulate ? dx[k] : 0; /* without accumulate dx may hold anything */
        dx[k] = (float)(old + w * invstd * d);
    }
}

extern "C" nerve_status nerve_cuda_batch_norm_backward(
    const nerve_kernel_ctx *ctx, const float *x, const float *dy, const float *mean,
    const float *var, double eps, const float *weight, bool batch_statistics, bool accumulate,
    float *dx, float *dweight, float *dbias, int64_t outer, int64_t channels, int64_t inner)
{
    if (channels <= 0) return NERVE_OK;
    CUDA_LAUNCH_BLOCKS(batch_norm_backward, channels)(x, dy, mean, var, eps, weight,
                                                      batch_statistics, accumulate, dx, dweight,
                                                      dbias, outer, channels, inner);
    return nerve_cuda_launched(ctx, "batch_norm_backward");
}

/* flag[0] becomes 1 where a counted value is not finite. */
__global__ static void find_non_finite(const float *x, const unsigned char *mask, int64_t n,
                                       int *flag)
{
    CUDA_FOR(i, n)
    {
        if ((!mask || mask[i]) && !isfinite(x[i])) *flag = 1;
    }
}

/* The one value besides the loss a step reads back: one int downloaded. */
extern "C" nerve_status nerve_cuda_all_finite(const nerve_kernel_ctx *ctx, const float *x,
                                              const unsigned char *mask, int64_t n, bool *finite)
{
    int *flag = (int *)nerve_cuda_scratch(), found = 0;
    *finite = true;
    if (n <= 0) return NERVE_OK;
    NERVE_TRY(nerve_cuda_check(ctx, cudaMemsetAsync(flag, 0, sizeof *flag, nerve_cuda_stream()),
                               "all_finite"));
    CUDA_LAUNCH(find_non_finite, n)(x, mask, n, flag);
    NERVE_TRY(nerve_cuda_launched(ctx, "all_finite"));
    NERVE_TRY(ctx->device->download(ctx, &found, flag, sizeof found));
    *finite = found == 0;
    return NERVE_OK;
}
