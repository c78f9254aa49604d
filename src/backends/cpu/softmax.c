/* Softmax, log-softmax and the fused softmax cross-entropy. Subtracting the
 * maximum before exp keeps every exponent <= 0, so logits of +-1e4 stay finite. */
#include <math.h>

#include "backends/cpu/cpu.h"

#ifdef NERVE_F64
#define EXP exp
#else
#define EXP expf
#endif

/* The maximum of `len` values `stride` apart: one line along a softmax axis. */
static nerve_real line_max(const nerve_real *x, int64_t len, int64_t stride)
{
    nerve_real m = x[0];
    for (int64_t c = 1; c < len; c++)
        if (x[c * stride] > m) m = x[c * stride];
    return m;
}

/* y = exp(x - max) / sum along a line; returns log(sum), so that
 * log_softmax = (x - max) - log(sum). */
static double softmax_line(const nerve_real *x, nerve_real *y, int64_t len, int64_t stride,
                           nerve_real max)
{
    double sum = 0;
    for (int64_t c = 0; c < len; c++) {
        y[c * stride] = EXP(x[c * stride] - max);
        sum += y[c * stride];
    }
    nerve_real inv = (nerve_real)(1.0 / sum);
    for (int64_t c = 0; c < len; c++) y[c * stride] *= inv;
    return log(sum);
}

static double softmax_row(const nerve_real *x, nerve_real *y, int64_t cols, nerve_real *max_out)
{
    nerve_real m = line_max(x, cols, 1);
    if (max_out) *max_out = m;
    return softmax_line(x, y, cols, 1, m);
}

/* (x - max) is formed before log(sum) is subtracted: at |x| ~ 1e4 a float
 * max + log(sum) would round away log(sum)'s low digits. */
static void log_softmax_line(const nerve_real *x, nerve_real *y, int64_t len, int64_t stride)
{
    nerve_real m = line_max(x, len, stride);
    double sum = 0;
    for (int64_t c = 0; c < len; c++) sum += EXP(x[c * stride] - m);
    nerve_real log_sum = (nerve_real)log(sum);
    for (int64_t c = 0; c < len; c++) y[c * stride] = (x[c * stride] - m) - log_sum;
}

/* The lines of x viewed as [outer, len, inner] start at o * len * inner + i
 * and step by inner; the loops below run over them in parallel. */
#define FOR_EACH_LINE(...)                                                                  \
    _Pragma("omp parallel for collapse(2) if (outer * len * inner > NERVE_CPU_PARALLEL_MIN)") \
    for (int64_t o = 0; o < outer; o++)                                                     \
        for (int64_t i = 0; i < inner; i++) {                                               \
            const int64_t start = o * len * inner + i;                                      \
            __VA_ARGS__;                                                                    \
        }

void nerve_cpu_softmax(const nerve_real *x, nerve_real *y, int64_t outer, int64_t len,
                       int64_t inner)
{
    FOR_EACH_LINE(softmax_line(x + start, y + start, len, inner, line_max(x + start, len, inner)))
}

void nerve_cpu_softmax_backward(const nerve_real *y, const nerve_real *dy, nerve_real *dx,
                                int64_t outer, int64_t len, int64_t inner)
{
    FOR_EACH_LINE({
        double dot = 0;
        for (int64_t c = 0; c < len; c++)
            dot += (double)y[start + c * inner] * dy[start + c * inner];
        for (int64_t c = 0; c < len; c++) {
            int64_t k = start + c * inner;
            dx[k] += y[k] * (dy[k] - (nerve_real)dot);
        }
    })
}

void nerve_cpu_log_softmax(const nerve_real *x, nerve_real *y, int64_t outer, int64_t len,
                           int64_t inner)
{
    FOR_EACH_LINE(log_softmax_line(x + start, y + start, len, inner))
}

/* exp(y) is the softmax, so nothing but y need be kept. */
void nerve_cpu_log_softmax_backward(const nerve_real *y, const nerve_real *dy, nerve_real *dx,
                                    int64_t outer, int64_t len, int64_t inner)
{
    FOR_EACH_LINE({
        double sum = 0;
        for (int64_t c = 0; c < len; c++) sum += dy[start + c * inner];
        for (int64_t c = 0; c < len; c++) {
            int64_t k = start + c * inner;
            dx[k] += dy[k] - EXP(y[k]) * (nerve_real)sum;
        }
    })
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
