/* Maxout's reduction: the max over each run of `pieces` values. The first
 * maximum wins a tie, as torch.max(dim) picks it, and takes the gradient. */
#include "backends/cpu/cpu.h"

nerve_status nerve_cpu_maxout_forward(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                      nerve_real *y, nerve_real *argmax, int64_t groups,
                                      int64_t pieces)
{
#pragma omp parallel for if (groups * pieces > NERVE_CPU_PARALLEL_MIN)
    for (int64_t g = 0; g < groups; g++) {
        const nerve_real *run = x + g * pieces;
        int64_t best = 0;
        for (int64_t k = 1; k < pieces; k++)
            if (run[k] > run[best]) best = k;
        y[g] = run[best];
        argmax[g] = (nerve_real)best;
    }
    return NERVE_OK;
}

nerve_status nerve_cpu_maxout_backward(const nerve_kernel_ctx *ctx, const nerve_real *argmax,
                                       const nerve_real *dy, nerve_real *dx, int64_t groups,
                                       int64_t pieces)
{
#pragma omp parallel for if (groups * pieces > NERVE_CPU_PARALLEL_MIN)
    for (int64_t g = 0; g < groups; g++) dx[g * pieces + (int64_t)argmax[g]] += dy[g];
    return NERVE_OK;
}
