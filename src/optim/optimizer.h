/* The optimizer interface: each algorithm is an update kernel over runs of
 * the graph's flat parameter and gradient buffers, plus its per-parameter
 * state. optimizer.c runs what every algorithm shares: the walk over the flat
 * buffers, the global gradient norm, clipping, L1 and the per-parameter
 * regularisation. */
#ifndef NERVE_OPTIMIZER_H
#define NERVE_OPTIMIZER_H

#include <math.h>

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

/* What one step's kernels read. */
typedef struct optim_step {
    nerve_real *params;
    const nerve_real *grads;
    const unsigned char *trainable;
    int64_t t;               /* this step's number, from 1 */
    double lr;
    nerve_real clip_value;   /* 0: no clipping by value */
    nerve_real grad_scale;   /* clip_grad_norm_'s factor; 1 when not clipping */
} optim_step;

/* The update of elements [begin, end) of one segment; returns the sum of
 * their squared raw gradients (optim_raw_gradient), from which the step's
 * global norm comes. One `omp simd` loop, specialised for each variant
 * (momentum or not, regularised or not, ...) so that none branches inside and
 * all vectorise; the norm is accumulated before the trainability mask
 * applies, multiplied by it, which keeps the loop vectorisable. */
typedef double (*optim_kernel)(const nerve_optimizer *opt, const optim_step *step,
                               const optim_segment *segment, int64_t begin, int64_t end);

typedef struct nerve_optimizer_type {
    const char *name;
    bool decoupled_decay;
    /* Allocates the state the options need (optim_add_state); false when out of memory. */
    bool (*init)(nerve_optimizer *opt);
    /* The kernel that updates `segment` this step. */
    optim_kernel (*kernel)(const nerve_optimizer *opt, const optim_step *step,
                           const optim_segment *segment);
    /* PyTorch's names of the state slots (exp_avg, ...), for checkpoints. */
    const char *state_names[OPTIM_MAX_STATE];
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
    optim_segment *segments;            /* in buffer order, tiling [offset, offset + count) */
    optim_kernel *kernels;              /* per segment, chosen each step */
    int segment_count;
    nerve_real *state[OPTIM_MAX_STATE]; /* per parameter updated, NULL when unused */
    /* The range of the flat buffers it updates: all of them, or with ZeRO-1
     * (shard.c) one rank's shard, its segments and state relative to offset
     * and the gradient norm summed over comm's ranks. */
    int64_t offset, count;
    nerve_comm *comm;
    optim_segment *full_segments;       /* while sharded: the whole buffer's */
    int full_segment_count;
};

/* The optimizer_step kernel of host-memory devices (kernels.h): the
 * algorithms' vectorised loops over the flat buffers, in parallel blocks. */
struct nerve_kernel_ctx;
nerve_status nerve_optimizer_host_step(const struct nerve_kernel_ctx *ctx, nerve_optimizer *opt);

extern const nerve_optimizer_type nerve_sgd_type, nerve_adagrad_type, nerve_rmsprop_type,
    nerve_adam_type, nerve_adamw_type;

/* squares, summed over the ranks when the optimizer is sharded (a failed
 * collective makes it NaN, which stops or skips the next step). */
double optim_sum_over_ranks(const nerve_optimizer *opt, double squares);
/* Allocates state[slot] with every element set to value. */
bool optim_add_state(nerve_optimizer *opt, int slot, nerve_real value);
/* Adam's state and kernels, which AdamW shares (its segments carry the
 * decoupled decay). */
bool optim_adam_init(nerve_optimizer *opt);
optim_kernel optim_adam_kernel(const nerve_optimizer *opt, const optim_step *step,
                               const optim_segment *segment);

/* One segment's gradient terms, read once before its loop. Off is written as
 * a neutral value (l1 0, clip infinity, scale 1, decay 0) rather than a
 * branch, so that the loops stay branch-free. */
typedef struct optim_terms {
    nerve_real l1, clip, scale, decay;
} optim_terms;

static inline optim_terms optim_terms_of(const optim_step *step, const optim_segment *segment)
{
    return (optim_terms){(nerve_real)segment->l1,
                         step->clip_value > 0 ? step->clip_value : (nerve_real)INFINITY,
                         step->grad_scale, (nerve_real)segment->coupled_decay};
}

/* False when every term is off: the kernels then take the loss gradient as
 * it is and skip the work below (the common case). */
static inline bool optim_regularised(const optim_step *step, const optim_segment *segment)
{
    return segment->l1 != 0 || step->clip_value > 0 || step->grad_scale != 1 ||
           segment->coupled_decay != 0;
}

/* The loss gradient plus the L1 penalty's l1 * sign(w) (torch.sign: 0 at 0),
 * written with selects, which vectorise under the trainability mask where an
 * integer sign does not: what clip_grad_norm_ measures. */
static inline nerve_real optim_raw_gradient(optim_terms terms, bool regularised, nerve_real w,
                                            nerve_real g)
{
    return regularised ? g + ((w > 0 ? terms.l1 : 0) - (w < 0 ? terms.l1 : 0)) : g;
}

/* The gradient an update uses, in PyTorch's order: the raw gradient clipped
 * by value (clamp_: NaN stays NaN) and scaled by the global-norm factor, plus
 * the coupled weight decay. */
static inline nerve_real optim_gradient(optim_terms terms, bool regularised, nerve_real w,
                                        nerve_real raw)
{
    if (!regularised) return raw;
    nerve_real g = raw > terms.clip ? terms.clip : raw;
    g = g < -terms.clip ? -terms.clip : g;
    return g * terms.scale + terms.decay * w;
}

/* What a kernel stores: the updated value for a trainable element, the old
 * one otherwise: a select and a plain store, where a branch around the
 * update (`if (!trainable[i]) continue;`) became AVX2 masked loads and
 * stores, slower on AMD's cores than the scalar loop they replaced. */
static inline nerve_real optim_keep(unsigned char trainable, nerve_real updated, nerve_real old)
{
    return trainable ? updated : old;
}

/* A kernel's loop, written once with trailing flag arguments: it must be
 * inlined into each specialisation (OPTIM_KERNEL) for the flags' branches to
 * fold away and the loop to vectorise, which GCC does not always decide to. */
#if defined(__GNUC__)
#define OPTIM_LOOP static inline __attribute__((always_inline))
#else
#define OPTIM_LOOP static inline
#endif

/* Defines kernel as loop (an OPTIM_LOOP whose trailing arguments are
 * constant flags) specialised for the flags given. */
#define OPTIM_KERNEL(kernel, loop, ...)                                                            \
    static double kernel(const nerve_optimizer *opt, const optim_step *step,                       \
                         const optim_segment *segment, int64_t begin, int64_t end)                 \
    {                                                                                              \
        return loop(opt, step, segment, begin, end, __VA_ARGS__);                                  \
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
