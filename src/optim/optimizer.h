/* The optimizer interface: each algorithm is one update loop over a run of the
 * graph's flat parameter and gradient buffers, plus its per-parameter state.
 * optimizer.c runs what every algorithm shares: the global gradient norm,
 * clipping, L1 and the per-parameter regularisation. */
#ifndef NERVE_OPTIMIZER_H
#define NERVE_OPTIMIZER_H

#include "nerve.h"

#define OPTIM_MAX_STATE 3

/* One parameter node's run [begin, end) of the flat buffers and the
 * regularisation that applies to it (a PyTorch parameter group of one). */
typedef struct optim_segment {
    nerve_node node;
    int64_t begin, end;
    bool is_bias;
    double coupled_decay;   /* L2: added to the gradient as decay * w */
    double decoupled_decay; /* AdamW: w *= 1 - lr * decay before the update */
    double l1;
} optim_segment;

/* What one step's update loops read. */
typedef struct optim_step {
    nerve_real *params;
    const nerve_real *grads;
    const unsigned char *trainable;
    int64_t t;               /* this step's number, from 1 */
    double lr;
    nerve_real clip_value;   /* 0: no clipping by value */
    nerve_real grad_scale;   /* clip_grad_norm_'s factor; 1 when not clipping */
} optim_step;

typedef struct nerve_optimizer_type {
    const char *name;
    bool decoupled_decay;
    /* Allocates the state the options need (optim_add_state); false when out of memory. */
    bool (*init)(nerve_optimizer *opt);
    void (*update)(nerve_optimizer *opt, const optim_step *step, const optim_segment *segment);
} nerve_optimizer_type;

struct nerve_optimizer {
    const nerve_optimizer_type *type;
    nerve_graph *graph;
    nerve_optimizer_options options;
    double lr;
    int64_t steps;
    double grad_norm;
    optim_segment *segments;
    int segment_count;
    nerve_real *state[OPTIM_MAX_STATE]; /* per parameter, NULL when unused */
};

extern const nerve_optimizer_type nerve_sgd_type, nerve_adagrad_type, nerve_rmsprop_type,
    nerve_adam_type, nerve_adamw_type;

/* Allocates state[slot] with every element set to value. */
bool optim_add_state(nerve_optimizer *opt, int slot, nerve_real value);
/* Adam's state and update, which AdamW shares (its segments carry the decoupled decay). */
bool optim_adam_init(nerve_optimizer *opt);
void optim_adam_update(nerve_optimizer *opt, const optim_step *step, const optim_segment *segment);

/* Loops of more elements than this run on all threads. */
#define OPTIM_PARALLEL_MIN 65536

/* The gradient an update uses at element i, in PyTorch's order: the loss
 * gradient plus the L1 penalty's l1 * sign(w) (torch.sign: 0 at 0), clipped
 * by value or scaled by the global-norm factor, plus the coupled weight decay. */
static inline nerve_real optim_gradient(const optim_step *step, const optim_segment *segment,
                                        int64_t i)
{
    nerve_real w = step->params[i], g = step->grads[i];
    if (segment->l1 != 0) g += (nerve_real)segment->l1 * (nerve_real)((w > 0) - (w < 0));
    nerve_real c = step->clip_value;
    if (c > 0) g = g > c ? c : g < -c ? -c : g;
    g *= step->grad_scale;
    return g + (nerve_real)segment->coupled_decay * w;
}

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
/* The same for a schedule. */
const char *nerve_schedule_problem(const nerve_schedule *s, const char **key, char *buf,
                                   size_t size);

#endif
