/* 2-D convolution kernels: each sample's windows unrolled into a matrix
 * (im2col) and multiplied by the weight with GEMM; the adjoint multiplies by
 * the weight's transpose and folds the windows back (col2im).
 *
 * The images of the target workloads are small (28x28), so one sample's GEMM
 * is too small to split across threads well: the threads take whole samples
 * instead, each with its own slot of the workspace (its window matrix, and
 * for the weight gradient its own accumulator, summed at the end), and run
 * single-threaded GEMMs. */
#include <omp.h>
#include <string.h>

#include "backends/cpu/cpu.h"

/* A 1x1 kernel with stride 1 and no padding sees each pixel once: the window
 * matrix is the image itself, and no unrolling is needed. */
static bool is_pointwise(const nerve_conv_geometry *geo)
{
    return geo->kernel[0] == 1 && geo->kernel[1] == 1 && geo->stride[0] == 1 &&
           geo->stride[1] == 1 && geo->padding[0] == 0 && geo->padding[1] == 0 &&
           geo->col_height == geo->height && geo->col_width == geo->width;
}

static int64_t col_plane(const nerve_conv_geometry *geo) { return geo->col_height * geo->col_width; }

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

/* A thread's slot: its window matrix, then its weight-gradient accumulator. */
static int64_t slot_size(const nerve_conv_geometry *geo)
{
    return window_matrix_size(geo) + weight_size(geo);
}

