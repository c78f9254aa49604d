/* 2-D convolution kernels: each sample's windows unrolled into a matrix
 * (im2col) and multiplied by the weight with GEMM; the adjoint multiplies by
 * the weight's transpose and folds the windows back (col2im).
 *
 * The images of the target workloads are small (28x28), so one sample's GEMM
 * is too small to split across threads well: the threads take whole samples
 * instead, each with its own slot of the workspace (its window matrix, and
 * for the weight gradient its own accumulator, summed at the end), and run
 * single-threaded GEMMs.
 *
 * In float32 with oneDNN (NERVE_CPU_DNNL) its convolution primitives
 * (conv_dnnl.c) run first; these kernels are the reference, the float64
 * engine's, a build's without oneDNN, and the fallback for whatever oneDNN
 * does not run. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/blocked16.h"
#include "backends/cpu/conv_dnnl.h"

/* A 1x1 kernel with stride 1 and no padding sees each pixel once: the window
 * matrix is the image itself, and no unrolling is needed. */
static bool is_pointwise(const nerve_conv_geometry *geo)
{
    return geo->kernel[0] == 1 && geo->kernel[1] == 1 && geo->stride[0] == 1 &&
           geo->stride[1] == 1 && geo->padding[0] == 0 && geo->padding[1] == 0 &&
           geo->col_height == geo->height && geo->col_width == geo->width;
}

static int64_t col_plane(const nerve_conv_geometry *geo)
{
    return geo->col_height * geo->col_width;
}

/* Rows of one group's window matrix: its image channels times the kernel. */
static int64_t group_rows(const nerve_conv_geometry *geo)
{
    return geo->channels / geo->groups * geo->kernel[0] * geo->kernel[1];
}

static int64_t window_matrix_size(const nerve_conv_geometry *geo)
{
    return is_pointwise(geo) ? 0 : geo->channels * geo->kernel[0] * geo->kernel[1] * col_plane(geo);
}

static int64_t weight_size(const nerve_conv_geometry *geo)
{
    return geo->col_channels * group_rows(geo);
}

static int64_t padded_size(const nerve_conv_geometry *geo);

/* What unrolling one sample needs: the window matrix and the padded image. */
static int64_t unroll_size(const nerve_conv_geometry *geo)
{
    return is_pointwise(geo) ? 0 : window_matrix_size(geo) + padded_size(geo);
}

/* A thread's slot: its unrolling scratch, then its weight-gradient accumulator. */
static int64_t slot_size(const nerve_conv_geometry *geo)
{
    return unroll_size(geo) + weight_size(geo);
}

nerve_status nerve_cpu_conv_workspace(const nerve_kernel_ctx *ctx, const nerve_conv_geometry *geo,
                                      int64_t batch, int64_t *size)
{
    *size = omp_get_max_threads() * slot_size(geo);
#ifdef NERVE_CPU_DNNL
    int64_t dnnl = nerve_dnnl_conv_workspace(geo, batch);
    if (dnnl > *size) *size = dnnl;
#endif
    return NERVE_OK;
}

nerve_status nerve_cpu_conv_hand_over(const nerve_kernel_ctx *ctx,
                                      const nerve_conv_geometry *producer,
                                      const nerve_conv_geometry *consumer, int64_t batch,
                                      int64_t workspace_size, bool *ok)
{
    *ok = false;
#if defined(NERVE_CPU_DNNL) && defined(NERVE_CPU_BLOCKED16)
    *ok = nerve_dnnl_conv_hand_over(producer, consumer, batch, workspace_size);
#endif
    return NERVE_OK;
}

/* A convolution handed its image or handing its output in oneDNN's layout
 * (conv_hand_over) has no other way to run. */
static nerve_status private_layout_failed(const nerve_kernel_ctx *ctx,
                                          const nerve_conv_geometry *geo)
{
    return nerve_kernel_fail(ctx, NERVE_ERR_INVALID,
                             "conv: oneDNN did not run a convolution whose %s is in its layout",
                             geo->image_private ? "input" : "output");
}

