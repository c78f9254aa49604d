/* Generic versions of the element-wise ops' own kernels: crelu and one_hot,
 * from maps, block copies and a scatter. */
#include <math.h>
#include <stdlib.h>

#include "backends/generic.h"

/* Each half: relu of x, then of -x, copied into its columns. */
nerve_status nerve_generic_crelu_forward(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                         nerve_real *y, int64_t rows, int64_t cols)
{
    int64_t n = rows * cols;
    nerve_real *t;
    NERVE_TRY(nerve_generic_scratch(ctx, n, &t));
    nerve_status st;
    NERVE_STEP(NERVE_MAP(ctx, MAX, x, NULL, 0, 0, t, n));
    NERVE_STEP(NERVE_KERNEL(ctx, copy_block, rows, cols, t, cols, y, 2 * cols));
    NERVE_STEP(NERVE_MAP(ctx, MUL, x, NULL, 0, -1, t, n));
    NERVE_STEP(NERVE_MAP(ctx, MAX, t, NULL, 0, 0, t, n));
    st = NERVE_KERNEL(ctx, copy_block, rows, cols, t, cols, y + cols, 2 * cols);
done:
    nerve_generic_release(ctx, t);
    return st;
}

/* dx += [x > 0] dy_first - [x < 0] dy_second. */
nerve_status nerve_generic_crelu_backward(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                          const nerve_real *dy, nerve_real *dx, int64_t rows,
                                          int64_t cols)
{
    int64_t n = rows * cols;
    nerve_real *m;
    NERVE_TRY(nerve_generic_scratch(ctx, 2 * n, &m));
    nerve_real *t = m + n;
    nerve_status st;
    NERVE_STEP(NERVE_MAP(ctx, GT, x, NULL, 0, 0, m, n));
    NERVE_STEP(NERVE_KERNEL(ctx, copy_block, rows, cols, dy, 2 * cols, t, cols));
    NERVE_STEP(NERVE_MAP(ctx, MUL, t, m, 1, 0, t, n));
    NERVE_STEP(NERVE_KERNEL(ctx, add_block, 1, n, t, n, dx, n));
    NERVE_STEP(NERVE_MAP(ctx, LT, x, NULL, 0, 0, m, n));
    NERVE_STEP(NERVE_KERNEL(ctx, copy_block, rows, cols, dy + cols, 2 * cols, t, cols));
    NERVE_STEP(NERVE_MAP(ctx, MUL, t, m, 1, 0, t, n));
    st = NERVE_MAP(ctx, SUB, dx, t, 1, 0, dx, n);
done:
    nerve_generic_release(ctx, m);
    return st;
}

/* A scatter of ones to the flat positions r * classes + id (embedding's
 * gradient over y viewed as one column), then each row of an id outside
 * [0, classes) scaled by NaN. Positions are reals, exact below 2^24: the
 * rows go in chunks that keep them there. */
nerve_status nerve_generic_one_hot(const nerve_kernel_ctx *ctx, const nerve_real *ids,
                                   nerve_real *y, int64_t rows, int64_t classes)
{
    int64_t chunk = classes > 0 ? ((int64_t)1 << 24) / classes : rows;
    if (chunk > rows) chunk = rows;
    if (chunk < 1) chunk = 1;
    nerve_real *offset, *host = malloc((size_t)chunk * sizeof *host);
    if (!host) return nerve_kernel_fail(ctx, NERVE_ERR_NOMEM, "out of memory for one_hot");
    for (int64_t i = 0; i < chunk; i++) host[i] = (nerve_real)(i * classes);
    nerve_status st = nerve_generic_scratch(ctx, 4 * chunk, &offset);
    if (st != NERVE_OK) {
        free(host);
        return st;
    }
    nerve_real *valid = offset + chunk, *pos = valid + chunk, *t = pos + chunk;
    NERVE_STEP(ctx->device->upload(ctx, offset, host, (size_t)chunk * sizeof *host));
    NERVE_STEP(ctx->device->set(ctx, y, 0, (size_t)(rows * classes) * sizeof *y));
    for (int64_t first = 0; first < rows; first += chunk) {
        int64_t n = rows - first < chunk ? rows - first : chunk;
        const nerve_real *id = ids + first;
        nerve_real *out = y + first * classes;
        NERVE_STEP(NERVE_MAP(ctx, GE, id, NULL, 0, 0, valid, n));
        NERVE_STEP(NERVE_MAP(ctx, LT, id, NULL, 0, (double)classes, t, n));
        NERVE_STEP(NERVE_MAP(ctx, MUL, valid, t, 1, 0, valid, n));
        NERVE_STEP(NERVE_MAP(ctx, ADD, id, offset, 1, 0, pos, n));
        NERVE_STEP(NERVE_MAP(ctx, RSUB, valid, NULL, 0, 1, t, n)); /* 1: outside */
        NERVE_STEP(NERVE_MAP(ctx, SELECT, t, NULL, 0, -1, pos, n)); /* skipped */
        NERVE_STEP(NERVE_MAP(ctx, SELECT, t, NULL, 0, NAN, valid, n)); /* 1 or NaN */
        NERVE_STEP(NERVE_KERNEL(ctx, embedding_backward, pos, valid, out, n, n * classes, 1, -1));
        NERVE_STEP(NERVE_KERNEL(ctx, scale_rows, out, valid, out, n, classes));
    }
done:
    nerve_generic_release(ctx, offset);
    free(host);
    return st;
}

