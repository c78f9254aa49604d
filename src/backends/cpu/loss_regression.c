/* Kernels of the L1 family: L1, smooth L1 and (through smooth L1) Huber.
 * Each difference is taken in double. */
#include <math.h>

#include "backends/cpu/cpu.h"

double nerve_cpu_absolute_error(const nerve_real *a, const nerve_real *b, int64_t n)
{
    double sum = 0;
#pragma omp parallel for reduction(+ : sum) if (n > NERVE_CPU_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) sum += fabs((double)a[i] - (double)b[i]);
    return sum;
}

/* torch's L1 gradient is sign(a - b): 0 where a == b. */
void nerve_cpu_absolute_error_backward(const nerve_real *a, const nerve_real *b, nerve_real scale,
                                       nerve_real *da, int64_t n)
{
#pragma omp parallel for if (n > NERVE_CPU_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) da[i] += a[i] > b[i] ? scale : a[i] < b[i] ? -scale : 0;
}

double nerve_cpu_smooth_l1(const nerve_real *a, const nerve_real *b, nerve_real beta, int64_t n)
{
    double sum = 0;
#pragma omp parallel for reduction(+ : sum) if (n > NERVE_CPU_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        sum += d < beta ? 0.5 * d * d / beta : d - 0.5 * beta;
    }
    return sum;
}

/* The branches are torch's (smooth_l1_backward_cpu_kernel): d <= -beta is -1
 * first, so with beta = 0 the gradient at d == 0 is -1, not L1's 0. */
void nerve_cpu_smooth_l1_backward(const nerve_real *a, const nerve_real *b, nerve_real beta,
                                  nerve_real scale, nerve_real *da, int64_t n)
{
#pragma omp parallel for if (n > NERVE_CPU_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        double slope = d <= -beta ? -1 : d >= beta ? 1 : d / beta;
        da[i] += scale * (nerve_real)slope;
    }
}
