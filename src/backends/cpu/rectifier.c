/* Rectifiers with a learned, random or mirrored negative side: PReLU (and
 * RReLU, whose slopes are one per element), and CReLU. At x == 0 the slope
 * side is taken, as torch's prelu and rrelu do: dx = slope * dy there, and
 * the slope's gradient gets x * dy = 0. */
#include "backends/cpu/cpu.h"

nerve_status nerve_cpu_prelu_forward(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                     const nerve_real *slope, nerve_real *y, int64_t outer,
                                     int64_t channels, int64_t inner)
{
#pragma omp parallel for collapse(2) if (outer * channels * inner > NERVE_CPU_PARALLEL_MIN)
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t c = 0; c < channels; c++) {
            const nerve_real a = slope[c];
            const int64_t base = (o * channels + c) * inner;
            for (int64_t i = base; i < base + inner; i++) y[i] = x[i] > 0 ? x[i] : a * x[i];
        }
    }
    return NERVE_OK;
}

/* Parallel over channels, so that each slope's sum has one writer. */
nerve_status nerve_cpu_prelu_backward(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                      const nerve_real *slope, const nerve_real *dy, nerve_real *dx,
                                      nerve_real *dslope, int64_t outer, int64_t channels,
                                      int64_t inner)
{
#pragma omp parallel for if (outer * channels * inner > NERVE_CPU_PARALLEL_MIN && channels > 1)
    for (int64_t c = 0; c < channels; c++) {
        const nerve_real a = slope[c];
        double sum = 0;
        for (int64_t o = 0; o < outer; o++) {
            const int64_t base = (o * channels + c) * inner;
            for (int64_t i = base; i < base + inner; i++) {
                if (x[i] > 0) {
                    if (dx) dx[i] += dy[i];
                } else {
                    if (dx) dx[i] += a * dy[i];
                    sum += (double)x[i] * dy[i];
                }
            }
        }
        if (dslope) dslope[c] += (nerve_real)sum;
    }
    return NERVE_OK;
}

nerve_status nerve_cpu_crelu_forward(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                     nerve_real *y, int64_t rows, int64_t cols)
{
#pragma omp parallel for if (rows * cols > NERVE_CPU_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const nerve_real *xr = x + r * cols;
        nerve_real *positive = y + 2 * r * cols, *negative = positive + cols;
        for (int64_t c = 0; c < cols; c++) {
            positive[c] = xr[c] > 0 ? xr[c] : 0;
            negative[c] = xr[c] < 0 ? -xr[c] : 0;
        }
    }
    return NERVE_OK;
}

/* relu's derivative is 0 at 0 on both halves, as torch.cat((relu(x), relu(-x))). */
nerve_status nerve_cpu_crelu_backward(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                      const nerve_real *dy, nerve_real *dx, int64_t rows,
                                      int64_t cols)
{
#pragma omp parallel for if (rows * cols > NERVE_CPU_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const nerve_real *xr = x + r * cols;
        const nerve_real *d_positive = dy + 2 * r * cols, *d_negative = d_positive + cols;
        nerve_real *dxr = dx + r * cols;
        for (int64_t c = 0; c < cols; c++) {
            if (xr[c] > 0) dxr[c] += d_positive[c];
            if (xr[c] < 0) dxr[c] -= d_negative[c];
        }
    }
    return NERVE_OK;
}
