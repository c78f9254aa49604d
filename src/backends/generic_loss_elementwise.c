/* Generic versions of the element-wise losses: each term a few maps over
 * device scratch, the loss one reduction, a gradient one accumulation. */
#include "backends/generic.h"

nerve_status nerve_generic_squared_error(const nerve_kernel_ctx *ctx, const nerve_real *a,
                                         const nerve_real *b, int64_t n, double scale,
                                         nerve_real *loss)
{
    nerve_real *d;
    NERVE_TRY(nerve_generic_scratch(ctx, n, &d));
    nerve_status st;
    NERVE_STEP(NERVE_MAP(ctx, SUB, a, b, 1, 0, d, n));
    NERVE_STEP(NERVE_MAP(ctx, MUL, d, d, 1, 0, d, n));
    st = nerve_generic_sum(ctx, d, n, scale, loss);
done:
    nerve_generic_release(ctx, d);
    return st;
}

nerve_status nerve_generic_add_scaled_difference(const nerve_kernel_ctx *ctx, int64_t n,
                                                 const nerve_real *dloss, nerve_real scale,
                                                 const nerve_real *a, const nerve_real *b,
                                                 nerve_real *y)
{
    nerve_real *d;
    NERVE_TRY(nerve_generic_scratch(ctx, n, &d));
    nerve_status st;
    NERVE_STEP(NERVE_MAP(ctx, SUB, a, b, 1, 0, d, n));
    st = nerve_generic_accumulate(ctx, d, n, scale, dloss, y);
done:
    nerve_generic_release(ctx, d);
    return st;
}

/* |a - b| (absolute error) or sign(a - b) (its gradient) into d. */
static nerve_status difference(const nerve_kernel_ctx *ctx, nerve_map_op op, const nerve_real *a,
                               const nerve_real *b, int64_t n, nerve_real *d)
{
    NERVE_TRY(NERVE_MAP(ctx, SUB, a, b, 1, 0, d, n));
    return NERVE_KERNEL(ctx, map, op, d, NULL, 0, 0, d, n);
}

nerve_status nerve_generic_absolute_error(const nerve_kernel_ctx *ctx, const nerve_real *a,
                                          const nerve_real *b, int64_t n, double scale,
                                          nerve_real *loss)
{
    nerve_real *d;
    NERVE_TRY(nerve_generic_scratch(ctx, n, &d));
    nerve_status st;
    NERVE_STEP(difference(ctx, NERVE_MAP_ABS, a, b, n, d));
    st = nerve_generic_sum(ctx, d, n, scale, loss);
done:
    nerve_generic_release(ctx, d);
    return st;
}

nerve_status nerve_generic_absolute_error_backward(const nerve_kernel_ctx *ctx,
                                                   const nerve_real *a, const nerve_real *b,
                                                   const nerve_real *dloss, nerve_real scale,
                                                   nerve_real *da, int64_t n)
{
    nerve_real *d;
    NERVE_TRY(nerve_generic_scratch(ctx, n, &d));
    nerve_status st;
    NERVE_STEP(difference(ctx, NERVE_MAP_SIGN, a, b, n, d));
    st = nerve_generic_accumulate(ctx, d, n, scale, dloss, da);
done:
    nerve_generic_release(ctx, d);
    return st;
}

/* d = |a - b|: the linear part d - beta / 2, then the quadratic one
 * d^2 / 2 / beta selected where d < beta. */
nerve_status nerve_generic_smooth_l1(const nerve_kernel_ctx *ctx, const nerve_real *a,
                                     const nerve_real *b, nerve_real beta, int64_t n,
                                     double scale, nerve_real *loss)
{
    nerve_real *d;
    NERVE_TRY(nerve_generic_scratch(ctx, 3 * n, &d));
    nerve_real *q = d + n, *term = q + n;
    nerve_status st;
    NERVE_STEP(difference(ctx, NERVE_MAP_ABS, a, b, n, d));
    NERVE_STEP(NERVE_MAP(ctx, MUL, d, d, 1, 0, q, n));
    NERVE_STEP(NERVE_MAP(ctx, MUL, q, NULL, 0, 0.5, q, n));
    NERVE_STEP(NERVE_MAP(ctx, DIV, q, NULL, 0, beta, q, n));
    NERVE_STEP(NERVE_MAP(ctx, ADD, d, NULL, 0, -0.5 * beta, term, n));
    NERVE_STEP(NERVE_MAP(ctx, LT, d, NULL, 0, beta, d, n));
    NERVE_STEP(NERVE_MAP(ctx, SELECT, d, q, 1, 0, term, n));
    st = nerve_generic_sum(ctx, term, n, scale, loss);
done:
    nerve_generic_release(ctx, d);
    return st;
}

