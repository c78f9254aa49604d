/* One optimizer step as the backends run it (the optimizer_step kernel,
 * kernels.h): which update, its constants for this step, the runs of the flat
 * parameter, gradient and state buffers it covers with their
 * regularisation, and the gradient terms every algorithm shares, in
 * PyTorch's order (L1, clipping by value or by global norm, coupled weight
 * decay). src/optim fills it: the algorithms' definitions (their state and
 * the per-step constants, sgd.c, adam.c, ...). The backends run it:
 * host-memory devices with the portable loops of optimizer_host.c, CUDA with
 * one kernel launch per segment. Nothing here names an algorithm by string
 * or reaches into src/optim. */
#ifndef NERVE_OPTIMIZER_STEP_H
#define NERVE_OPTIMIZER_STEP_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "nerve.h"

#define NERVE_OPTIM_MAX_STATE 3

/* The update rules (AdamW is Adam with decoupled decay on its segments). */
typedef enum nerve_optim_kind {
    NERVE_OPTIM_SGD,
    NERVE_OPTIM_ADAGRAD,
    NERVE_OPTIM_RMSPROP,
    NERVE_OPTIM_ADAM
} nerve_optim_kind;

/* The state slots each update reads (src/optim allocates those its options
 * need; PyTorch's names for them are src/optim's). */
enum {
    NERVE_OPTIM_SGD_BUFFER = 0,
    NERVE_OPTIM_ADAGRAD_SUM = 0,
    NERVE_OPTIM_RMSPROP_SQUARE_AVERAGE = 0,
    NERVE_OPTIM_RMSPROP_BUFFER = 1,
    NERVE_OPTIM_RMSPROP_GRADIENT_AVERAGE = 2,
    NERVE_OPTIM_ADAM_FIRST_MOMENT = 0,
    NERVE_OPTIM_ADAM_SECOND_MOMENT = 1,
    NERVE_OPTIM_ADAM_MAX_SECOND_MOMENT = 2
};

/* A run [begin, end) of the buffers (one parameter node's, relative to the
 * step's params) and the regularisation that applies to it: a PyTorch
 * parameter group of one. */
typedef struct nerve_optim_segment {
    int64_t begin, end;
    double coupled_decay;   /* L2: added to the gradient as decay * w */
    double decoupled_decay; /* AdamW: w *= 1 - lr * decay before the update */
    double l1;
} nerve_optim_segment;

/* The constants of one step's update, rounded to nerve_real once by
 * src/optim; `a` views them as an array (the CUDA kernel's argument). */
typedef union nerve_optim_constants {
    nerve_real a[8];
    struct { /* first step: kept 0, undamped 1; Nesterov: along g + momentum * b */
        nerve_real lr, kept, undamped, along_d, along_b;
    } sgd;
    struct { /* clr = lr / (1 + (t - 1) * lr_decay) */
        nerve_real clr, eps;
    } adagrad;
    struct {
        nerve_real lr, alpha, new_weight, eps, momentum;
    } rmsprop;
    struct { /* step_size = lr / (1 - beta1^t), correction2 = sqrt(1 - beta2^t) */
        nerve_real step_size, correction2, beta1, new_weight1, beta2, new_weight2, eps;
    } adam;
} nerve_optim_constants;

typedef struct nerve_optim_step {
    nerve_optim_kind kind;
    bool momentum; /* sgd, rmsprop: a momentum buffer */
    bool centered; /* rmsprop: the gradient's running mean */
    bool amsgrad;  /* adam: the largest second moment */
    nerve_optim_constants c;
    double lr;     /* this step's rate (Adam's decoupled decay: optim_kept) */
    /* Device memory: count elements from the flat buffers' offset (all of
     * them, or one ZeRO-1 shard), state[k] count elements or NULL. */
    nerve_real *params;
    const nerve_real *grads;
    const unsigned char *trainable;
    int64_t count;
    nerve_real *state[NERVE_OPTIM_MAX_STATE];
    const nerve_optim_segment *segments; /* in buffer order, within [0, count) */
    int segment_count;
    nerve_real clip_value; /* 0: no clipping by value */
    double clip_norm;      /* 0: no clipping by the global norm */
    /* ZeRO-1: the norm's squares are summed over comm's ranks (host memory
     * only); NULL when the step covers the whole buffer. */
    nerve_comm *comm;
    /* Written by the kernel: clip_grad_norm_'s factor (1 when not clipping),
     * set before the update, and the 2-norm of the trainable raw gradients. */
    nerve_real grad_scale;
    double grad_norm;
} nerve_optim_step;

/* One segment's gradient terms, read once before its loop. Off is written as
 * a neutral value (l1 0, clip infinity, scale 1, decay 0) rather than a
 * branch, so that the loops stay branch-free. */
typedef struct optim_terms {
    nerve_real l1, clip, scale, decay;
} optim_terms;

static inline optim_terms optim_terms_of(const nerve_optim_step *step,
                                         const nerve_optim_segment *segment)
{
    optim_terms terms; /* no compound literal: nvcc's C++ reads this header too */
    terms.l1 = (nerve_real)segment->l1;
    terms.clip = step->clip_value > 0 ? step->clip_value : (nerve_real)INFINITY;
    terms.scale = step->grad_scale;
    terms.decay = (nerve_real)segment->coupled_decay;
    return terms;
}

/* False when every term is off: the loops then take the loss gradient as it
 * is and skip the work below (the common case). */
static inline bool optim_regularised(const nerve_optim_step *step,
                                     const nerve_optim_segment *segment)
{
    return segment->l1 != 0 || step->clip_value > 0 || step->grad_scale != 1 ||
           segment->coupled_decay != 0;
}

/* Adam's factor on the weights before its update, 1 - lr * decoupled decay
 * (1 for Adam, whose segments have none). */
static inline nerve_real optim_kept(const nerve_optim_step *step,
                                    const nerve_optim_segment *segment)
{
    return (nerve_real)(1 - step->lr * segment->decoupled_decay);
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

/* The optimizer_step kernel of host-memory devices (cpu, ref, sealed):
 * optimizer_host.c's vectorised loops, in parallel blocks. */
struct nerve_kernel_ctx;
nerve_status nerve_host_optimizer_step(const struct nerve_kernel_ctx *ctx, nerve_optim_step *step);

#endif
