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
/* Failure agreement (a collective; every rank calls it at the same point):
 * st where it failed here; otherwise NERVE_ERR_PEER when it failed on
 * another rank (that rank reports why), NERVE_OK when it failed nowhere.
 * With c NULL, st. For what may fail on one rank only (an allocation)
 * before a collective that rank would otherwise not make. */
nerve_status nerve_dist_agree(nerve_comm *c, nerve_status st, nerve_error *err);
/* The pieces of such agreements that carry more than the failure
 * (train/distributed.c): [failed here, rank + 1 if so] for a sum over the
 * ranks; after it, the outcome as nerve_dist_agree's; and the status of a
 * failed agreement (own says why): this rank's own failure first. */
void nerve_dist_failure_flags(nerve_comm *c, nerve_status st, double flags[2]);
nerve_status nerve_dist_failure_outcome(nerve_status st, const double flags[2], nerve_error *err);
nerve_status nerve_dist_collective_failed(nerve_status local, nerve_status st,
                                          const nerve_error *own, nerve_error *err);
/* Test hooks (tests/dist/cli_distributed.sh). The text after "R:" of the
 * environment's variable when it is R (or R:TEXT) and this is rank R ("" for
 * R alone); NULL otherwise, or without c. */
const char *nerve_dist_test_hook(nerve_comm *c, const char *variable);
/* NERVE_TEST_FAIL_ALLOC=R:SITE: rank R runs out of memory at SITE, one of
 * the allocations that can fail on one rank only: "plan" (the memory plan
 * before a run's first agreement), "sync" (batch norm's sums,
 * nerve_graph_set_comm), "shard" (ZeRO-1's shard), "unshard"
 * (its state gathered back, for a checkpoint) and "allreduce" (ZeRO-1's
 * all-reduce of the gradient norm, failing inside MPI as an MPI call out
 * of memory does: the communicator is left broken). NERVE_ERR_NOMEM there,
 * NERVE_OK elsewhere. */
nerve_status nerve_dist_test_alloc(nerve_comm *c, const char *site, nerve_error *err);
/* Sums the graph's flat gradient buffer over every rank, in place. */
nerve_status nerve_dist_allreduce_gradients(nerve_graph *g, nerve_comm *c, nerve_error *err);

#endif