/* clamp(d / beta, -1, 1) in torch's order of tests: d <= -beta wins, so
 * that beta = 0, d = 0 gives -1. */
nerve_status nerve_generic_smooth_l1_backward(const nerve_kernel_ctx *ctx, const nerve_real *a,
                                              const nerve_real *b, nerve_real beta,
                                              const nerve_real *dloss, nerve_real scale,
                                              nerve_real *da, int64_t n)
{
    nerve_real *d;
    NERVE_TRY(nerve_generic_scratch(ctx, 3 * n, &d));
    nerve_real *slope = d + n, *m = slope + n;
    nerve_status st;
    NERVE_STEP(NERVE_MAP(ctx, SUB, a, b, 1, 0, d, n));
    NERVE_STEP(NERVE_MAP(ctx, DIV, d, NULL, 0, beta, slope, n));
    NERVE_STEP(NERVE_MAP(ctx, GE, d, NULL, 0, beta, m, n));
    NERVE_STEP(NERVE_MAP(ctx, SELECT, m, NULL, 0, 1, slope, n));
    NERVE_STEP(NERVE_MAP(ctx, LE, d, NULL, 0, -(double)beta, m, n));
    NERVE_STEP(NERVE_MAP(ctx, SELECT, m, NULL, 0, -1, slope, n));
    st = nerve_generic_accumulate(ctx, slope, n, scale, dloss, da);
done:
    nerve_generic_release(ctx, d);
    return st;
}

/* max(log v, -100) of v = p, or of v = 1 - p with one_minus. */
static nerve_status clamped_log(const nerve_kernel_ctx *ctx, const nerve_real *p, bool one_minus,
                                nerve_real *out, int64_t n)
{
    if (one_minus)
        NERVE_TRY(NERVE_MAP(ctx, RSUB, p, NULL, 0, 1, out, n));
    NERVE_TRY(NERVE_MAP(ctx, LOG, one_minus ? out : p, NULL, 0, 0, out, n));
    return NERVE_MAP(ctx, MAX, out, NULL, 0, -100, out, n);
}

/* -(y log p + (1 - y) log(1 - p)), summed. */
nerve_status nerve_generic_binary_cross_entropy(const nerve_kernel_ctx *ctx, const nerve_real *p,
                                                const nerve_real *y, int64_t n, double scale,
                                                nerve_real *loss)
{
    nerve_real *log_p;
    NERVE_TRY(nerve_generic_scratch(ctx, 3 * n, &log_p));
    nerve_real *log_q = log_p + n, *t = log_q + n;
    nerve_status st;
    NERVE_STEP(clamped_log(ctx, p, false, log_p, n));
    NERVE_STEP(clamped_log(ctx, p, true, log_q, n));
    NERVE_STEP(NERVE_MAP(ctx, MUL, log_p, y, 1, 0, log_p, n));
    NERVE_STEP(NERVE_MAP(ctx, RSUB, y, NULL, 0, 1, t, n));
    NERVE_STEP(NERVE_MAP(ctx, MUL, t, log_q, 1, 0, t, n));
    NERVE_STEP(NERVE_MAP(ctx, ADD, t, log_p, 1, 0, t, n));
    st = nerve_generic_sum(ctx, t, n, -scale, loss);
done:
    nerve_generic_release(ctx, log_p);
    return st;
}

/* (p - y) / max(p (1 - p), 1e-12). */
nerve_status nerve_generic_binary_cross_entropy_backward(const nerve_kernel_ctx *ctx,
                                                         const nerve_real *p, const nerve_real *y,
                                                         const nerve_real *dloss,
                                                         nerve_real scale, nerve_real *dp,
                                                         int64_t n)
{
    nerve_real *g;
    NERVE_TRY(nerve_generic_scratch(ctx, 2 * n, &g));
    nerve_real *den = g + n;
    nerve_status st;
    NERVE_STEP(NERVE_MAP(ctx, SUB, p, y, 1, 0, g, n));
    NERVE_STEP(NERVE_MAP(ctx, RSUB, p, NULL, 0, 1, den, n));
    NERVE_STEP(NERVE_MAP(ctx, MUL, den, p, 1, 0, den, n));
    NERVE_STEP(NERVE_MAP(ctx, MAX, den, NULL, 0, 1e-12, den, n));
    NERVE_STEP(NERVE_MAP(ctx, DIV, g, den, 1, 0, g, n));
    st = nerve_generic_accumulate(ctx, g, n, scale, dloss, dp);
done:
    nerve_generic_release(ctx, g);
    return st;
}

