/* Batch normalisation, one channel at a time: x is [outer, channels, inner]
 * (inner 1 for [N, C]), so a channel's values are `outer` runs of `inner`.
 * Loops are parallel over blocks of channels, so that each channel's sums
 * have one writer, and accumulate in double: a channel of a large batch of images
 * sums hundreds of thousands of floats. The sums are `omp simd` reductions,
 * several double accumulators in vector lanes: one scalar chain of
 * dependent additions made the statistics and the backward pass each cost
 * about as much as a convolution's reorders. */
#include <math.h>
#include <omp.h>

#include "backends/cpu/cpu.h"

/* Worth a fork only when there is enough work, and more than one channel. */
#define PARALLEL_OVER_CHANNELS(outer, channels, inner) \
    ((outer) * (channels) * (inner) > NERVE_CPU_PARALLEL_MIN && (channels) > 1)

/* The reductions go over blocks of consecutive channels, one thread a
 * block, sweeping the batch sample by sample: each sample's part of a block
 * is one contiguous run of block * inner values, which the hardware
 * prefetches, where one channel at a time jumped by channels * inner values
 * per sample (a ResNet's 7x7 maps: 196 bytes, then a jump of 25 KB). Each
 * channel's sums still add its values in the same order (sample by sample,
 * each run an `omp simd` reduction), so the results do not depend on the
 * blocks or the threads. */
enum { CHANNEL_BLOCK_MAX = 64 };

/* Channels per block: about two blocks per thread, at most CHANNEL_BLOCK_MAX. */
static int64_t channel_block(int64_t channels)
{
    int64_t block = channels / (2 * (int64_t)omp_get_max_threads());
    return block < 1 ? 1 : block > CHANNEL_BLOCK_MAX ? CHANNEL_BLOCK_MAX : block;
}

/* Two passes (the mean, then the squared deviations from it), which keeps
 * the variance accurate where the mean is large against the spread. */
nerve_status nerve_cpu_batch_norm_statistics(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                             nerve_real *mean, nerve_real *var, double momentum,
                                             nerve_real *running_mean, nerve_real *running_var,
                                             nerve_real *counter, int64_t outer, int64_t channels,
                                             int64_t inner)
{
    const int64_t count = outer * inner, block = channel_block(channels);
    const int64_t blocks = (channels + block - 1) / block;
#pragma omp parallel for schedule(static) if (PARALLEL_OVER_CHANNELS(outer, channels, inner))
    for (int64_t b = 0; b < blocks; b++) {
        const int64_t first = b * block, width = first + block > channels ? channels - first : block;
        double sum[CHANNEL_BLOCK_MAX] = {0}, squares[CHANNEL_BLOCK_MAX] = {0}, mu[CHANNEL_BLOCK_MAX];
        for (int64_t o = 0; o < outer; o++)
            for (int64_t c = 0; c < width; c++) {
                const nerve_real *xc = x + (o * channels + first + c) * inner;
                double s = sum[c];
#pragma omp simd reduction(+ : s)
                for (int64_t i = 0; i < inner; i++) s += xc[i];
                sum[c] = s;
            }
        for (int64_t c = 0; c < width; c++) mu[c] = sum[c] / (double)count;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t c = 0; c < width; c++) {
                const nerve_real *xc = x + (o * channels + first + c) * inner;
                const double m = mu[c];
                double q = squares[c];
#pragma omp simd reduction(+ : q)
                for (int64_t i = 0; i < inner; i++) {
                    const double d = xc[i] - m;
                    q += d * d;
                }
                squares[c] = q;
            }
        for (int64_t c = 0; c < width; c++) {
            const int64_t k = first + c;
            mean[k] = (nerve_real)mu[c];
            var[k] = (nerve_real)(squares[c] / (double)count);
            if (running_mean && count > 1) {
                running_mean[k] = (nerve_real)((1 - momentum) * running_mean[k] + momentum * mu[c]);
                running_var[k] = (nerve_real)((1 - momentum) * running_var[k] +
                                              momentum * squares[c] / (double)(count - 1));
            }
        }
    }
    if (running_mean && counter && count > 1) counter[0] += 1;
    return NERVE_OK;
}

/* y = (x - mean) * scale + bias with the channel's scale = weight / sqrt(var + eps),
 * and with relu max(0, y): one pass for the batch norm and the ReLU after it. */
