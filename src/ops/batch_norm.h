/* What a convolution needs of the batch norm folded into it in inference
 * (core/fold.c, ops/conv2d.c). */
#ifndef NERVE_OPS_BATCH_NORM_H
#define NERVE_OPS_BATCH_NORM_H

#include "core/graph_internal.h"

/* Whether bn's forward now is its eval-mode map (eval mode, running
 * statistics), which the convolution before it may apply instead. */
bool nerve_batch_norm_foldable(const nerve_graph *g, const nerve_node_data *bn);
/* The convolution (weight [channels, per_channel], bias [channels] or NULL)
 * followed by bn, as one convolution: folded_weight = weight * s per output
 * channel and folded_bias = (bias - running_mean) * s + beta, where s =
 * gamma / sqrt(running_var + eps). zeros: channels of scratch. */
nerve_status nerve_batch_norm_fold(nerve_graph *g, const nerve_node_data *bn,
                                   const nerve_real *weight, const nerve_real *bias,
                                   int64_t channels, int64_t per_channel,
                                   nerve_real *folded_weight, nerve_real *folded_bias,
                                   nerve_real *zeros);

#endif
