/* Element-wise kernels: the activations (ref's formulas, each evaluated in
 * double as the reference does), PReLU, swish's beta gradient, block copies
 * and sums, per-row scaling (dropout masks), row fills and n-ary sums. */
#include <math.h>

#include "backends/cuda/cuda_device.cuh"

#define SELU_ALPHA 1.6732632423543772848170429916717
#define SELU_SCALE 1.0507009873554804934193349852946
#define PI 3.14159265358979323846

__device__ static double sigmoid(double x) { return 1 / (1 + exp(-x)); }

__device__ static double softplus(double x, double beta, double threshold)
{
    double bx = beta * x;
    if (bx > threshold) return x;
    return (fmax(bx, 0.0) + log1p(exp(-fabs(bx)))) / beta;
}

__device__ static double normal_cdf(double x) { return 0.5 * (1 + erf(x / sqrt(2.0))); }
__device__ static double normal_pdf(double x) { return exp(-0.5 * x * x) / sqrt(2 * PI); }
__device__ static double gelu_tanh_inner(double x) { return sqrt(2 / PI) * (x + 0.044715 * x * x * x); }

__device__ static double forward_one(nerve_activation kind, const nerve_activation_params &p, double x)
{
    switch (kind) {
    case NERVE_ACT_IDENTITY: return x;
    case NERVE_ACT_SIGMOID: return sigmoid(x);
    case NERVE_ACT_TANH: return tanh(x);
    case NERVE_ACT_RELU: return x > 0 ? x : 0;
    case NERVE_ACT_LEAKY_RELU: return x > 0 ? x : p.negative_slope * x;
    case NERVE_ACT_ELU: return x > 0 ? x : p.alpha * expm1(x);
    case NERVE_ACT_SELU: return SELU_SCALE * (x > 0 ? x : SELU_ALPHA * expm1(x));
    case NERVE_ACT_SOFTPLUS: return softplus(x, p.beta, p.threshold);
    case NERVE_ACT_SWISH: return x * sigmoid(p.beta * x);
    case NERVE_ACT_GELU: return x * normal_cdf(x);
    case NERVE_ACT_GELU_TANH: return 0.5 * x * (1 + tanh(gelu_tanh_inner(x)));
    case NERVE_ACT_HARDTANH: return x <= p.min_val ? p.min_val : x >= p.max_val ? p.max_val : x;
    case NERVE_ACT_BINARY_STEP:
    case NERVE_ACT_BINARY_STEP_STE: return x >= 0 ? 1 : 0;
    default: break;
    }
    return NAN;
}

__device__ static double derivative(nerve_activation kind, const nerve_activation_params &p, double x)
{
    switch (kind) {
    case NERVE_ACT_IDENTITY: return 1;
    case NERVE_ACT_SIGMOID: return sigmoid(x) * (1 - sigmoid(x));
    case NERVE_ACT_TANH: return 1 - tanh(x) * tanh(x);
    case NERVE_ACT_RELU: return x > 0 ? 1 : 0;
    case NERVE_ACT_LEAKY_RELU: return x > 0 ? 1 : p.negative_slope;
    case NERVE_ACT_ELU: return x > 0 ? 1 : p.alpha * exp(x);
    case NERVE_ACT_SELU: return SELU_SCALE * (x > 0 ? 1 : SELU_ALPHA * exp(x));
    case NERVE_ACT_SOFTPLUS: return p.beta * x > p.threshold ? 1 : sigmoid(p.beta * x);
    case NERVE_ACT_SWISH: {
        double s = sigmoid(p.beta * x);
        return s + p.beta * x * s * (1 - s);
    }
    case NERVE_ACT_GELU: return normal_cdf(x) + x * normal_pdf(x);
    case NERVE_ACT_GELU_TANH: {
        double t = tanh(gelu_tanh_inner(x));
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * sqrt(2 / PI) * (1 + 3 * 0.044715 * x * x);
    }
    case NERVE_ACT_HARDTANH: return x <= p.min_val || x >= p.max_val ? 0 : 1;
    case NERVE_ACT_BINARY_STEP: return 0;
    case NERVE_ACT_BINARY_STEP_STE: return 1;
    default: break;
    }
    return NAN;
}

__global__ static void activation_forward(nerve_activation kind, nerve_activation_params p,
                                          const float *x, float *y, int64_t n)
{
    CUDA_FOR(i, n) y[i] = (float)forward_one(kind, p, x[i]);
}

