/* Dropout's masks applied: one scale (0 or 1 / (1 - p)) per row of `inner`
 * values, a row being an element (dropout) or a channel's plane (dropout2d). */
#include "backends/cpu/cpu.h"

nerve_status nerve_cpu_scale_rows(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                  const nerve_real *scale, nerve_real *y, int64_t rows,
                                  int64_t inner)
{
#pragma omp parallel for if (rows * inner > NERVE_CPU_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const nerve_real s = scale[r];
        for (int64_t i = r * inner; i < (r + 1) * inner; i++) y[i] = x[i] * s;
    }
    return NERVE_OK;
}

nerve_status nerve_cpu_scale_rows_backward(const nerve_kernel_ctx *ctx, const nerve_real *dy,
                                           const nerve_real *scale, nerve_real *dx, int64_t rows,
                                           int64_t inner)
{
#pragma omp parallel for if (rows * inner > NERVE_CPU_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const nerve_real s = scale[r];
        for (int64_t i = r * inner; i < (r + 1) * inner; i++) dx[i] += dy[i] * s;
    }
    return NERVE_OK;
}
