/* 2-D max and average pooling, as torch's CPU kernels define them, window
 * by window over every plane. */
#include "backends/ref/ref.h"

/* Max pooling: the window's taps inside the input, visited row-major; -inf
 * to start, replaced by a strictly greater value or any NaN. */
nerve_status nerve_ref_max_pool2d_forward(const nerve_kernel_ctx *ctx, const nerve_pool2d_geometry *p, const nerve_real *x,
                                  nerve_real *y, nerve_real *argmax)
{
    for (int64_t plane = 0; plane < p->planes; plane++)
        for (int64_t oh = 0; oh < p->out_h; oh++)
            for (int64_t ow = 0; ow < p->out_w; ow++) {
                const nerve_real *xp = x + plane * p->in_h * p->in_w;
                double best_value = -INFINITY;
                int64_t best = -1;
                for (int64_t kh = 0; kh < p->kernel_h; kh++)
                    for (int64_t kw = 0; kw < p->kernel_w; kw++) {
                        int64_t h = oh * p->stride_h - p->pad_h + kh * p->dilation_h;
                        int64_t w = ow * p->stride_w - p->pad_w + kw * p->dilation_w;
                        if (h < 0 || h >= p->in_h || w < 0 || w >= p->in_w) continue;
                        nerve_real v = xp[h * p->in_w + w];
                        if (best < 0) best = h * p->in_w + w; /* a window of -inf: its first */
                        if (v > best_value || isnan(v)) {
                            best_value = v;
                            best = h * p->in_w + w;
                        }
                    }
                int64_t o = (plane * p->out_h + oh) * p->out_w + ow;
                y[o] = (nerve_real)best_value;
                argmax[o] = (nerve_real)best;
            }
    return NERVE_OK;
}

nerve_status nerve_ref_max_pool2d_backward(const nerve_kernel_ctx *ctx, const nerve_pool2d_geometry *p, const nerve_real *argmax,
                                   const nerve_real *dy, nerve_real *dx)
{
    for (int64_t plane = 0; plane < p->planes; plane++)
        for (int64_t o = 0; o < p->out_h * p->out_w; o++) {
            int64_t k = plane * p->out_h * p->out_w + o;
            dx[plane * p->in_h * p->in_w + (int64_t)argmax[k]] += dy[k];
        }
    return NERVE_OK;
}

/* Average pooling's window: clipped to the padded input, whose size there
 * is the divisor with count_include_pad, then to the input, whose size is
 * the divisor without; divisor_override replaces both. */
static double avg_window(const nerve_pool2d_geometry *p, int64_t oh, int64_t ow, int64_t *h0,
                         int64_t *h1, int64_t *w0, int64_t *w1)
{
    *h0 = oh * p->stride_h - p->pad_h;
    *w0 = ow * p->stride_w - p->pad_w;
    *h1 = *h0 + p->kernel_h < p->in_h + p->pad_h ? *h0 + p->kernel_h : p->in_h + p->pad_h;
    *w1 = *w0 + p->kernel_w < p->in_w + p->pad_w ? *w0 + p->kernel_w : p->in_w + p->pad_w;
    int64_t padded = (*h1 - *h0) * (*w1 - *w0);
    if (*h0 < 0) *h0 = 0;
    if (*w0 < 0) *w0 = 0;
    if (*h1 > p->in_h) *h1 = p->in_h;
    if (*w1 > p->in_w) *w1 = p->in_w;
    if (p->divisor_override) return (double)p->divisor_override;
    return p->count_include_pad ? (double)padded : (double)((*h1 - *h0) * (*w1 - *w0));
}

nerve_status nerve_ref_avg_pool2d_forward(const nerve_kernel_ctx *ctx, const nerve_pool2d_geometry *p, const nerve_real *x,
                                  nerve_real *y)
{
    for (int64_t plane = 0; plane < p->planes; plane++)
        for (int64_t oh = 0; oh < p->out_h; oh++)
            for (int64_t ow = 0; ow < p->out_w; ow++) {
                int64_t h0, h1, w0, w1;
                double divisor = avg_window(p, oh, ow, &h0, &h1, &w0, &w1), sum = 0;
                for (int64_t h = h0; h < h1; h++)
                    for (int64_t w = w0; w < w1; w++)
                        sum += x[(plane * p->in_h + h) * p->in_w + w];
                y[(plane * p->out_h + oh) * p->out_w + ow] = (nerve_real)(sum / divisor);
            }
    return NERVE_OK;
}

nerve_status nerve_ref_avg_pool2d_backward(const nerve_kernel_ctx *ctx, const nerve_pool2d_geometry *p, const nerve_real *dy,
                                   nerve_real *dx)
{
    for (int64_t plane = 0; plane < p->planes; plane++)
        for (int64_t oh = 0; oh < p->out_h; oh++)
            for (int64_t ow = 0; ow < p->out_w; ow++) {
                int64_t h0, h1, w0, w1;
                double divisor = avg_window(p, oh, ow, &h0, &h1, &w0, &w1);
                double share = dy[(plane * p->out_h + oh) * p->out_w + ow] / divisor;
                for (int64_t h = h0; h < h1; h++)
                    for (int64_t w = w0; w < w1; w++) {
                        nerve_real *d = &dx[(plane * p->in_h + h) * p->in_w + w];
                        *d = (nerve_real)(*d + share);
                    }
            }
    return NERVE_OK;
}
