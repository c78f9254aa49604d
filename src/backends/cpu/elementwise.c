/* Row broadcasts, reductions and simple element-wise arithmetic. */
#include <string.h>

#include "backends/cpu/cpu.h"

nerve_status nerve_cpu_fill_rows(const nerve_kernel_ctx *ctx, nerve_real *y, const nerve_real *row,
                                 int64_t rows, int64_t cols)
{
    for (int64_t r = 0; r < rows; r++) memcpy(y + r * cols, row, (size_t)cols * sizeof *y);
    return NERVE_OK;
}

nerve_status nerve_cpu_sum_rows(const nerve_kernel_ctx *ctx, const nerve_real *dy, nerve_real *db,
                                int64_t rows, int64_t cols)
{
    for (int64_t r = 0; r < rows; r++) {
        const nerve_real *d = dy + r * cols;
        for (int64_t c = 0; c < cols; c++) db[c] += d[c];
    }
    return NERVE_OK;
}

static double squared_error_sum(const nerve_real *a, const nerve_real *b, int64_t n)
{
    double sum = 0;
#pragma omp parallel for reduction(+ : sum) if (n > NERVE_CPU_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        sum += d * d;
    }
    return sum;
}

nerve_status nerve_cpu_squared_error(const nerve_kernel_ctx *ctx, const nerve_real *a,
                                     const nerve_real *b, int64_t n, double scale, nerve_real *loss)
{
    loss[0] = (nerve_real)(squared_error_sum(a, b, n) * scale);
    return NERVE_OK;
}

nerve_status nerve_cpu_add_scaled_difference(const nerve_kernel_ctx *ctx, int64_t n,
                                             const nerve_real *dloss, nerve_real factor,
                                             const nerve_real *a, const nerve_real *b,
                                             nerve_real *y)
{
    const nerve_real scale = (dloss ? dloss[0] : 1) * factor;
#pragma omp parallel for if (n > NERVE_CPU_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) y[i] += scale * (a[i] - b[i]);
    return NERVE_OK;
}

/* x * 0 is 0 for a finite x and NaN otherwise: one vectorised sum, no
 * branch per element. Its answer (zero or not) does not depend on the
 * split, so the busy machine's team runs it. */
nerve_status nerve_cpu_all_finite(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                  const unsigned char *mask, int64_t n, bool *finite)
{
    nerve_real probe = 0;
    if (mask) {
#pragma omp parallel for simd reduction(+ : probe) num_threads(nerve_cpu_team()) \
    if (n > 65536)
        for (int64_t i = 0; i < n; i++) probe += mask[i] ? x[i] * 0 : 0;
    } else {
#pragma omp parallel for simd reduction(+ : probe) num_threads(nerve_cpu_team()) \
    if (n > 65536)
        for (int64_t i = 0; i < n; i++) probe += x[i] * 0;
    }
    *finite = probe == 0;
    return NERVE_OK;
}

nerve_status nerve_cpu_map(const nerve_kernel_ctx *ctx, nerve_map_op op, const nerve_real *a,
                           const nerve_real *b, int64_t b_step, double value, nerve_real *y,
                           int64_t n)
{
#pragma omp parallel for schedule(static) if (n > NERVE_CPU_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++)
        y[i] = (nerve_real)nerve_map_apply(op, a[i], b ? b[i * b_step] : value, y[i]);
    return NERVE_OK;
}