__global__ static void activation_backward(nerve_activation kind, nerve_activation_params p,
                                           const float *x, const float *dy, bool accumulate,
                                           float *dx, int64_t n)
{
    /* The binary step adds 0 * dy: nothing, even where dy is not finite. */
    CUDA_FOR(i, n)
    {
        double old = accumulate ? dx[i] : 0; /* without accumulate dx may hold anything */
        dx[i] = kind == NERVE_ACT_BINARY_STEP
                    ? (float)old
                    : (float)(old + (double)dy[i] * derivative(kind, p, x[i]));
    }
}

extern "C" nerve_status nerve_cuda_activation_forward(const nerve_kernel_ctx *ctx,
                                                      nerve_activation kind,
                                                      const nerve_activation_params *params,
                                                      const float *x, float *y, int64_t n)
{
    if (n <= 0) return NERVE_OK;
    CUDA_LAUNCH(activation_forward, n)(kind, *params, x, y, n);
    return nerve_cuda_launched(ctx, "activation_forward");
}

extern "C" nerve_status nerve_cuda_activation_backward(const nerve_kernel_ctx *ctx,
                                                       nerve_activation kind,
                                                       const nerve_activation_params *params,
                                                       const float *x, const float *y,
                                                       const float *dy, bool accumulate,
                                                       float *dx, int64_t n)
{
    if (n <= 0 || (accumulate && kind == NERVE_ACT_BINARY_STEP)) return NERVE_OK;
    CUDA_LAUNCH(activation_backward, n)(kind, *params, x, dy, accumulate, dx, n);
    return nerve_cuda_launched(ctx, "activation_backward");
}

/* One block: the sum in double, then dbeta[0] += it. */
__global__ static void swish_beta_gradient(const float *x, const float *beta, const float *dy,
                                           int64_t n, float *dbeta)
{
    double sum = 0;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
        double s = sigmoid((double)beta[0] * x[i]);
        sum += (double)dy[i] * x[i] * x[i] * s * (1 - s);
    }
    sum = block_sum(sum);
    if (threadIdx.x == 0) dbeta[0] = (float)(dbeta[0] + sum);
}

extern "C" nerve_status nerve_cuda_swish_beta_gradient(const nerve_kernel_ctx *ctx, const float *x,
                                                       const float *beta, const float *dy,
                                                       int64_t n, float *dbeta)
{
    CUDA_LAUNCH_BLOCKS(swish_beta_gradient, 1)(x, beta, dy, n, dbeta);
    return nerve_cuda_launched(ctx, "swish_beta_gradient");
}

__global__ static void prelu_forward(const float *x, const float *slope, float *y, int64_t n,
                                     int64_t channels, int64_t inner)
{
    CUDA_FOR(k, n)
    {
        int64_t c = k / inner % channels;
        y[k] = x[k] > 0 ? x[k] : slope[c] * x[k];
    }
}

/* One block per channel: dx where wanted, and the channel's slope sum. */
__global__ static void prelu_backward(const float *x, const float *slope, const float *dy,
                                      float *dx, float *dslope, int64_t outer, int64_t channels,
                                      int64_t inner)
{
    const int64_t c = blockIdx.x, count = outer * inner;
    double sum = 0;
    for (int64_t j = threadIdx.x; j < count; j += blockDim.x) {
        int64_t k = (j / inner * channels + c) * inner + j % inner;
        if (dx) dx[k] += x[k] > 0 ? dy[k] : slope[c] * dy[k];
        if (!(x[k] > 0)) sum += (double)x[k] * dy[k];
    }
    sum = block_sum(sum);
    if (dslope && threadIdx.x == 0) dslope[c] = (float)(dslope[c] + sum);
}

extern "C" nerve_status nerve_cuda_prelu_forward(const nerve_kernel_ctx *ctx, const float *x,
                                                 const float *slope, float *y, int64_t outer,
                                                 int64_t channels, int64_t inner)
{
    int64_t n = outer * channels * inner;
    if (n <= 0) return NERVE_OK;
    CUDA_LAUNCH(prelu_forward, n)(x, slope, y, n, channels, inner);
    return nerve_cuda_launched(ctx, "prelu_forward");
}

