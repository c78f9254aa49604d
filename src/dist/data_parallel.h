/* The arithmetic of a data-parallel step, shared by the trainer and the
 * float64 equivalence test: which contiguous slice of a global batch a rank
 * takes, the weight of its loss, and the gradient all-reduce. */
#ifndef NERVE_DATA_PARALLEL_H
#define NERVE_DATA_PARALLEL_H

#include "nerve.h"

/* Rank's slice [*first, *first + *count) of a global batch of n samples:
 * the ranks take consecutive slices whose sizes differ by at most one (a
 * batch smaller than the world leaves some ranks with none). */
void nerve_dist_slice(int64_t n, int rank, int size, int64_t *first, int64_t *count);
/* The seed of a rank's backward pass, its loss's share of the global
 * batch's loss (0 for a rank with no samples), so that the summed gradients
 * are one process's. The rank's loss is its own sum of terms divided by its
 * divisor d_r; the global loss divides the sum of every rank's terms by D.
 * For a mean over samples the share is d_r / D = count / n; for reduction
 * = sum both are 1. A class-weighted mean (torch's: over the labels'
 * summed weights) is different: a rank's labels may all weigh 0 (d_r = 0,
 * its own mean 0 / 0), so with c the loss node computes the plain sum of
 * the rank's terms until nerve_dist_loss_end (*summed), and the share is
 * 1 / D, D the sum of every rank's d_r by one all-reduce (every rank calls
 * this at the same point, after loading its slice and before its forward
 * pass; a rank with no samples, or one whose loading failed, with count
 * 0). Call after the slice's labels are loaded. */
nerve_status nerve_dist_loss_weight(nerve_comm *c, nerve_graph *g, nerve_node loss,
                                    int64_t count, int64_t n, double *weight, bool *summed,
                                    nerve_error *err);
/* After the step's backward pass: the loss node's own mean again. */
void nerve_dist_loss_end(nerve_graph *g, nerve_node loss, bool summed);
/* What a batch of count samples' loss was divided by, for sums over batches
 * that one process's whole-set loss equals (evaluation): count for a mean
 * over samples or for a node that is not a loss op, the labels' summed
 * weights for a class-weighted mean, 0 for reduction = sum. */
double nerve_dist_loss_divisor(const nerve_graph *g, nerve_node loss, int64_t count);
/* Sums the graph's flat gradient buffer over every rank, in place. */
nerve_status nerve_dist_allreduce_gradients(nerve_graph *g, nerve_comm *c, nerve_error *err);

#endif