/* A caller that gives less workspace than one thread's slot (one that did
 * not ask conv_workspace, as the generic conv_backward over these kernels)
 * gets one slot from the heap, which the kernel frees: slower, never out of
 * bounds. */
static nerve_status enough_scratch(const nerve_kernel_ctx *ctx, const nerve_conv_geometry *geo,
                                   nerve_real **workspace, int64_t *workspace_size,
                                   nerve_real **heap)
{
    *heap = NULL;
    if (*workspace_size >= slot_size(geo)) return NERVE_OK;
    *heap = malloc((size_t)slot_size(geo) * sizeof **heap);
    if (!*heap)
        return nerve_kernel_fail(ctx, NERVE_ERR_NOMEM, "conv: out of memory for %lld scratch values",
                                 (long long)slot_size(geo));
    *workspace = *heap;
    *workspace_size = slot_size(geo);
    return NERVE_OK;
}

/* Threads for `batch` samples: no more than there are samples or slots. */
static int conv_threads(const nerve_conv_geometry *geo, int64_t batch, int64_t workspace_size)
{
    int64_t threads = omp_get_max_threads();
    int64_t slots = workspace_size / slot_size(geo);
    if (threads > batch) threads = batch;
    if (threads > slots) threads = slots;
    return threads < 1 ? 1 : (int)threads;
}

/* The zero-padded image the windows read: exactly the rows and columns
 * that some window covers, the image at offset (padding top, left). Unrolling
 * from it is then a plain copy per window row, with no bounds to test. */
static int64_t padded_height(const nerve_conv_geometry *geo)
{
    return (geo->col_height - 1) * geo->stride[0] + (geo->kernel[0] - 1) * geo->dilation[0] + 1;
}

static int64_t padded_width(const nerve_conv_geometry *geo)
{
    return (geo->col_width - 1) * geo->stride[1] + (geo->kernel[1] - 1) * geo->dilation[1] + 1;
}

static int64_t padded_size(const nerve_conv_geometry *geo)
{
    return geo->channels * padded_height(geo) * padded_width(geo);
}

/* The image's rows and columns that lie inside the padded image. */
static int64_t copied_rows(const nerve_conv_geometry *geo)
{
    int64_t rows = padded_height(geo) - geo->padding[0];
    return rows < geo->height ? (rows > 0 ? rows : 0) : geo->height;
}

static int64_t copied_columns(const nerve_conv_geometry *geo)
{
    int64_t cols = padded_width(geo) - geo->padding[1];
    return cols < geo->width ? (cols > 0 ? cols : 0) : geo->width;
}

static void pad_image(const nerve_conv_geometry *geo, const nerve_real *image, nerve_real *padded)
{
    int64_t ph = padded_height(geo), pw = padded_width(geo);
    int64_t rows = copied_rows(geo), cols = copied_columns(geo);
    memset(padded, 0, (size_t)padded_size(geo) * sizeof *padded);
    for (int64_t c = 0; c < geo->channels; c++)
        for (int64_t y = 0; y < rows; y++) {
            const nerve_real *in = image + (c * geo->height + y) * geo->width;
            nerve_real *out = padded + (c * ph + y + geo->padding[0]) * pw + geo->padding[1];
            for (int64_t x = 0; x < cols; x++) out[x] = in[x];
        }
}

/* The adjoint of pad_image: image += the padded image's inside. */
static void unpad_image(const nerve_conv_geometry *geo, const nerve_real *padded, nerve_real *image)
{
    int64_t ph = padded_height(geo), pw = padded_width(geo);
    int64_t rows = copied_rows(geo), cols = copied_columns(geo);
    for (int64_t c = 0; c < geo->channels; c++)
        for (int64_t y = 0; y < rows; y++) {
            nerve_real *out = image + (c * geo->height + y) * geo->width;
            const nerve_real *in = padded + (c * ph + y + geo->padding[0]) * pw + geo->padding[1];
            for (int64_t x = 0; x < cols; x++) out[x] += in[x];
        }
}

