/* Dropout's and rrelu's noise drawn, and dropout's masks applied: one scale (0 or 1 / (1 - p)) per row of `inner`
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

/* The noise is computed where it is used: core/noise.c is its definition,
 * portable C that the CPU runs as it is. */
nerve_status nerve_cpu_dropout_mask(const nerve_kernel_ctx *ctx, const nerve_noise_at *at,
                                    int64_t rows, int64_t per_sample, double p, nerve_real *mask)
{
    nerve_noise_dropout_mask(at, rows, per_sample, p, mask);
    return NERVE_OK;
}

nerve_status nerve_cpu_uniform_noise(const nerve_kernel_ctx *ctx, const nerve_noise_at *at,
                                     int64_t rows, int64_t per_sample, double low, double high,
                                     nerve_real *out)
{
    nerve_noise_uniform(at, rows, per_sample, low, high, out);
    return NERVE_OK;
}
