/* Element-wise losses: squared and absolute error, smooth L1, binary
 * cross-entropy on probabilities and on logits, each term in double. */
#include "backends/ref/ref.h"

nerve_status nerve_ref_squared_error(const nerve_kernel_ctx *ctx, const nerve_real *a, const nerve_real *b, int64_t n, double scale, nerve_real *loss)
{
    double sum = 0;
    for (int64_t i = 0; i < n; i++) sum += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    loss[0] = (nerve_real)(sum * scale);
    return NERVE_OK;
}

nerve_status nerve_ref_add_scaled_difference(const nerve_kernel_ctx *ctx, int64_t n,
                                             const nerve_real *dloss, nerve_real factor,
                                             const nerve_real *a, const nerve_real *b,
                                             nerve_real *y)
{
    double scale = (dloss ? (double)dloss[0] : 1) * factor;
    for (int64_t i = 0; i < n; i++) y[i] = (nerve_real)(y[i] + scale * ((double)a[i] - b[i]));
    return NERVE_OK;
}

nerve_status nerve_ref_absolute_error(const nerve_kernel_ctx *ctx, const nerve_real *a, const nerve_real *b, int64_t n, double scale, nerve_real *loss)
{
    double sum = 0;
    for (int64_t i = 0; i < n; i++) sum += fabs((double)a[i] - b[i]);
    loss[0] = (nerve_real)(sum * scale);
    return NERVE_OK;
}

nerve_status nerve_ref_absolute_error_backward(const nerve_kernel_ctx *ctx, const nerve_real *a, const nerve_real *b, const nerve_real *dloss, nerve_real factor, nerve_real *da, int64_t n)
{
    double scale = (dloss ? (double)dloss[0] : 1) * factor;
    for (int64_t i = 0; i < n; i++) {
        double sign = a[i] > b[i] ? 1 : a[i] < b[i] ? -1 : 0;
        da[i] = (nerve_real)(da[i] + scale * sign);
    }
    return NERVE_OK;
}

nerve_status nerve_ref_smooth_l1(const nerve_kernel_ctx *ctx, const nerve_real *a, const nerve_real *b, nerve_real beta, int64_t n, double scale, nerve_real *loss)
{
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        sum += d < beta ? 0.5 * d * d / beta : d - 0.5 * beta;
    }
    loss[0] = (nerve_real)(sum * scale);
    return NERVE_OK;
}

/* clamp(d / beta, -1, 1), with torch's order of tests: with beta = 0, d = 0 gives -1. */
nerve_status nerve_ref_smooth_l1_backward(const nerve_kernel_ctx *ctx, const nerve_real *a, const nerve_real *b, nerve_real beta, const nerve_real *dloss, nerve_real factor, nerve_real *da, int64_t n)
{
    double scale = (dloss ? (double)dloss[0] : 1) * factor;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)a[i] - b[i];
        double slope = d <= -beta ? -1 : d >= beta ? 1 : d / beta;
        da[i] = (nerve_real)(da[i] + scale * slope);
    }
    return NERVE_OK;
}


nerve_status nerve_ref_binary_cross_entropy(const nerve_kernel_ctx *ctx, const nerve_real *p, const nerve_real *y, int64_t n, double scale, nerve_real *loss)
{
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        /* fmax would drop the NaN of a p outside [0, 1]: keep it */
        double log_p = log(p[i]) < -100 ? -100 : log(p[i]);
        double log_q = log(1 - (double)p[i]) < -100 ? -100 : log(1 - (double)p[i]);
        sum -= y[i] * log_p + (1 - (double)y[i]) * log_q;
    }
    loss[0] = (nerve_real)(sum * scale);
    return NERVE_OK;
}

nerve_status nerve_ref_binary_cross_entropy_backward(const nerve_kernel_ctx *ctx, const nerve_real *p, const nerve_real *y, const nerve_real *dloss, nerve_real factor, nerve_real *dp, int64_t n)
{
    double scale = (dloss ? (double)dloss[0] : 1) * factor;
    for (int64_t i = 0; i < n; i++) {
        double pi = p[i];
        dp[i] = (nerve_real)(dp[i] + scale * (pi - y[i]) / fmax(pi * (1 - pi), 1e-12));
    }
    return NERVE_OK;
}

/* log(1 + exp(-x)) = max(-x, 0) + log1p(exp(-|x|)) */
static double log1p_exp_minus(double x) { return fmax(-x, 0) + log1p(exp(-fabs(x))); }

nerve_status nerve_ref_bce_with_logits(const nerve_kernel_ctx *ctx, const nerve_real *x, const nerve_real *y, const nerve_real *pos_weight, int64_t rows, int64_t cols, double scale, nerve_real *loss)
{
    double sum = 0;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++) {
            double xi = x[r * cols + c], yi = y[r * cols + c];
            double pw = nerve_ref_weight(pos_weight, c);
            sum += (1 - yi) * xi + (1 + (pw - 1) * yi) * log1p_exp_minus(xi);
        }
    loss[0] = (nerve_real)(sum * scale);
    return NERVE_OK;
}

nerve_status nerve_ref_bce_with_logits_backward(const nerve_kernel_ctx *ctx, const nerve_real *x, const nerve_real *y, const nerve_real *pos_weight, const nerve_real *dloss, nerve_real factor, nerve_real *dx, int64_t rows, int64_t cols)
{
    double scale = (dloss ? (double)dloss[0] : 1) * factor;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++) {
            double xi = x[r * cols + c], yi = y[r * cols + c];
            double pw = nerve_ref_weight(pos_weight, c), s = 1 / (1 + exp(-xi));
            nerve_real *d = &dx[r * cols + c];
            *d = (nerve_real)(*d + scale * ((1 + (pw - 1) * yi) * s - pw * yi));
        }
    return NERVE_OK;
}