/* The window matrix's row of image channel c and kernel tap (i, j). */
static int64_t window_row(const nerve_conv_geometry *geo, int64_t c, int64_t i, int64_t j)
{
    return (c * geo->kernel[0] + i) * geo->kernel[1] + j;
}

/* Where in the padded image tap (i, j) of channel c reads for output (0, 0). */
static int64_t window_origin(const nerve_conv_geometry *geo, int64_t c, int64_t i, int64_t j)
{
    return (c * padded_height(geo) + i * geo->dilation[0]) * padded_width(geo) +
           j * geo->dilation[1];
}

/* Copies a short row (14 or 28 pixels) in fixed chunks of 8, which compile
 * to single vector moves, the last one overlapping: a loop's vector body
 * would skip a 14-pixel row for its scalar tail, and memcpy calls cost more
 * than the copy. */
static inline void copy_short_row(nerve_real *out, const nerve_real *in, int64_t n)
{
    enum { CHUNK = 8 };
    if (n < CHUNK) {
        for (int64_t k = 0; k < n; k++) out[k] = in[k];
        return;
    }
    int64_t k = 0;
    for (; k + CHUNK <= n; k += CHUNK) memcpy(out + k, in + k, sizeof(nerve_real[CHUNK]));
    if (k < n) memcpy(out + n - CHUNK, in + n - CHUNK, sizeof(nerve_real[CHUNK]));
}

/* out += in over a short row, in fixed chunks of 8 (vector adds) and a tail. */
static inline void add_short_row(nerve_real *out, const nerve_real *in, int64_t n)
{
    enum { CHUNK = 8 };
    int64_t k = 0;
    for (; k + CHUNK <= n; k += CHUNK)
        for (int q = 0; q < CHUNK; q++) out[k + q] += in[k + q];
    for (; k < n; k++) out[k] += in[k];
}

/* windows[(c, i, j), (oh, ow)] = padded[c, oh s + i d, ow s + j d]. */
static void padded_to_windows(const nerve_conv_geometry *geo, const nerve_real *padded,
                              nerve_real *windows)
{
    int64_t pw = padded_width(geo);
    int64_t out_h = geo->col_height, out_w = geo->col_width, sw = geo->stride[1];
    for (int64_t c = 0; c < geo->channels; c++)
        for (int64_t i = 0; i < geo->kernel[0]; i++)
            for (int64_t j = 0; j < geo->kernel[1]; j++) {
                nerve_real *out = windows + window_row(geo, c, i, j) * out_h * out_w;
                const nerve_real *in = padded + window_origin(geo, c, i, j);
                for (int64_t oh = 0; oh < out_h; oh++, out += out_w, in += geo->stride[0] * pw) {
                    if (sw == 1) {
                        copy_short_row(out, in, out_w);
                    } else {
                        for (int64_t ow = 0; ow < out_w; ow++) out[ow] = in[ow * sw];
                    }
                }
            }
}

/* The adjoint of padded_to_windows: padded += every window entry where it was read. */
static void windows_to_padded(const nerve_conv_geometry *geo, const nerve_real *windows,
                              nerve_real *padded)
{
    int64_t pw = padded_width(geo);
    int64_t out_h = geo->col_height, out_w = geo->col_width, sw = geo->stride[1];
    memset(padded, 0, (size_t)padded_size(geo) * sizeof *padded);
    for (int64_t c = 0; c < geo->channels; c++)
        for (int64_t i = 0; i < geo->kernel[0]; i++)
            for (int64_t j = 0; j < geo->kernel[1]; j++) {
                const nerve_real *in = windows + window_row(geo, c, i, j) * out_h * out_w;
                nerve_real *out = padded + window_origin(geo, c, i, j);
                for (int64_t oh = 0; oh < out_h; oh++, in += out_w, out += geo->stride[0] * pw) {
                    if (sw == 1) {
                        add_short_row(out, in, out_w);
                    } else {
                        for (int64_t ow = 0; ow < out_w; ow++) out[ow * sw] += in[ow];
                    }
                }
            }
}

