/* 2-D max and average pooling over NCHW planes, and the mean of each plane
 * (global average pooling). Each plane is independent, so the loops run in
 * parallel over planes, and a plane's backward writes only its own dx. */
#include <math.h>

#include "backends/cpu/cpu.h"

/* Work (elements read) above which the plane loop forks. */
static bool pool_worth_forking(const nerve_pool2d_geometry *p)
{
    return p->planes > 1 &&
           p->planes * p->out_h * p->out_w * p->kernel_h * p->kernel_w > NERVE_CPU_PARALLEL_MIN;
}

/* Output rows at most this wide take the vectorised path below. */
#define MAX_POOL_ROW_MAX 1024

/* One plane when every window lies inside the input (no padding, no
 * dilation, nothing clipped by ceil_mode) and rows are at most
 * MAX_POOL_ROW_MAX wide: each kernel offset is one vectorised pass along the
 * output row, with selects rather than branches (which element wins is data:
 * a mispredicted branch per element cost more than the rest of the layer).
 * The visiting order per window is row-major, as below, so ties and NaNs
 * resolve the same way. */
static void max_pool_plane_inside(const nerve_pool2d_geometry *p, const nerve_real *xp,
                                  nerve_real *yp, nerve_real *ap)
{
    int32_t best[MAX_POOL_ROW_MAX];
    const int32_t stride = (int32_t)p->stride_w;
    for (int64_t oh = 0; oh < p->out_h; oh++) {
        nerve_real *restrict y = yp + oh * p->out_w;
        for (int64_t ow = 0; ow < p->out_w; ow++) y[ow] = -INFINITY;
        for (int64_t kh = 0; kh < p->kernel_h; kh++) {
            for (int64_t kw = 0; kw < p->kernel_w; kw++) {
                const int32_t first = (int32_t)((oh * p->stride_h + kh) * p->in_w + kw);
                const nerve_real *restrict row = xp + first;
#pragma omp simd
                for (int32_t ow = 0; ow < (int32_t)p->out_w; ow++) {
                    nerve_real v = row[ow * stride];
                    bool wins = (v > y[ow]) | (v != v);
                    y[ow] = wins ? v : y[ow];
                    best[ow] = wins ? first + ow * stride : best[ow];
                }
            }
        }
        for (int64_t ow = 0; ow < p->out_w; ow++) ap[oh * p->out_w + ow] = (nerve_real)best[ow];
    }
}

/* Pairs of the 2x2 path below held on the stack at a time. */
#define MAX_POOL_2X2_PAIRS 2048

/* 2x2 windows with stride 2 over rows of exactly twice the output's width
 * (the common pooling, after even-sized convolutions). The rows of the path
 * above are too short here (14 outputs) for its vector loops, so this takes
 * the window in two steps, each over as long a run as it can: the maximum
 * of each horizontal pair, over whole rows at once (with even rows, pair j
 * is elements 2j and 2j + 1 of the plane), then of the two pairs of each
 * window. Row-major visiting as above: a pair's second element wins only
 * when strictly greater or NaN, and the bottom pair the same against the
 * top one, which picks the same element as visiting the four in turn. */
static bool max_pool_is_2x2(const nerve_pool2d_geometry *p)
{
    return p->kernel_h == 2 && p->kernel_w == 2 && p->stride_h == 2 && p->stride_w == 2 &&
           p->in_w == 2 * p->out_w && 2 * p->out_w <= MAX_POOL_2X2_PAIRS;
}

static void max_pool_plane_2x2(const nerve_pool2d_geometry *p, const nerve_real *xp,
                               nerve_real *yp, nerve_real *ap)
{
    nerve_real pair[MAX_POOL_2X2_PAIRS];
    int32_t pair_at[MAX_POOL_2X2_PAIRS];
    const int64_t out_w = p->out_w, rows_per_chunk = MAX_POOL_2X2_PAIRS / (2 * out_w);
    for (int64_t oh0 = 0; oh0 < p->out_h; oh0 += rows_per_chunk) {
        const int64_t rows = p->out_h - oh0 < rows_per_chunk ? p->out_h - oh0 : rows_per_chunk;
        const int32_t first = (int32_t)(2 * oh0 * p->in_w), count = (int32_t)(2 * rows * out_w);
        const nerve_real *restrict x = xp + first;
#pragma omp simd
        for (int32_t j = 0; j < count; j++) {
            nerve_real a = x[2 * j], b = x[2 * j + 1];
            bool wins = (b > a) | (b != b);
            pair[j] = wins ? b : a;
            pair_at[j] = first + 2 * j + wins;
        }
        for (int64_t r = 0; r < rows; r++) {
            const nerve_real *top = pair + 2 * r * out_w, *bottom = top + out_w;
            const int32_t *top_at = pair_at + 2 * r * out_w, *bottom_at = top_at + out_w;
            nerve_real *restrict y = yp + (oh0 + r) * out_w, *restrict at = ap + (oh0 + r) * out_w;
#pragma omp simd
            for (int32_t ow = 0; ow < (int32_t)out_w; ow++) {
                nerve_real t = top[ow], b = bottom[ow];
                int32_t t_at = top_at[ow], b_at = bottom_at[ow];
                bool wins = (b > t) | (b != b);
                y[ow] = wins ? b : t;
                at[ow] = (nerve_real)(wins ? b_at : t_at);
            }
        }
    }
}

