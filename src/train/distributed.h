/* The trainer's side of data-parallel training (nerve_train_options.comm):
 * the step's reductions, and the agreements that keep ranks from waiting on
 * one that has failed. Every function is a collective: all ranks call it at
 * the same point. With comm NULL each does nothing. */
#ifndef NERVE_TRAIN_DISTRIBUTED_H
#define NERVE_TRAIN_DISTRIBUTED_H

#include "dist/buckets.h"
#include "nerve.h"

/* What a step reduces besides the gradients: this rank's share of the loss
 * (its weight x its loss) and its correct labels; the global batch's loss
 * and correct count after. */
typedef struct dist_step_sums {
    double loss;
    int64_t correct;
    /* Out: the seconds the gradient reduction took and the part of them the
     * step waited for after backward (with buckets, less than all). */
    double comm_seconds, exposed_seconds;
} dist_step_sums;

/* ZeRO-1 (nerve_train_options.zero): this rank's shard [begin, end) of the
 * flat buffers (nerve_dist_slice of them), every rank's count, and a buffer
 * its reduced gradients arrive in. counts NULL: not sharded. */
typedef struct dist_shard {
    int64_t begin, end;
    int64_t *counts;
    nerve_real *reduced;
} dist_shard;

/* Cuts the run's optimizer to this rank's shard. */
nerve_status dist_shard_start(nerve_comm *comm, nerve_optimizer *opt, dist_shard *shard,
                              nerve_error *err);
/* Gathers the whole optimizer state back on every rank and frees the shard. */
nerve_status dist_shard_end(nerve_optimizer *opt, dist_shard *shard, nerve_error *err);

/* Sums the gradients and *sums over every rank; with buckets (not NULL)
 * by waiting for the all-reduces backward started; with a shard, only the
 * shard's gradients are summed (reduce-scatter), the rest of the buffer is
 * zeroed, and a non-finite gradient in any shard is written into every
 * rank's first trainable one (so that every rank skips or stops alike). */
nerve_status dist_reduce_step(nerve_comm *comm, nerve_graph *g, const dist_shard *shard,
                              dist_buckets *buckets, dist_step_sums *sums, nerve_error *err);
/* After a sharded update: every rank's parameters from their shards. */
nerve_status dist_gather_parameters(nerve_comm *comm, nerve_graph *g, const dist_shard *shard,
                                    nerve_error *err);
/* *flag: whether it is set on any rank. */
nerve_status dist_any(nerve_comm *comm, bool *flag, nerve_error *err);
/* st where it failed here; otherwise NERVE_ERR_PEER when it failed on
 * another rank (that rank reports why), NERVE_OK when it failed nowhere. */
nerve_status dist_agree(nerve_comm *comm, nerve_status st, nerve_error *err);
/* Rank 0's outcome (st there) on every rank: NERVE_ERR_PEER elsewhere when
 * rank 0 failed. For what only rank 0 does (writing a checkpoint). */
nerve_status dist_from_root(nerve_comm *comm, nerve_status st, nerve_error *err);

#endif
