/* Generic versions of L-Softmax's kernels (kernels.h: large_margin_logits
 * and its backward), per row from the label's logit W_y.x (picked), the
 * norms |x| and |W_y| (W_y gathered by embedding's lookup, NaN rows for a
 * label outside the classes) and psi of the angle, all maps; W's gradient
 * goes back to the label's row by embedding's scatter. */
#include "backends/generic.h"

#define PI 3.14159265358979323846

/* psi at c = cos(theta) over n rows, psi(theta) = (-1)^k cos(m theta) - 2k
 * for theta in [k pi/m, (k+1) pi/m], and where slope is not NULL d psi / d c
 * = (-1)^k m sin(m theta) / sin(theta), or its limit m^2 (-1)^k (c > 0 ? 1
 * : (-1)^(m-1)) where sin(theta) is 0. scratch: 5 n. */
static nerve_status psi(const nerve_kernel_ctx *ctx, int m, const nerve_real *c, int64_t n,
                        nerve_real *value, nerve_real *slope, nerve_real *scratch)
{
    nerve_real *theta = scratch, *k = theta + n, *sign = k + n, *mt = sign + n, *u = mt + n;
    NERVE_TRY(NERVE_MAP(ctx, MAX, c, NULL, 0, -1, theta, n));
    NERVE_TRY(NERVE_MAP(ctx, MIN, theta, NULL, 0, 1, theta, n));
    NERVE_TRY(NERVE_MAP(ctx, ACOS, theta, NULL, 0, 0, theta, n));
    NERVE_TRY(NERVE_MAP(ctx, MUL, theta, NULL, 0, m / PI, k, n));
    NERVE_TRY(NERVE_MAP(ctx, FLOOR, k, NULL, 0, 0, k, n));
    NERVE_TRY(NERVE_MAP(ctx, MIN, k, NULL, 0, m - 1, k, n));
    NERVE_TRY(NERVE_MAP(ctx, MUL, k, NULL, 0, PI, sign, n));
    NERVE_TRY(NERVE_MAP(ctx, COS, sign, NULL, 0, 0, sign, n)); /* (-1)^k */
    NERVE_TRY(NERVE_MAP(ctx, MUL, theta, NULL, 0, m, mt, n));
    NERVE_TRY(NERVE_MAP(ctx, COS, mt, NULL, 0, 0, value, n));
    NERVE_TRY(NERVE_MAP(ctx, MUL, value, sign, 1, 0, value, n));
    NERVE_TRY(NERVE_MAP(ctx, MUL, k, NULL, 0, 2, u, n));
    NERVE_TRY(NERVE_MAP(ctx, SUB, value, u, 1, 0, value, n));
    if (!slope) return NERVE_OK;
    NERVE_TRY(NERVE_MAP(ctx, SIN, mt, NULL, 0, 0, slope, n));
    NERVE_TRY(NERVE_MAP(ctx, MUL, slope, sign, 1, 0, slope, n));
    NERVE_TRY(NERVE_MAP(ctx, MUL, slope, NULL, 0, m, slope, n));
    NERVE_TRY(NERVE_MAP(ctx, SIN, theta, NULL, 0, 0, u, n));
    NERVE_TRY(NERVE_MAP(ctx, DIV, slope, u, 1, 0, slope, n));
    /* the limit, (-1)^k m^2 (c > 0 ? 1 : alt), where |sin theta| <= 1e-12 */
    double alt = (m - 1) % 2 ? -1 : 1;
    NERVE_TRY(NERVE_MAP(ctx, GT, c, NULL, 0, 0, mt, n));
    NERVE_TRY(NERVE_MAP(ctx, MUL, mt, NULL, 0, 1 - alt, mt, n));
    NERVE_TRY(NERVE_MAP(ctx, ADD, mt, NULL, 0, alt, mt, n));
    NERVE_TRY(NERVE_MAP(ctx, MUL, mt, sign, 1, 0, mt, n));
    NERVE_TRY(NERVE_MAP(ctx, MUL, mt, NULL, 0, (double)m * m, mt, n));
    NERVE_TRY(NERVE_MAP(ctx, ABS, u, NULL, 0, 0, u, n));
    NERVE_TRY(NERVE_MAP(ctx, LE, u, NULL, 0, 1e-12, u, n));
    return NERVE_MAP(ctx, SELECT, u, mt, 1, 0, slope, n);
}

