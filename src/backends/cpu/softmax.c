/* Softmax and log-softmax over rows. Subtracting the row maximum before exp
 * keeps every exponent <= 0, so logits of +-1e4 stay finite. */
#include <math.h>

#include "backends/cpu/cpu.h"

#ifdef NERVE_F64
#define EXP exp
#else
#define EXP expf
#endif

static nerve_real row_max(const nerve_real *x, int64_t cols)
{
    nerve_real m = x[0];
    for (int64_t c = 1; c < cols; c++)
        if (x[c] > m) m = x[c];
    return m;
}

double nerve_cpu_softmax_row(const nerve_real *x, nerve_real temperature, nerve_real *y,
                             int64_t cols)
{
    nerve_real m = row_max(x, cols);
    double sum = 0;
    for (int64_t c = 0; c < cols; c++) {
        y[c] = EXP((x[c] - m) / temperature);
        sum += y[c];
    }
    nerve_real inv = (nerve_real)(1.0 / sum);
    for (int64_t c = 0; c < cols; c++) y[c] *= inv;
    return (double)m / temperature + log(sum);
}

void nerve_cpu_softmax_rows(const nerve_real *x, nerve_real *y, int64_t rows, int64_t cols)
{
#pragma omp parallel for if (rows * cols > NERVE_CPU_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) nerve_cpu_softmax_row(x + r * cols, 1, y + r * cols, cols);
}

void nerve_cpu_softmax_rows_backward(const nerve_real *y, const nerve_real *dy, nerve_real *dx,
                                     int64_t rows, int64_t cols)
{
#pragma omp parallel for if (rows * cols > NERVE_CPU_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const nerve_real *yr = y + r * cols, *dyr = dy + r * cols;
        nerve_real *dxr = dx + r * cols;
        double dot = 0;
        for (int64_t c = 0; c < cols; c++) dot += (double)yr[c] * dyr[c];
        for (int64_t c = 0; c < cols; c++) dxr[c] += yr[c] * (dyr[c] - (nerve_real)dot);
    }
}

/* log_softmax(x)_c = x_c - log sum exp(x), computed from the normaliser and
 * never as log(softmax), which is -inf wherever softmax underflows. */
void nerve_cpu_log_softmax_rows(const nerve_real *x, nerve_real *y, int64_t rows, int64_t cols)
{
#pragma omp parallel for if (rows * cols > NERVE_CPU_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const nerve_real *xr = x + r * cols;
        nerve_real *yr = y + r * cols;
        double log_norm = nerve_cpu_softmax_row(xr, 1, yr, cols);
        for (int64_t c = 0; c < cols; c++) yr[c] = (nerve_real)((double)xr[c] - log_norm);
    }
}

void nerve_cpu_log_softmax_rows_backward(const nerve_real *y, const nerve_real *dy, nerve_real *dx,
                                         int64_t rows, int64_t cols)
{
#pragma omp parallel for if (rows * cols > NERVE_CPU_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const nerve_real *yr = y + r * cols, *dyr = dy + r * cols;
        nerve_real *dxr = dx + r * cols;
        double sum = 0;
        for (int64_t c = 0; c < cols; c++) sum += dyr[c];
        for (int64_t c = 0; c < cols; c++) dxr[c] += dyr[c] - EXP(yr[c]) * (nerve_real)sum;
    }
}
