/* Kernels of the L1 family: L1, smooth L1 and (through smooth L1) Huber.
 * Each difference is taken in double. */
#include <math.h>

#include "backends/cpu/cpu.h"

static double absolute_error_sum(const nerve_real *a, const nerve_real *b, int64_t n)
{
    double sum = 0;
#pragma omp parallel for reduction(+ : sum) if (n > NERVE_CPU_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) sum += fabs((double)a[i] - (double)b[i]);
    return sum;
}

nerve_status nerve_cpu_absolute_error(const nerve_kernel_ctx *ctx, const nerve_real *a,
                                      const nerve_real *b, int64_t n, double scale,
                                      nerve_real *loss)
{
    loss[0] = (nerve_real)(absolute_error_sum(a, b, n) * scale);
    return NERVE_OK;
}

/* torch's L1 gradient is sign(a - b): 0 where a == b. */
nerve_status nerve_cpu_absolute_error_backward(const nerve_kernel_ctx *ctx, const nerve_real *a,
                                               const nerve_real *b, const nerve_real *dloss,
                                               nerve_real factor, nerve_real *da, int64_t n)
{
    const nerve_real scale = (dloss ? dloss[0] : 1) * factor;
#pragma omp parallel for if (n > NERVE_CPU_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) da[i] += a[i] > b[i] ? scale : a[i] < b[i] ? -scale : 0;
    return NERVE_OK;
}

static double smooth_l1_sum(const nerve_real *a, const nerve_real *b, nerve_real beta, int64_t n)
{
    double sum = 0;
#pragma omp parallel for reduction(+ : sum) if (n > NERVE_CPU_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        sum += d < beta ? 0.5 * d * d / beta : d - 0.5 * beta;
    }
    return sum;
}

nerve_status nerve_cpu_smooth_l1(const nerve_kernel_ctx *ctx, const nerve_real *a,
                                 const nerve_real *b, nerve_real beta, int64_t n, double scale,
                                 nerve_real *loss)
{
    loss[0] = (nerve_real)(smooth_l1_sum(a, b, beta, n) * scale);
    return NERVE_OK;
}

/* The branches are torch's (smooth_l1_backward_cpu_kernel): d <= -beta is -1
 * first, so with beta = 0 the gradient at d == 0 is -1, not L1's 0. */
nerve_status nerve_cpu_smooth_l1_backward(const nerve_kernel_ctx *ctx, const nerve_real *a,
                                          const nerve_real *b, nerve_real beta,
                                          const nerve_real *dloss, nerve_real factor,
                                          nerve_real *da, int64_t n)
{
    const nerve_real scale = (dloss ? dloss[0] : 1) * factor;
#pragma omp parallel for if (n > NERVE_CPU_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        double slope = d <= -beta ? -1 : d >= beta ? 1 : d / beta;
        da[i] += scale * (nerve_real)slope;
    }
    return NERVE_OK;
}
