/* What max_pool2d and avg_pool2d share: their options' checks, PyTorch's
 * output size, and the geometry the backend's kernels take. */
#ifndef NERVE_OPS_POOL2D_H
#define NERVE_OPS_POOL2D_H

#include "core/graph_internal.h"

/* Checks options (with_dilation: max pooling's) and adds the op on x with a
 * copy of them in node->attr.pool. */
nerve_node pool2d_add(nerve_graph *g, const nerve_op *op, nerve_node x,
                      const nerve_pool2d_options *options, bool with_dilation, nerve_error *err);
/* Sets node->shape to [N, C, out_h, out_w]; an input that is not 4-D, or
 * too small for one window, is an error. */
nerve_status pool2d_infer_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err);
nerve_pool2d_geometry pool2d_geometry(nerve_graph *g, const nerve_node_data *node);
/* Elements read per sample: one per window position. */
int64_t pool2d_flops(const nerve_graph *g, const nerve_node_data *node);

#endif
