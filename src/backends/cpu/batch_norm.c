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

/* Channel ch's mean and variance from its sums of d = x - shift and d^2
 * over count values, and its running statistics moved where asked. */
static void finish_statistics(int64_t ch, double sum, double squares, double shift, int64_t count,
                              double momentum, nerve_real *mean, nerve_real *var,
                              nerve_real *running_mean, nerve_real *running_var)
{
    const double offset = sum / (double)count;
    const double centred = squares - sum * offset; /* sum (x - mean)^2 */
    const double deviations = centred > 0 ? centred : 0;
    const double mu = shift + offset;
    mean[ch] = (nerve_real)mu;
    var[ch] = (nerve_real)(deviations / (double)count);
    if (running_mean && count > 1) {
        running_mean[ch] = (nerve_real)((1 - momentum) * running_mean[ch] + momentum * mu);
        running_var[ch] = (nerve_real)((1 - momentum) * running_var[ch] +
                                       momentum * deviations / (double)(count - 1));
    }
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
        for (int64_t c = 0; c < width; c++)
            finish_statistics(first + c, sum[c], squares[c], shift[c], count, momentum, mean, var,
                              running_mean, running_var);
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

/* Channel ch's parameter gradients (+=) from its sums of dy and of
 * dy * (x - mean), and the coefficients of dx = k * (dy - a - (x - mean) *
 * slope). */
static void backward_coefficients(int64_t ch, double sum_dy, double sum_dy_centered,
                                  const nerve_real *var, double eps, const nerve_real *weight,
                                  bool batch_statistics, int64_t count, nerve_real *dweight,
                                  nerve_real *dbias, nerve_real *k, nerve_real *a,
                                  nerve_real *slope)
{
    const double invstd = 1 / sqrt((double)var[ch] + eps);
    if (dbias) dbias[ch] += (nerve_real)sum_dy;
    if (dweight) dweight[ch] += (nerve_real)(sum_dy_centered * invstd);
    *k = (nerve_real)((weight ? weight[ch] : 1.0) * invstd);
    /* dy - mean(dy) - (x - mean) * invstd^2 * mean(dy * (x - mean)) */
    *a = batch_statistics ? (nerve_real)(sum_dy / (double)count) : 0;
    *slope = batch_statistics ? (nerve_real)(sum_dy_centered * invstd * invstd / (double)count) : 0;
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
        for (int64_t c = 0; c < width; c++)
            backward_coefficients(first + c, sum_dy[c], sum_dy_centered[c], var, eps, weight,
                                  batch_statistics, count, dweight, dbias, &k[c], &a[c],
                                  &slope[c]);
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

/* ------------------------------------------------------------ blocked layout
 * The convolution's output as oneDNN leaves it on AVX-512
 * (conv_batch_norm.c): x is [outer, channels / 16, inner, 16], channel
 * g * 16 + j of sample o at x[((o * groups + g) * inner + i) * 16 + j].
 * The batch norm reads it there, so that no reorder to NCHW runs in
 * between; its output y and y's gradient stay NCHW (what the ops after it
 * read), and dx is written blocked (what the convolution's backward reads).
 * AVX-512 float32 builds only (elsewhere conv_batch_norm.c keeps NCHW).
 * The passes between the two layouts go 16 positions at a time: 16 vectors
 * of one layout, transposed in registers, are 16 of the other (loops that
 * let the compiler gather ran slower than oneDNN's reorders they replace).
 *
 * The sums add each channel's values in order (sample by sample, position
 * by position), one sum per channel whatever the threads. */
#include "backends/cpu/blocked16.h"
#ifdef NERVE_CPU_BLOCKED16
#define BLOCKED_LOOPS 1

enum { BLOCK = 16 };

static void statistics_blocked(const nerve_real *x, nerve_real *mean, nerve_real *var,
                               double momentum, nerve_real *running_mean, nerve_real *running_var,
                               int64_t outer, int64_t channels, int64_t inner)
{
    const int64_t groups = channels / BLOCK, count = outer * inner;
#pragma omp parallel for schedule(static) num_threads(nerve_cpu_team()) \
    if (PARALLEL_OVER_CHANNELS(outer, groups, inner * BLOCK))
    for (int64_t g = 0; g < groups; g++) {
        double sum[BLOCK] = {0}, squares[BLOCK] = {0}, shift[BLOCK];
        for (int64_t j = 0; j < BLOCK; j++) shift[j] = count ? x[g * inner * BLOCK + j] : 0;
        for (int64_t o = 0; o < outer; o++) {
            const nerve_real *xg = x + (o * groups + g) * inner * BLOCK;
            for (int64_t i = 0; i < inner; i++)
#pragma omp simd
                for (int64_t j = 0; j < BLOCK; j++) {
                    const double d = xg[i * BLOCK + j] - shift[j];
                    sum[j] += d;
                    squares[j] += d * d;
                }
        }
        for (int64_t j = 0; j < BLOCK; j++)
            finish_statistics(g * BLOCK + j, sum[j], squares[j], shift[j], count, momentum, mean,
                              var, running_mean, running_var);
    }
}

/* Each channel's scale = weight / sqrt(var + eps) and shift, of block g. */
static void affine_of(int64_t g, const nerve_real *var, double eps, const nerve_real *weight,
                      const nerve_real *bias, nerve_real *scale, nerve_real *shift)
{
    for (int64_t j = 0; j < BLOCK; j++) {
        const int64_t c = g * BLOCK + j;
        scale[j] = (nerve_real)((weight ? weight[c] : 1.0) / sqrt((double)var[c] + eps));
        shift[j] = bias ? bias[c] : 0;
    }
}

static void normalize_blocked(const nerve_real *x, const nerve_real *mean, const nerve_real *var,
                              double eps, const nerve_real *weight, const nerve_real *bias,
                              bool relu, nerve_real *y, int64_t outer, int64_t channels,
                              int64_t inner)
{
    const int64_t groups = channels / BLOCK;
#pragma omp parallel for collapse(2) schedule(static) num_threads(nerve_cpu_team()) \
    if (outer * channels * inner > NERVE_CPU_PARALLEL_MIN)
    for (int64_t o = 0; o < outer; o++)
        for (int64_t g = 0; g < groups; g++) {
            nerve_real scale[BLOCK], shift[BLOCK];
            affine_of(g, var, eps, weight, bias, scale, shift);
            const nerve_real *m = mean + g * BLOCK;
            const __m512 vm = _mm512_loadu_ps(m), vs = _mm512_loadu_ps(scale);
            const __m512 vb = _mm512_loadu_ps(shift), zero = _mm512_setzero_ps();
            const nerve_real *xg = x + (o * groups + g) * inner * BLOCK;
            nerve_real *yg = y + (o * channels + g * BLOCK) * inner;
            int64_t i0 = 0;
            for (; i0 + BLOCK <= inner; i0 += BLOCK) {
                __m512 r[BLOCK], w[BLOCK];
                for (int k = 0; k < BLOCK; k++) {
                    __m512 v = _mm512_add_ps(
                        _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(xg + (i0 + k) * BLOCK), vm),
                                      vs),
                        vb);
                    r[k] = relu ? _mm512_max_ps(v, zero) : v;
                }
                nerve_cpu_transpose16(r, w);
                for (int j = 0; j < BLOCK; j++) _mm512_storeu_ps(yg + j * inner + i0, w[j]);
            }
            for (int64_t i = i0; i < inner; i++)
                for (int j = 0; j < BLOCK; j++) {
                    const nerve_real v = (xg[i * BLOCK + j] - m[j]) * scale[j] + shift[j];
                    yg[j * inner + i] = relu && !(v > 0) ? 0 : v;
                }
        }
}

