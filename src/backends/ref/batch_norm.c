/* Batch normalisation of [outer, channels, inner], per channel over its
 * outer * inner values, two passes (mean, then squared deviations) in double. */
#include "backends/ref/ref.h"

#define AT(v, o, c, i) (v)[((o) * channels + (c)) * inner + (i)]

nerve_status nerve_ref_batch_norm_statistics(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                             nerve_real *mean, nerve_real *var, double momentum,
                                             nerve_real *running_mean, nerve_real *running_var,
                                             nerve_real *counter, int64_t outer, int64_t channels,
                                             int64_t inner)
{
    const int64_t count = outer * inner;
    for (int64_t c = 0; c < channels; c++) {
        double sum = 0, squares = 0;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < inner; i++) sum += AT(x, o, c, i);
        double mu = sum / (double)count;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < inner; i++)
                squares += (AT(x, o, c, i) - mu) * (AT(x, o, c, i) - mu);
        mean[c] = (nerve_real)mu;
        var[c] = (nerve_real)(squares / (double)count);
        if (running_mean && count > 1) {
            running_mean[c] = (nerve_real)((1 - momentum) * running_mean[c] + momentum * mu);
            running_var[c] = (nerve_real)((1 - momentum) * running_var[c] +
                                          momentum * squares / (double)(count - 1));
        }
    }
    if (running_mean && counter && count > 1) counter[0] += 1;
    return NERVE_OK;
}

nerve_status nerve_ref_batch_norm_forward(const nerve_kernel_ctx *ctx, const nerve_real *x, const nerve_real *mean,
                                  const nerve_real *var, double eps, const nerve_real *weight,
                                  const nerve_real *bias, nerve_real *y, int64_t outer,
                                  int64_t channels, int64_t inner)
{
    for (int64_t o = 0; o < outer; o++)
        for (int64_t c = 0; c < channels; c++)
            for (int64_t i = 0; i < inner; i++) {
                double xhat = (AT(x, o, c, i) - (double)mean[c]) / sqrt((double)var[c] + eps);
                AT(y, o, c, i) = (nerve_real)(xhat * nerve_ref_weight(weight, c) +
                                              (bias ? (double)bias[c] : 0));
            }
    return NERVE_OK;
}

nerve_status nerve_ref_batch_norm_backward(const nerve_kernel_ctx *ctx, const nerve_real *x, const nerve_real *dy,
                                   const nerve_real *mean, const nerve_real *var, double eps,
                                   const nerve_real *weight, bool batch_statistics,
                                   bool accumulate, nerve_real *dx, nerve_real *dweight, nerve_real *dbias, int64_t outer,
                                   int64_t channels, int64_t inner)
{
    const double count = (double)(outer * inner);
    for (int64_t c = 0; c < channels; c++) {
        double invstd = 1 / sqrt((double)var[c] + eps), sum_dy = 0, sum_dy_xhat = 0;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < inner; i++) {
                sum_dy += AT(dy, o, c, i);
                sum_dy_xhat += AT(dy, o, c, i) * (AT(x, o, c, i) - (double)mean[c]) * invstd;
            }
        if (dbias) dbias[c] = (nerve_real)(dbias[c] + sum_dy);
        if (dweight) dweight[c] = (nerve_real)(dweight[c] + sum_dy_xhat);
        if (!dx) continue;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < inner; i++) {
                double xhat = (AT(x, o, c, i) - (double)mean[c]) * invstd, d = AT(dy, o, c, i);
                if (batch_statistics) d -= (sum_dy + xhat * sum_dy_xhat) / count;
                double old = accumulate ? AT(dx, o, c, i) : 0; /* else dx may hold anything */
                AT(dx, o, c, i) = (nerve_real)(old + nerve_ref_weight(weight, c) * invstd * d);
            }
    }
    return NERVE_OK;
}