/* Any geometry, as torch's cpu_max_pool: the window is clipped to the
 * input, its first row/column advanced by whole dilations past the padding
 * (padding never wins); the maximum starts at -inf at the window's first
 * valid position and is replaced by a strictly greater value or a NaN, so
 * the first maximum wins a tie. */
static void max_pool_plane(const nerve_pool2d_geometry *p, const nerve_real *xp, nerve_real *yp,
                           nerve_real *ap)
{
    for (int64_t oh = 0; oh < p->out_h; oh++) {
        int64_t h0 = oh * p->stride_h - p->pad_h;
        int64_t h1 = h0 + (p->kernel_h - 1) * p->dilation_h + 1;
        if (h1 > p->in_h) h1 = p->in_h;
        while (h0 < 0) h0 += p->dilation_h;
        for (int64_t ow = 0; ow < p->out_w; ow++) {
            int64_t w0 = ow * p->stride_w - p->pad_w;
            int64_t w1 = w0 + (p->kernel_w - 1) * p->dilation_w + 1;
            if (w1 > p->in_w) w1 = p->in_w;
            while (w0 < 0) w0 += p->dilation_w;
            int64_t best = h0 * p->in_w + w0;
            nerve_real best_value = -INFINITY;
            for (int64_t h = h0; h < h1; h += p->dilation_h) {
                for (int64_t w = w0; w < w1; w += p->dilation_w) {
                    nerve_real v = xp[h * p->in_w + w];
                    if (v > best_value || isnan(v)) {
                        best_value = v;
                        best = h * p->in_w + w;
                    }
                }
            }
            yp[oh * p->out_w + ow] = best_value;
            ap[oh * p->out_w + ow] = (nerve_real)best;
        }
    }
}

nerve_status nerve_cpu_max_pool2d_forward(const nerve_kernel_ctx *ctx,
                                          const nerve_pool2d_geometry *p, const nerve_real *x,
                                          nerve_real *y, nerve_real *argmax)
{
    const int64_t in_size = p->in_h * p->in_w, out_size = p->out_h * p->out_w;
    const bool inside = p->pad_h == 0 && p->pad_w == 0 && p->dilation_h == 1 &&
                        p->dilation_w == 1 && p->out_w <= MAX_POOL_ROW_MAX &&
                        in_size <= INT32_MAX &&
                        (p->out_h - 1) * p->stride_h + p->kernel_h <= p->in_h &&
                        (p->out_w - 1) * p->stride_w + p->kernel_w <= p->in_w;
    void (*pool_plane)(const nerve_pool2d_geometry *, const nerve_real *, nerve_real *,
                       nerve_real *) = !inside              ? max_pool_plane
                                       : max_pool_is_2x2(p) ? max_pool_plane_2x2
                                                            : max_pool_plane_inside;
#pragma omp parallel for if (pool_worth_forking(p))
    for (int64_t plane = 0; plane < p->planes; plane++)
        pool_plane(p, x + plane * in_size, y + plane * out_size, argmax + plane * out_size);
    return NERVE_OK;
}

nerve_status nerve_cpu_max_pool2d_backward(const nerve_kernel_ctx *ctx,
                                           const nerve_pool2d_geometry *p, const nerve_real *argmax,
                                           const nerve_real *dy, nerve_real *dx)
{
    const int64_t in_size = p->in_h * p->in_w, out_size = p->out_h * p->out_w;
#pragma omp parallel for if (p->planes > 1 && p->planes * out_size > NERVE_CPU_PARALLEL_MIN)
    for (int64_t plane = 0; plane < p->planes; plane++) {
        const nerve_real *ap = argmax + plane * out_size, *dyp = dy + plane * out_size;
        nerve_real *dxp = dx + plane * in_size;
        for (int64_t o = 0; o < out_size; o++) dxp[(int64_t)ap[o]] += dyp[o];
    }
    return NERVE_OK;
}

