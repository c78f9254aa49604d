/* Element-wise activations and the rectifier family, each derivative taken
 * from x by its definition (PyTorch's choice at every kink: the left
 * derivative at 0 for ReLU, leaky ReLU, ELU and SELU, 0 at hardtanh's ends),
 * evaluated in double. */
#include "backends/ref/ref.h"

#define SELU_ALPHA 1.6732632423543772848170429916717
#define SELU_SCALE 1.0507009873554804934193349852946
#define PI 3.14159265358979323846

static double sigmoid(double x) { return 1 / (1 + exp(-x)); }

/* log(1 + exp(b x)) / b, linear once b x passes the threshold. */
static double softplus(double x, double beta, double threshold)
{
    double bx = beta * x;
    if (bx > threshold) return x;
    return (fmax(bx, 0) + log1p(exp(-fabs(bx)))) / beta;
}

static double normal_cdf(double x) { return 0.5 * (1 + erf(x / sqrt(2.0))); }
static double normal_pdf(double x) { return exp(-0.5 * x * x) / sqrt(2 * PI); }
static double gelu_tanh_inner(double x) { return sqrt(2 / PI) * (x + 0.044715 * x * x * x); }

static double forward_one(nerve_activation kind, const nerve_activation_params *p, double x)
{
    switch (kind) {
    case NERVE_ACT_IDENTITY: return x;
    case NERVE_ACT_SIGMOID: return sigmoid(x);
    case NERVE_ACT_TANH: return tanh(x);
    case NERVE_ACT_RELU: return x > 0 ? x : 0;
    case NERVE_ACT_LEAKY_RELU: return x > 0 ? x : p->negative_slope * x;
    case NERVE_ACT_ELU: return x > 0 ? x : p->alpha * expm1(x);
    case NERVE_ACT_SELU: return SELU_SCALE * (x > 0 ? x : SELU_ALPHA * expm1(x));
    case NERVE_ACT_SOFTPLUS: return softplus(x, p->beta, p->threshold);
    case NERVE_ACT_SWISH: return x * sigmoid(p->beta * x);
    case NERVE_ACT_GELU: return x * normal_cdf(x);
    case NERVE_ACT_GELU_TANH: return 0.5 * x * (1 + tanh(gelu_tanh_inner(x)));
    case NERVE_ACT_HARDTANH: return x <= p->min_val ? p->min_val : x >= p->max_val ? p->max_val : x;
    case NERVE_ACT_BINARY_STEP:
    case NERVE_ACT_BINARY_STEP_STE: return x >= 0 ? 1 : 0;
    case NERVE_ACT_COUNT: break;
    }
    return NAN;
}

/* f'(x); the binary step's is 0 (straight-through: 1). */
static double derivative(nerve_activation kind, const nerve_activation_params *p, double x)
{
    switch (kind) {
    case NERVE_ACT_IDENTITY: return 1;
    case NERVE_ACT_SIGMOID: return sigmoid(x) * (1 - sigmoid(x));
    case NERVE_ACT_TANH: return 1 - tanh(x) * tanh(x);
    case NERVE_ACT_RELU: return x > 0 ? 1 : 0;
    case NERVE_ACT_LEAKY_RELU: return x > 0 ? 1 : p->negative_slope;
    case NERVE_ACT_ELU: return x > 0 ? 1 : p->alpha * exp(x);
    case NERVE_ACT_SELU: return SELU_SCALE * (x > 0 ? 1 : SELU_ALPHA * exp(x));
    case NERVE_ACT_SOFTPLUS: return p->beta * x > p->threshold ? 1 : sigmoid(p->beta * x);
    case NERVE_ACT_SWISH: {
        double s = sigmoid(p->beta * x);
        return s + p->beta * x * s * (1 - s);
    }
    case NERVE_ACT_GELU: return normal_cdf(x) + x * normal_pdf(x);
    case NERVE_ACT_GELU_TANH: {
        double t = tanh(gelu_tanh_inner(x));
        return 0.5 * (1 + t) +
               0.5 * x * (1 - t * t) * sqrt(2 / PI) * (1 + 3 * 0.044715 * x * x);
    }
    case NERVE_ACT_HARDTANH: return x <= p->min_val || x >= p->max_val ? 0 : 1;
    case NERVE_ACT_BINARY_STEP: return 0;
    case NERVE_ACT_BINARY_STEP_STE: return 1;
    case NERVE_ACT_COUNT: break;
    }
    return NAN;
}

