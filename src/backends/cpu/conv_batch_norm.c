/* A training convolution and the batch norm after it (core/fold.c) with
 * the convolution's output left in oneDNN's blocked layout (nChw16c, on
 * AVX-512) between the two.
 *
 * Why: oneDNN computes in that layout, and a convolution that hands NCHW
 * to the batch norm pays two reorders a step: its output to NCHW in the
 * forward, and the output's gradient back to the blocked layout in the
 * backward (about a fifth of a ResNet's convolution time here). The batch
 * norm reads the blocked output directly (batch_norm.c's blocked loops)
 * and writes its own output in NCHW, which the ops after it read; its
 * backward writes the convolution's output gradient blocked, which the
 * backward passes read as they are.
 *
 * Where oneDNN does not run the convolution in such a layout (other
 * channel counts, AVX2 and older, the float64 engine, a build without
 * oneDNN), the generic composite runs instead: the convolution in NCHW and
 * the batch norm's own kernels. */
#include "backends/cpu/conv_dnnl.h"
#include "backends/generic.h"

/* The channel block of cols, or 0 for NCHW. */
static int64_t cols_block(const nerve_conv_geometry *geo, int64_t batch, int64_t workspace_size)
{
#ifdef NERVE_CPU_DNNL
    int64_t block = nerve_dnnl_conv_output_block(geo, batch, workspace_size);
    return nerve_cpu_batch_norm_blocked(block) ? block : 0;
#else
    (void)geo, (void)batch, (void)workspace_size;
    return 0;
#endif
}

/* dbias += the sum of each channel of the blocked dcols (sample by sample,
 * position by position, in double). */
static void sum_channels_blocked(const nerve_real *dcols, int64_t block, nerve_real *dbias,
                                 int64_t batch, int64_t channels, int64_t inner)
{
    const int64_t groups = channels / block;
#pragma omp parallel for schedule(static) num_threads(nerve_cpu_team()) \
    if (batch * channels * inner > NERVE_CPU_PARALLEL_MIN && groups > 1)
    for (int64_t g = 0; g < groups; g++) {
        double sum[16] = {0};
        for (int64_t n = 0; n < batch; n++) {
            const nerve_real *d = dcols + (n * groups + g) * inner * block;
            for (int64_t i = 0; i < inner; i++)
#pragma omp simd
                for (int64_t j = 0; j < block; j++) sum[j] += d[i * block + j];
        }
        for (int64_t j = 0; j < block; j++) dbias[g * block + j] += (nerve_real)sum[j];
    }
}

nerve_status nerve_cpu_conv_batch_norm_forward(const nerve_kernel_ctx *ctx,
                                               const nerve_conv_geometry *geo, int64_t batch,
                                               const nerve_real *image, const nerve_real *weight,
                                               const nerve_real *bias, nerve_real *cols,
                                               const nerve_batch_norm_pass *bn,
                                               nerve_real *workspace, int64_t workspace_size)
{
    int64_t block = cols_block(geo, batch, workspace_size);
    if (!block)
        return nerve_generic_conv_batch_norm_forward(ctx, geo, batch, image, weight, bias, cols,
                                                     bn, workspace, workspace_size);
#ifdef NERVE_CPU_DNNL
    nerve_conv_geometry blocked = *geo;
    blocked.cols_private = 1;
    if (!nerve_dnnl_conv_columns(&blocked, batch, image, weight, bias, false, false, cols,
                                 workspace, workspace_size))
        return nerve_kernel_fail(ctx, NERVE_ERR_INVALID,
                                 "conv_batch_norm_forward: oneDNN's convolution did not run");
#endif
    const int64_t channels = geo->col_channels, inner = geo->col_height * geo->col_width;
    nerve_cpu_batch_norm_statistics_blocked(cols, block, bn->mean, bn->var, bn->momentum,
                                            bn->running_mean, bn->running_var, bn->counter, batch,
                                            channels, inner);
    nerve_cpu_batch_norm_forward_blocked(cols, block, bn->mean, bn->var, bn->eps, bn->weight,
                                         bn->bias, bn->relu, bn->y, batch, channels, inner);
    return NERVE_OK;
}

nerve_status nerve_cpu_conv_batch_norm_backward(
    const nerve_kernel_ctx *ctx, const nerve_conv_geometry *geo, int64_t batch,
    const nerve_real *image, const nerve_real *weight, const nerve_real *bias,
    const nerve_real *cols, nerve_real *dcols, const nerve_batch_norm_pass *bn, bool accumulate,
    nerve_real *dimage, nerve_real *dweight, nerve_real *dbias, nerve_real *workspace,
    int64_t workspace_size)
{
    int64_t block = cols_block(geo, batch, workspace_size);
    if (!block)
        return nerve_generic_conv_batch_norm_backward(ctx, geo, batch, image, weight, bias, cols,
                                                      dcols, bn, accumulate, dimage, dweight,
                                                      dbias, workspace, workspace_size);
    const int64_t channels = geo->col_channels, inner = geo->col_height * geo->col_width;
    nerve_cpu_batch_norm_backward_blocked(cols, block, bn->relu ? bn->y : NULL, bn->dy, bn->mean,
                                          bn->var, bn->eps, bn->weight, dcols, bn->dweight,
                                          bn->dbias, batch, channels, inner);
    if (dbias) sum_channels_blocked(dcols, block, dbias, batch, channels, inner);
#ifdef NERVE_CPU_DNNL
    nerve_conv_geometry blocked = *geo;
    blocked.cols_private = 1;
    if ((dimage || dweight) &&
        !nerve_dnnl_conv_backward(&blocked, batch, image, weight, dcols, accumulate, dimage,
                                  dweight, workspace, workspace_size))
        return nerve_kernel_fail(ctx, NERVE_ERR_INVALID,
                                 "conv_batch_norm_backward: oneDNN's convolution did not run");
#endif
    return NERVE_OK;
}
