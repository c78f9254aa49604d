/* The generic building blocks, each on top of the core kernels of ctx's
 * table (the noise: on the host, then uploaded), so that they run on any
 * device, and the helpers the op-specific composites (generic_*.c) are
 * written with. A backend that writes its own version of a composite does
 * so for speed. */
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

/* The convolution, then the ReLU over its output in place. */
nerve_status nerve_generic_conv_columns_relu(const nerve_kernel_ctx *ctx,
                                             const nerve_conv_geometry *geo, int64_t batch,
                                             const nerve_real *image, const nerve_real *weight,
                                             const nerve_real *bias, nerve_real *cols,
                                             nerve_real *workspace, int64_t workspace_size)
{
    NERVE_TRY(NERVE_KERNEL(ctx, conv_columns, geo, batch, image, weight, bias, false, cols,
                           workspace, workspace_size));
    const nerve_activation_params none = {0}; /* ReLU has no settings */
    int64_t n = batch * geo->col_channels * geo->col_height * geo->col_width;
    return NERVE_KERNEL(ctx, activation_forward, NERVE_ACT_RELU, &none, cols, cols, n);
}

/* The sum, then the ReLU over it in place. */
nerve_status nerve_generic_add_relu_forward(const nerve_kernel_ctx *ctx,
                                            const nerve_real *const *x, int count, nerve_real *y,
                                            int64_t n)
{
    NERVE_TRY(NERVE_KERNEL(ctx, add_forward, x, count, y, n));
    const nerve_activation_params none = {0}; /* ReLU has no settings */
    return NERVE_KERNEL(ctx, activation_forward, NERVE_ACT_RELU, &none, y, y, n);
}

