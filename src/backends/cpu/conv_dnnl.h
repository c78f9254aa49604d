/* 2-D convolution through oneDNN's primitives (conv_dnnl.c), in float32
 * builds with oneDNN only (NERVE_CPU_DNNL): the im2col kernels of conv.c
 * call these first and do the work themselves where they return false
 * (oneDNN cannot run the geometry, or the workspace is too small). Same
 * contracts as the backend's conv kernels. */
#ifndef NERVE_CONV_DNNL_H
#define NERVE_CONV_DNNL_H

#include "backends/cpu/cpu.h"

#ifdef NERVE_CPU_DNNL
/* Bytes of workspace (in nerve_real elements) the oneDNN passes need for
 * `batch` samples; 0 where oneDNN cannot run them. Makes the primitives. */
int64_t nerve_dnnl_conv_workspace(const nerve_conv_geometry *geo, int64_t batch);
/* conv_columns; with relu (accumulate false) max(0, y) as well. */
bool nerve_dnnl_conv_columns(const nerve_conv_geometry *geo, int64_t batch,
                             const nerve_real *image, const nerve_real *weight,
                             const nerve_real *bias, bool accumulate, bool relu,
                             nerve_real *cols, nerve_real *workspace, int64_t workspace_size);
bool nerve_dnnl_conv_image(const nerve_conv_geometry *geo, int64_t batch, const nerve_real *cols,
                           const nerve_real *weight, const nerve_real *bias, bool accumulate,
                           nerve_real *image, nerve_real *workspace, int64_t workspace_size);
bool nerve_dnnl_conv_weight_gradient(const nerve_conv_geometry *geo, int64_t batch,
                                     const nerve_real *image, const nerve_real *cols,
                                     nerve_real *dweight, nerve_real *workspace,
                                     int64_t workspace_size);
/* conv_backward's dimage and dweight (either may be NULL). */
bool nerve_dnnl_conv_backward(const nerve_conv_geometry *geo, int64_t batch,
                              const nerve_real *image, const nerve_real *weight,
                              const nerve_real *dcols, bool accumulate, nerve_real *dimage,
                              nerve_real *dweight, nerve_real *workspace, int64_t workspace_size);
/* Training's convolution + batch norm (conv_batch_norm.c) keeps the
 * output in oneDNN's layout: the channel block (8 or 16) of the aBcd<b>b
 * layout that the forward writes (with or without bias) and the backward
 * reads the output (and its gradient) in; 0 where there is none
 * (oneDNN cannot run it, other layouts, channels not a multiple, a
 * workspace too small for its passes). Makes the primitives. */
int64_t nerve_dnnl_conv_output_block(const nerve_conv_geometry *geo, int64_t batch,
                                     int64_t workspace_size);
/* With geo->cols_private, nerve_dnnl_conv_columns writes cols in that
 * layout and nerve_dnnl_conv_backward reads dcols in it. */
/* conv_hand_over: every forward pass a run of either may take writes
 * (producer) and reads (consumer) the image between them in nChw16c, and
 * fits the workspace. Makes the primitives. */
bool nerve_dnnl_conv_hand_over(const nerve_conv_geometry *producer,
                               const nerve_conv_geometry *consumer, int64_t batch,
                               int64_t workspace_size);
/* Tests: how many threads the last backward run took (its parts run on
 * the busy machine's team). */
int nerve_dnnl_conv_backward_team(void);
#endif

#endif
