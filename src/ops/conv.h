/* Shared by conv2d and conv_transpose2d (src/ops/conv2d.c,
 * src/ops/conv_transpose2d.c): their options, the checks of their operands,
 * the backend's geometry, and the backward pass they have in common. */
#ifndef NERVE_OPS_CONV_H
#define NERVE_OPS_CONV_H

#include "core/graph_internal.h"

/* Checks the options (stride and dilation >= 1, paddings >= 0, groups >= 1,
 * and what only one of the two ops takes) and adds the op x, weight[, bias]
 * with the options in attr.conv. NULL options are the defaults. */
nerve_node conv_add(nerve_graph *g, const nerve_op *op, nerve_node x, nerve_node weight,
                    nerve_node bias, const nerve_conv2d_options *options, bool transpose,
                    nerve_error *err);
/* Checks that x is [N, C, H, W] with C divisible by groups, that the weight
 * is [w0, w1, kh, kw] as given (-1: any value divisible by groups), and the
 * bias [bias_channels]. */
nerve_status conv_check_operands(nerve_graph *g, const nerve_node_data *node, int64_t w0,
                                 int64_t w1, int64_t bias_channels, nerve_error *err);
/* The geometry of image [channels, height, width] and columns [col_channels,
 * col_height, col_width] for the node's weight and options. */
nerve_conv_geometry conv_geometry(const nerve_graph *g, const nerve_node_data *node,
                                  int64_t channels, int64_t height, int64_t width,
                                  int64_t col_channels, int64_t col_height, int64_t col_width);
/* Multiply-adds of one sample: every column entry sums a window of the image. */
int64_t conv_flops(const nerve_conv_geometry *geo);

#endif
