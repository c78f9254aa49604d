/* Softmax and log-softmax along the middle axis of [outer, len, inner], one
 * thread per line, and softmax cross-entropy: the reference's formulas
 * (max-subtracted, the log-normaliser in double). */
#include <math.h>

#include "backends/cuda/cuda_device.cuh"

/* Element c of the line through (o, i). */
#define LINE(v, c) (v)[base + (c) * inner]

__device__ static double line_log_normaliser(const float *x, int64_t base, int64_t len,
                                             int64_t inner, double *max)
{
    double m = LINE(x, 0), sum = 0;
    for (int64_t c = 1; c < len; c++)
        if (LINE(x, c) > m) m = LINE(x, c);
    for (int64_t c = 0; c < len; c++) sum += exp(LINE(x, c) - m);
    *max = m;
    return log(sum);
}

template <bool log_space>
__global__ static void softmax_kernel(const float *x, float *y, int64_t lines, int64_t len,
                                      int64_t inner)
{
    CUDA_FOR(line, lines)
    {
        const int64_t base = line / inner * len * inner + line % inner;
        double m, log_sum = line_log_normaliser(x, base, len, inner, &m);
        for (int64_t c = 0; c < len; c++)
            LINE(y, c) = log_space ? (float)((LINE(x, c) - m) - log_sum)
                                   : (float)exp(LINE(x, c) - m - log_sum);
    }
}

template <bool log_space>
__global__ static void softmax_backward_kernel(const float *y, const float *dy, float *dx,
                                               int64_t lines, int64_t len, int64_t inner)
{
    CUDA_FOR(line, lines)
    {
        const int64_t base = line / inner * len * inner + line % inner;
        double sum = 0;
        for (int64_t c = 0; c < len; c++)
            sum += log_space ? (double)LINE(dy, c) : (double)LINE(y, c) * LINE(dy, c);
        for (int64_t c = 0; c < len; c++)
            LINE(dx, c) = log_space ? (float)(LINE(dx, c) + LINE(dy, c) - exp((double)LINE(y, c)) * sum)
                                    : (float)(LINE(dx, c) + LINE(y, c) * (LINE(dy, c) - sum));
    }
}

extern "C" nerve_status nerve_cuda_softmax(const nerve_kernel_ctx *ctx, const float *x, float *y,
                                           int64_t outer, int64_t len, int64_t inner)
{
    if (outer * inner <= 0 || len <= 0) return NERVE_OK;
    CUDA_LAUNCH(softmax_kernel<false>, outer * inner)(x, y, outer * inner, len, inner);
    return nerve_cuda_launched(ctx, "softmax");
}

extern "C" nerve_status nerve_cuda_log_softmax(const nerve_kernel_ctx *ctx, const float *x,
                                               float *y, int64_t outer, int64_t len, int64_t inner)
{
    if (outer * inner <= 0 || len <= 0) return NERVE_OK;
    CUDA_LAUNCH(softmax_kernel<true>, outer * inner)(x, y, outer * inner, len, inner);
    return nerve_cuda_launched(ctx, "log_softmax");
}

extern "C" nerve_status nerve_cuda_softmax_backward(const nerve_kernel_ctx *ctx, const float *y,
                                                    const float *dy, float *dx, int64_t outer,
                                                    int64_t len, int64_t inner)
{
    if (outer * inner <= 0 || len <= 0) return NERVE_OK;
    CUDA_LAUNCH(softmax_backward_kernel<false>, outer * inner)(y, dy, dx, outer * inner, len, inner);
    return nerve_cuda_launched(ctx, "softmax_backward");
}

extern "C" nerve_status nerve_cuda_log_softmax_backward(const nerve_kernel_ctx *ctx,
                                                        const float *y, const float *dy, float *dx,
                                                        int64_t outer, int64_t len, int64_t inner)
{
    if (outer * inner <= 0 || len <= 0) return NERVE_OK;
    CUDA_LAUNCH(softmax_backward_kernel<true>, outer * inner)(y, dy, dx, outer * inner, len, inner);
    return nerve_cuda_launched(ctx, "log_softmax_backward");
}

