/* Generic versions of softmax's and log-softmax's gradients and of softmax
 * cross-entropy, from the core's softmax and log-softmax, sums along the
 * axis and maps. */
#include "backends/generic.h"

/* dx += y (dy - sum(dy y)) along the axis. */
nerve_status nerve_generic_softmax_backward(const nerve_kernel_ctx *ctx, const nerve_real *y,
                                            const nerve_real *dy, nerve_real *dx, int64_t outer,
                                            int64_t len, int64_t inner)
{
    int64_t n = outer * len * inner;
    nerve_real *g;
    NERVE_TRY(nerve_generic_scratch(ctx, 2 * n + outer * inner, &g));
    nerve_real *b = g + n, *sums = b + n;
    nerve_status st;
    NERVE_STEP(NERVE_MAP(ctx, MUL, dy, y, 1, 0, g, n));
    NERVE_STEP(nerve_generic_axis_sums(ctx, g, outer, len, inner, sums));
    NERVE_STEP(nerve_generic_axis_broadcast(ctx, sums, outer, len, inner, b));
    NERVE_STEP(NERVE_MAP(ctx, SUB, dy, b, 1, 0, g, n));
    NERVE_STEP(NERVE_MAP(ctx, MUL, g, y, 1, 0, g, n));
    st = NERVE_KERNEL(ctx, add_block, 1, n, g, n, dx, n);
done:
    nerve_generic_release(ctx, g);
    return st;
}

/* dx += dy - exp(y) sum(dy) along the axis. */
nerve_status nerve_generic_log_softmax_backward(const nerve_kernel_ctx *ctx, const nerve_real *y,
                                                const nerve_real *dy, nerve_real *dx,
                                                int64_t outer, int64_t len, int64_t inner)
{
    int64_t n = outer * len * inner;
    nerve_real *g;
    NERVE_TRY(nerve_generic_scratch(ctx, 2 * n + outer * inner, &g));
    nerve_real *b = g + n, *sums = b + n;
    nerve_status st;
    NERVE_STEP(nerve_generic_axis_sums(ctx, dy, outer, len, inner, sums));
    NERVE_STEP(nerve_generic_axis_broadcast(ctx, sums, outer, len, inner, b));
    NERVE_STEP(NERVE_MAP(ctx, EXP, y, NULL, 0, 0, g, n));
    NERVE_STEP(NERVE_MAP(ctx, MUL, g, b, 1, 0, g, n));
    NERVE_STEP(NERVE_MAP(ctx, RSUB, g, dy, 1, 0, g, n));
    st = NERVE_KERNEL(ctx, add_block, 1, n, g, n, dx, n);
done:
    nerve_generic_release(ctx, g);
    return st;
}

/* q [rows, cols] = (1 - s) w_y [c == y] + (s / C) w_c, and wy = w_y where
 * target marks the label (0 elsewhere); target is overwritten. */
static nerve_status smoothed_targets(const nerve_kernel_ctx *ctx, const nerve_real *weights,
                                     nerve_real *target, double s, int64_t rows,
                                     int64_t cols, nerve_real *q, nerve_real *wy)
{
    int64_t n = rows * cols;
    if (weights)
        NERVE_TRY(NERVE_KERNEL(ctx, fill_rows, q, weights, rows, cols));
    else
        NERVE_TRY(nerve_generic_ones(ctx, q, n));
    NERVE_TRY(NERVE_MAP(ctx, MUL, q, target, 1, 0, wy, n));
    NERVE_TRY(NERVE_MAP(ctx, MUL, q, NULL, 0, s / (double)cols, q, n));
    NERVE_TRY(NERVE_MAP(ctx, MUL, wy, NULL, 0, 1 - s, target, n));
    return NERVE_MAP(ctx, ADD, q, target, 1, 0, q, n);
}

/* -sum q log softmax, plus NaN for each row without a label; f = scale or
 * scale / sum w_y. */