int64_t nerve_cpu_conv_workspace(const nerve_conv_geometry *geo)
{
    return omp_get_max_threads() * slot_size(geo);
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

/* The outputs o in [*begin, *end) of [0, count) whose input o * stride +
 * offset lies in [0, size); the others read padding. */
static void valid_range(int64_t offset, int64_t stride, int64_t size, int64_t count,
                        int64_t *begin, int64_t *end)
{
    int64_t b = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
    int64_t e = size - offset <= 0 ? 0 : (size - offset + stride - 1) / stride;
    if (e > count) e = count;
    if (b > e) b = e;
    *begin = b;
    *end = e;
}

/* windows[(c, i, j), (oh, ow)] = image[c, oh s + i d - p, ow s + j d - p], 0 in the padding. */
static void image_to_windows(const nerve_conv_geometry *geo, const nerve_real *image,
                             nerve_real *windows)
{
    int64_t height = geo->height, width = geo->width;
    int64_t out_h = geo->col_height, out_w = geo->col_width;
    for (int64_t c = 0; c < geo->channels; c++) {
        const nerve_real *channel = image + c * height * width;
        for (int64_t i = 0; i < geo->kernel[0]; i++) {
            int64_t y0 = i * geo->dilation[0] - geo->padding[0], h_begin, h_end;
            valid_range(y0, geo->stride[0], height, out_h, &h_begin, &h_end);
            for (int64_t j = 0; j < geo->kernel[1]; j++) {
                int64_t x0 = j * geo->dilation[1] - geo->padding[1], w_begin, w_end;
                valid_range(x0, geo->stride[1], width, out_w, &w_begin, &w_end);
                nerve_real *row = windows + ((c * geo->kernel[0] + i) * geo->kernel[1] + j) * out_h * out_w;
                memset(row, 0, (size_t)(h_begin * out_w) * sizeof *row);
                for (int64_t oh = h_begin; oh < h_end; oh++) {
                    const nerve_real *in = channel + (oh * geo->stride[0] + y0) * width + x0;
                    nerve_real *out = row + oh * out_w;
                    /* Rows are short (28 pixels): plain loops beat memcpy calls. */
                    for (int64_t ow = 0; ow < w_begin; ow++) out[ow] = 0;
                    if (geo->stride[1] == 1) {
                        for (int64_t ow = w_begin; ow < w_end; ow++) out[ow] = in[ow];
                    } else {
                        for (int64_t ow = w_begin; ow < w_end; ow++) out[ow] = in[ow * geo->stride[1]];
                    }
                    for (int64_t ow = w_end; ow < out_w; ow++) out[ow] = 0;
                }
                memset(row + h_end * out_w, 0, (size_t)((out_h - h_end) * out_w) * sizeof *row);
            }
        }
    }
}

/* The adjoint of image_to_windows: image[c, y, x] += every window entry that read it. */
static void windows_to_image(const nerve_conv_geometry *geo, const nerve_real *windows,
                             nerve_real *image)
{
    int64_t height = geo->height, width = geo->width;
    int64_t out_h = geo->col_height, out_w = geo->col_width;
    for (int64_t c = 0; c < geo->channels; c++) {
        nerve_real *channel = image + c * height * width;
        for (int64_t i = 0; i < geo->kernel[0]; i++) {
            int64_t y0 = i * geo->dilation[0] - geo->padding[0], h_begin, h_end;
            valid_range(y0, geo->stride[0], height, out_h, &h_begin, &h_end);
            for (int64_t j = 0; j < geo->kernel[1]; j++) {
                int64_t x0 = j * geo->dilation[1] - geo->padding[1], w_begin, w_end;
                valid_range(x0, geo->stride[1], width, out_w, &w_begin, &w_end);
                const nerve_real *row =
                    windows + ((c * geo->kernel[0] + i) * geo->kernel[1] + j) * out_h * out_w;
                for (int64_t oh = h_begin; oh < h_end; oh++) {
                    nerve_real *out = channel + (oh * geo->stride[0] + y0) * width + x0;
                    const nerve_real *in = row + oh * out_w;
                    if (geo->stride[1] == 1) {
                        for (int64_t ow = w_begin; ow < w_end; ow++) out[ow] += in[ow];
                    } else {
                        for (int64_t ow = w_begin; ow < w_end; ow++) out[ow * geo->stride[1]] += in[ow];
                    }
                }
            }
        }
    }
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
                           nerve_real *cols, nerve_real *window_buffer)
{
    int64_t plane = col_plane(geo), rows = group_rows(geo);
    int64_t out_per_group = geo->col_channels / geo->groups;
    const nerve_real *windows = image;
    if (!is_pointwise(geo)) {
        image_to_windows(geo, image, window_buffer);
        windows = window_buffer;
    }
    nerve_real beta = start_output(cols, bias, accumulate, geo->col_channels, plane) ? 1 : 0;
    for (int64_t gr = 0; gr < geo->groups; gr++)
        nerve_cpu_gemm(false, false, out_per_group, plane, rows, 1,
                       weight + gr * out_per_group * rows, rows, windows + gr * rows * plane, plane,
                       beta, cols + gr * out_per_group * plane, plane);
}

static void sample_image(const nerve_conv_geometry *geo, const nerve_real *cols,
                         const nerve_real *weight, const nerve_real *bias, bool accumulate,
                         nerve_real *image, nerve_real *window_buffer)
{
    int64_t plane = col_plane(geo), rows = group_rows(geo);
    int64_t out_per_group = geo->col_channels / geo->groups;
    bool started = start_output(image, bias, accumulate, geo->channels, geo->height * geo->width);
    if (is_pointwise(geo)) {
        for (int64_t gr = 0; gr < geo->groups; gr++)
            nerve_cpu_gemm(true, false, rows, plane, out_per_group, 1,
                           weight + gr * out_per_group * rows, rows,
                           cols + gr * out_per_group * plane, plane, started ? 1 : 0,
                           image + gr * rows * plane, plane);
        return;
    }
    if (!started) memset(image, 0, (size_t)(geo->channels * geo->height * geo->width) * sizeof *image);
    for (int64_t gr = 0; gr < geo->groups; gr++)
        nerve_cpu_gemm(true, false, rows, plane, out_per_group, 1,
                       weight + gr * out_per_group * rows, rows, cols + gr * out_per_group * plane,
                       plane, 0, window_buffer + gr * rows * plane, plane);
    windows_to_image(geo, window_buffer, image);
}

static void sample_weight_gradient(const nerve_conv_geometry *geo, const nerve_real *image,
                                   const nerve_real *cols, nerve_real *dweight,
                                   nerve_real *window_buffer)
{
    int64_t plane = col_plane(geo), rows = group_rows(geo);
    int64_t out_per_group = geo->col_channels / geo->groups;
    const nerve_real *windows = image;
    if (!is_pointwise(geo)) {
        image_to_windows(geo, image, window_buffer);
        windows = window_buffer;
    }
    for (int64_t gr = 0; gr < geo->groups; gr++)
        nerve_cpu_gemm(false, true, out_per_group, rows, plane, 1,
                       cols + gr * out_per_group * plane, plane, windows + gr * rows * plane, plane,
                       1, dweight + gr * out_per_group * rows, rows);
}

void nerve_cpu_conv_columns(const nerve_conv_geometry *geo, int64_t batch, const nerve_real *image,
                            const nerve_real *weight, const nerve_real *bias, bool accumulate,
                            nerve_real *cols, nerve_real *workspace, int64_t workspace_size)
{
    int64_t image_size = geo->channels * geo->height * geo->width;
    int64_t cols_size = geo->col_channels * col_plane(geo);
    int threads = conv_threads(geo, batch, workspace_size);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (int64_t n = 0; n < batch; n++)
        sample_columns(geo, image + n * image_size, weight, bias, accumulate, cols + n * cols_size,
                       workspace + omp_get_thread_num() * slot_size(geo));
}

void nerve_cpu_conv_image(const nerve_conv_geometry *geo, int64_t batch, const nerve_real *cols,
                          const nerve_real *weight, const nerve_real *bias, bool accumulate,
                          nerve_real *image, nerve_real *workspace, int64_t workspace_size)
{
    int64_t image_size = geo->channels * geo->height * geo->width;
    int64_t cols_size = geo->col_channels * col_plane(geo);
    int threads = conv_threads(geo, batch, workspace_size);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (int64_t n = 0; n < batch; n++)
        sample_image(geo, cols + n * cols_size, weight, bias, accumulate, image + n * image_size,
                     workspace + omp_get_thread_num() * slot_size(geo));
}

void nerve_cpu_conv_weight_gradient(const nerve_conv_geometry *geo, int64_t batch,
                                    const nerve_real *image, const nerve_real *cols,
                                    nerve_real *dweight, nerve_real *workspace,
                                    int64_t workspace_size)
{
    int64_t image_size = geo->channels * geo->height * geo->width;
    int64_t cols_size = geo->col_channels * col_plane(geo);
    int64_t slot = slot_size(geo), windows = window_matrix_size(geo), size = weight_size(geo);
    int threads = conv_threads(geo, batch, workspace_size);
    /* Thread 0 adds into dweight itself; the others into their slots, summed after. */
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        int id = omp_get_thread_num(), team = omp_get_num_threads();
        nerve_real *accumulator = id == 0 ? dweight : workspace + id * slot + windows;
        if (id) memset(accumulator, 0, (size_t)size * sizeof *accumulator);
#pragma omp barrier
#pragma omp for schedule(static)
        for (int64_t n = 0; n < batch; n++)
            sample_weight_gradient(geo, image + n * image_size, cols + n * cols_size, accumulator,
                                   workspace + id * slot);
#pragma omp for schedule(static)
        for (int64_t k = 0; k < size; k++)
            for (int t = 1; t < team; t++) dweight[k] += workspace[t * slot + windows + k];
    }
}

void nerve_cpu_sum_channels(const nerve_real *x, nerve_real *db, int64_t batch, int64_t channels,
                            int64_t plane)
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
}
