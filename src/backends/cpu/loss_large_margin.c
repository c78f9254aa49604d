/* L-Softmax (Liu et al., "Large-Margin Softmax Loss for Convolutional Neural
 * Networks", ICML 2016). The target logit |W_y||x| cos(theta) becomes
 * |W_y||x| psi(theta) with psi(theta) = (-1)^k cos(m theta) - 2k on
 * theta in [k pi/m, (k+1) pi/m]: monotonic, and below cos(theta), so the
 * target class must win by an angular margin. cos(m theta) is the Chebyshev
 * polynomial T_m(cos theta), so no angle is ever computed except to pick k. */
#include <math.h>
#include <string.h>

#include "backends/cpu/cpu.h"

/* T_m(c) = cos(m acos c) and its derivative, m in 1..4. */
static double chebyshev(int m, double c)
{
    double c2 = c * c;
    switch (m) {
    case 1: return c;
    case 2: return 2 * c2 - 1;
    case 3: return (4 * c2 - 3) * c;
    default: return 8 * c2 * (c2 - 1) + 1;
    }
}

static double chebyshev_derivative(int m, double c)
{
    double c2 = c * c;
    switch (m) {
    case 1: return 1;
    case 2: return 4 * c;
    case 3: return 12 * c2 - 3;
    default: return (32 * c2 - 16) * c;
    }
}

/* psi(theta) and d psi / d cos(theta) at c = cos(theta). theta > j pi/m is
 * c < cos(j pi/m) (cos decreases on [0, pi]); at a boundary both pieces
 * agree in value and slope, so either k is right. */
static double margin_psi(int m, double c, double *slope)
{
    const double pi = acos(-1.0);
    int k = 0;
    for (int j = 1; j < m; j++)
        if (c < cos(j * pi / m)) k = j;
    double sign = k % 2 ? -1 : 1;
    *slope = sign * chebyshev_derivative(m, c);
    return sign * chebyshev(m, c) - 2 * k;
}

static double norm(const nerve_real *v, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)v[i] * v[i];
    return sqrt(s);
}

nerve_status nerve_cpu_large_margin_logits(const nerve_kernel_ctx *ctx, const nerve_real *logits,
                                           const nerve_real *x, const nerve_real *w,
                                           const nerve_real *labels, int margin, nerve_real lambda,
                                           nerve_real *out, int64_t rows, int64_t cols, int64_t dim)
{
    memcpy(out, logits, (size_t)(rows * cols) * sizeof *out);
#pragma omp parallel for if (rows * dim > NERVE_CPU_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) {
        int64_t k;
        if (!nerve_cpu_label_index(labels[r], cols, &k)) continue;
        double f = logits[r * cols + k], norms = norm(x + r * dim, dim) * norm(w + k * dim, dim);
        /* A zero x or W_y has no angle: its margin term is 0, as its logit. */
        double margin_logit = 0, slope;
        if (norms > 0) margin_logit = norms * margin_psi(margin, f / norms, &slope);
        out[r * cols + k] = (nerve_real)((lambda * f + margin_logit) / (1 + lambda));
    }
    return NERVE_OK;
}

/* With a = |W||x|, c = W.x / a: d(a psi(c))/dx = (psi - c psi') |W|/|x| x + psi' W,
 * and symmetrically for W. Rows run in order: rows of one class add to the same W_y. */
nerve_status nerve_cpu_large_margin_backward(const nerve_kernel_ctx *ctx, const nerve_real *logits,
                                             const nerve_real *x, const nerve_real *w,
                                             const nerve_real *labels, int margin,
                                             nerve_real lambda, const nerve_real *dout,
                                             nerve_real *dlogits, nerve_real *dx, nerve_real *dw,
                                             int64_t rows, int64_t cols, int64_t dim)
{
    for (int64_t r = 0; r < rows; r++) {
        const nerve_real *g = dout + r * cols;
        nerve_real *d = dlogits + r * cols;
        int64_t k;
        if (!nerve_cpu_label_index(labels[r], cols, &k)) k = -1;
        for (int64_t c = 0; c < cols; c++)
            if (c != k) d[c] += g[c];
        if (k < 0) continue;
        d[k] += g[k] * lambda / (1 + lambda);
        const nerve_real *xr = x + r * dim, *wk = w + k * dim;
        double nx = norm(xr, dim), nw = norm(wk, dim);
        if (nx == 0 || nw == 0) continue;
        double slope, c = logits[r * cols + k] / (nx * nw);
        double psi = margin_psi(margin, c, &slope);
        double share = g[k] / (1 + (double)lambda), radial = psi - c * slope;
        if (dx) {
            nerve_real *dxr = dx + r * dim;
            for (int64_t i = 0; i < dim; i++)
                dxr[i] += (nerve_real)(share * (radial * nw / nx * xr[i] + slope * wk[i]));
        }
        if (dw) {
            nerve_real *dwk = dw + k * dim;
            for (int64_t i = 0; i < dim; i++)
                dwk[i] += (nerve_real)(share * (radial * nx / nw * wk[i] + slope * xr[i]));
        }
    }
    return NERVE_OK;
}
