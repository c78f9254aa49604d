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
    /* Out: how many ranks' own loss was not finite, and that rank's number
     * when exactly one's was (-1 otherwise): where a non-finite step began. */
    int nonfinite_ranks, nonfinite_rank;
    /* Out: whether every trainable summed gradient is finite (each rank
     * checks its slice of them). */
    bool gradients_finite;
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

/* Sums the gradients and *sums over every rank;
 * with buckets (not NULL) by waiting for the all-reduces backward started;
 * with a shard, only the shard's gradients are summed (reduce-scatter); the
 * rest of the buffer keeps this rank's own until a step that is not finite
 * zeroes it (for the report that locates the non-finite value). A
 * non-finite summed gradient anywhere sets sums->gradients_finite false and
 * is written into every rank's first trainable one (so that every rank
 * skips or stops alike). local: this
 * rank's step so far (its error in err). A
 * rank whose step failed still makes these collectives (having joined its
 * pass's, nerve_graph_join_step), and every rank learns of it here: local
 * where it failed, NERVE_ERR_PEER on the others. */
nerve_status dist_reduce_step(nerve_comm *comm, nerve_graph *g, const dist_shard *shard,
                              dist_buckets *buckets, dist_step_sums *sums, nerve_status local,
                              nerve_error *err);
/* nerve_dist_agree (dist/data_parallel.h), and a stop: *stop is this rank's request (0: none; a
 * signal number, 1: yes), and on return the rank's own or, where it has
 * none, the others' (their common value, -1 when they differ). At a step's
 * end (a stop asked of one rank, a failure of one rank's own after the
 * reduction: its optimizer, the metrics log rank 0 writes) and an epoch's
 * (rank 0's save of the best weights, early stopping). */
nerve_status dist_agree_stop(nerve_comm *comm, nerve_status st, int *stop, nerve_error *err);
/* The test hook of tests/dist/cli_distributed.sh: when the environment's
 * variable is R (or R:S), rank R's evaluation or training step (global
 * step S, 1 for the first; -1: an evaluation) fails as a failing op would. */
nerve_status dist_test_failure(nerve_comm *comm, const char *variable, int64_t step,
                               nerve_error *err);
/* After a sharded update: every rank's parameters from their shards. */
nerve_status dist_gather_parameters(nerve_comm *comm, nerve_graph *g, const dist_shard *shard,
                                    nerve_error *err);
/* Rank 0's outcome (st there) on every rank: NERVE_ERR_PEER elsewhere when
 * rank 0 failed. For what only rank 0 does (writing a checkpoint). */
nerve_status dist_from_root(nerve_comm *comm, nerve_status st, nerve_error *err);

#endif
