/* What a convolution needs of the batch norm folded into it (core/fold.c,
 * ops/conv2d.c). */
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

/* Training plans: whether bn's forward now is the batch's statistics,
 * unsynchronised, and needed, which the convolution before it then runs
 * (conv_batch_norm_forward with *pass): marks bn's forward and its folded
 * ReLU's as done, and records for bn's backward that the statistics were
 * the batch's. */
bool nerve_batch_norm_training_pass(nerve_graph *g, nerve_node_data *bn,
                                    nerve_batch_norm_pass *pass);
/* The backward's *pass of a batch norm whose forward the convolution ran:
 * its output's gradient (or its folded ReLU's, masked), its parameters'
 * gradients made ready to add into. */
nerve_status nerve_batch_norm_backward_pass(nerve_graph *g, nerve_node_data *bn,
                                            nerve_batch_norm_pass *pass);

#endif