extern "C" nerve_status nerve_cuda_prelu_backward(const nerve_kernel_ctx *ctx, const float *x,
                                                  const float *slope, const float *dy, float *dx,
                                                  float *dslope, int64_t outer, int64_t channels,
                                                  int64_t inner)
{
    if (channels <= 0) return NERVE_OK;
    CUDA_LAUNCH_BLOCKS(prelu_backward, channels)(x, slope, dy, dx, dslope, outer, channels, inner);
    return nerve_cuda_launched(ctx, "prelu_backward");
}

template <bool add>
__global__ static void block_kernel(int64_t rows, int64_t cols, const float *src,
                                    int64_t src_stride, float *dst, int64_t dst_stride)
{
    CUDA_FOR(k, rows * cols)
    {
        int64_t r = k / cols, c = k % cols;
        if (add)
            dst[r * dst_stride + c] += src[r * src_stride + c];
        else
            dst[r * dst_stride + c] = src[r * src_stride + c];
    }
}

extern "C" nerve_status nerve_cuda_copy_block(const nerve_kernel_ctx *ctx, int64_t rows,
                                              int64_t cols, const float *src, int64_t src_stride,
                                              float *dst, int64_t dst_stride)
{
    if (rows <= 0 || cols <= 0) return NERVE_OK;
    CUDA_LAUNCH(block_kernel<false>, rows * cols)(rows, cols, src, src_stride, dst, dst_stride);
    return nerve_cuda_launched(ctx, "copy_block");
}

extern "C" nerve_status nerve_cuda_add_block(const nerve_kernel_ctx *ctx, int64_t rows,
                                             int64_t cols, const float *src, int64_t src_stride,
                                             float *dst, int64_t dst_stride)
{
    if (rows <= 0 || cols <= 0) return NERVE_OK;
    CUDA_LAUNCH(block_kernel<true>, rows * cols)(rows, cols, src, src_stride, dst, dst_stride);
    return nerve_cuda_launched(ctx, "add_block");
}

template <bool backward>
__global__ static void scale_rows_kernel(const float *x, const float *scale, float *y, int64_t n,
                                         int64_t inner)
{
    CUDA_FOR(k, n)
    {
        if (backward)
            y[k] += x[k] * scale[k / inner];
        else
            y[k] = x[k] * scale[k / inner];
    }
}

extern "C" nerve_status nerve_cuda_scale_rows(const nerve_kernel_ctx *ctx, const float *x,
                                              const float *scale, float *y, int64_t rows,
                                              int64_t inner)
{
    if (rows * inner <= 0) return NERVE_OK;
    CUDA_LAUNCH(scale_rows_kernel<false>, rows * inner)(x, scale, y, rows * inner, inner);
    return nerve_cuda_launched(ctx, "scale_rows");
}

extern "C" nerve_status nerve_cuda_scale_rows_backward(const nerve_kernel_ctx *ctx,
                                                       const float *dy, const float *scale,
                                                       float *dx, int64_t rows, int64_t inner)
{
    if (rows * inner <= 0) return NERVE_OK;
    CUDA_LAUNCH(scale_rows_kernel<true>, rows * inner)(dy, scale, dx, rows * inner, inner);
    return nerve_cuda_launched(ctx, "scale_rows_backward");
}

extern "C" nerve_status nerve_cuda_fill_rows(const nerve_kernel_ctx *ctx, float *y,
                                             const float *row, int64_t rows, int64_t cols)
{
    return nerve_cuda_copy_block(ctx, rows, cols, row, 0, y, cols);
}

/* Up to 8 summands per launch, passed by value. */
#define ADD_MAX 8
typedef struct summands {
    const float *x[ADD_MAX];
    int count;
} summands;

__global__ static void add_kernel(summands s, bool first, float *y, int64_t n)
{
    CUDA_FOR(i, n)
    {
        float v = first ? 0 : y[i];
        for (int k = 0; k < s.count; k++) v += s.x[k][i];
        y[i] = v;
    }
}

extern "C" nerve_status nerve_cuda_add_forward(const nerve_kernel_ctx *ctx, const float *const *x,
                                               int count, float *y, int64_t n)
{
    if (n <= 0) return NERVE_OK;
    if (count < 1) return ctx->device->set(ctx, y, 0, (size_t)n * sizeof *y);
    for (int first = 0; first < count; first += ADD_MAX) {
        summands s = {{NULL}, count - first < ADD_MAX ? count - first : ADD_MAX};
        for (int k = 0; k < s.count; k++) s.x[k] = x[first + k];
        CUDA_LAUNCH(add_kernel, n)(s, first == 0, y, n);
    }
    return nerve_cuda_launched(ctx, "add_forward");
}
