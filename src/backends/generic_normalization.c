/* Generic batch-normalisation forward: per channel the scale a = weight /
 * sqrt(var + eps) and the mean and bias, repeated per row of x viewed as
 * [outer * channels rows, inner], broadcast along the row by scaling ones. */
#include "backends/generic.h"

nerve_status nerve_generic_batch_norm_forward(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                              const nerve_real *mean, const nerve_real *var,
                                              double eps, const nerve_real *weight,
                                              const nerve_real *bias, nerve_real *y,
                                              int64_t outer, int64_t channels, int64_t inner)
{
    int64_t rows = outer * channels, n = rows * inner;
    nerve_real *ones;
    NERVE_TRY(nerve_generic_scratch(ctx, 2 * n + 2 * rows + channels, &ones));
    nerve_real *t = ones + n, *row = t + n, *a_rows = row + rows, *a = a_rows + rows;
    nerve_status st;
    NERVE_STEP(NERVE_MAP(ctx, ADD, var, NULL, 0, eps, a, channels));
    NERVE_STEP(NERVE_MAP(ctx, SQRT, a, NULL, 0, 0, a, channels));
    NERVE_STEP(NERVE_MAP(ctx, RDIV, a, NULL, 0, 1, a, channels));
    if (weight) NERVE_STEP(NERVE_MAP(ctx, MUL, a, weight, 1, 0, a, channels));
    NERVE_STEP(NERVE_KERNEL(ctx, fill_rows, a_rows, a, outer, channels));
    NERVE_STEP(nerve_generic_ones(ctx, ones, n));
    /* y = (x - mean) a + bias */
    NERVE_STEP(NERVE_KERNEL(ctx, fill_rows, row, mean, outer, channels));
    NERVE_STEP(NERVE_KERNEL(ctx, scale_rows, ones, row, t, rows, inner));
    NERVE_STEP(NERVE_MAP(ctx, SUB, x, t, 1, 0, y, n));
    NERVE_STEP(NERVE_KERNEL(ctx, scale_rows, y, a_rows, y, rows, inner));
    if (bias) {
        NERVE_STEP(NERVE_KERNEL(ctx, fill_rows, row, bias, outer, channels));
        NERVE_STEP(NERVE_KERNEL(ctx, scale_rows, ones, row, t, rows, inner));
        NERVE_STEP(NERVE_MAP(ctx, ADD, y, t, 1, 0, y, n));
    }
done:
    nerve_generic_release(ctx, ones);
    return st;
}

/* The batch norm, then the ReLU over its output in place. */
nerve_status nerve_generic_batch_norm_relu_forward(const nerve_kernel_ctx *ctx,
                                                   const nerve_real *x, const nerve_real *mean,
                                                   const nerve_real *var, double eps,
                                                   const nerve_real *weight,
                                                   const nerve_real *bias, nerve_real *y,
                                                   int64_t outer, int64_t channels, int64_t inner)
{
    NERVE_TRY(NERVE_KERNEL(ctx, batch_norm_forward, x, mean, var, eps, weight, bias, y, outer,
                           channels, inner));
    const nerve_activation_params none = {0}; /* ReLU has no settings */
    return NERVE_KERNEL(ctx, activation_forward, NERVE_ACT_RELU, &none, y, y,
                        outer * channels * inner);
}

/* The ReLU's mask applied to dz in place, then the batch norm's backward. */
nerve_status nerve_generic_batch_norm_relu_backward(
    const nerve_kernel_ctx *ctx, const nerve_real *x, const nerve_real *z, nerve_real *dz,
    const nerve_real *mean, const nerve_real *var, double eps, const nerve_real *weight,
    bool batch_statistics, bool accumulate, nerve_real *dx, nerve_real *dweight,
    nerve_real *dbias, int64_t outer, int64_t channels, int64_t inner)
{
    const nerve_activation_params none = {0}; /* ReLU has no settings */
    NERVE_TRY(NERVE_KERNEL(ctx, activation_backward, NERVE_ACT_RELU, &none, z, z, dz, false, dz,
                           outer * channels * inner));
    return NERVE_KERNEL(ctx, batch_norm_backward, x, dz, mean, var, eps, weight, batch_statistics,
                        accumulate, dx, dweight, dbias, outer, channels, inner);
}