/* One window of average pooling, as torch's cpu_avg_pool: the window is
 * first clipped to the padded input (windows that ceil_mode lets run past
 * the right padding lose that part) and its size there is the divisor with
 * count_include_pad; then it is clipped to the input, whose size is the
 * divisor without. divisor_override replaces both. */
typedef struct avg_window {
    int64_t h0, h1, w0, w1;
    nerve_real divisor;
} avg_window;

static avg_window avg_pool_window(const nerve_pool2d_geometry *p, int64_t oh, int64_t ow)
{
    avg_window win;
    win.h0 = oh * p->stride_h - p->pad_h;
    win.w0 = ow * p->stride_w - p->pad_w;
    win.h1 = win.h0 + p->kernel_h;
    win.w1 = win.w0 + p->kernel_w;
    if (win.h1 > p->in_h + p->pad_h) win.h1 = p->in_h + p->pad_h;
    if (win.w1 > p->in_w + p->pad_w) win.w1 = p->in_w + p->pad_w;
    int64_t padded_size = (win.h1 - win.h0) * (win.w1 - win.w0);
    if (win.h0 < 0) win.h0 = 0;
    if (win.w0 < 0) win.w0 = 0;
    if (win.h1 > p->in_h) win.h1 = p->in_h;
    if (win.w1 > p->in_w) win.w1 = p->in_w;
    int64_t divisor = p->divisor_override     ? p->divisor_override
                      : p->count_include_pad ? padded_size
                                             : (win.h1 - win.h0) * (win.w1 - win.w0);
    win.divisor = (nerve_real)divisor;
    return win;
}

nerve_status nerve_cpu_avg_pool2d_forward(const nerve_kernel_ctx *ctx,
                                          const nerve_pool2d_geometry *p, const nerve_real *x,
                                          nerve_real *y)
{
    const int64_t in_size = p->in_h * p->in_w, out_size = p->out_h * p->out_w;
#pragma omp parallel for if (pool_worth_forking(p))
    for (int64_t plane = 0; plane < p->planes; plane++) {
        const nerve_real *xp = x + plane * in_size;
        nerve_real *yp = y + plane * out_size;
        for (int64_t oh = 0; oh < p->out_h; oh++) {
            for (int64_t ow = 0; ow < p->out_w; ow++) {
                avg_window win = avg_pool_window(p, oh, ow);
                nerve_real sum = 0;
                for (int64_t h = win.h0; h < win.h1; h++)
                    for (int64_t w = win.w0; w < win.w1; w++) sum += xp[h * p->in_w + w];
                yp[oh * p->out_w + ow] = sum / win.divisor;
            }
        }
    }
    return NERVE_OK;
}

nerve_status nerve_cpu_avg_pool2d_backward(const nerve_kernel_ctx *ctx,
                                           const nerve_pool2d_geometry *p, const nerve_real *dy,
                                           nerve_real *dx)
{
    const int64_t in_size = p->in_h * p->in_w, out_size = p->out_h * p->out_w;
#pragma omp parallel for if (pool_worth_forking(p))
    for (int64_t plane = 0; plane < p->planes; plane++) {
        const nerve_real *dyp = dy + plane * out_size;
        nerve_real *dxp = dx + plane * in_size;
        for (int64_t oh = 0; oh < p->out_h; oh++) {
            for (int64_t ow = 0; ow < p->out_w; ow++) {
                avg_window win = avg_pool_window(p, oh, ow);
                nerve_real share = dyp[oh * p->out_w + ow] / win.divisor;
                for (int64_t h = win.h0; h < win.h1; h++)
                    for (int64_t w = win.w0; w < win.w1; w++) dxp[h * p->in_w + w] += share;
            }
        }
    }
    return NERVE_OK;
}

nerve_status nerve_cpu_mean_rows(const nerve_kernel_ctx *ctx, const nerve_real *x, nerve_real *y,
                                 int64_t rows, int64_t size)
{
#pragma omp parallel for if (rows > 1 && rows * size > NERVE_CPU_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const nerve_real *xr = x + r * size;
        nerve_real sum = 0;
        for (int64_t i = 0; i < size; i++) sum += xr[i];
        y[r] = sum / (nerve_real)size;
    }
    return NERVE_OK;
}

nerve_status nerve_cpu_mean_rows_backward(const nerve_kernel_ctx *ctx, const nerve_real *dy,
                                          nerve_real *dx, int64_t rows, int64_t size)
{
#pragma omp parallel for if (rows > 1 && rows * size > NERVE_CPU_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) {
        nerve_real *dxr = dx + r * size;
        nerve_real share = dy[r] / (nerve_real)size;
        for (int64_t i = 0; i < size; i++) dxr[i] += share;
    }
    return NERVE_OK;
}
