/* Softmax and log-softmax along an axis, and the row softmax every
 * softmax-based loss kernel shares. Subtracting the maximum before exp keeps
 * every exponent <= 0, so logits of +-1e4 stay finite. */
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

double nerve_cpu_softmax_row(const nerve_real *x, nerve_real temperature, nerve_real *y,
                             int64_t cols)
{
    nerve_real m = line_max(x, cols, 1);
    double sum = 0;
    for (int64_t c = 0; c < cols; c++) {
        y[c] = EXP((x[c] - m) / temperature);
        sum += y[c];
    }
    nerve_real inv = (nerve_real)(1.0 / sum);
    for (int64_t c = 0; c < cols; c++) y[c] *= inv;
    return (double)m / temperature + log(sum);
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

nerve_status nerve_cpu_softmax(const nerve_kernel_ctx *ctx, const nerve_real *x, nerve_real *y,
                               int64_t outer, int64_t len, int64_t inner)
{
    FOR_EACH_LINE(softmax_line(x + start, y + start, len, inner, line_max(x + start, len, inner)))
    return NERVE_OK;
}

nerve_status nerve_cpu_softmax_backward(const nerve_kernel_ctx *ctx, const nerve_real *y,
                                        const nerve_real *dy, nerve_real *dx, int64_t outer,
                                        int64_t len, int64_t inner)
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
    return NERVE_OK;
}

nerve_status nerve_cpu_log_softmax(const nerve_kernel_ctx *ctx, const nerve_real *x, nerve_real *y,
                                   int64_t outer, int64_t len, int64_t inner)
{
    FOR_EACH_LINE(log_softmax_line(x + start, y + start, len, inner))
    return NERVE_OK;
}

/* exp(y) is the softmax, so nothing but y need be kept. */
nerve_status nerve_cpu_log_softmax_backward(const nerve_kernel_ctx *ctx, const nerve_real *y,
                                            const nerve_real *dy, nerve_real *dx, int64_t outer,
                                            int64_t len, int64_t inner)
{
    FOR_EACH_LINE({
        double sum = 0;
        for (int64_t c = 0; c < len; c++) sum += dy[start + c * inner];
        for (int64_t c = 0; c < len; c++) {
            int64_t k = start + c * inner;
            dx[k] += dy[k] - EXP(y[k]) * (nerve_real)sum;
        }
    })
    return NERVE_OK;
}
