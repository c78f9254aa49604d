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

double nerve_cpu_binary_cross_entropy(const nerve_real *p, const nerve_real *y, int64_t n)
{
    double sum = 0;
#pragma omp parallel for reduction(+ : sum) if (n > NERVE_CPU_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++)
        sum -= y[i] * clamped_log(p[i]) + (1 - (double)y[i]) * clamped_log(1 - (double)p[i]);
    return sum;
}

/* torch's gradient (p - y) / max(p (1 - p), 1e-12): finite, if huge, at 0 and 1. */
void nerve_cpu_binary_cross_entropy_backward(const nerve_real *p, const nerve_real *y,
                                             nerve_real scale, nerve_real *dp, int64_t n)
{
#pragma omp parallel for if (n > NERVE_CPU_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) {
        double pi = p[i];
        dp[i] += scale * (nerve_real)((pi - y[i]) / fmax(pi * (1 - pi), 1e-12));
    }
}

/* log(1 + exp(-x)) as max(-x, 0) + log1p(exp(-|x|)): exp never overflows. */
static double softplus_of_negative(double x) { return fmax(-x, 0) + log1p(exp(-fabs(x))); }

/* (1 - y) x + lw log(1 + exp(-x)) with lw = 1 + (pw - 1) y, torch's form;
 * without pos_weight it is max(x, 0) - x y + log(1 + exp(-|x|)). */
double nerve_cpu_bce_with_logits(const nerve_real *x, const nerve_real *y,
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

void nerve_cpu_bce_with_logits_backward(const nerve_real *x, const nerve_real *y,
                                        const nerve_real *pos_weight, nerve_real scale,
                                        nerve_real *dx, int64_t rows, int64_t cols)
{
#pragma omp parallel for if (rows * cols > NERVE_CPU_PARALLEL_MIN)
    for (int64_t i = 0; i < rows * cols; i++) {
        double yi = y[i], pw = nerve_cpu_class_weight(pos_weight, i % cols);
        double sigmoid = exp(-softplus_of_negative(x[i])); /* 1 / (1 + exp(-x)) */
        dx[i] += scale * (nerve_real)((1 + (pw - 1) * yi) * sigmoid - pw * yi);
    }
}
