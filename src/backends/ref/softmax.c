/* Softmax and log-softmax along the middle axis of [outer, len, inner],
 * and the row log-normaliser the softmax-based losses share. */
#include "backends/ref/ref.h"

/* The line along the axis through (o, i): element c is at start + c * inner. */
#define LINE(v, c) (v)[o * len * inner + (c) * inner + i]

static double line_log_normaliser(const nerve_real *x, int64_t o, int64_t i, int64_t len,
                                  int64_t inner, double *max)
{
    double m = LINE(x, 0), sum = 0;
    for (int64_t c = 1; c < len; c++)
        if (LINE(x, c) > m) m = LINE(x, c);
    for (int64_t c = 0; c < len; c++) sum += exp(LINE(x, c) - m);
    *max = m;
    return log(sum);
}

nerve_status nerve_ref_softmax(const nerve_kernel_ctx *ctx, const nerve_real *x, nerve_real *y, int64_t outer, int64_t len,
                       int64_t inner)
{
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            double m, log_sum = line_log_normaliser(x, o, i, len, inner, &m);
            for (int64_t c = 0; c < len; c++) LINE(y, c) = (nerve_real)exp(LINE(x, c) - m - log_sum);
        }
    return NERVE_OK;
}

nerve_status nerve_ref_softmax_backward(const nerve_kernel_ctx *ctx, const nerve_real *y, const nerve_real *dy, nerve_real *dx,
                                int64_t outer, int64_t len, int64_t inner)
{
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            double dot = 0;
            for (int64_t c = 0; c < len; c++) dot += (double)LINE(y, c) * LINE(dy, c);
            for (int64_t c = 0; c < len; c++)
                LINE(dx, c) = (nerve_real)(LINE(dx, c) + LINE(y, c) * (LINE(dy, c) - dot));
        }
    return NERVE_OK;
}

nerve_status nerve_ref_log_softmax(const nerve_kernel_ctx *ctx, const nerve_real *x, nerve_real *y, int64_t outer, int64_t len,
                           int64_t inner)
{
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            double m, log_sum = line_log_normaliser(x, o, i, len, inner, &m);
            for (int64_t c = 0; c < len; c++) LINE(y, c) = (nerve_real)((LINE(x, c) - m) - log_sum);
        }
    return NERVE_OK;
}

nerve_status nerve_ref_log_softmax_backward(const nerve_kernel_ctx *ctx, const nerve_real *y, const nerve_real *dy, nerve_real *dx,
                                    int64_t outer, int64_t len, int64_t inner)
{
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            double sum = 0;
            for (int64_t c = 0; c < len; c++) sum += LINE(dy, c);
            for (int64_t c = 0; c < len; c++)
                LINE(dx, c) = (nerve_real)(LINE(dx, c) + LINE(dy, c) - exp(LINE(y, c)) * sum);
        }
    return NERVE_OK;
}

double nerve_ref_log_normaliser(const nerve_real *x, double temperature, nerve_real *y,
                                int64_t cols)
{
    double m = x[0], sum = 0;
    for (int64_t c = 1; c < cols; c++)
        if (x[c] > m) m = x[c];
    for (int64_t c = 0; c < cols; c++) sum += exp((x[c] - m) / temperature);
    double log_norm = m / temperature + log(sum);
    for (int64_t c = 0; c < cols; c++) y[c] = (nerve_real)exp(x[c] / temperature - log_norm);
    return log_norm;
}