/* The gradient reaching the batch norm at positions i0..i0+15 of the 16
 * channels' planes (dy, where z > 0 with z), one vector per position. */
static inline void gradient_tile(const nerve_real *dyg, const nerve_real *zg, int64_t inner,
                                 int64_t i0, __m512 out[BLOCK])
{
    __m512 rows[BLOCK];
    for (int j = 0; j < BLOCK; j++) {
        __m512 d = _mm512_loadu_ps(dyg + j * inner + i0);
        if (zg) {
            __mmask16 live = _mm512_cmp_ps_mask(_mm512_loadu_ps(zg + j * inner + i0),
                                                _mm512_setzero_ps(), _CMP_GT_OQ);
            d = _mm512_maskz_mov_ps(live, d);
        }
        rows[j] = d;
    }
    nerve_cpu_transpose16(rows, out);
}

static inline nerve_real gradient_at(const nerve_real *dyg, const nerve_real *zg, int64_t inner,
                                     int64_t i, int j)
{
    const nerve_real d = dyg[j * inner + i];
    return !zg || zg[j * inner + i] > 0 ? d : 0;
}

/* Sample o's part of channel block g in each of the backward's tensors:
 * x and dx blocked, dy and z (NULL without) NCHW. */
typedef struct block_views {
    const nerve_real *x, *dy, *z;
    nerve_real *dx;
} block_views;

