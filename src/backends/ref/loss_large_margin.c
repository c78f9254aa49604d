/* L-Softmax (Liu et al., ICML 2016), from its angle: the target logit
 * |W_y||x| cos(theta) becomes |W_y||x| psi(theta), psi(theta) =
 * (-1)^k cos(m theta) - 2k for theta in [k pi/m, (k+1) pi/m]. */
#include "backends/ref/ref.h"

#define PI 3.14159265358979323846

/* psi at c = cos(theta), and d psi / d c = (-1)^k m sin(m theta) / sin(theta),
 * whose limits at theta = 0 and pi are m^2 and (-1)^(k+m-1) m^2. */
static double psi(int m, double c, double *slope)
{
    double theta = acos(c < -1 ? -1 : c > 1 ? 1 : c);
    int k = (int)floor(theta * m / PI);
    if (k > m - 1) k = m - 1;
    double sign = k % 2 ? -1 : 1, s = sin(theta);
    if (fabs(s) > 1e-12)
        *slope = sign * m * sin(m * theta) / s;
    else
        *slope = sign * m * m * (c > 0 ? 1 : ((m - 1) % 2 ? -1 : 1));
    return sign * cos(m * theta) - 2 * k;
}

static double dot(const nerve_real *a, const nerve_real *b, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

nerve_status nerve_ref_large_margin_logits(const nerve_kernel_ctx *ctx, const nerve_real *logits, const nerve_real *x,
                                   const nerve_real *w, const nerve_real *labels, int margin,
                                   nerve_real lambda, nerve_real *out, int64_t rows, int64_t cols,
                                   int64_t dim)
{
    for (int64_t r = 0; r < rows; r++) {
        int64_t y;
        bool labelled = nerve_ref_index(labels[r], cols, &y);
        for (int64_t c = 0; c < cols; c++) out[r * cols + c] = logits[r * cols + c];
        if (!labelled) continue;
        double f = logits[r * cols + y], slope;
        double norms = sqrt(dot(x + r * dim, x + r * dim, dim)) *
                       sqrt(dot(w + y * dim, w + y * dim, dim));
        /* a zero x or W_y has no angle: its margin term is 0 */
        double margin_logit = norms > 0 ? norms * psi(margin, f / norms, &slope) : 0;
        out[r * cols + y] = (nerve_real)((lambda * f + margin_logit) / (1 + lambda));
    }
    return NERVE_OK;
}

/* With a = |W||x| and c = W.x / a: d(a psi(c))/dx = (psi - c psi') |W|/|x| x + psi' W. */
nerve_status nerve_ref_large_margin_backward(const nerve_kernel_ctx *ctx, const nerve_real *logits, const nerve_real *x,
                                     const nerve_real *w, const nerve_real *labels, int margin,
                                     nerve_real lambda, const nerve_real *dout,
                                     nerve_real *dlogits, nerve_real *dx, nerve_real *dw,
                                     int64_t rows, int64_t cols, int64_t dim)
{
    for (int64_t r = 0; r < rows; r++) {
        int64_t y;
        if (!nerve_ref_index(labels[r], cols, &y)) y = -1;
        for (int64_t c = 0; c < cols; c++)
            if (c != y) dlogits[r * cols + c] += dout[r * cols + c];
        if (y < 0) continue;
        double g = dout[r * cols + y];
        dlogits[r * cols + y] = (nerve_real)(dlogits[r * cols + y] + g * lambda / (1 + lambda));
        const nerve_real *xr = x + r * dim, *wy = w + y * dim;
        double nx = sqrt(dot(xr, xr, dim)), nw = sqrt(dot(wy, wy, dim));
        if (nx == 0 || nw == 0) continue;
        double slope, c = logits[r * cols + y] / (nx * nw), p = psi(margin, c, &slope);
        double share = g / (1 + (double)lambda);
        for (int64_t i = 0; i < dim && dx; i++)
            dx[r * dim + i] = (nerve_real)(dx[r * dim + i] +
                                           share * ((p - c * slope) * nw / nx * xr[i] + slope * wy[i]));
        for (int64_t i = 0; i < dim && dw; i++)
            dw[y * dim + i] = (nerve_real)(dw[y * dim + i] +
                                           share * ((p - c * slope) * nx / nw * wy[i] + slope * xr[i]));
    }
    return NERVE_OK;
}
