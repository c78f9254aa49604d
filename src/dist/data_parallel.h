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
/* The seed of a rank's backward pass: its loss is a mean over its count
 * samples, and the global batch's loss is the mean over n, so the rank's
 * share is count / n of its own (0 for a rank with no samples). */
double nerve_dist_loss_weight(int64_t count, int64_t n);
/* Sums the graph's flat gradient buffer over every rank, in place. */
nerve_status nerve_dist_allreduce_gradients(nerve_graph *g, nerve_comm *c, nerve_error *err);

#endif
