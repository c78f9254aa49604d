/* Element-wise activation kernels. Backward passes use the output y where
 * the derivative is a function of it (sigmoid: y(1-y), tanh: 1-y^2), which
 * saves recomputing exp. */
#include <math.h>

#include "backends/cpu/cpu.h"

#ifdef NERVE_F64
#define EXP exp
#define TANH tanh
#else
#define EXP expf
#define TANH tanhf
#endif

static inline nerve_real sigmoid(nerve_real x)
{
    /* Two branches so that exp never overflows. */
    if (x >= 0) return 1 / (1 + EXP(-x));
    nerve_real e = EXP(x);
    return e / (1 + e);
}

void nerve_cpu_activation_forward(nerve_activation kind, nerve_real param, const nerve_real *x,
                                  nerve_real *y, int64_t n)
{
    switch (kind) {
    case NERVE_ACT_IDENTITY:
#pragma omp parallel for if (n > NERVE_CPU_PARALLEL_MIN)
        for (int64_t i = 0; i < n; i++) y[i] = x[i];
        break;
    case NERVE_ACT_SIGMOID:
#pragma omp parallel for if (n > NERVE_CPU_PARALLEL_MIN)
        for (int64_t i = 0; i < n; i++) y[i] = sigmoid(x[i]);
        break;
    case NERVE_ACT_TANH:
#pragma omp parallel for if (n > NERVE_CPU_PARALLEL_MIN)
        for (int64_t i = 0; i < n; i++) y[i] = TANH(x[i]);
        break;
    case NERVE_ACT_RELU:
#pragma omp parallel for if (n > NERVE_CPU_PARALLEL_MIN)
        for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : 0;
        break;
    case NERVE_ACT_LEAKY_RELU:
#pragma omp parallel for if (n > NERVE_CPU_PARALLEL_MIN)
        for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : param * x[i];
        break;
    case NERVE_ACT_COUNT:
        break;
    }
}

/* At a kink (x == 0) the derivative taken is the left one, 0 for ReLU and the
 * slope for leaky ReLU, as PyTorch does. */
void nerve_cpu_activation_backward(nerve_activation kind, nerve_real param, const nerve_real *x,
                                   const nerve_real *y, const nerve_real *dy, nerve_real *dx,
                                   int64_t n)
{
    switch (kind) {
    case NERVE_ACT_IDENTITY:
#pragma omp parallel for if (n > NERVE_CPU_PARALLEL_MIN)
        for (int64_t i = 0; i < n; i++) dx[i] += dy[i];
        break;
    case NERVE_ACT_SIGMOID:
#pragma omp parallel for if (n > NERVE_CPU_PARALLEL_MIN)
        for (int64_t i = 0; i < n; i++) dx[i] += dy[i] * y[i] * (1 - y[i]);
        break;
    case NERVE_ACT_TANH:
#pragma omp parallel for if (n > NERVE_CPU_PARALLEL_MIN)
        for (int64_t i = 0; i < n; i++) dx[i] += dy[i] * (1 - y[i] * y[i]);
        break;
    case NERVE_ACT_RELU:
#pragma omp parallel for if (n > NERVE_CPU_PARALLEL_MIN)
        for (int64_t i = 0; i < n; i++) dx[i] += x[i] > 0 ? dy[i] : 0;
        break;
    case NERVE_ACT_LEAKY_RELU:
#pragma omp parallel for if (n > NERVE_CPU_PARALLEL_MIN)
        for (int64_t i = 0; i < n; i++) dx[i] += x[i] > 0 ? dy[i] : param * dy[i];
        break;
    case NERVE_ACT_COUNT:
        break;
    }
}