/* The rows' quantities both kernels start from. */
typedef struct margin_rows {
    nerve_real *onehot, *target, *pick; /* [rows, cols] */
    nerve_real *w_y, *square;           /* [rows, dim] */
    nerve_real *f, *nx, *nw, *c, *psi, *slope, *labelled, *t, *u, *scratch; /* [rows]; scratch 5 */
} margin_rows;

static nerve_status margin_rows_new(const nerve_kernel_ctx *ctx, int64_t rows, int64_t cols,
                                    int64_t dim, margin_rows *m, nerve_real **memory)
{
    int64_t n = rows * cols, d = rows * dim;
    NERVE_TRY(nerve_generic_scratch(ctx, 3 * n + 2 * d + 15 * rows, memory));
    nerve_real *p = *memory;
    m->onehot = p, m->target = p + n, m->pick = p + 2 * n;
    m->w_y = p + 3 * n, m->square = m->w_y + d;
    nerve_real **row[] = {&m->f, &m->nx, &m->nw, &m->c, &m->psi, &m->slope, &m->labelled,
                          &m->t, &m->u, &m->scratch};
    p = m->square + d;
    for (size_t i = 0; i < sizeof row / sizeof *row; i++, p += rows) *row[i] = p;
    return NERVE_OK;
}

/* f = W_y.x (the label's logit), nx = |x|, nw = |W_y|, c = f / (nx nw),
 * psi (and its slope where wanted) at c. */
static nerve_status margin_angle(const nerve_kernel_ctx *ctx, const nerve_real *logits,
                                 const nerve_real *x, const nerve_real *w,
                                 const nerve_real *labels, int margin, int64_t rows,
                                 int64_t cols, int64_t dim, bool slope, margin_rows *m)
{
    NERVE_TRY(nerve_generic_targets(ctx, labels, rows, cols, m->onehot, m->target));
    NERVE_TRY(nerve_generic_pick(ctx, logits, m->target, rows, cols, m->pick, m->f));
    NERVE_TRY(NERVE_MAP(ctx, MUL, x, x, 1, 0, m->square, rows * dim));
    NERVE_TRY(nerve_generic_row_sums(ctx, m->square, rows, dim, m->nx));
    NERVE_TRY(NERVE_MAP(ctx, SQRT, m->nx, NULL, 0, 0, m->nx, rows));
    NERVE_TRY(NERVE_KERNEL(ctx, embedding_forward, labels, w, m->w_y, rows, cols, dim));
    NERVE_TRY(NERVE_MAP(ctx, MUL, m->w_y, m->w_y, 1, 0, m->square, rows * dim));
    NERVE_TRY(nerve_generic_row_sums(ctx, m->square, rows, dim, m->nw));
    NERVE_TRY(NERVE_MAP(ctx, SQRT, m->nw, NULL, 0, 0, m->nw, rows));
    NERVE_TRY(NERVE_MAP(ctx, MUL, m->nx, m->nw, 1, 0, m->c, rows));
    NERVE_TRY(NERVE_MAP(ctx, DIV, m->f, m->c, 1, 0, m->c, rows));
    return psi(ctx, margin, m->c, rows, m->psi, slope ? m->slope : NULL, m->scratch);
}

/* dst[r] = the mask's rows (mask[r] != 0) of src, 0 elsewhere. */
static nerve_status masked(const nerve_kernel_ctx *ctx, const nerve_real *mask,
                           const nerve_real *src, nerve_real *dst, int64_t n)
{
    NERVE_TRY(ctx->device->set(ctx, dst, 0, (size_t)n * sizeof *dst));
    return NERVE_MAP(ctx, SELECT, mask, src, 1, 0, dst, n);
}