static block_views views_of(const nerve_real *x, const nerve_real *z, const nerve_real *dy,
                            nerve_real *dx, int64_t o, int64_t g, int64_t channels,
                            int64_t inner)
{
    const int64_t blocked = (o * (channels / BLOCK) + g) * inner * BLOCK;
    const int64_t plain = (o * channels + g * BLOCK) * inner;
    return (block_views){.x = x + blocked, .dy = dy + plain, .z = z ? z + plain : NULL,
                         .dx = dx + blocked};
}

static void backward_blocked(const nerve_real *x, const nerve_real *z, const nerve_real *dy,
                             const nerve_real *mean, const nerve_real *var, double eps,
                             const nerve_real *weight, nerve_real *dx, nerve_real *dweight,
                             nerve_real *dbias, int64_t outer, int64_t channels, int64_t inner)
{
    const int64_t groups = channels / BLOCK, count = outer * inner;
#pragma omp parallel for schedule(static) num_threads(nerve_cpu_team()) \
    if (PARALLEL_OVER_CHANNELS(outer, groups, inner * BLOCK))
    for (int64_t g = 0; g < groups; g++) {
        const nerve_real *m = mean + g * BLOCK;
        /* The sums in double, channels 0-7 and 8-15 of the block. */
        __m512d s[2] = {_mm512_setzero_pd(), _mm512_setzero_pd()}, sc[2] = {s[0], s[0]};
        const __m512d mu[2] = {_mm512_cvtps_pd(_mm256_loadu_ps(m)),
                               _mm512_cvtps_pd(_mm256_loadu_ps(m + 8))};
        for (int64_t o = 0; o < outer; o++) {
            const block_views v = views_of(x, z, dy, dx, o, g, channels, inner);
            const nerve_real *xg = v.x, *dyg = v.dy, *zg = v.z;
            int64_t i0 = 0;
            for (; i0 + BLOCK <= inner; i0 += BLOCK) {
                __m512 gt[BLOCK];
                gradient_tile(dyg, zg, inner, i0, gt);
                for (int k = 0; k < BLOCK; k++) {
                    const __m512 xv = _mm512_loadu_ps(xg + (i0 + k) * BLOCK);
                    for (int h = 0; h < 2; h++) {
                        __m256 gh = h ? _mm512_extractf32x8_ps(gt[k], 1)
                                      : _mm512_castps512_ps256(gt[k]);
                        __m256 xh = h ? _mm512_extractf32x8_ps(xv, 1) : _mm512_castps512_ps256(xv);
                        const __m512d gd = _mm512_cvtps_pd(gh);
                        s[h] = _mm512_add_pd(s[h], gd);
                        sc[h] = _mm512_add_pd(
                            sc[h], _mm512_mul_pd(gd, _mm512_sub_pd(_mm512_cvtps_pd(xh), mu[h])));
                    }
                }
            }
            /* The last positions: added to the vectors' sums in the same
             * order (the vectors' lanes are the channels). */
            for (int64_t i = i0; i < inner; i++) {
                double lane_s[BLOCK], lane_sc[BLOCK];
                for (int j = 0; j < BLOCK; j++) {
                    const nerve_real gi = gradient_at(dyg, zg, inner, i, j);
                    lane_s[j] = gi;
                    lane_sc[j] = (double)gi * ((double)xg[i * BLOCK + j] - (double)m[j]);
                }
                for (int h = 0; h < 2; h++) {
                    s[h] = _mm512_add_pd(s[h], _mm512_loadu_pd(lane_s + 8 * h));
                    sc[h] = _mm512_add_pd(sc[h], _mm512_loadu_pd(lane_sc + 8 * h));
                }
            }
        }
        double sum_dy[BLOCK], sum_dy_centered[BLOCK];
        for (int h = 0; h < 2; h++) {
            _mm512_storeu_pd(sum_dy + 8 * h, s[h]);
            _mm512_storeu_pd(sum_dy_centered + 8 * h, sc[h]);
        }
        nerve_real k[BLOCK], a[BLOCK], slope[BLOCK];
        for (int j = 0; j < BLOCK; j++)
            backward_coefficients(g * BLOCK + j, sum_dy[j], sum_dy_centered[j], var, eps, weight,
                                  true, count, dweight, dbias, &k[j], &a[j], &slope[j]);
        const __m512 vk = _mm512_loadu_ps(k), va = _mm512_loadu_ps(a);
        const __m512 vslope = _mm512_loadu_ps(slope), vm = _mm512_loadu_ps(m);
        for (int64_t o = 0; o < outer; o++) {
            const block_views v = views_of(x, z, dy, dx, o, g, channels, inner);
            const nerve_real *xg = v.x, *dyg = v.dy, *zg = v.z;
            nerve_real *dxg = v.dx;
            int64_t i0 = 0;
            for (; i0 + BLOCK <= inner; i0 += BLOCK) {
                __m512 gt[BLOCK];
                gradient_tile(dyg, zg, inner, i0, gt);
                for (int kk = 0; kk < BLOCK; kk++) {
                    const __m512 xv = _mm512_loadu_ps(xg + (i0 + kk) * BLOCK);
                    const __m512 centred = _mm512_mul_ps(_mm512_sub_ps(xv, vm), vslope);
                    _mm512_storeu_ps(dxg + (i0 + kk) * BLOCK,
                                     _mm512_mul_ps(vk, _mm512_sub_ps(_mm512_sub_ps(gt[kk], va),
                                                                     centred)));
                }
            }
            for (int64_t i = i0; i < inner; i++)
                for (int j = 0; j < BLOCK; j++)
                    dxg[i * BLOCK + j] = k[j] * (gradient_at(dyg, zg, inner, i, j) - a[j] -
                                                 (xg[i * BLOCK + j] - m[j]) * slope[j]);
        }
    }
}
#endif

