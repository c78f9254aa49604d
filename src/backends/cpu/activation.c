/* Element-wise activation kernels, with PyTorch's formulas and its choice of
 * derivative at each kink (docs/reference.md). Backward passes use the output
 * y where the derivative is a function of it (sigmoid: y(1-y), tanh: 1-y^2,
 * ELU: y + alpha), which saves recomputing exp. */
#include <math.h>

#include "backends/cpu/cpu.h"

#ifdef NERVE_F64
#define EXP exp
#define EXPM1 expm1
#define LOG1P log1p
#define TANH tanh
#define ERF erf
#define FABS fabs
#else
#define EXP expf
#define EXPM1 expm1f
#define LOG1P log1pf
#define TANH tanhf
#define ERF erff
#define FABS fabsf
#endif

/* SELU's constants (Klambauer et al. 2017), to the digits torch uses. */
#define SELU_ALPHA 1.6732632423543772848170429916717
#define SELU_SCALE 1.0507009873554804934193349852946
#define SQRT_HALF 0.70710678118654752440         /* 1/sqrt(2): Phi(x) = (1 + erf(x/sqrt 2)) / 2 */
#define INV_SQRT_2PI 0.39894228040143267794      /* the normal density's 1/sqrt(2 pi) */
#define SQRT_2_OVER_PI 0.79788456080286535588    /* GELU tanh approximation, Hendrycks & Gimpel */
#define GELU_TANH_CUBIC 0.044715

/* One parallel loop per kind: the switch runs once per call, not per element. */
#define FOR_EACH_ELEMENT(statement)                                                               \
    _Pragma("omp parallel for if (n > NERVE_CPU_PARALLEL_MIN)") for (int64_t i = 0; i < n; i++) \
        statement

/* dx = (accumulate ? dx : 0) + derivative, element-wise: the first
 * contribution to a gradient assigns it (core/graph.c), so dx is not read
 * then; the choice is made once per call, outside the loop. */
#define GRADIENT(derivative)                                                                      \
    do {                                                                                          \
        if (accumulate) {                                                                         \
            FOR_EACH_ELEMENT(dx[i] += (derivative));                                              \
        } else {                                                                                  \
            FOR_EACH_ELEMENT(dx[i] = (derivative));                                               \
        }                                                                                         \
    } while (0)

static inline nerve_real sigmoid(nerve_real x)
{
    /* Two branches so that exp never overflows. */
    if (x >= 0) return 1 / (1 + EXP(-x));
    nerve_real e = EXP(x);
    return e / (1 + e);
}

static inline nerve_real elu(nerve_real x, nerve_real alpha)
{
    return x > 0 ? x : alpha * EXPM1(x);
}

/* log(1 + exp(bx)) / b, written max(bx, 0) + log1p(exp(-|bx|)) so that exp
 * cannot overflow whatever the threshold; linear above it, as torch. */
static inline nerve_real softplus(nerve_real x, nerve_real beta, nerve_real threshold)
{
    nerve_real bx = beta * x;
    if (bx > threshold) return x;
    return ((bx > 0 ? bx : 0) + LOG1P(EXP(-FABS(bx)))) / beta;
}

static inline nerve_real gelu(nerve_real x)
{
    return (nerve_real)0.5 * x * (1 + ERF(x * (nerve_real)SQRT_HALF));
}

/* d/dx x Phi(x) = Phi(x) + x phi(x). */
static inline nerve_real gelu_derivative(nerve_real x)
{
    nerve_real cdf = (nerve_real)0.5 * (1 + ERF(x * (nerve_real)SQRT_HALF));
    return cdf + x * (nerve_real)INV_SQRT_2PI * EXP((nerve_real)-0.5 * x * x);
}

static inline nerve_real gelu_tanh_inner(nerve_real x)
{
    return (nerve_real)SQRT_2_OVER_PI * (x + (nerve_real)GELU_TANH_CUBIC * x * x * x);
}

static inline nerve_real gelu_tanh(nerve_real x)
{
    return (nerve_real)0.5 * x * (1 + TANH(gelu_tanh_inner(x)));
}

static inline nerve_real gelu_tanh_derivative(nerve_real x)
{
    nerve_real t = TANH(gelu_tanh_inner(x));
    nerve_real inner_derivative =
        (nerve_real)SQRT_2_OVER_PI * (1 + 3 * (nerve_real)GELU_TANH_CUBIC * x * x);
    return (nerve_real)0.5 * (1 + t) + (nerve_real)0.5 * x * (1 - t * t) * inner_derivative;
}

/* d/dx x s(bx) = s + b x s (1 - s). */
static inline nerve_real swish_derivative(nerve_real x, nerve_real beta)
{
    nerve_real s = sigmoid(beta * x);
    return s + beta * x * s * (1 - s);
}