/* The label's logit becomes (lambda f + |W_y||x| psi) / (1 + lambda), the
 * second term 0 where a norm is 0. */
nerve_status nerve_generic_large_margin_logits(const nerve_kernel_ctx *ctx,
                                               const nerve_real *logits, const nerve_real *x,
                                               const nerve_real *w, const nerve_real *labels,
                                               int margin, nerve_real lambda, nerve_real *out,
                                               int64_t rows, int64_t cols, int64_t dim)
{
    int64_t n = rows * cols;
    margin_rows m;
    nerve_real *memory;
    NERVE_TRY(margin_rows_new(ctx, rows, cols, dim, &m, &memory));
    nerve_status st;
    NERVE_STEP(margin_angle(ctx, logits, x, w, labels, margin, rows, cols, dim, false, &m));
    NERVE_STEP(NERVE_MAP(ctx, MUL, m.nx, m.nw, 1, 0, m.t, rows));
    NERVE_STEP(NERVE_MAP(ctx, MUL, m.psi, m.t, 1, 0, m.psi, rows));
    NERVE_STEP(NERVE_MAP(ctx, GT, m.t, NULL, 0, 0, m.t, rows));
    NERVE_STEP(masked(ctx, m.t, m.psi, m.u, rows));
    NERVE_STEP(NERVE_MAP(ctx, MUL, m.f, NULL, 0, lambda, m.t, rows));
    NERVE_STEP(NERVE_MAP(ctx, ADD, m.t, m.u, 1, 0, m.t, rows));
    NERVE_STEP(NERVE_MAP(ctx, DIV, m.t, NULL, 0, 1 + (double)lambda, m.t, rows));
    NERVE_STEP(ctx->device->copy(ctx, out, logits, (size_t)n * sizeof *out));
    NERVE_STEP(NERVE_KERNEL(ctx, scale_rows, m.target, m.t, m.pick, rows, cols));
    st = NERVE_MAP(ctx, SELECT, m.target, m.pick, 1, 0, out, n);
done:
    nerve_generic_release(ctx, memory);
    return st;
}

/* dlogits += dout, the label's entry scaled by lambda / (1 + lambda); with
 * share = dout_y / (1 + lambda), a = psi - c psi' and rows whose label,
 * |x| and |W_y| are all there: dx += share (a |W|/|x| x + psi' W_y), and
 * W_y's gradient share (a |x|/|W| W_y + psi' x), scattered to W's rows. */
