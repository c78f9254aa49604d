/* Softmax and the fused softmax cross-entropy. Subtracting the row maximum
 * before exp keeps every exponent <= 0, so logits of +-1e4 stay finite. */
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

/* y = exp(x - max) / sum; returns log(sum), so log_softmax = x - max - log(sum). */
static double softmax_row(const nerve_real *x, nerve_real *y, int64_t cols, nerve_real *max_out)
{
    nerve_real m = row_max(x, cols);
    double sum = 0;
    for (int64_t c = 0; c < cols; c++) {
        y[c] = EXP(x[c] - m);
        sum += y[c];
    }
    nerve_real inv = (nerve_real)(1.0 / sum);
    for (int64_t c = 0; c < cols; c++) y[c] *= inv;
    if (max_out) *max_out = m;
    return log(sum);
}

void nerve_cpu_softmax_rows(const nerve_real *x, nerve_real *y, int64_t rows, int64_t cols)
{
#pragma omp parallel for if (rows * cols > NERVE_CPU_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) softmax_row(x + r * cols, y + r * cols, cols, NULL);
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

/* A label outside [0, cols) cannot be reported from a kernel; it yields a NaN
 * loss, which the trainer's non-finite check reports, instead of reading out of bounds. */
static bool label_index(nerve_real label, int64_t cols, int64_t *index)
{
    if (!(label >= 0 && label < (nerve_real)cols)) return false;
    *index = (int64_t)label;
    return true;
}

double nerve_cpu_softmax_cross_entropy(const nerve_real *logits, const nerve_real *labels,
                                       nerve_real *prob, int64_t rows, int64_t cols)
{
    double total = 0;
#pragma omp parallel for reduction(+ : total) if (rows * cols > NERVE_CPU_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) {
        nerve_real m;
        double log_sum = softmax_row(logits + r * cols, prob + r * cols, cols, &m);
        int64_t k;
        if (label_index(labels[r], cols, &k))
            total += log_sum - ((double)logits[r * cols + k] - m);
        else
            total += NAN;
    }
    return rows ? total / rows : 0;
}

void nerve_cpu_softmax_cross_entropy_backward(const nerve_real *prob, const nerve_real *labels,
                                              nerve_real scale, nerve_real *dlogits, int64_t rows,
                                              int64_t cols)
{
#pragma omp parallel for if (rows * cols > NERVE_CPU_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const nerve_real *p = prob + r * cols;
        nerve_real *d = dlogits + r * cols;
        for (int64_t c = 0; c < cols; c++) d[c] += scale * p[c];
        int64_t k;
        if (label_index(labels[r], cols, &k)) d[k] -= scale;
    }
}