/* c = 1 + (pw - 1) y, pw = pos_weight[col] (each row the same), into c;
 * pw y into pw_y where not NULL. */
static nerve_status positive_weight(const nerve_kernel_ctx *ctx, const nerve_real *pos_weight,
                                    const nerve_real *y, int64_t rows, int64_t cols,
                                    nerve_real *c, nerve_real *pw_y)
{
    int64_t n = rows * cols;
    NERVE_TRY(NERVE_KERNEL(ctx, fill_rows, c, pos_weight, rows, cols));
    if (pw_y) NERVE_TRY(NERVE_MAP(ctx, MUL, c, y, 1, 0, pw_y, n));
    NERVE_TRY(NERVE_MAP(ctx, ADD, c, NULL, 0, -1, c, n));
    NERVE_TRY(NERVE_MAP(ctx, MUL, c, y, 1, 0, c, n));
    return NERVE_MAP(ctx, ADD, c, NULL, 0, 1, c, n);
}

/* (1 - y) x + c log(1 + exp(-x)), the log as max(-x, 0) + log1p(exp(-|x|)). */
nerve_status nerve_generic_bce_with_logits(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                           const nerve_real *y, const nerve_real *pos_weight,
                                           int64_t rows, int64_t cols, double scale,
                                           nerve_real *loss)
{
    int64_t n = rows * cols;
    nerve_real *l;
    NERVE_TRY(nerve_generic_scratch(ctx, 3 * n, &l));
    nerve_real *t = l + n, *c = t + n;
    nerve_status st;
    NERVE_STEP(NERVE_MAP(ctx, ABS, x, NULL, 0, 0, l, n));
    NERVE_STEP(NERVE_MAP(ctx, MUL, l, NULL, 0, -1, l, n));
    NERVE_STEP(NERVE_MAP(ctx, EXP, l, NULL, 0, 0, l, n));
    NERVE_STEP(NERVE_MAP(ctx, LOG1P, l, NULL, 0, 0, l, n));
    NERVE_STEP(NERVE_MAP(ctx, MUL, x, NULL, 0, -1, t, n));
    NERVE_STEP(NERVE_MAP(ctx, MAX, t, NULL, 0, 0, t, n));
    NERVE_STEP(NERVE_MAP(ctx, ADD, l, t, 1, 0, l, n));
    if (pos_weight) {
        NERVE_STEP(positive_weight(ctx, pos_weight, y, rows, cols, c, NULL));
        NERVE_STEP(NERVE_MAP(ctx, MUL, l, c, 1, 0, l, n));
    }
    NERVE_STEP(NERVE_MAP(ctx, RSUB, y, NULL, 0, 1, t, n));
    NERVE_STEP(NERVE_MAP(ctx, MUL, t, x, 1, 0, t, n));
    NERVE_STEP(NERVE_MAP(ctx, ADD, t, l, 1, 0, t, n));
    st = nerve_generic_sum(ctx, t, n, scale, loss);
done:
    nerve_generic_release(ctx, l);
    return st;
}

/* c sigmoid(x) - pw y. */
nerve_status nerve_generic_bce_with_logits_backward(const nerve_kernel_ctx *ctx,
                                                    const nerve_real *x, const nerve_real *y,
                                                    const nerve_real *pos_weight,
                                                    const nerve_real *dloss, nerve_real scale,
                                                    nerve_real *dx, int64_t rows, int64_t cols)
{
    int64_t n = rows * cols;
    nerve_real *g;
    NERVE_TRY(nerve_generic_scratch(ctx, 3 * n, &g));
    nerve_real *c = g + n, *pw_y = c + n;
    nerve_activation_params params = {0}; /* sigmoid reads no parameter */
    nerve_status st;
    NERVE_STEP(NERVE_KERNEL(ctx, activation_forward, NERVE_ACT_SIGMOID, &params, x, g, n));
    if (pos_weight) {
        NERVE_STEP(positive_weight(ctx, pos_weight, y, rows, cols, c, pw_y));
        NERVE_STEP(NERVE_MAP(ctx, MUL, g, c, 1, 0, g, n));
        NERVE_STEP(NERVE_MAP(ctx, SUB, g, pw_y, 1, 0, g, n));
    } else {
        NERVE_STEP(NERVE_MAP(ctx, SUB, g, y, 1, 0, g, n));
    }
    st = nerve_generic_accumulate(ctx, g, n, scale, dloss, dx);
done:
    nerve_generic_release(ctx, g);
    return st;
}
