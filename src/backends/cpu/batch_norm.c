/* Batch normalisation, per channel: x is [outer, channels, inner]
 * (inner 1 for [N, C]), so a channel's values are `outer` runs of `inner`.
 * Loops are parallel over blocks of channels, so that each channel's sums
 * have one writer, and accumulate in double: a channel of a large batch of
 * images sums hundreds of thousands of floats. The sums are `omp simd` reductions,
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

/* One pass over x: the sums of d = x - k and of d^2 per channel, k the
 * channel's first value, so that mean = k + sum d / n and the variance
 * sum d^2 / n - (sum d / n)^2. Shifting by a value of the channel keeps the
 * subtraction from cancelling where the mean is large against the spread
 * (the plain sum of squares would lose it there), and the sums are in
 * double; a second pass over x (the squared deviations from the mean) cost
 * a quarter of a training batch norm's memory traffic. */
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
        double sum[CHANNEL_BLOCK_MAX] = {0}, squares[CHANNEL_BLOCK_MAX] = {0};
        double shift[CHANNEL_BLOCK_MAX];
        for (int64_t c = 0; c < width; c++) shift[c] = count ? x[(first + c) * inner] : 0;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t c = 0; c < width; c++) {
                const nerve_real *xc = x + (o * channels + first + c) * inner;
                const double k = shift[c];
                double s = sum[c], q = squares[c];
#pragma omp simd reduction(+ : s, q)
                for (int64_t i = 0; i < inner; i++) {
                    const double d = xc[i] - k;
                    s += d;
                    q += d * d;
                }
                sum[c] = s;
                squares[c] = q;
            }
        for (int64_t c = 0; c < width; c++) {
            const int64_t ch = first + c;
            const double offset = sum[c] / (double)count;
            const double centred = squares[c] - sum[c] * offset; /* sum (x - mean)^2 */
            const double deviations = centred > 0 ? centred : 0;
            const double mu = shift[c] + offset;
            mean[ch] = (nerve_real)mu;
            var[ch] = (nerve_real)(deviations / (double)count);
            if (running_mean && count > 1) {
                running_mean[ch] = (nerve_real)((1 - momentum) * running_mean[ch] + momentum * mu);
                running_var[ch] = (nerve_real)((1 - momentum) * running_var[ch] +
                                               momentum * deviations / (double)(count - 1));
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
 * over the batch. With z (the output of a ReLU after the batch norm) dy
 * counts only where z > 0. */
static void backward(const nerve_real *x, const nerve_real *z, const nerve_real *dy,
                     const nerve_real *mean, const nerve_real *var, double eps,
                     const nerve_real *weight, bool batch_statistics, bool accumulate,
                     nerve_real *dx, nerve_real *dweight, nerve_real *dbias, int64_t outer,
                     int64_t channels, int64_t inner)
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
                if (z) {
#pragma omp simd reduction(+ : s, sc)
                    for (int64_t i = base; i < base + inner; i++) {
                        const nerve_real d = dy[i], g = z[i] > 0 ? d : 0; /* a select */
                        s += g;
                        sc += g * (x[i] - mu);
                    }
                } else {
#pragma omp simd reduction(+ : s, sc)
                    for (int64_t i = base; i < base + inner; i++) {
                        s += dy[i];
                        sc += dy[i] * (x[i] - mu);
                    }
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
                if (z && accumulate)
#pragma omp simd
                    for (int64_t i = base; i < base + inner; i++) {
                        const nerve_real d = dy[i], g = z[i] > 0 ? d : 0;
                        dx[i] += kc * (g - ac - (x[i] - m) * bc);
                    }
                else if (z) /* the gradient's first contribution: dx is not read */
#pragma omp simd
                    for (int64_t i = base; i < base + inner; i++) {
                        const nerve_real d = dy[i], g = z[i] > 0 ? d : 0;
                        dx[i] = kc * (g - ac - (x[i] - m) * bc);
                    }
                else if (accumulate)
                    for (int64_t i = base; i < base + inner; i++)
                        dx[i] += kc * (dy[i] - ac - (x[i] - m) * bc);
                else
                    for (int64_t i = base; i < base + inner; i++)
                        dx[i] = kc * (dy[i] - ac - (x[i] - m) * bc);
            }
    }
}

nerve_status nerve_cpu_batch_norm_backward(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                           const nerve_real *dy, const nerve_real *mean,
                                           const nerve_real *var, double eps,
                                           const nerve_real *weight, bool batch_statistics,
                                           bool accumulate, nerve_real *dx, nerve_real *dweight,
                                           nerve_real *dbias, int64_t outer, int64_t channels,
                                           int64_t inner)
{
    backward(x, NULL, dy, mean, var, eps, weight, batch_statistics, accumulate, dx, dweight,
             dbias, outer, channels, inner);
    return NERVE_OK;
}

/* dz is read only. */
nerve_status nerve_cpu_batch_norm_relu_backward(
    const nerve_kernel_ctx *ctx, const nerve_real *x, const nerve_real *z, nerve_real *dz,
    const nerve_real *mean, const nerve_real *var, double eps, const nerve_real *weight,
    bool batch_statistics, bool accumulate, nerve_real *dx, nerve_real *dweight,
    nerve_real *dbias, int64_t outer, int64_t channels, int64_t inner)
{
    backward(x, z, dz, mean, var, eps, weight, batch_statistics, accumulate, dx, dweight, dbias,
             outer, channels, inner);
    return NERVE_OK;
}