/* The window matrix of image, in the slot's scratch (window matrix, then padded image). */
static const nerve_real *image_to_windows(const nerve_conv_geometry *geo, const nerve_real *image,
                                          nerve_real *scratch)
{
    nerve_real *padded = scratch + window_matrix_size(geo);
    pad_image(geo, image, padded);
    padded_to_windows(geo, padded, scratch);
    return scratch;
}

/* image += the adjoint of the unrolling, of the window matrix at the start of scratch. */
static void windows_to_image(const nerve_conv_geometry *geo, nerve_real *scratch, nerve_real *image)
{
    nerve_real *padded = scratch + window_matrix_size(geo);
    windows_to_padded(geo, scratch, padded);
    unpad_image(geo, padded, image);
}

/* y = (accumulate ? y : 0) + bias[c] on each plane of y [channels, plane];
 * returns whether y now holds values a GEMM must add to (beta 1). */
static bool start_output(nerve_real *y, const nerve_real *bias, bool accumulate, int64_t channels,
                         int64_t plane)
{
    if (!bias) return accumulate;
    for (int64_t c = 0; c < channels; c++) {
        nerve_real *p = y + c * plane;
        if (accumulate) {
            for (int64_t k = 0; k < plane; k++) p[k] += bias[c];
        } else {
            for (int64_t k = 0; k < plane; k++) p[k] = bias[c];
        }
    }
    return true;
}

static void sample_columns(const nerve_conv_geometry *geo, const nerve_real *image,
                           const nerve_real *weight, const nerve_real *bias, bool accumulate,
                           nerve_real *cols, nerve_real *scratch)
{
    int64_t plane = col_plane(geo), rows = group_rows(geo);
    int64_t out_per_group = geo->col_channels / geo->groups;
    const nerve_real *windows = is_pointwise(geo) ? image : image_to_windows(geo, image, scratch);
    nerve_real beta = start_output(cols, bias, accumulate, geo->col_channels, plane) ? 1 : 0;
    for (int64_t gr = 0; gr < geo->groups; gr++)
        nerve_cpu_matmul(false, false, out_per_group, plane, rows, 1,
                         weight + gr * out_per_group * rows, rows, windows + gr * rows * plane,
                         plane, beta, cols + gr * out_per_group * plane, plane);
}

static void sample_image(const nerve_conv_geometry *geo, const nerve_real *cols,
                         const nerve_real *weight, const nerve_real *bias, bool accumulate,
                         nerve_real *image, nerve_real *scratch)
{
    int64_t plane = col_plane(geo), rows = group_rows(geo);
    int64_t out_per_group = geo->col_channels / geo->groups;
    bool started = start_output(image, bias, accumulate, geo->channels, geo->height * geo->width);
    if (is_pointwise(geo)) {
        for (int64_t gr = 0; gr < geo->groups; gr++)
            nerve_cpu_matmul(true, false, rows, plane, out_per_group, 1,
                             weight + gr * out_per_group * rows, rows,
                             cols + gr * out_per_group * plane, plane, started ? 1 : 0,
                             image + gr * rows * plane, plane);
        return;
    }
    int64_t image_size = geo->channels * geo->height * geo->width;
    if (!started) memset(image, 0, (size_t)image_size * sizeof *image);
    for (int64_t gr = 0; gr < geo->groups; gr++)
        nerve_cpu_matmul(
            true, false, rows, plane, out_per_group, 1, weight + gr * out_per_group * rows, rows,
            cols + gr * out_per_group * plane, plane, 0, scratch + gr * rows * plane, plane);
    windows_to_image(geo, scratch, image);
}

