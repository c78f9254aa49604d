/* 2-D max and average pooling with torch's rules (ref's pool.c): forward
 * one thread per output; backward one thread per input pixel gathering the
 * windows that hold it in the reference's order (row-major over outputs), so
 * that overlapping windows add up exactly as the reference adds them, with
 * no atomics. */
#include <math.h>

#include "backends/cuda/cuda_device.cuh"

__global__ static void max_pool_forward(nerve_pool2d_geometry p, const float *x, float *y,
                                        float *argmax)
{
    CUDA_FOR(o, p.planes * p.out_h * p.out_w)
    {
        const int64_t plane = o / (p.out_h * p.out_w), oh = o / p.out_w % p.out_h, ow = o % p.out_w;
        const float *xp = x + plane * p.in_h * p.in_w;
        double best_value = -INFINITY;
        int64_t best = -1;
        for (int64_t kh = 0; kh < p.kernel_h; kh++)
            for (int64_t kw = 0; kw < p.kernel_w; kw++) {
                int64_t h = oh * p.stride_h - p.pad_h + kh * p.dilation_h;
                int64_t w = ow * p.stride_w - p.pad_w + kw * p.dilation_w;
                if (h < 0 || h >= p.in_h || w < 0 || w >= p.in_w) continue;
                float v = xp[h * p.in_w + w];
                if (best < 0) best = h * p.in_w + w; /* a window of -inf: its first */
                if (v > best_value || isnan(v)) {
                    best_value = v;
                    best = h * p.in_w + w;
                }
            }
        y[o] = (float)best_value;
        argmax[o] = (float)best;
    }
}

/* The first and last output row (column) whose window may hold input row h
 * with windows of `extent` starting every `stride` from -pad. */
__device__ static void windows_over(int64_t h, int64_t pad, int64_t stride, int64_t extent,
                                    int64_t outs, int64_t *first, int64_t *last)
{
    int64_t lo = h + pad - extent + 1; /* the window must start at or after this */
    *first = lo <= 0 ? 0 : (lo + stride - 1) / stride;
    *last = (h + pad) / stride;
    if (*last > outs - 1) *last = outs - 1;
}

__global__ static void max_pool_backward(nerve_pool2d_geometry p, const float *argmax,
                                         const float *dy, float *dx)
{
    CUDA_FOR(i, p.planes * p.in_h * p.in_w)
    {
        const int64_t plane = i / (p.in_h * p.in_w), pixel = i % (p.in_h * p.in_w);
        const int64_t h = pixel / p.in_w, w = pixel % p.in_w;
        int64_t oh0, oh1, ow0, ow1;
        windows_over(h, p.pad_h, p.stride_h, (p.kernel_h - 1) * p.dilation_h + 1, p.out_h, &oh0, &oh1);
        windows_over(w, p.pad_w, p.stride_w, (p.kernel_w - 1) * p.dilation_w + 1, p.out_w, &ow0, &ow1);
        float v = dx[i];
        for (int64_t oh = oh0; oh <= oh1; oh++)
            for (int64_t ow = ow0; ow <= ow1; ow++) {
                int64_t k = (plane * p.out_h + oh) * p.out_w + ow;
                if ((int64_t)argmax[k] == pixel) v += dy[k];
            }
        dx[i] = v;
    }
}

extern "C" nerve_status nerve_cuda_max_pool2d_forward(const nerve_kernel_ctx *ctx,
                                                      const nerve_pool2d_geometry *p,
                                                      const float *x, float *y, float *argmax)
{
    int64_t n = p->planes * p->out_h * p->out_w;
    if (n <= 0) return NERVE_OK;
    CUDA_LAUNCH(max_pool_forward, n)(*p, x, y, argmax);
    return nerve_cuda_launched(ctx, "max_pool2d_forward");
}

extern "C" nerve_status nerve_cuda_max_pool2d_backward(const nerve_kernel_ctx *ctx,
                                                       const nerve_pool2d_geometry *p,
                                                       const float *argmax, const float *dy,
                                                       float *dx)
{
    int64_t n = p->planes * p->in_h * p->in_w;
    if (n <= 0 || p->out_h * p->out_w <= 0) return NERVE_OK;
    CUDA_LAUNCH(max_pool_backward, n)(*p, argmax, dy, dx);
    return nerve_cuda_launched(ctx, "max_pool2d_backward");
}

