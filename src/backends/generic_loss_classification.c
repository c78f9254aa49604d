/* Generic versions of the class-probability losses (nll, focal,
 * distillation): labels become one-hot rows (one_hot, NaN rows for a label
 * outside the classes) and a 0/1 target mask, the label's entry is picked
 * by a masked copy and a row sum, the rest is maps and reductions. */
#include "backends/generic.h"

/* w [rows, cols]: the class weights in every row, times the target mask. */
static nerve_status label_weights(const nerve_kernel_ctx *ctx, const nerve_real *weights,
                                  const nerve_real *target, int64_t rows, int64_t cols,
                                  nerve_real *w)
{
    NERVE_TRY(NERVE_KERNEL(ctx, fill_rows, w, weights, rows, cols));
    return NERVE_MAP(ctx, MUL, w, target, 1, 0, w, rows * cols);
}

/* -sum w_y log_probs[y] times f = scale (or scale / sum w_y). */
nerve_status nerve_generic_nll(const nerve_kernel_ctx *ctx, const nerve_real *log_probs,
                               const nerve_real *labels, const nerve_real *weights, int64_t rows,
                               int64_t cols, double scale, bool per_weight, nerve_real *loss,
                               nerve_real *factor)
{
    int64_t n = rows * cols;
    nerve_real *onehot;
    NERVE_TRY(nerve_generic_scratch(ctx, 4 * n + 2, &onehot));
    nerve_real *target = onehot + n, *z = target + n, *w = z + n, *total = w + n, *f = total + 1;
    nerve_status st;
    NERVE_STEP(nerve_generic_targets(ctx, labels, rows, cols, onehot, target));
    NERVE_STEP(ctx->device->set(ctx, z, 0, (size_t)n * sizeof *z));
    NERVE_STEP(NERVE_MAP(ctx, SELECT, target, log_probs, 1, 0, z, n));
    NERVE_STEP(NERVE_MAP(ctx, MUL, z, onehot, 1, 0, z, n)); /* NaN rows */
    if (weights) {
        NERVE_STEP(label_weights(ctx, weights, target, rows, cols, w));
        NERVE_STEP(NERVE_MAP(ctx, MUL, z, w, 1, 0, z, n));
        target = w; /* w_y where the labels are */
    }
    NERVE_STEP(nerve_generic_sum(ctx, z, n, -1, total));
    if (per_weight) {
        NERVE_STEP(nerve_generic_sum(ctx, target, n, 1, f));
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

/* dlog_probs -= dloss[0] factor[0] w_y at each label. */
nerve_status nerve_generic_nll_backward(const nerve_kernel_ctx *ctx, const nerve_real *labels,
                                        const nerve_real *weights, const nerve_real *dloss,
                                        const nerve_real *factor, nerve_real *dlog_probs,
                                        int64_t rows, int64_t cols)
{
    int64_t n = rows * cols;
    nerve_real *onehot;
    NERVE_TRY(nerve_generic_scratch(ctx, 2 * n + 1, &onehot));
    nerve_real *target = onehot + n, *s = target + n;
    nerve_status st;
    NERVE_STEP(nerve_generic_targets(ctx, labels, rows, cols, onehot, target));
    if (weights) { /* w_y where the labels are, into onehot (no longer needed) */
        NERVE_STEP(label_weights(ctx, weights, target, rows, cols, onehot));
        target = onehot;
    }
    NERVE_STEP(NERVE_MAP(ctx, MUL, dloss, factor, 1, 0, s, 1));
    NERVE_STEP(NERVE_MAP(ctx, MUL, target, s, 0, 0, target, n));
    st = NERVE_MAP(ctx, SUB, dlog_probs, target, 1, 0, dlog_probs, n);
done:
    nerve_generic_release(ctx, onehot);
    return st;
}

/* Row loss -alpha_y (1 - p)^gamma log p, p = prob[y]: log p picked from the
 * log-softmax, 1 - p as -expm1(log p). */
nerve_status nerve_generic_focal(const nerve_kernel_ctx *ctx, const nerve_real *logits,
                                 const nerve_real *labels, const nerve_real *alpha,
                                 nerve_real gamma, nerve_real *prob, nerve_real *log_pt,
                                 int64_t rows, int64_t cols, double scale, nerve_real *loss)
{
    int64_t n = rows * cols;
    nerve_real *onehot;
    NERVE_TRY(nerve_generic_scratch(ctx, 4 * n + 2 * rows, &onehot));
    nerve_real *target = onehot + n, *z = target + n, *w = z + n, *t = w + n, *a = t + rows;
    nerve_status st;
    NERVE_STEP(NERVE_KERNEL(ctx, softmax, logits, prob, rows, cols, 1));
    NERVE_STEP(NERVE_KERNEL(ctx, log_softmax, logits, z, rows, cols, 1));
    NERVE_STEP(nerve_generic_targets(ctx, labels, rows, cols, onehot, target));
    NERVE_STEP(nerve_generic_pick(ctx, z, target, rows, cols, w, log_pt));
    NERVE_STEP(nerve_generic_row_sums(ctx, onehot, rows, cols, t));
    NERVE_STEP(NERVE_MAP(ctx, MUL, t, NULL, 0, 0, t, rows)); /* 0, or NaN: no label */
    NERVE_STEP(NERVE_MAP(ctx, ADD, log_pt, t, 1, 0, log_pt, rows));
    NERVE_STEP(NERVE_MAP(ctx, EXPM1, log_pt, NULL, 0, 0, t, rows));
    NERVE_STEP(NERVE_MAP(ctx, MUL, t, NULL, 0, -1, t, rows));
    NERVE_STEP(NERVE_MAP(ctx, POW, t, NULL, 0, gamma, t, rows));
    NERVE_STEP(NERVE_MAP(ctx, MUL, t, log_pt, 1, 0, t, rows));
    if (alpha) {
        NERVE_STEP(label_weights(ctx, alpha, target, rows, cols, w));
        NERVE_STEP(nerve_generic_row_sums(ctx, w, rows, cols, a));
        NERVE_STEP(NERVE_MAP(ctx, MUL, t, a, 1, 0, t, rows));
    }
    st = nerve_generic_sum(ctx, t, rows, -scale, loss);
done:
    nerve_generic_release(ctx, onehot);
    return st;
}

/* dlogits[r] += f_r (prob[r] with -(1 - p) at the label), f_r = scale
 * alpha_y ((1-p)^g - g (1-p)^(g-1) p log p), the second term only where
 * 1 - p > 0; rows without a label add nothing. */
nerve_status nerve_generic_focal_backward(const nerve_kernel_ctx *ctx, const nerve_real *prob,
                                          const nerve_real *log_pt, const nerve_real *labels,
                                          const nerve_real *alpha, nerve_real gamma,
                                          const nerve_real *dloss, nerve_real scale,
                                          nerve_real *dlogits, int64_t rows, int64_t cols)
{
    int64_t n = rows * cols;
    nerve_real *onehot;
    NERVE_TRY(nerve_generic_scratch(ctx, 3 * n + 7 * rows, &onehot));
    nerve_real *target = onehot + n, *g = target + n, *minus_q = g + n, *q = minus_q + rows;
    nerve_real *focus = q + rows, *t = focus + rows, *m = t + rows, *f = m + rows,
               *labelled = f + rows;
    double gm = gamma;
    nerve_status st;
    NERVE_STEP(nerve_generic_targets(ctx, labels, rows, cols, onehot, target));
    NERVE_STEP(nerve_generic_row_sums(ctx, target, rows, cols, labelled));
    NERVE_STEP(NERVE_MAP(ctx, EXPM1, log_pt, NULL, 0, 0, minus_q, rows));
    NERVE_STEP(NERVE_MAP(ctx, MUL, minus_q, NULL, 0, -1, q, rows));
    NERVE_STEP(NERVE_MAP(ctx, POW, q, NULL, 0, gm, focus, rows));
    if (gm != 0) {
        NERVE_STEP(NERVE_MAP(ctx, POW, q, NULL, 0, gm - 1, t, rows));
        NERVE_STEP(NERVE_MAP(ctx, EXP, log_pt, NULL, 0, 0, m, rows));
        NERVE_STEP(NERVE_MAP(ctx, MUL, t, m, 1, 0, t, rows));
        NERVE_STEP(NERVE_MAP(ctx, MUL, t, log_pt, 1, 0, t, rows));
        NERVE_STEP(NERVE_MAP(ctx, MUL, t, NULL, 0, gm, t, rows));
        NERVE_STEP(NERVE_MAP(ctx, GT, q, NULL, 0, 0, m, rows));
        NERVE_STEP(NERVE_MAP(ctx, MUL, t, NULL, 0, -1, t, rows));
        NERVE_STEP(NERVE_MAP(ctx, SELECT, m, t, 1, 0, m, rows)); /* -term or 0 */
        NERVE_STEP(NERVE_MAP(ctx, ADD, focus, m, 1, 0, focus, rows));
    }
    NERVE_STEP(NERVE_MAP(ctx, MUL, focus, NULL, 0, scale, focus, rows));
    if (dloss) NERVE_STEP(NERVE_MAP(ctx, MUL, focus, dloss, 0, 0, focus, rows));
    if (alpha) {
        NERVE_STEP(label_weights(ctx, alpha, target, rows, cols, g));
        NERVE_STEP(nerve_generic_row_sums(ctx, g, rows, cols, t));
        NERVE_STEP(NERVE_MAP(ctx, MUL, focus, t, 1, 0, focus, rows));
    }
    NERVE_STEP(ctx->device->set(ctx, f, 0, (size_t)rows * sizeof *f));
    NERVE_STEP(NERVE_MAP(ctx, SELECT, labelled, focus, 1, 0, f, rows));
    /* prob, with -(1 - p) = expm1(log p) at the label */
    NERVE_STEP(ctx->device->copy(ctx, g, prob, (size_t)n * sizeof *g));
    NERVE_STEP(NERVE_KERNEL(ctx, scale_rows, target, minus_q, onehot, rows, cols));
    NERVE_STEP(NERVE_MAP(ctx, SELECT, target, onehot, 1, 0, g, n));
    NERVE_STEP(NERVE_KERNEL(ctx, scale_rows, g, f, g, rows, cols));
    st = NERVE_KERNEL(ctx, add_block, 1, n, g, n, dlogits, n);
done:
    nerve_generic_release(ctx, onehot);
    return st;
}

/* KL(p_t || p_s) = sum p_t (log p_t - log p_s) of the tempered softmaxes,
 * 0 where p_t underflows to 0. */
nerve_status nerve_generic_distillation(const nerve_kernel_ctx *ctx, const nerve_real *student,
                                        const nerve_real *teacher, nerve_real temperature,
                                        nerve_real *student_prob, nerve_real *teacher_prob,
                                        int64_t rows, int64_t cols, double scale,
                                        nerve_real *loss)
{
    int64_t n = rows * cols;
    nerve_real *s;
    NERVE_TRY(nerve_generic_scratch(ctx, 4 * n, &s));
    nerve_real *t = s + n, *log_s = t + n, *log_t = log_s + n;
    nerve_status st;
    NERVE_STEP(NERVE_MAP(ctx, DIV, student, NULL, 0, temperature, s, n));
    NERVE_STEP(NERVE_MAP(ctx, DIV, teacher, NULL, 0, temperature, t, n));
    NERVE_STEP(NERVE_KERNEL(ctx, softmax, s, student_prob, rows, cols, 1));
    NERVE_STEP(NERVE_KERNEL(ctx, softmax, t, teacher_prob, rows, cols, 1));
    NERVE_STEP(NERVE_KERNEL(ctx, log_softmax, s, log_s, rows, cols, 1));
    NERVE_STEP(NERVE_KERNEL(ctx, log_softmax, t, log_t, rows, cols, 1));
    NERVE_STEP(NERVE_MAP(ctx, SUB, log_t, log_s, 1, 0, log_s, n));
    NERVE_STEP(NERVE_MAP(ctx, EXP, log_t, NULL, 0, 0, s, n));
    NERVE_STEP(NERVE_MAP(ctx, MUL, log_s, s, 1, 0, log_s, n));
    NERVE_STEP(NERVE_MAP(ctx, GT, teacher_prob, NULL, 0, 0, t, n));
    NERVE_STEP(ctx->device->set(ctx, s, 0, (size_t)n * sizeof *s));
    NERVE_STEP(NERVE_MAP(ctx, SELECT, t, log_s, 1, 0, s, n));
    st = nerve_generic_sum(ctx, s, n, scale, loss);
done:
    nerve_generic_release(ctx, s);
    return st;
}