static void sample_weight_gradient(const nerve_conv_geometry *geo, const nerve_real *image,
                                   const nerve_real *cols, nerve_real *dweight,
                                   nerve_real *scratch)
{
    int64_t plane = col_plane(geo), rows = group_rows(geo);
    int64_t out_per_group = geo->col_channels / geo->groups;
    const nerve_real *windows = is_pointwise(geo) ? image : image_to_windows(geo, image, scratch);
    for (int64_t gr = 0; gr < geo->groups; gr++)
        nerve_cpu_matmul(false, true, out_per_group, rows, plane, 1,
                         cols + gr * out_per_group * plane, plane, windows + gr * rows * plane,
                         plane, 1, dweight + gr * out_per_group * rows, rows);
}

nerve_status nerve_cpu_conv_columns(const nerve_kernel_ctx *ctx, const nerve_conv_geometry *geo,
                                    int64_t batch, const nerve_real *image,
                                    const nerve_real *weight, const nerve_real *bias,
                                    bool accumulate, nerve_real *cols, nerve_real *workspace,
                                    int64_t workspace_size)
{
#ifdef NERVE_CPU_DNNL
    if (nerve_dnnl_conv_columns(geo, batch, image, weight, bias, accumulate, false, cols,
                                workspace, workspace_size))
        return NERVE_OK;
#endif
    if (geo->image_private || geo->cols_private) return private_layout_failed(ctx, geo);
    int64_t image_size = geo->channels * geo->height * geo->width;
    int64_t cols_size = geo->col_channels * col_plane(geo);
    nerve_real *heap;
    NERVE_TRY(enough_scratch(ctx, geo, &workspace, &workspace_size, &heap));
    int threads = conv_threads(geo, batch, workspace_size);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (int64_t n = 0; n < batch; n++)
        sample_columns(geo, image + n * image_size, weight, bias, accumulate, cols + n * cols_size,
                       workspace + omp_get_thread_num() * slot_size(geo));
    free(heap);
    return NERVE_OK;
}

/* oneDNN's primitive with a ReLU post-op where it runs the geometry, else
 * the convolution and the ReLU over its output. */
nerve_status nerve_cpu_conv_columns_relu(const nerve_kernel_ctx *ctx,
                                         const nerve_conv_geometry *geo, int64_t batch,
                                         const nerve_real *image, const nerve_real *weight,
                                         const nerve_real *bias, nerve_real *cols,
                                         nerve_real *workspace, int64_t workspace_size)
{
#ifdef NERVE_CPU_DNNL
    if (nerve_dnnl_conv_columns(geo, batch, image, weight, bias, false, true, cols, workspace,
                                workspace_size))
        return NERVE_OK;
#endif
    if (geo->image_private || geo->cols_private) return private_layout_failed(ctx, geo);
    NERVE_TRY(nerve_cpu_conv_columns(ctx, geo, batch, image, weight, bias, false, cols, workspace,
                                     workspace_size));
    const nerve_activation_params none = {0}; /* ReLU has no settings */
    return nerve_cpu_activation_forward(ctx, NERVE_ACT_RELU, &none, cols, cols,
                                        batch * geo->col_channels * col_plane(geo));
}

nerve_status nerve_cpu_conv_image(const nerve_kernel_ctx *ctx, const nerve_conv_geometry *geo,
                                  int64_t batch, const nerve_real *cols, const nerve_real *weight,
                                  const nerve_real *bias, bool accumulate, nerve_real *image,
                                  nerve_real *workspace, int64_t workspace_size)
{
#ifdef NERVE_CPU_DNNL
    if (nerve_dnnl_conv_image(geo, batch, cols, weight, bias, accumulate, image, workspace,
                              workspace_size))
        return NERVE_OK;
#endif
    int64_t image_size = geo->channels * geo->height * geo->width;
    int64_t cols_size = geo->col_channels * col_plane(geo);
    nerve_real *heap;
    NERVE_TRY(enough_scratch(ctx, geo, &workspace, &workspace_size, &heap));
    int threads = conv_threads(geo, batch, workspace_size);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (int64_t n = 0; n < batch; n++)
        sample_image(geo, cols + n * cols_size, weight, bias, accumulate, image + n * image_size,
                     workspace + omp_get_thread_num() * slot_size(geo));
    free(heap);
    return NERVE_OK;
}

