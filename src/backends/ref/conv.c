/* 2-D convolution by its definition, no unrolling and no workspace: column
 * (oc, oh, ow) of a sample is bias[oc] + the sum over its group's image
 * channels and the kernel's taps of weight * image at (oh s - pad + kh d,
 * ow s - pad + kw d), taps outside the image reading zero. The adjoint and
 * the weight gradient are the same sum gathered at each image pixel and at
 * each weight: every output is one sum, formed in double. */
#include "backends/ref/ref.h"

/* The image row (column) that output row oh (column ow) reads through tap kh (kw). */
static int64_t image_row(const nerve_conv_geometry *geo, int64_t oh, int64_t kh)
{
    return oh * geo->stride[0] - geo->padding[0] + kh * geo->dilation[0];
}

static int64_t image_col(const nerve_conv_geometry *geo, int64_t ow, int64_t kw)
{
    return ow * geo->stride[1] - geo->padding[1] + kw * geo->dilation[1];
}

/* The output row (column) whose tap kh (kw) reads image row h (column w), or -1. */
static int64_t output_row(const nerve_conv_geometry *geo, int64_t h, int64_t kh)
{
    int64_t at = h + geo->padding[0] - kh * geo->dilation[0];
    if (at < 0 || at % geo->stride[0]) return -1;
    return at / geo->stride[0] < geo->col_height ? at / geo->stride[0] : -1;
}

static int64_t output_col(const nerve_conv_geometry *geo, int64_t w, int64_t kw)
{
    int64_t at = w + geo->padding[1] - kw * geo->dilation[1];
    if (at < 0 || at % geo->stride[1]) return -1;
    return at / geo->stride[1] < geo->col_width ? at / geo->stride[1] : -1;
}

#define IMAGE(x, c, h, w) (x)[((c) * geo->height + (h)) * geo->width + (w)]
#define COLS(y, c, h, w) (y)[((c) * geo->col_height + (h)) * geo->col_width + (w)]
#define WEIGHT(oc, icl, kh, kw) \
    weight[(((oc) * in_group + (icl)) * geo->kernel[0] + (kh)) * geo->kernel[1] + (kw)]

nerve_status nerve_ref_conv_columns(const nerve_kernel_ctx *ctx, const nerve_conv_geometry *geo, int64_t batch, const nerve_real *image,
                            const nerve_real *weight, const nerve_real *bias, bool accumulate,
                            nerve_real *cols, nerve_real *workspace, int64_t workspace_size)
{
    const int64_t in_group = geo->channels / geo->groups;
    const int64_t out_group = geo->col_channels / geo->groups;
    for (int64_t n = 0; n < batch; n++) {
        const nerve_real *x = image + n * geo->channels * geo->height * geo->width;
        nerve_real *y = cols + n * geo->col_channels * geo->col_height * geo->col_width;
        for (int64_t oc = 0; oc < geo->col_channels; oc++)
            for (int64_t oh = 0; oh < geo->col_height; oh++)
                for (int64_t ow = 0; ow < geo->col_width; ow++) {
                    double sum = (accumulate ? COLS(y, oc, oh, ow) : 0) + (bias ? bias[oc] : 0);
                    for (int64_t icl = 0; icl < in_group; icl++)
                        for (int64_t kh = 0; kh < geo->kernel[0]; kh++)
                            for (int64_t kw = 0; kw < geo->kernel[1]; kw++) {
                                int64_t h = image_row(geo, oh, kh), w = image_col(geo, ow, kw);
                                if (h < 0 || h >= geo->height || w < 0 || w >= geo->width) continue;
                                sum += (double)WEIGHT(oc, icl, kh, kw) *
                                       IMAGE(x, oc / out_group * in_group + icl, h, w);
                            }
                    COLS(y, oc, oh, ow) = (nerve_real)sum;
                }
    }
    return NERVE_OK;
}