/* dbeta[0] += sum dy x^2 s (1 - s), s = sigmoid(beta x): a map chain, one sum. */
nerve_status nerve_generic_swish_beta_gradient(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                               const nerve_real *beta, const nerve_real *dy,
                                               int64_t n, nerve_real *dbeta)
{
    nerve_real *s;
    NERVE_TRY(nerve_generic_scratch(ctx, 2 * n + 1, &s));
    nerve_real *u = s + n, *sum = u + n;
    nerve_activation_params params = {0}; /* sigmoid reads no parameter */
    nerve_status st;
    NERVE_STEP(NERVE_MAP(ctx, MUL, x, beta, 0, 0, u, n));
    NERVE_STEP(NERVE_KERNEL(ctx, activation_forward, NERVE_ACT_SIGMOID, &params, u, s, n));
    NERVE_STEP(NERVE_MAP(ctx, RSUB, s, NULL, 0, 1, u, n));
    NERVE_STEP(NERVE_MAP(ctx, MUL, s, u, 1, 0, s, n));
    NERVE_STEP(NERVE_MAP(ctx, MUL, s, x, 1, 0, s, n));
    NERVE_STEP(NERVE_MAP(ctx, MUL, s, x, 1, 0, s, n));
    NERVE_STEP(NERVE_MAP(ctx, MUL, s, dy, 1, 0, s, n));
    NERVE_STEP(nerve_generic_sum(ctx, s, n, 1, sum));
    st = NERVE_KERNEL(ctx, add_block, 1, 1, sum, 1, dbeta, 1);
done:
    nerve_generic_release(ctx, s);
    return st;
}

/* x viewed as [outer * channels rows, inner]: the slopes repeated per
 * outer index, one per row (fill_rows), into rows_slope. */
static nerve_status row_slopes(const nerve_kernel_ctx *ctx, const nerve_real *slope,
                               int64_t outer, int64_t channels, nerve_real *rows_slope)
{
    return NERVE_KERNEL(ctx, fill_rows, rows_slope, slope, outer, channels);
}

/* slope * x everywhere, then x itself selected where x > 0. */
nerve_status nerve_generic_prelu_forward(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                         const nerve_real *slope, nerve_real *y, int64_t outer,
                                         int64_t channels, int64_t inner)
{
    int64_t rows = outer * channels, n = rows * inner;
    nerve_real *m;
    NERVE_TRY(nerve_generic_scratch(ctx, n + rows, &m));
    nerve_real *s = m + n;
    nerve_status st;
    NERVE_STEP(row_slopes(ctx, slope, outer, channels, s));
    NERVE_STEP(NERVE_MAP(ctx, GT, x, NULL, 0, 0, m, n));
    NERVE_STEP(NERVE_KERNEL(ctx, scale_rows, x, s, y, rows, inner));
    st = NERVE_MAP(ctx, SELECT, m, x, 1, 0, y, n);
done:
    nerve_generic_release(ctx, m);
    return st;
}

/* dx += (x > 0 ? dy : slope dy); dslope[c] += the channel sums of x dy
 * where x <= 0. */
nerve_status nerve_generic_prelu_backward(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                          const nerve_real *slope, const nerve_real *dy,
                                          nerve_real *dx, nerve_real *dslope, int64_t outer,
                                          int64_t channels, int64_t inner)
{
    int64_t rows = outer * channels, n = rows * inner;
    nerve_real *m;
    NERVE_TRY(nerve_generic_scratch(ctx, 3 * n + rows, &m));
    nerve_real *g = m + n, *z = g + n, *s = z + n;
    nerve_status st = NERVE_OK;
    if (dx) {
        NERVE_STEP(row_slopes(ctx, slope, outer, channels, s));
        NERVE_STEP(NERVE_KERNEL(ctx, scale_rows, dy, s, g, rows, inner));
        NERVE_STEP(NERVE_MAP(ctx, GT, x, NULL, 0, 0, m, n));
        NERVE_STEP(NERVE_MAP(ctx, SELECT, m, dy, 1, 0, g, n));
        NERVE_STEP(NERVE_KERNEL(ctx, add_block, 1, n, g, n, dx, n));
    }
    if (dslope) {
        NERVE_STEP(NERVE_MAP(ctx, MUL, x, dy, 1, 0, g, n));
        NERVE_STEP(NERVE_MAP(ctx, LE, x, NULL, 0, 0, m, n));
        NERVE_STEP(ctx->device->set(ctx, z, 0, (size_t)n * sizeof *z));
        NERVE_STEP(NERVE_MAP(ctx, SELECT, m, g, 1, 0, z, n));
        NERVE_STEP(NERVE_KERNEL(ctx, sum_channels, z, dslope, outer, channels, inner));
    }
done:
    nerve_generic_release(ctx, m);
    return st;
}
