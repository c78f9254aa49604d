/* Batch normalisation, one channel at a time: x is [outer, channels, inner]
 * (inner 1 for [N, C]), so a channel's values are `outer` runs of `inner`.
 * Loops are parallel over channels, so that each channel's sums have one
 * writer, and accumulate in double: a channel of a large batch of images
 * sums hundreds of thousands of floats. The sums are `omp simd` reductions,
 * several double accumulators in vector lanes: one scalar chain of
 * dependent additions made the statistics and the backward pass each cost
 * about as much as a convolution's reorders. */
#include <math.h>

#include "backends/cpu/cpu.h"

/* Worth a fork only when there is enough work, and more than one channel. */
#define PARALLEL_OVER_CHANNELS(outer, channels, inner) \
    ((outer) * (channels) * (inner) > NERVE_CPU_PARALLEL_MIN && (channels) > 1)

/* Two passes (the mean, then the squared deviations from it), which keeps
 * the variance accurate where the mean is large against the spread. */
nerve_status nerve_cpu_batch_norm_statistics(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                             nerve_real *mean, nerve_real *var, double momentum,
                                             nerve_real *running_mean, nerve_real *running_var,
                                             nerve_real *counter, int64_t outer, int64_t channels,
                                             int64_t inner)
{
    const int64_t count = outer * inner;
#pragma omp parallel for if (PARALLEL_OVER_CHANNELS(outer, channels, inner))
    for (int64_t c = 0; c < channels; c++) {
        double sum = 0;
        for (int64_t o = 0; o < outer; o++) {
            const nerve_real *xc = x + (o * channels + c) * inner;
#pragma omp simd reduction(+ : sum)
            for (int64_t i = 0; i < inner; i++) sum += xc[i];
        }
        const double mu = sum / (double)count;
        double squares = 0;
        for (int64_t o = 0; o < outer; o++) {
            const nerve_real *xc = x + (o * channels + c) * inner;
#pragma omp simd reduction(+ : squares)
            for (int64_t i = 0; i < inner; i++) {
                const double d = xc[i] - mu;
                squares += d * d;
            }
        }
        mean[c] = (nerve_real)mu;
        var[c] = (nerve_real)(squares / (double)count);
        if (running_mean && count > 1) {
            running_mean[c] = (nerve_real)((1 - momentum) * running_mean[c] + momentum * mu);
            running_var[c] = (nerve_real)((1 - momentum) * running_var[c] +
                                          momentum * squares / (double)(count - 1));
        }
    }
    if (running_mean && counter && count > 1) counter[0] += 1;
    return NERVE_OK;
}

/* y = (x - mean) * scale + bias with the channel's scale = weight / sqrt(var + eps). */
nerve_status nerve_cpu_batch_norm_forward(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                          const nerve_real *mean, const nerve_real *var, double eps,
                                          const nerve_real *weight, const nerve_real *bias,
                                          nerve_real *y, int64_t outer, int64_t channels,
                                          int64_t inner)
{
#pragma omp parallel for collapse(2) if (outer * channels * inner > NERVE_CPU_PARALLEL_MIN)
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t c = 0; c < channels; c++) {
            const nerve_real scale =
                (nerve_real)((weight ? weight[c] : 1.0) / sqrt((double)var[c] + eps));
            const nerve_real m = mean[c], b = bias ? bias[c] : 0;
            const nerve_real *xc = x + (o * channels + c) * inner;
            nerve_real *yc = y + (o * channels + c) * inner;
            for (int64_t i = 0; i < inner; i++) yc[i] = (xc[i] - m) * scale + b;
        }
    }
    return NERVE_OK;
}

/* In terms of x - mean rather than xhat: sum dy * xhat = invstd * sum dy * (x - mean). */
nerve_status nerve_cpu_batch_norm_backward(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                           const nerve_real *dy, const nerve_real *mean,
                                           const nerve_real *var, double eps,
                                           const nerve_real *weight, bool batch_statistics,
                                           bool accumulate, nerve_real *dx, nerve_real *dweight,
                                           nerve_real *dbias,
                                           int64_t outer, int64_t channels, int64_t inner)
{
    const int64_t count = outer * inner;
#pragma omp parallel for if (PARALLEL_OVER_CHANNELS(outer, channels, inner))
    for (int64_t c = 0; c < channels; c++) {
        const double mu = mean[c], invstd = 1 / sqrt((double)var[c] + eps);
        double sum_dy = 0, sum_dy_centered = 0;
        for (int64_t o = 0; o < outer; o++) {
            const int64_t base = (o * channels + c) * inner;
#pragma omp simd reduction(+ : sum_dy, sum_dy_centered)
            for (int64_t i = base; i < base + inner; i++) {
                sum_dy += dy[i];
                sum_dy_centered += dy[i] * (x[i] - mu);
            }
        }
        if (dbias) dbias[c] += (nerve_real)sum_dy;
        if (dweight) dweight[c] += (nerve_real)(sum_dy_centered * invstd);
        if (!dx) continue;
        const nerve_real k = (nerve_real)((weight ? weight[c] : 1.0) * invstd);
        /* dy - mean(dy) - (x - mean) * invstd^2 * mean(dy * (x - mean)) */
        const nerve_real a = batch_statistics ? (nerve_real)(sum_dy / (double)count) : 0;
        const nerve_real b =
            batch_statistics ? (nerve_real)(sum_dy_centered * invstd * invstd / (double)count) : 0;
        const nerve_real m = (nerve_real)mu;
        for (int64_t o = 0; o < outer; o++) {
            const int64_t base = (o * channels + c) * inner;
            if (accumulate)
                for (int64_t i = base; i < base + inner; i++)
                    dx[i] += k * (dy[i] - a - (x[i] - m) * b);
            else /* the gradient's first contribution: dx is not read */
                for (int64_t i = base; i < base + inner; i++)
                    dx[i] = k * (dy[i] - a - (x[i] - m) * b);
        }
    }
    return NERVE_OK;
}