nerve_status nerve_ref_conv_image(const nerve_kernel_ctx *ctx, const nerve_conv_geometry *geo, int64_t batch, const nerve_real *cols,
                          const nerve_real *weight, const nerve_real *bias, bool accumulate,
                          nerve_real *image, nerve_real *workspace, int64_t workspace_size)
{
    const int64_t in_group = geo->channels / geo->groups;
    const int64_t out_group = geo->col_channels / geo->groups;
    for (int64_t n = 0; n < batch; n++) {
        const nerve_real *y = cols + n * geo->col_channels * geo->col_height * geo->col_width;
        nerve_real *x = image + n * geo->channels * geo->height * geo->width;
        for (int64_t ic = 0; ic < geo->channels; ic++)
            for (int64_t h = 0; h < geo->height; h++)
                for (int64_t w = 0; w < geo->width; w++) {
                    double sum = (accumulate ? IMAGE(x, ic, h, w) : 0) + (bias ? bias[ic] : 0);
                    int64_t group = ic / in_group, icl = ic % in_group;
                    for (int64_t oc = group * out_group; oc < (group + 1) * out_group; oc++)
                        for (int64_t kh = 0; kh < geo->kernel[0]; kh++)
                            for (int64_t kw = 0; kw < geo->kernel[1]; kw++) {
                                int64_t oh = output_row(geo, h, kh), ow = output_col(geo, w, kw);
                                if (oh < 0 || ow < 0) continue;
                                sum += (double)WEIGHT(oc, icl, kh, kw) * COLS(y, oc, oh, ow);
                            }
                    IMAGE(x, ic, h, w) = (nerve_real)sum;
                }
    }
    return NERVE_OK;
}

nerve_status nerve_ref_conv_weight_gradient(const nerve_kernel_ctx *ctx, const nerve_conv_geometry *geo, int64_t batch,
                                    const nerve_real *image, const nerve_real *cols,
                                    nerve_real *dweight, nerve_real *workspace,
                                    int64_t workspace_size)
{
    const int64_t in_group = geo->channels / geo->groups;
    const int64_t out_group = geo->col_channels / geo->groups;
    const int64_t image_size = geo->channels * geo->height * geo->width;
    const int64_t cols_size = geo->col_channels * geo->col_height * geo->col_width;
    nerve_real *weight = dweight; /* for WEIGHT() */
    for (int64_t oc = 0; oc < geo->col_channels; oc++)
        for (int64_t icl = 0; icl < in_group; icl++)
            for (int64_t kh = 0; kh < geo->kernel[0]; kh++)
                for (int64_t kw = 0; kw < geo->kernel[1]; kw++) {
                    double sum = 0;
                    int64_t ic = oc / out_group * in_group + icl;
                    for (int64_t n = 0; n < batch; n++)
                        for (int64_t oh = 0; oh < geo->col_height; oh++)
                            for (int64_t ow = 0; ow < geo->col_width; ow++) {
                                int64_t h = image_row(geo, oh, kh), w = image_col(geo, ow, kw);
                                if (h < 0 || h >= geo->height || w < 0 || w >= geo->width) continue;
                                sum += (double)COLS(cols + n * cols_size, oc, oh, ow) *
                                       IMAGE(image + n * image_size, ic, h, w);
                            }
                    WEIGHT(oc, icl, kh, kw) = (nerve_real)(WEIGHT(oc, icl, kh, kw) + sum);
                }
    return NERVE_OK;
}

nerve_status nerve_ref_sum_channels(const nerve_kernel_ctx *ctx, const nerve_real *x, nerve_real *db, int64_t batch, int64_t channels,
                            int64_t plane)
{
    for (int64_t c = 0; c < channels; c++) {
        double sum = 0;
        for (int64_t n = 0; n < batch; n++)
            for (int64_t k = 0; k < plane; k++) sum += x[(n * channels + c) * plane + k];
        db[c] = (nerve_real)(db[c] + sum);
    }
    return NERVE_OK;
}
