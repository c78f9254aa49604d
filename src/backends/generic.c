/* The generic composites, each on top of the core kernels of ctx's table
 * (the noise: on the host, then uploaded), so that they run on any device.
 * A backend that writes its own version of one does so for speed; these
 * are the definition. */
#include <math.h>
#include <stdlib.h>

#include "backends/generic.h"

/* A stride of 0 repeats the row. */
nerve_status nerve_generic_fill_rows(const nerve_kernel_ctx *ctx, nerve_real *y,
                                     const nerve_real *row, int64_t rows, int64_t cols)
{
    return NERVE_KERNEL(ctx, copy_block, rows, cols, row, 0, y, cols);
}

/* dy as [rows, cols, 1]: each column is a channel of one element per row. */
nerve_status nerve_generic_sum_rows(const nerve_kernel_ctx *ctx, const nerve_real *dy,
                                    nerve_real *db, int64_t rows, int64_t cols)
{
    return NERVE_KERNEL(ctx, sum_channels, dy, db, rows, cols, 1);
}

/* Each row as a 1 x size plane pooled by one window covering it. */
static nerve_pool2d_geometry whole_row_window(int64_t rows, int64_t size)
{
    return (nerve_pool2d_geometry){.planes = rows,
                                   .in_h = 1,
                                   .in_w = size,
                                   .out_h = 1,
                                   .out_w = 1,
                                   .kernel_h = 1,
                                   .kernel_w = size,
                                   .stride_h = 1,
                                   .stride_w = size,
                                   .dilation_h = 1,
                                   .dilation_w = 1,
                                   .count_include_pad = true};
}

nerve_status nerve_generic_mean_rows(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                     nerve_real *y, int64_t rows, int64_t size)
{
    nerve_pool2d_geometry p = whole_row_window(rows, size);
    return NERVE_KERNEL(ctx, avg_pool2d_forward, &p, x, y);
}

nerve_status nerve_generic_mean_rows_backward(const nerve_kernel_ctx *ctx, const nerve_real *dy,
                                              nerve_real *dx, int64_t rows, int64_t size)
{
    nerve_pool2d_geometry p = whole_row_window(rows, size);
    return NERVE_KERNEL(ctx, avg_pool2d_backward, &p, dy, dx);
}

nerve_status nerve_generic_add_forward(const nerve_kernel_ctx *ctx, const nerve_real *const *x,
                                       int count, nerve_real *y, int64_t n)
{
    if (count < 1) return ctx->device->set(ctx, y, 0, (size_t)n * sizeof *y);
    NERVE_TRY(NERVE_KERNEL(ctx, copy_block, 1, n, x[0], n, y, n));
    for (int k = 1; k < count; k++) NERVE_TRY(NERVE_KERNEL(ctx, add_block, 1, n, x[k], n, y, n));
    return NERVE_OK;
}

/* Each group as a 1 x pieces plane under one window: max pooling's argmax
 * within the plane is then the index within the run. */
nerve_status nerve_generic_maxout_forward(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                          nerve_real *y, nerve_real *argmax, int64_t groups,
                                          int64_t pieces)
{
    nerve_pool2d_geometry p = whole_row_window(groups, pieces);
    return NERVE_KERNEL(ctx, max_pool2d_forward, &p, x, y, argmax);
}

nerve_status nerve_generic_maxout_backward(const nerve_kernel_ctx *ctx, const nerve_real *argmax,
                                           const nerve_real *dy, nerve_real *dx, int64_t groups,
                                           int64_t pieces)
{
    nerve_pool2d_geometry p = whole_row_window(groups, pieces);
    return NERVE_KERNEL(ctx, max_pool2d_backward, &p, argmax, dy, dx);
}

/* A backend's convolution kernels that want scratch say so themselves. */
nerve_status nerve_generic_conv_workspace(const nerve_kernel_ctx *ctx,
                                          const nerve_conv_geometry *geo, int64_t batch,
                                          int64_t *size)
{
    *size = 0;
    return NERVE_OK;
}

/* The noise on the host (core/noise.c defines it), then uploaded: a scratch
 * buffer per call, which a device that draws its own noise avoids. */
static nerve_status upload_noise(const nerve_kernel_ctx *ctx, const nerve_noise_at *at,
                                 int64_t rows, int64_t per_sample, double a, double b, bool dropout,
                                 nerve_real *out)
{
    size_t bytes = (size_t)(rows * per_sample) * sizeof *out;
    nerve_real *host = malloc(bytes ? bytes : 1);
    if (!host)
        return nerve_kernel_fail(ctx, NERVE_ERR_NOMEM, "out of memory drawing %lld noise values",
                                 (long long)(rows * per_sample));
    if (dropout)
        nerve_noise_dropout_mask(at, rows, per_sample, a, host);
    else
        nerve_noise_uniform(at, rows, per_sample, a, b, host);
    nerve_status st = ctx->device->upload(ctx, out, host, bytes);
    free(host);
    return st;
}

nerve_status nerve_generic_dropout_mask(const nerve_kernel_ctx *ctx, const nerve_noise_at *at,
                                        int64_t rows, int64_t per_sample, double p,
                                        nerve_real *mask)
{
    return upload_noise(ctx, at, rows, per_sample, p, 0, true, mask);
}

nerve_status nerve_generic_uniform_noise(const nerve_kernel_ctx *ctx, const nerve_noise_at *at,
                                         int64_t rows, int64_t per_sample, double low, double high,
                                         nerve_real *out)
{
    return upload_noise(ctx, at, rows, per_sample, low, high, false, out);
}

/* Downloaded a chunk at a time into the stack: no allocation, one
 * transfer per chunk. */
nerve_status nerve_generic_all_finite(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                      const unsigned char *mask, int64_t n, bool *finite)
{
    enum { CHUNK = 1024 };
    nerve_real values[CHUNK];
    unsigned char counted[CHUNK];
    *finite = true;
    for (int64_t first = 0; first < n && *finite; first += CHUNK) {
        int64_t size = n - first < CHUNK ? n - first : CHUNK;
        NERVE_TRY(ctx->device->download(ctx, values, x + first, (size_t)size * sizeof *values));
        if (mask) NERVE_TRY(ctx->device->download(ctx, counted, mask + first, (size_t)size));
        for (int64_t i = 0; i < size; i++)
            if ((!mask || counted[i]) && !isfinite(values[i])) *finite = false;
    }
    return NERVE_OK;
}