__device__ static inline double class_weight(const float *weights, int64_t k)
{
    return weights ? (double)weights[k] : 1.0;
}

/* One block: each thread a share of the rows (softmax written to prob, the
 * row's loss and label weight summed), then the block's sums. */
__global__ static void cross_entropy(const float *logits, const float *labels,
                                     const float *weights, double s, float *prob, int64_t rows,
                                     int64_t cols, double scale, bool per_weight, float *loss,
                                     float *factor)
{
    double total = 0, label_weights = 0;
    for (int64_t r = threadIdx.x; r < rows; r += blockDim.x) {
        const float *z = logits + r * cols;
        double m = z[0], sum = 0;
        for (int64_t c = 1; c < cols; c++)
            if (z[c] > m) m = z[c];
        for (int64_t c = 0; c < cols; c++) sum += exp(z[c] - m);
        double log_norm = m + log(sum);
        for (int64_t c = 0; c < cols; c++) prob[r * cols + c] = (float)exp(z[c] - log_norm);
        int64_t y;
        if (!cuda_index(labels[r], cols, &y)) {
            total += NAN;
            continue;
        }
        for (int64_t c = 0; c < cols; c++) {
            double q = s / (double)cols * class_weight(weights, c);
            if (c == y) q += (1 - s) * class_weight(weights, y);
            total += q * (log_norm - z[c]);
        }
        label_weights += class_weight(weights, y);
    }
    total = block_sum(total);
    label_weights = block_sum(label_weights);
    if (threadIdx.x != 0) return;
    double f = per_weight ? scale / label_weights : scale;
    loss[0] = (float)(total * f);
    if (factor) factor[0] = (float)f;
}

extern "C" nerve_status nerve_cuda_cross_entropy(const nerve_kernel_ctx *ctx, const float *logits,
                                                 const float *labels, const float *weights,
                                                 float smoothing, float *prob, int64_t rows,
                                                 int64_t cols, double scale, bool per_weight,
                                                 float *loss, float *factor)
{
    CUDA_LAUNCH_BLOCKS(cross_entropy, 1)(logits, labels, weights, smoothing, prob, rows, cols,
                                         scale, per_weight, loss, factor);
    return nerve_cuda_launched(ctx, "cross_entropy");
}

__global__ static void cross_entropy_backward(const float *prob, const float *labels,
                                              const float *weights, double s, const float *dloss,
                                              const float *factor, float *dlogits, int64_t rows,
                                              int64_t cols)
{
    const double scale = (double)dloss[0] * factor[0];
    CUDA_FOR(k, rows * cols)
    {
        int64_t r = k / cols, c = k % cols, y;
        if (!cuda_index(labels[r], cols, &y)) continue;
        double q_sum = (1 - s) * class_weight(weights, y);
        if (s != 0)
            for (int64_t j = 0; j < cols; j++) q_sum += s / (double)cols * class_weight(weights, j);
        double q = s / (double)cols * class_weight(weights, c);
        if (c == y) q += (1 - s) * class_weight(weights, y);
        dlogits[k] = (float)(dlogits[k] + scale * (prob[k] * q_sum - q));
    }
}

extern "C" nerve_status nerve_cuda_cross_entropy_backward(const nerve_kernel_ctx *ctx,
                                                          const float *prob, const float *labels,
                                                          const float *weights, float smoothing,
                                                          const float *dloss, const float *factor,
                                                          float *dlogits, int64_t rows,
                                                          int64_t cols)
{
    if (rows * cols <= 0) return NERVE_OK;
    CUDA_LAUNCH(cross_entropy_backward, rows * cols)(prob, labels, weights, smoothing, dloss,
                                                     factor, dlogits, rows, cols);
    return nerve_cuda_launched(ctx, "cross_entropy_backward");
}