nerve_status nerve_cpu_activation_forward(const nerve_kernel_ctx *ctx, nerve_activation kind,
                                          const nerve_activation_params *p, const nerve_real *x,
                                          nerve_real *y, int64_t n)
{
    const nerve_real slope = p->negative_slope, alpha = p->alpha, beta = p->beta;
    const nerve_real threshold = p->threshold, lo = p->min_val, hi = p->max_val;
    switch (kind) {
    case NERVE_ACT_IDENTITY: FOR_EACH_ELEMENT(y[i] = x[i]); break;
    case NERVE_ACT_SIGMOID: FOR_EACH_ELEMENT(y[i] = sigmoid(x[i])); break;
    case NERVE_ACT_TANH: FOR_EACH_ELEMENT(y[i] = TANH(x[i])); break;
    case NERVE_ACT_RELU: FOR_EACH_ELEMENT(y[i] = x[i] > 0 ? x[i] : 0); break;
    case NERVE_ACT_LEAKY_RELU: FOR_EACH_ELEMENT(y[i] = x[i] > 0 ? x[i] : slope * x[i]); break;
    case NERVE_ACT_ELU: FOR_EACH_ELEMENT(y[i] = elu(x[i], alpha)); break;
    case NERVE_ACT_SELU:
        FOR_EACH_ELEMENT(y[i] = (nerve_real)SELU_SCALE * elu(x[i], (nerve_real)SELU_ALPHA));
        break;
    case NERVE_ACT_SOFTPLUS: FOR_EACH_ELEMENT(y[i] = softplus(x[i], beta, threshold)); break;
    case NERVE_ACT_SWISH: FOR_EACH_ELEMENT(y[i] = x[i] * sigmoid(beta * x[i])); break;
    case NERVE_ACT_GELU: FOR_EACH_ELEMENT(y[i] = gelu(x[i])); break;
    case NERVE_ACT_GELU_TANH: FOR_EACH_ELEMENT(y[i] = gelu_tanh(x[i])); break;
    case NERVE_ACT_HARDTANH:
        FOR_EACH_ELEMENT(y[i] = x[i] <= lo ? lo : x[i] >= hi ? hi : x[i]);
        break;
    case NERVE_ACT_BINARY_STEP:
    case NERVE_ACT_BINARY_STEP_STE: FOR_EACH_ELEMENT(y[i] = x[i] >= 0 ? 1 : 0); break;
    case NERVE_ACT_COUNT: break;
    }
    return NERVE_OK;
}

/* At a kink the derivative taken is PyTorch's: the left one at x == 0 for
 * ReLU (0), leaky ReLU (slope), ELU (alpha) and SELU (scale * alpha); 0 at
 * hardtanh's x == min_val and x == max_val. */
nerve_status nerve_cpu_activation_backward(const nerve_kernel_ctx *ctx, nerve_activation kind,
                                           const nerve_activation_params *p, const nerve_real *x,
                                           const nerve_real *y, const nerve_real *dy,
                                           bool accumulate, nerve_real *dx, int64_t n)
{
    const nerve_real slope = p->negative_slope, alpha = p->alpha, beta = p->beta;
    const nerve_real threshold = p->threshold, lo = p->min_val, hi = p->max_val;
    const nerve_real selu_scaled_alpha = (nerve_real)(SELU_SCALE * SELU_ALPHA);
    switch (kind) {
    case NERVE_ACT_IDENTITY: GRADIENT(dy[i]); break;
    case NERVE_ACT_SIGMOID: GRADIENT(dy[i] * y[i] * (1 - y[i])); break;
    case NERVE_ACT_TANH: GRADIENT(dy[i] * (1 - y[i] * y[i])); break;
    case NERVE_ACT_RELU: GRADIENT(x[i] > 0 ? dy[i] : 0); break;
    case NERVE_ACT_LEAKY_RELU: GRADIENT(x[i] > 0 ? dy[i] : slope * dy[i]); break;
    case NERVE_ACT_ELU: GRADIENT(x[i] > 0 ? dy[i] : dy[i] * (y[i] + alpha)); break;
    case NERVE_ACT_SELU:
        GRADIENT(x[i] > 0 ? (nerve_real)SELU_SCALE * dy[i] : dy[i] * (y[i] + selu_scaled_alpha));
        break;
    case NERVE_ACT_SOFTPLUS:
        GRADIENT(beta * x[i] > threshold ? dy[i] : dy[i] * sigmoid(beta * x[i]));
        break;
    case NERVE_ACT_SWISH: GRADIENT(dy[i] * swish_derivative(x[i], beta)); break;
    case NERVE_ACT_GELU: GRADIENT(dy[i] * gelu_derivative(x[i])); break;
    case NERVE_ACT_GELU_TANH: GRADIENT(dy[i] * gelu_tanh_derivative(x[i])); break;
    case NERVE_ACT_HARDTANH: GRADIENT(x[i] <= lo || x[i] >= hi ? 0 : dy[i]); break;
    case NERVE_ACT_BINARY_STEP: /* the step's derivative is 0 wherever it exists */
        if (!accumulate) {
            FOR_EACH_ELEMENT(dx[i] = 0);
        }
        break;
    case NERVE_ACT_BINARY_STEP_STE: GRADIENT(dy[i]); break;
    case NERVE_ACT_COUNT: break;
    }
    return NERVE_OK;
}

/* d/dbeta x s(beta x) = x^2 s (1 - s). */
nerve_status nerve_cpu_swish_beta_gradient(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                           const nerve_real *beta_value, const nerve_real *dy,
                                           int64_t n, nerve_real *dbeta)
{
    const nerve_real beta = beta_value[0];
    double sum = 0;
#pragma omp parallel for reduction(+ : sum) if (n > NERVE_CPU_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) {
        nerve_real s = sigmoid(beta * x[i]);
        sum += (double)dy[i] * x[i] * x[i] * s * (1 - s);
    }
    dbeta[0] += (nerve_real)sum;
    return NERVE_OK;
}