nerve_status nerve_cpu_conv_weight_gradient(const nerve_kernel_ctx *ctx,
                                            const nerve_conv_geometry *geo, int64_t batch,
                                            const nerve_real *image, const nerve_real *cols,
                                            nerve_real *dweight, nerve_real *workspace,
                                            int64_t workspace_size)
{
#ifdef NERVE_CPU_DNNL
    if (nerve_dnnl_conv_weight_gradient(geo, batch, image, cols, dweight, workspace,
                                        workspace_size))
        return NERVE_OK;
#endif
    int64_t image_size = geo->channels * geo->height * geo->width;
    int64_t cols_size = geo->col_channels * col_plane(geo);
    int64_t slot = slot_size(geo), unroll = unroll_size(geo), size = weight_size(geo);
    nerve_real *heap;
    NERVE_TRY(enough_scratch(ctx, geo, &workspace, &workspace_size, &heap));
    int threads = conv_threads(geo, batch, workspace_size);
    /* Thread 0 adds into dweight itself; the others into their slots, summed after. */
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        int id = omp_get_thread_num(), team = omp_get_num_threads();
        nerve_real *accumulator = id == 0 ? dweight : workspace + id * slot + unroll;
        if (id) memset(accumulator, 0, (size_t)size * sizeof *accumulator);
#pragma omp barrier
#pragma omp for schedule(static)
        for (int64_t n = 0; n < batch; n++)
            sample_weight_gradient(geo, image + n * image_size, cols + n * cols_size, accumulator,
                                   workspace + id * slot);
#pragma omp for schedule(static)
        for (int64_t k = 0; k < size; k++)
            for (int t = 1; t < team; t++) dweight[k] += workspace[t * slot + unroll + k];
    }
    free(heap);
    return NERVE_OK;
}

/* With oneDNN, the two passes share the reordered dcols (conv_dnnl.c). The
 * bias's gradient stays nerve's sum in double: oneDNN's backward weights
 * can sum it too, in float, 1e-4 off over 10^4 terms (tried: it failed
 * test_backend_ops). */
nerve_status nerve_cpu_conv_backward(const nerve_kernel_ctx *ctx, const nerve_conv_geometry *geo,
                                     int64_t batch, const nerve_real *image,
                                     const nerve_real *weight, const nerve_real *dcols,
                                     bool accumulate, nerve_real *dimage, nerve_real *dweight,
                                     nerve_real *dbias, nerve_real *workspace,
                                     int64_t workspace_size)
{
    bool done = false;
#ifdef NERVE_CPU_DNNL
    done = dimage && dweight &&
           nerve_dnnl_conv_backward(geo, batch, image, weight, dcols, accumulate, dimage, dweight,
                                    workspace, workspace_size);
#endif
    if (dimage && !done)
        NERVE_TRY(nerve_cpu_conv_image(ctx, geo, batch, dcols, weight, NULL, accumulate, dimage,
                                       workspace, workspace_size));
    if (dweight && !done)
        NERVE_TRY(nerve_cpu_conv_weight_gradient(ctx, geo, batch, image, dcols, dweight, workspace,
                                                 workspace_size));
    if (dbias)
        NERVE_TRY(nerve_cpu_sum_channels(ctx, dcols, dbias, batch, geo->col_channels,
                                         col_plane(geo)));
    return NERVE_OK;
}

nerve_status nerve_cpu_sum_channels(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                    nerve_real *db, int64_t batch, int64_t channels, int64_t plane)
{
#pragma omp parallel for schedule(static) if (batch * channels * plane > NERVE_CPU_PARALLEL_MIN)
    for (int64_t c = 0; c < channels; c++) {
        double total = 0;
        for (int64_t n = 0; n < batch; n++) {
            const nerve_real *p = x + (n * channels + c) * plane;
            nerve_real sum = 0;
#pragma omp simd reduction(+ : sum)
            for (int64_t k = 0; k < plane; k++) sum += p[k];
            total += sum;
        }
        db[c] += (nerve_real)total;
    }
    return NERVE_OK;
}