static void normalize(const nerve_real *x, const nerve_real *mean, const nerve_real *var,
                      double eps, const nerve_real *weight, const nerve_real *bias, nerve_real *y,
                      int64_t outer, int64_t channels, int64_t inner, bool relu)
{
#pragma omp parallel for collapse(2) if (outer * channels * inner > NERVE_CPU_PARALLEL_MIN)
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t c = 0; c < channels; c++) {
            const nerve_real scale =
                (nerve_real)((weight ? weight[c] : 1.0) / sqrt((double)var[c] + eps));
            const nerve_real m = mean[c], b = bias ? bias[c] : 0;
            const nerve_real *xc = x + (o * channels + c) * inner;
            nerve_real *yc = y + (o * channels + c) * inner;
            if (relu)
                for (int64_t i = 0; i < inner; i++) {
                    const nerve_real v = (xc[i] - m) * scale + b;
                    yc[i] = v > 0 ? v : 0;
                }
            else
                for (int64_t i = 0; i < inner; i++) yc[i] = (xc[i] - m) * scale + b;
        }
    }
}

nerve_status nerve_cpu_batch_norm_forward(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                          const nerve_real *mean, const nerve_real *var, double eps,
                                          const nerve_real *weight, const nerve_real *bias,
                                          nerve_real *y, int64_t outer, int64_t channels,
                                          int64_t inner)
{
    normalize(x, mean, var, eps, weight, bias, y, outer, channels, inner, false);
    return NERVE_OK;
}

nerve_status nerve_cpu_batch_norm_relu_forward(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                               const nerve_real *mean, const nerve_real *var,
                                               double eps, const nerve_real *weight,
                                               const nerve_real *bias, nerve_real *y,
                                               int64_t outer, int64_t channels, int64_t inner)
{
    normalize(x, mean, var, eps, weight, bias, y, outer, channels, inner, true);
    return NERVE_OK;
}

/* In terms of x - mean rather than xhat: sum dy * xhat = invstd * sum dy * (x - mean).
 * Per channel block (as the statistics): the two sums, then dx, each a sweep
 * over the batch. */
nerve_status nerve_cpu_batch_norm_backward(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                           const nerve_real *dy, const nerve_real *mean,
                                           const nerve_real *var, double eps,
                                           const nerve_real *weight, bool batch_statistics,
                                           bool accumulate, nerve_real *dx, nerve_real *dweight,
                                           nerve_real *dbias,
                                           int64_t outer, int64_t channels, int64_t inner)
{
    const int64_t count = outer * inner, block = channel_block(channels);
    const int64_t blocks = (channels + block - 1) / block;
#pragma omp parallel for schedule(static) if (PARALLEL_OVER_CHANNELS(outer, channels, inner))
    for (int64_t b = 0; b < blocks; b++) {
        const int64_t first = b * block, width = first + block > channels ? channels - first : block;
        double sum_dy[CHANNEL_BLOCK_MAX] = {0}, sum_dy_centered[CHANNEL_BLOCK_MAX] = {0};
        for (int64_t o = 0; o < outer; o++)
            for (int64_t c = 0; c < width; c++) {
                const int64_t base = (o * channels + first + c) * inner;
                const double mu = mean[first + c];
                double s = sum_dy[c], sc = sum_dy_centered[c];
#pragma omp simd reduction(+ : s, sc)
                for (int64_t i = base; i < base + inner; i++) {
                    s += dy[i];
                    sc += dy[i] * (x[i] - mu);
                }
                sum_dy[c] = s;
                sum_dy_centered[c] = sc;
            }
        nerve_real k[CHANNEL_BLOCK_MAX], a[CHANNEL_BLOCK_MAX], slope[CHANNEL_BLOCK_MAX];
        for (int64_t c = 0; c < width; c++) {
            const int64_t ch = first + c;
            const double invstd = 1 / sqrt((double)var[ch] + eps);
            if (dbias) dbias[ch] += (nerve_real)sum_dy[c];
            if (dweight) dweight[ch] += (nerve_real)(sum_dy_centered[c] * invstd);
            k[c] = (nerve_real)((weight ? weight[ch] : 1.0) * invstd);
            /* dy - mean(dy) - (x - mean) * invstd^2 * mean(dy * (x - mean)) */
            a[c] = batch_statistics ? (nerve_real)(sum_dy[c] / (double)count) : 0;
            slope[c] = batch_statistics
                           ? (nerve_real)(sum_dy_centered[c] * invstd * invstd / (double)count)
                           : 0;
        }
        if (!dx) continue;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t c = 0; c < width; c++) {
                const int64_t base = (o * channels + first + c) * inner;
                const nerve_real kc = k[c], ac = a[c], bc = slope[c], m = mean[first + c];
                if (accumulate)
                    for (int64_t i = base; i < base + inner; i++)
                        dx[i] += kc * (dy[i] - ac - (x[i] - m) * bc);
                else /* the gradient's first contribution: dx is not read */
                    for (int64_t i = base; i < base + inner; i++)
                        dx[i] = kc * (dy[i] - ac - (x[i] - m) * bc);
            }
    }
    return NERVE_OK;
}