/* The ReLU's backward into each input in turn. */
nerve_status nerve_generic_add_relu_backward(const nerve_kernel_ctx *ctx, const nerve_real *y,
                                             const nerve_real *dy, nerve_real *const *dx,
                                             const bool *accumulate, int count, int64_t n)
{
    const nerve_activation_params none = {0}; /* ReLU has no settings */
    for (int k = 0; k < count; k++)
        NERVE_TRY(NERVE_KERNEL(ctx, activation_backward, NERVE_ACT_RELU, &none, y, y, dy,
                               accumulate[k], dx[k], n));
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

/* No layout of its own: NCHW throughout. */
nerve_status nerve_generic_conv_hand_over(const nerve_kernel_ctx *ctx,
                                          const nerve_conv_geometry *producer,
                                          const nerve_conv_geometry *consumer, int64_t batch,
                                          int64_t workspace_size, bool *ok)
{
    *ok = false;
    return NERVE_OK;
}

/* The three kernels one after the other: no work shared. */
nerve_status nerve_generic_conv_backward(const nerve_kernel_ctx *ctx,
                                         const nerve_conv_geometry *geo, int64_t batch,
                                         const nerve_real *image, const nerve_real *weight,
                                         const nerve_real *dcols, bool accumulate,
                                         nerve_real *dimage, nerve_real *dweight,
                                         nerve_real *dbias, nerve_real *workspace,
                                         int64_t workspace_size)
{
    if (dimage)
        NERVE_TRY(NERVE_KERNEL(ctx, conv_image, geo, batch, dcols, weight, NULL, accumulate,
                               dimage, workspace, workspace_size));
    if (dweight)
        NERVE_TRY(NERVE_KERNEL(ctx, conv_weight_gradient, geo, batch, image, dcols, dweight,
                               workspace, workspace_size));
    if (dbias)
        NERVE_TRY(NERVE_KERNEL(ctx, sum_channels, dcols, dbias, batch, geo->col_channels,
                               geo->col_height * geo->col_width));
    return NERVE_OK;
}

/* The convolution into cols in nerve's layout, then the batch norm's three
 * kernels. */
nerve_status nerve_generic_conv_batch_norm_forward(const nerve_kernel_ctx *ctx,
                                                   const nerve_conv_geometry *geo, int64_t batch,
                                                   const nerve_real *image,
                                                   const nerve_real *weight,
                                                   const nerve_real *bias, nerve_real *cols,
                                                   const nerve_batch_norm_pass *bn,
                                                   nerve_real *workspace, int64_t workspace_size)
{
    const int64_t channels = geo->col_channels, inner = geo->col_height * geo->col_width;
    NERVE_TRY(NERVE_KERNEL(ctx, conv_columns, geo, batch, image, weight, bias, false, cols,
                           workspace, workspace_size));
    NERVE_TRY(NERVE_KERNEL(ctx, batch_norm_statistics, cols, bn->mean, bn->var, bn->momentum,
                           bn->running_mean, bn->running_var, bn->counter, batch, channels,
                           inner));
    if (bn->relu)
        return NERVE_KERNEL(ctx, batch_norm_relu_forward, cols, bn->mean, bn->var, bn->eps,
                            bn->weight, bn->bias, bn->y, batch, channels, inner);
    return NERVE_KERNEL(ctx, batch_norm_forward, cols, bn->mean, bn->var, bn->eps, bn->weight,
                        bn->bias, bn->y, batch, channels, inner);
}

nerve_status nerve_generic_conv_batch_norm_backward(
    const nerve_kernel_ctx *ctx, const nerve_conv_geometry *geo, int64_t batch,
    const nerve_real *image, const nerve_real *weight, const nerve_real *bias,
    const nerve_real *cols, nerve_real *dcols, const nerve_batch_norm_pass *bn, bool accumulate,
    nerve_real *dimage, nerve_real *dweight, nerve_real *dbias, nerve_real *workspace,
    int64_t workspace_size)
{
    const int64_t channels = geo->col_channels, inner = geo->col_height * geo->col_width;
    if (bn->relu)
        NERVE_TRY(NERVE_KERNEL(ctx, batch_norm_relu_backward, cols, bn->y, bn->dy, bn->mean,
                               bn->var, bn->eps, bn->weight, true, false, dcols, bn->dweight,
                               bn->dbias, batch, channels, inner));
    else
        NERVE_TRY(NERVE_KERNEL(ctx, batch_norm_backward, cols, bn->dy, bn->mean, bn->var, bn->eps,
                               bn->weight, true, false, dcols, bn->dweight, bn->dbias, batch,
                               channels, inner));
    return NERVE_KERNEL(ctx, conv_backward, geo, batch, image, weight, dcols, accumulate, dimage,
                        dweight, dbias, workspace, workspace_size);
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

/* ---------------------------------------------------------------- helpers */

nerve_status nerve_generic_scratch(const nerve_kernel_ctx *ctx, int64_t n, nerve_real **out)
{
    *out = NULL;
    return ctx->device->allocate(ctx, (size_t)(n > 0 ? n : 1) * sizeof(nerve_real), (void **)out);
}

void nerve_generic_release(const nerve_kernel_ctx *ctx, nerve_real *scratch)
{
    if (scratch) ctx->device->release(ctx, scratch);
}

/* n one-element "channels" of one batch each: sum_channels adds them in double. */
nerve_status nerve_generic_sum(const nerve_kernel_ctx *ctx, const nerve_real *x, int64_t n,
                               double scale, nerve_real *loss)
{
    NERVE_TRY(ctx->device->set(ctx, loss, 0, sizeof *loss));
    NERVE_TRY(NERVE_KERNEL(ctx, sum_channels, x, loss, n, 1, 1));
    return NERVE_MAP(ctx, MUL, loss, NULL, 0, scale, loss, 1);
}

nerve_status nerve_generic_row_sums(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                    int64_t rows, int64_t cols, nerve_real *sums)
{
    NERVE_TRY(ctx->device->set(ctx, sums, 0, (size_t)rows * sizeof *sums));
    return NERVE_KERNEL(ctx, sum_channels, x, sums, 1, rows, cols);
}

nerve_status nerve_generic_accumulate(const nerve_kernel_ctx *ctx, nerve_real *g, int64_t n,
                                      double scale, const nerve_real *dloss, nerve_real *y)
{
    NERVE_TRY(NERVE_MAP(ctx, MUL, g, NULL, 0, scale, g, n));
    if (dloss) NERVE_TRY(NERVE_MAP(ctx, MUL, g, dloss, 0, 0, g, n));
    return NERVE_KERNEL(ctx, add_block, 1, n, g, n, y, n);
}

nerve_status nerve_generic_targets(const nerve_kernel_ctx *ctx, const nerve_real *labels,
                                   int64_t rows, int64_t cols, nerve_real *onehot,
                                   nerve_real *target)
{
    NERVE_TRY(NERVE_KERNEL(ctx, one_hot, labels, onehot, rows, cols));
    return NERVE_MAP(ctx, EQ, onehot, NULL, 0, 1, target, rows * cols);
}

nerve_status nerve_generic_pick(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                const nerve_real *target, int64_t rows, int64_t cols,
                                nerve_real *scratch, nerve_real *picked)
{
    NERVE_TRY(ctx->device->set(ctx, scratch, 0, (size_t)(rows * cols) * sizeof *scratch));
    NERVE_TRY(NERVE_MAP(ctx, SELECT, target, x, 1, 0, scratch, rows * cols));
    return nerve_generic_row_sums(ctx, scratch, rows, cols, picked);
}

nerve_status nerve_generic_ones(const nerve_kernel_ctx *ctx, nerve_real *y, int64_t n)
{
    NERVE_TRY(ctx->device->set(ctx, y, 0, (size_t)n * sizeof *y));
    return NERVE_MAP(ctx, ADD, y, NULL, 0, 1, y, n);
}

nerve_status nerve_generic_axis_sums(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                     int64_t outer, int64_t len, int64_t inner, nerve_real *sums)
{
    if (inner == 1) return nerve_generic_row_sums(ctx, x, outer, len, sums);
    NERVE_TRY(ctx->device->set(ctx, sums, 0, (size_t)(outer * inner) * sizeof *sums));
    for (int64_t o = 0; o < outer; o++)
        NERVE_TRY(NERVE_KERNEL(ctx, sum_channels, x + o * len * inner, sums + o * inner, len,
                               inner, 1));
    return NERVE_OK;
}

/* inner 1: each row of ones scaled by its sum; else a repeated row per outer. */
nerve_status nerve_generic_axis_broadcast(const nerve_kernel_ctx *ctx, const nerve_real *sums,
                                          int64_t outer, int64_t len, int64_t inner,
                                          nerve_real *y)
{
    if (inner == 1) {
        NERVE_TRY(nerve_generic_ones(ctx, y, outer * len));
        return NERVE_KERNEL(ctx, scale_rows, y, sums, y, outer, len);
    }
    for (int64_t o = 0; o < outer; o++)
        NERVE_TRY(NERVE_KERNEL(ctx, copy_block, len, inner, sums + o * inner, 0,
                               y + o * len * inner, inner));
    return NERVE_OK;
}

/* dx += dy * scale[r]: the scaled rows, then one add. */
nerve_status nerve_generic_scale_rows_backward(const nerve_kernel_ctx *ctx, const nerve_real *dy,
                                               const nerve_real *scale, nerve_real *dx,
                                               int64_t rows, int64_t inner)
{
    int64_t n = rows * inner;
    nerve_real *g;
    NERVE_TRY(nerve_generic_scratch(ctx, n, &g));
    nerve_status st;
    NERVE_STEP(NERVE_KERNEL(ctx, scale_rows, dy, scale, g, rows, inner));
    st = NERVE_KERNEL(ctx, add_block, 1, n, g, n, dx, n);
done:
    nerve_generic_release(ctx, g);
    return st;
}