nerve_status nerve_generic_large_margin_backward(
    const nerve_kernel_ctx *ctx, const nerve_real *logits, const nerve_real *x,
    const nerve_real *w, const nerve_real *labels, int margin, nerve_real lambda,
    const nerve_real *dout, nerve_real *dlogits, nerve_real *dx, nerve_real *dw, int64_t rows,
    int64_t cols, int64_t dim)
{
    int64_t n = rows * cols, d = rows * dim;
    double keep = 1 + (double)lambda;
    margin_rows m;
    nerve_real *memory;
    NERVE_TRY(margin_rows_new(ctx, rows, cols, dim, &m, &memory));
    nerve_real *share = m.labelled + 0, *kx = m.t, *ks = m.u, *a = m.f;
    nerve_status st;
    NERVE_STEP(nerve_generic_targets(ctx, labels, rows, cols, m.onehot, m.target));
    NERVE_STEP(NERVE_MAP(ctx, MUL, m.target, NULL, 0, -1 / keep, m.pick, n));
    NERVE_STEP(NERVE_MAP(ctx, ADD, m.pick, NULL, 0, 1, m.pick, n));
    NERVE_STEP(NERVE_MAP(ctx, MUL, m.pick, dout, 1, 0, m.pick, n));
    NERVE_STEP(NERVE_KERNEL(ctx, add_block, 1, n, m.pick, n, dlogits, n));
    if (!dx && !dw) goto done;
    NERVE_STEP(margin_angle(ctx, logits, x, w, labels, margin, rows, cols, dim, true, &m));
    /* a = psi - c psi', then the rows that take part: labelled, norms > 0 */
    NERVE_STEP(NERVE_MAP(ctx, MUL, m.c, m.slope, 1, 0, a, rows));
    NERVE_STEP(NERVE_MAP(ctx, RSUB, a, m.psi, 1, 0, a, rows));
    NERVE_STEP(nerve_generic_row_sums(ctx, m.target, rows, cols, m.c));
    NERVE_STEP(NERVE_MAP(ctx, GT, m.nx, NULL, 0, 0, m.psi, rows));
    NERVE_STEP(NERVE_MAP(ctx, MUL, m.c, m.psi, 1, 0, m.c, rows));
    NERVE_STEP(NERVE_MAP(ctx, GT, m.nw, NULL, 0, 0, m.psi, rows));
    NERVE_STEP(NERVE_MAP(ctx, MUL, m.c, m.psi, 1, 0, m.c, rows)); /* c: the mask now */
    NERVE_STEP(nerve_generic_pick(ctx, dout, m.target, rows, cols, m.pick, share));
    NERVE_STEP(NERVE_MAP(ctx, DIV, share, NULL, 0, keep, share, rows));
    NERVE_STEP(NERVE_MAP(ctx, MUL, a, share, 1, 0, a, rows));
    NERVE_STEP(NERVE_MAP(ctx, MUL, m.slope, share, 1, 0, m.slope, rows));
    NERVE_STEP(masked(ctx, m.c, m.slope, ks, rows));
    /* W_y without its NaN rows (no label), which the zero factors skip */
    NERVE_STEP(NERVE_MAP(ctx, EQ, m.w_y, m.w_y, 1, 0, m.square, d));
    NERVE_STEP(NERVE_MAP(ctx, SELECT, m.square, m.w_y, 1, 0, m.square, d));
    NERVE_STEP(ctx->device->copy(ctx, m.w_y, m.square, (size_t)d * sizeof *m.w_y));
    if (dx) {
        NERVE_STEP(NERVE_MAP(ctx, MUL, a, m.nw, 1, 0, m.psi, rows));
        NERVE_STEP(NERVE_MAP(ctx, DIV, m.psi, m.nx, 1, 0, m.psi, rows));
        NERVE_STEP(masked(ctx, m.c, m.psi, kx, rows));
        NERVE_STEP(NERVE_KERNEL(ctx, scale_rows, x, kx, m.square, rows, dim));
        NERVE_STEP(NERVE_KERNEL(ctx, add_block, 1, d, m.square, d, dx, d));
        NERVE_STEP(NERVE_KERNEL(ctx, scale_rows, m.w_y, ks, m.square, rows, dim));
        NERVE_STEP(NERVE_KERNEL(ctx, add_block, 1, d, m.square, d, dx, d));
    }
    if (dw) {
        NERVE_STEP(NERVE_MAP(ctx, MUL, a, m.nx, 1, 0, m.psi, rows));
        NERVE_STEP(NERVE_MAP(ctx, DIV, m.psi, m.nw, 1, 0, m.psi, rows));
        NERVE_STEP(masked(ctx, m.c, m.psi, kx, rows));
        NERVE_STEP(NERVE_KERNEL(ctx, scale_rows, m.w_y, kx, m.w_y, rows, dim));
        NERVE_STEP(NERVE_KERNEL(ctx, scale_rows, x, ks, m.square, rows, dim));
        NERVE_STEP(NERVE_MAP(ctx, ADD, m.w_y, m.square, 1, 0, m.w_y, d));
        NERVE_STEP(NERVE_KERNEL(ctx, embedding_backward, labels, m.w_y, dw, rows, cols, dim, -1));
    }
done:
    nerve_generic_release(ctx, memory);
    return st;
}
