/* The optimizer interface: an optimizer updates the graph's flat parameter
 * buffer from its gradients, in runs (segments) of one parameter node each,
 * keeping per-parameter state. */
#ifndef NERVE_OPTIMIZER_H
#define NERVE_OPTIMIZER_H

#include "backends/optimizer_step.h"
#include "nerve.h"

/* Each algorithm is its state and the constants of each step's update; the
 * update loops run below, in the backends (backends/optimizer_step.h: the
 * description this file's nerve_optimizer_step fills, the optimizer_step
 * kernel that runs it). optimizer.c keeps what every algorithm shares: the
 * segments, one per parameter node, with their regularisation. */
typedef struct nerve_optimizer_type {
    const char *name;
    bool decoupled_decay;
    /* Allocates the state the options need (optim_add_state); false when out of memory. */
    bool (*init)(nerve_optimizer *opt);
    /* The update's kind, variant flags and constants for step t (from 1)
     * at rate step->lr, rounded to nerve_real as the loops use them. */
    void (*describe)(const nerve_optimizer *opt, nerve_optim_step *step, int64_t t);
    /* PyTorch's names of the state slots (exp_avg, ...), for checkpoints. */
    const char *state_names[NERVE_OPTIM_MAX_STATE];
} nerve_optimizer_type;

struct nerve_optimizer {
    const nerve_optimizer_type *type;
    nerve_graph *graph;
    /* The graph's device, which holds the state: kept to release it, which
     * nerve_optimizer_free may do after the graph is gone. */
    const struct nerve_device *device;
    nerve_optimizer_options options;
    double lr;
    int64_t steps;
    double grad_norm;
    nerve_optim_segment *segments; /* in buffer order, tiling [0, count) */
    nerve_node *nodes;             /* segment k's parameter node */
    int segment_count;
    nerve_real *state[NERVE_OPTIM_MAX_STATE]; /* per parameter updated, NULL when unused */
    /* The range of the flat buffers it updates: all of them, or with ZeRO-1
     * (shard.c) one rank's shard, its segments and state relative to offset
     * and the gradient norm summed over comm's ranks. */
    int64_t offset, count;
    nerve_comm *comm;
    nerve_optim_segment *full_segments; /* while sharded: the whole buffer's */
    nerve_node *full_nodes;
    int full_segment_count;
};

extern const nerve_optimizer_type nerve_sgd_type, nerve_adagrad_type, nerve_rmsprop_type,
    nerve_adam_type, nerve_adamw_type;

/* Allocates state[slot] with every element set to value. */
bool optim_add_state(nerve_optimizer *opt, int slot, nerve_real value);
/* Adam's state and constants, which AdamW shares (its segments carry the
 * decoupled decay). */
bool optim_adam_init(nerve_optimizer *opt);
void optim_adam_describe(const nerve_optimizer *opt, nerve_optim_step *step, int64_t t);

/* A value's allowed interval, for the checks below. */
typedef struct optim_range {
    const char *key;
    double value, min, max;
    bool min_open, max_open;
} optim_range;

/* NULL when every value is finite and in its range; otherwise "V is out of
 * range [MIN, MAX)" in buf and its key in *key. */
const char *optim_check_ranges(const optim_range *ranges, int count, const char **key, char *buf,
                               size_t size);
/* NULL when the options are valid; otherwise what is wrong (written into
 * buf), with *key the option (cfg key) to blame. */
const char *nerve_optimizer_options_problem(const nerve_optimizer_options *o, const char **key,
                                            char *buf, size_t size);
/* The [schedule] type names, in nerve_schedule_kind's order, NULL-terminated. */
extern const char *const nerve_schedule_type_names[];

/* The same for a schedule. */
const char *nerve_schedule_problem(const nerve_schedule *s, const char **key, char *buf,
                                   size_t size);

/* ZeRO stage 1 (shard.c): the optimizer keeps and updates only elements
 * [begin, end) of the flat buffers (its state is cut to them), and sums the
 * gradient norm over comm; unshard gathers the state back from every rank
 * (a collective) and updates the whole buffer again. */
nerve_status optim_shard(nerve_optimizer *opt, nerve_comm *comm, int64_t begin, int64_t end,
                         nerve_error *err);
nerve_status optim_unshard(nerve_optimizer *opt, nerve_error *err);

#endif
