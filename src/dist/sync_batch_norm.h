/* Batch norm synchronised across the ranks of a data-parallel run
 * (nerve_graph_set_comm): the op (src/ops/batch_norm.c) hands its training
 * statistics and its backward pass here when the graph has a communicator. */
#ifndef NERVE_SYNC_BATCH_NORM_H
#define NERVE_SYNC_BATCH_NORM_H

#include "core/graph_internal.h"

/* The global batch's mean and (biased) variance of each channel of x
 * ([outer, channels, inner]; NULL with outer 0 on a rank with no samples)
 * into mean and var, and the running statistics and counter moved by them,
 * as the op's own kernels do for one process. */
void nerve_sync_batch_norm_statistics(nerve_graph *g, const nerve_node_data *node,
                                      const nerve_real *x, nerve_real *mean, nerve_real *var,
                                      int64_t outer, int64_t channels, int64_t inner);
/* The backward pass against the global sums of dy and dy * (x - mean):
 * dx for this rank's samples, and this rank's share of dweight and dbias
 * (the gradient all-reduce adds the shares). x, dy and dx NULL with outer 0. */
void nerve_sync_batch_norm_backward(nerve_graph *g, const nerve_node_data *node,
                                    const nerve_real *x, const nerve_real *dy,
                                    const nerve_real *mean, const nerve_real *var,
                                    const nerve_real *weight, nerve_real *dx, nerve_real *dweight,
                                    nerve_real *dbias, int64_t outer, int64_t channels,
                                    int64_t inner);
void nerve_graph_sync_free(struct graph_sync *sync);
/* A training step's start: its collectives are counted from here, so that
 * a rank whose pass failed part-way can join the rest of them. */
void nerve_graph_sync_begin_step(nerve_graph *g);
/* nerve_graph_join_empty_step; with rest, only the collectives this rank
 * has not made since nerve_graph_sync_begin_step: a rank whose forward or
 * backward pass failed joins what the others' passes still make, so that
 * none waits for it (src/train/distributed.c then tells them it failed). */
void nerve_graph_join_step(nerve_graph *g, nerve_node loss, bool rest);

#endif
