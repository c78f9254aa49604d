/* Kernels of binary cross-entropy, on probabilities and on logits. */
#include <math.h>

#include "backends/cpu/cpu.h"

/* torch clamps each log at -100 so that p = 0 or 1 gives a finite loss. A p
 * outside [0, 1] gives NaN (log of a negative), which the trainer reports. */
static double clamped_log(double x)
{
    double l = log(x);
    return l < -100 ? -100 : l;
}

static double binary_cross_entropy_sum(const nerve_real *p, const nerve_real *y, int64_t n)
{
    double sum = 0;
#pragma omp parallel for reduction(+ : sum) if (n > NERVE_CPU_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++)
        sum -= y[i] * clamped_log(p[i]) + (1 - (double)y[i]) * clamped_log(1 - (double)p[i]);
    return sum;
}

nerve_status nerve_cpu_binary_cross_entropy(const nerve_kernel_ctx *ctx, const nerve_real *p,
                                            const nerve_real *y, int64_t n, double scale,
                                            nerve_real *loss)
{
    loss[0] = (nerve_real)(binary_cross_entropy_sum(p, y, n) * scale);
    return NERVE_OK;
}

/* torch's gradient (p - y) / max(p (1 - p), 1e-12): finite, if huge, at 0 and 1. */
nerve_status nerve_cpu_binary_cross_entropy_backward(const nerve_kernel_ctx *ctx,
                                                     const nerve_real *p, const nerve_real *y,
                                                     const nerve_real *dloss, nerve_real factor,
                                                     nerve_real *dp, int64_t n)
{
    const nerve_real scale = (dloss ? dloss[0] : 1) * factor;
#pragma omp parallel for if (n > NERVE_CPU_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) {
        double pi = p[i];
        dp[i] += scale * (nerve_real)((pi - y[i]) / fmax(pi * (1 - pi), 1e-12));
    }
    return NERVE_OK;
}

/* log(1 + exp(-x)) as max(-x, 0) + log1p(exp(-|x|)): exp never overflows. */
static double softplus_of_negative(double x) { return fmax(-x, 0) + log1p(exp(-fabs(x))); }

/* (1 - y) x + lw log(1 + exp(-x)) with lw = 1 + (pw - 1) y, torch's form;
 * without pos_weight it is max(x, 0) - x y + log(1 + exp(-|x|)). */
static double bce_with_logits_sum(const nerve_real *x, const nerve_real *y,
                                  const nerve_real *pos_weight, int64_t rows, int64_t cols)
{
    double sum = 0;
#pragma omp parallel for reduction(+ : sum) if (rows * cols > NERVE_CPU_PARALLEL_MIN)
    for (int64_t i = 0; i < rows * cols; i++) {
        double yi = y[i], log_weight = 1 + (nerve_cpu_class_weight(pos_weight, i % cols) - 1) * yi;
        sum += (1 - yi) * x[i] + log_weight * softplus_of_negative(x[i]);
    }
    return sum;
}

nerve_status nerve_cpu_bce_with_logits(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                       const nerve_real *y, const nerve_real *pos_weight,
                                       int64_t rows, int64_t cols, double scale, nerve_real *loss)
{
    loss[0] = (nerve_real)(bce_with_logits_sum(x, y, pos_weight, rows, cols) * scale);
    return NERVE_OK;
}

nerve_status nerve_cpu_bce_with_logits_backward(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                                const nerve_real *y, const nerve_real *pos_weight,
                                                const nerve_real *dloss, nerve_real factor,
                                                nerve_real *dx, int64_t rows, int64_t cols)
{
    const nerve_real scale = (dloss ? dloss[0] : 1) * factor;
#pragma omp parallel for if (rows * cols > NERVE_CPU_PARALLEL_MIN)
    for (int64_t i = 0; i < rows * cols; i++) {
        double yi = y[i], pw = nerve_cpu_class_weight(pos_weight, i % cols);
        double sigmoid = exp(-softplus_of_negative(x[i])); /* 1 / (1 + exp(-x)) */
        dx[i] += scale * (nerve_real)((1 + (pw - 1) * yi) * sigmoid - pw * yi);
    }
    return NERVE_OK;
}