bool nerve_cpu_batch_norm_blocked(int64_t block)
{
#ifdef BLOCKED_LOOPS
    return block == BLOCK;
#else
    (void)block;
    return false;
#endif
}

/* The three below are called only where nerve_cpu_batch_norm_blocked said
 * yes for block. */
void nerve_cpu_batch_norm_statistics_blocked(const nerve_real *x, int64_t block, nerve_real *mean,
                                             nerve_real *var, double momentum,
                                             nerve_real *running_mean, nerve_real *running_var,
                                             nerve_real *counter, int64_t outer,
                                             int64_t channels, int64_t inner)
{
#ifdef BLOCKED_LOOPS
    statistics_blocked(x, mean, var, momentum, running_mean, running_var, outer, channels, inner);
    if (running_mean && counter && outer * inner > 1) counter[0] += 1;
#endif
}

void nerve_cpu_batch_norm_forward_blocked(const nerve_real *x, int64_t block,
                                          const nerve_real *mean, const nerve_real *var,
                                          double eps, const nerve_real *weight,
                                          const nerve_real *bias, bool relu, nerve_real *y,
                                          int64_t outer, int64_t channels, int64_t inner)
{
#ifdef BLOCKED_LOOPS
    normalize_blocked(x, mean, var, eps, weight, bias, relu, y, outer, channels, inner);
#endif
}

void nerve_cpu_batch_norm_backward_blocked(const nerve_real *x, int64_t block,
                                           const nerve_real *z, const nerve_real *dy,
                                           const nerve_real *mean, const nerve_real *var,
                                           double eps, const nerve_real *weight, nerve_real *dx,
                                           nerve_real *dweight, nerve_real *dbias, int64_t outer,
                                           int64_t channels, int64_t inner)
{
#ifdef BLOCKED_LOOPS
    backward_blocked(x, z, dy, mean, var, eps, weight, dx, dweight, dbias, outer, channels,
                     inner);
#endif
}