nerve_status nerve_generic_cross_entropy(const nerve_kernel_ctx *ctx, const nerve_real *logits,
                                         const nerve_real *labels, const nerve_real *weights,
                                         nerve_real smoothing, nerve_real *prob, int64_t rows,
                                         int64_t cols, double scale, bool per_weight,
                                         nerve_real *loss, nerve_real *factor)
{
    int64_t n = rows * cols;
    nerve_real *onehot;
    NERVE_TRY(nerve_generic_scratch(ctx, 5 * n + 2, &onehot));
    nerve_real *target = onehot + n, *q = target + n, *wy = q + n, *z = wy + n, *total = z + n,
               *f = total + 1;
    nerve_status st;
    NERVE_STEP(NERVE_KERNEL(ctx, softmax, logits, prob, rows, cols, 1));
    NERVE_STEP(NERVE_KERNEL(ctx, log_softmax, logits, z, rows, cols, 1));
    NERVE_STEP(nerve_generic_targets(ctx, labels, rows, cols, onehot, target));
    NERVE_STEP(smoothed_targets(ctx, weights, target, smoothing, rows, cols, q, wy));
    NERVE_STEP(NERVE_MAP(ctx, MUL, z, q, 1, 0, z, n));
    NERVE_STEP(NERVE_MAP(ctx, MUL, onehot, NULL, 0, 0, onehot, n)); /* 0, or NaN: no label */
    NERVE_STEP(NERVE_MAP(ctx, SUB, z, onehot, 1, 0, z, n));
    NERVE_STEP(nerve_generic_sum(ctx, z, n, -1, total));
    if (per_weight) {
        NERVE_STEP(nerve_generic_sum(ctx, wy, n, 1, f));
        NERVE_STEP(NERVE_MAP(ctx, RDIV, f, NULL, 0, scale, f, 1));
    } else {
        NERVE_STEP(ctx->device->set(ctx, f, 0, sizeof *f));
        NERVE_STEP(NERVE_MAP(ctx, ADD, f, NULL, 0, scale, f, 1));
    }
    NERVE_STEP(NERVE_MAP(ctx, MUL, total, f, 0, 0, loss, 1));
    if (factor) NERVE_STEP(ctx->device->copy(ctx, factor, f, sizeof *f));
done:
    nerve_generic_release(ctx, onehot);
    return st;
}

/* dlogits += dloss[0] factor[0] (prob sum(q) - q) on rows with a label. */
nerve_status nerve_generic_cross_entropy_backward(const nerve_kernel_ctx *ctx,
                                                  const nerve_real *prob,
                                                  const nerve_real *labels,
                                                  const nerve_real *weights, nerve_real smoothing,
                                                  const nerve_real *dloss,
                                                  const nerve_real *factor, nerve_real *dlogits,
                                                  int64_t rows, int64_t cols)
{
    int64_t n = rows * cols;
    nerve_real *onehot;
    NERVE_TRY(nerve_generic_scratch(ctx, 5 * n + 2 * rows + 1, &onehot));
    nerve_real *target = onehot + n, *q = target + n, *wy = q + n, *g = wy + n, *sums = g + n,
               *labelled = sums + rows, *k = labelled + rows;
    nerve_status st;
    NERVE_STEP(nerve_generic_targets(ctx, labels, rows, cols, onehot, target));
    NERVE_STEP(nerve_generic_row_sums(ctx, target, rows, cols, labelled));
    NERVE_STEP(smoothed_targets(ctx, weights, target, smoothing, rows, cols, q, wy));
    NERVE_STEP(nerve_generic_row_sums(ctx, q, rows, cols, sums));
    NERVE_STEP(NERVE_KERNEL(ctx, scale_rows, prob, sums, g, rows, cols));
    NERVE_STEP(NERVE_MAP(ctx, SUB, g, q, 1, 0, g, n));
    NERVE_STEP(NERVE_MAP(ctx, MUL, dloss, factor, 1, 0, k, 1));
    NERVE_STEP(NERVE_MAP(ctx, MUL, labelled, k, 0, 0, labelled, rows));
    NERVE_STEP(NERVE_KERNEL(ctx, scale_rows, g, labelled, g, rows, cols));
    st = NERVE_KERNEL(ctx, add_block, 1, n, g, n, dlogits, n);
done:
    nerve_generic_release(ctx, onehot);
    return st;
}