/* ref's avg_window: the window clipped to the padded input, then to the
 * input; the divisor. */
__device__ static double avg_window(const nerve_pool2d_geometry &p, int64_t oh, int64_t ow,
                                    int64_t *h0, int64_t *h1, int64_t *w0, int64_t *w1)
{
    *h0 = oh * p.stride_h - p.pad_h;
    *w0 = ow * p.stride_w - p.pad_w;
    *h1 = *h0 + p.kernel_h < p.in_h + p.pad_h ? *h0 + p.kernel_h : p.in_h + p.pad_h;
    *w1 = *w0 + p.kernel_w < p.in_w + p.pad_w ? *w0 + p.kernel_w : p.in_w + p.pad_w;
    int64_t padded = (*h1 - *h0) * (*w1 - *w0);
    if (*h0 < 0) *h0 = 0;
    if (*w0 < 0) *w0 = 0;
    if (*h1 > p.in_h) *h1 = p.in_h;
    if (*w1 > p.in_w) *w1 = p.in_w;
    if (p.divisor_override) return (double)p.divisor_override;
    return p.count_include_pad ? (double)padded : (double)((*h1 - *h0) * (*w1 - *w0));
}

__global__ static void avg_pool_forward(nerve_pool2d_geometry p, const float *x, float *y)
{
    CUDA_FOR(o, p.planes * p.out_h * p.out_w)
    {
        const int64_t plane = o / (p.out_h * p.out_w), oh = o / p.out_w % p.out_h, ow = o % p.out_w;
        int64_t h0, h1, w0, w1;
        double divisor = avg_window(p, oh, ow, &h0, &h1, &w0, &w1), sum = 0;
        for (int64_t h = h0; h < h1; h++)
            for (int64_t w = w0; w < w1; w++) sum += x[(plane * p.in_h + h) * p.in_w + w];
        y[o] = (float)(sum / divisor);
    }
}

__global__ static void avg_pool_backward(nerve_pool2d_geometry p, const float *dy, float *dx)
{
    CUDA_FOR(i, p.planes * p.in_h * p.in_w)
    {
        const int64_t plane = i / (p.in_h * p.in_w), h = i / p.in_w % p.in_h, w = i % p.in_w;
        int64_t oh0, oh1, ow0, ow1;
        windows_over(h, p.pad_h, p.stride_h, p.kernel_h, p.out_h, &oh0, &oh1);
        windows_over(w, p.pad_w, p.stride_w, p.kernel_w, p.out_w, &ow0, &ow1);
        float v = dx[i];
        for (int64_t oh = oh0; oh <= oh1; oh++)
            for (int64_t ow = ow0; ow <= ow1; ow++) {
                int64_t h0, h1, w0, w1;
                double divisor = avg_window(p, oh, ow, &h0, &h1, &w0, &w1);
                if (h < h0 || h >= h1 || w < w0 || w >= w1) continue;
                v = (float)(v + dy[(plane * p.out_h + oh) * p.out_w + ow] / divisor);
            }
        dx[i] = v;
    }
}

extern "C" nerve_status nerve_cuda_avg_pool2d_forward(const nerve_kernel_ctx *ctx,
                                                      const nerve_pool2d_geometry *p,
                                                      const float *x, float *y)
{
    int64_t n = p->planes * p->out_h * p->out_w;
    if (n <= 0) return NERVE_OK;
    CUDA_LAUNCH(avg_pool_forward, n)(*p, x, y);
    return nerve_cuda_launched(ctx, "avg_pool2d_forward");
}

extern "C" nerve_status nerve_cuda_avg_pool2d_backward(const nerve_kernel_ctx *ctx,
                                                       const nerve_pool2d_geometry *p,
                                                       const float *dy, float *dx)
{
    int64_t n = p->planes * p->in_h * p->in_w;
    if (n <= 0 || p->out_h * p->out_w <= 0) return NERVE_OK;
    CUDA_LAUNCH(avg_pool_backward, n)(*p, dy, dx);
    return nerve_cuda_launched(ctx, "avg_pool2d_backward");
}