nerve_status nerve_ref_activation_forward(const nerve_kernel_ctx *ctx, nerve_activation kind, const nerve_activation_params *params,
                                  const nerve_real *x, nerve_real *y, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] = (nerve_real)forward_one(kind, params, x[i]);
    return NERVE_OK;
}

nerve_status nerve_ref_activation_backward(const nerve_kernel_ctx *ctx, nerve_activation kind, const nerve_activation_params *params,
                                   const nerve_real *x, const nerve_real *y, const nerve_real *dy,
                                   bool accumulate, nerve_real *dx, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        double old = accumulate ? dx[i] : 0; /* without accumulate dx may hold anything */
        /* The binary step adds 0 * dy: nothing, even where dy is not finite. */
        if (kind == NERVE_ACT_BINARY_STEP)
            dx[i] = (nerve_real)old;
        else
            dx[i] = (nerve_real)(old + (double)dy[i] * derivative(kind, params, x[i]));
    }
    return NERVE_OK;
}

nerve_status nerve_ref_swish_beta_gradient(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                           const nerve_real *beta, const nerve_real *dy, int64_t n,
                                           nerve_real *dbeta)
{
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        double s = sigmoid((double)beta[0] * x[i]);
        sum += (double)dy[i] * x[i] * x[i] * s * (1 - s);
    }
    dbeta[0] = (nerve_real)(dbeta[0] + sum);
    return NERVE_OK;
}

nerve_status nerve_ref_prelu_forward(const nerve_kernel_ctx *ctx, const nerve_real *x, const nerve_real *slope, nerve_real *y,
                             int64_t outer, int64_t channels, int64_t inner)
{
    for (int64_t o = 0; o < outer; o++)
        for (int64_t c = 0; c < channels; c++)
            for (int64_t i = 0; i < inner; i++) {
                int64_t k = (o * channels + c) * inner + i;
                y[k] = x[k] > 0 ? x[k] : slope[c] * x[k];
            }
    return NERVE_OK;
}

nerve_status nerve_ref_prelu_backward(const nerve_kernel_ctx *ctx, const nerve_real *x, const nerve_real *slope, const nerve_real *dy,
                              nerve_real *dx, nerve_real *dslope, int64_t outer, int64_t channels,
                              int64_t inner)
{
    for (int64_t c = 0; c < channels; c++) {
        double sum = 0;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < inner; i++) {
                int64_t k = (o * channels + c) * inner + i;
                if (dx) dx[k] += x[k] > 0 ? dy[k] : slope[c] * dy[k];
                if (!(x[k] > 0)) sum += (double)x[k] * dy[k];
            }
        if (dslope) dslope[c] = (nerve_real)(dslope[c] + sum);
    }
    return NERVE_OK;
}

nerve_status nerve_ref_crelu_forward(const nerve_kernel_ctx *ctx, const nerve_real *x, nerve_real *y, int64_t rows, int64_t cols)
{
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++) {
            nerve_real v = x[r * cols + c];
            y[2 * r * cols + c] = v > 0 ? v : 0;
            y[(2 * r + 1) * cols + c] = v < 0 ? -v : 0;
        }
    return NERVE_OK;
}

nerve_status nerve_ref_crelu_backward(const nerve_kernel_ctx *ctx, const nerve_real *x, const nerve_real *dy, nerve_real *dx,
                              int64_t rows, int64_t cols)
{
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++) {
            nerve_real v = x[r * cols + c];
            if (v > 0) dx[r * cols + c] += dy[2 * r * cols + c];
            if (v < 0) dx[r * cols + c] -= dy[(2 * r + 1) * cols + c];
        }
    return NERVE_OK;
}

