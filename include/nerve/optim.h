/* nerve/optim.h, part of nerve.h (include that, or this part alone): optimizers and learning-
 * rate schedules. */
#ifndef NERVE_PUBLIC_OPTIM_H
#define NERVE_PUBLIC_OPTIM_H

#include "nerve/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- optimizers */

/* An optimizer updates the trainable entries of a graph's flat parameter
 * buffer from its flat gradient buffer with one of torch.optim's algorithms
 * (docs/reference.md gives each formula). It allocates its state once, when
 * created: no step allocates. */
typedef struct nerve_optimizer nerve_optimizer;

typedef enum nerve_optimizer_kind {
    NERVE_OPTIMIZER_SGD = 0,  /* torch.optim.SGD: momentum, dampening, nesterov */
    NERVE_OPTIMIZER_ADAGRAD,  /* torch.optim.Adagrad */
    NERVE_OPTIMIZER_RMSPROP,  /* torch.optim.RMSprop */
    NERVE_OPTIMIZER_ADAM,     /* torch.optim.Adam: weight decay added to the gradient (L2) */
    NERVE_OPTIMIZER_ADAMW     /* torch.optim.AdamW: decoupled weight decay */
} nerve_optimizer_kind;

/* The hyperparameters of every optimizer, named as PyTorch's arguments (betas
 * as beta1, beta2); each kind reads those it has. Start from
 * nerve_optimizer_defaults, which gives PyTorch's defaults. */
typedef struct nerve_optimizer_options {
    nerve_optimizer_kind kind;
    double lr;
    double weight_decay;              /* L2: weight_decay * w added to the gradient;
                                         AdamW: w *= 1 - lr * weight_decay */
    double momentum;                  /* sgd, rmsprop */
    double dampening;                 /* sgd */
    bool nesterov;                    /* sgd: needs momentum > 0 and dampening 0 */
    double lr_decay;                  /* adagrad */
    double initial_accumulator_value; /* adagrad */
    double alpha;                     /* rmsprop: smoothing constant */
    bool centered;                    /* rmsprop */
    double beta1, beta2;              /* adam, adamw */
    bool amsgrad;                     /* adam, adamw */
    bool no_bias_correction;          /* adam, adamw: skip the 1 - beta^t corrections
                                         ([optimizer] bias_correction = 0) */
    double eps;                       /* adagrad, rmsprop, adam, adamw */
    /* Regularisation and gradient control, in PyTorch's order: an L1 penalty
     * on the loss adds l1 * sign(w) to the gradient; then the gradient is
     * clipped (clip_grad_value_ or clip_grad_norm_, one or the other); then
     * the optimizer applies weight_decay in its update. */
    double l1;
    double clip_value;                /* > 0: clamp each element to [-clip_value, clip_value] */
    double clip_norm;                 /* > 0: scale all by clip_norm / (norm + 1e-6) when below 1 */
    bool decay_bias;                  /* false: biases (<layer>.bias) get neither weight_decay
                                         nor l1 */
} nerve_optimizer_options;

/* PyTorch's defaults for kind: lr 0.01 (sgd, adagrad, rmsprop) or 0.001 (adam,
 * adamw), weight_decay 0 (adamw: 0.01), alpha 0.99, betas 0.9 and 0.999, eps
 * 1e-10 (adagrad) or 1e-8, decay_bias on, everything else 0 / off. */
NERVE_API nerve_optimizer_options nerve_optimizer_defaults(nerve_optimizer_kind kind);
/* An optimizer over g's parameters (g's parameters must all be declared).
 * Bad options are an error naming the option. */
NERVE_API nerve_optimizer *nerve_optimizer_new(nerve_graph *g,
                                               const nerve_optimizer_options *options,
                                               nerve_error *err);

typedef struct nerve_sgd_options {
    double lr;
    double momentum; /* 0 for plain SGD */
} nerve_sgd_options;

/* Shorthand for nerve_optimizer_new with SGD's defaults, lr and momentum:
 * v = momentum * v + g, p -= lr * v (torch.optim.SGD, dampening 0). */
NERVE_API nerve_optimizer *nerve_sgd_new(nerve_graph *g, const nerve_sgd_options *options,
                                         nerve_error *err);
/* Per-parameter regularisation, as a PyTorch parameter group: weight_decay
 * and l1 for parameter node `param` replace the options' values (a layer's
 * override). Biases stay exempt when decay_bias is off. */
NERVE_API nerve_status nerve_optimizer_set_regularization(nerve_optimizer *opt, nerve_node param,
                                                          double weight_decay, double l1,
                                                          nerve_error *err);
/* One update of every trainable parameter, run by the graph's device: the
 * status of its optimizer_step kernel (NERVE_OK on the CPU). */
NERVE_API nerve_status nerve_optimizer_step(nerve_optimizer *opt);
NERVE_API void nerve_optimizer_set_lr(nerve_optimizer *opt, double lr);
NERVE_API double nerve_optimizer_lr(const nerve_optimizer *opt);
NERVE_API int64_t nerve_optimizer_steps(const nerve_optimizer *opt);
/* The global 2-norm of the gradients the last step used, before clipping and
 * with the L1 term: what torch.nn.utils.clip_grad_norm_ returns. */
NERVE_API double nerve_optimizer_grad_norm(const nerve_optimizer *opt);
/* Bytes of state (momentum, moments, ...) this process keeps: for every
 * parameter, or with ZeRO-1 (nerve_train_options.zero) for its shard. */
NERVE_API size_t nerve_optimizer_state_bytes(const nerve_optimizer *opt);
NERVE_API const char *nerve_optimizer_name(const nerve_optimizer *opt);
NERVE_API void nerve_optimizer_free(nerve_optimizer *opt);

/* Learning-rate schedules, torch.optim.lr_scheduler's. t counts intervals
 * (epochs, or optimizer steps with NERVE_SCHEDULE_PER_STEP) from 0. */
typedef enum nerve_schedule_kind {
    NERVE_SCHEDULE_CONSTANT = 0,
    NERVE_SCHEDULE_STEP,            /* StepLR: lr * gamma^floor(t / step_size) */
    NERVE_SCHEDULE_MULTISTEP,       /* MultiStepLR: lr * gamma^(milestones reached) */
    NERVE_SCHEDULE_EXPONENTIAL,     /* ExponentialLR: lr * gamma^t */
    NERVE_SCHEDULE_COSINE,          /* CosineAnnealingLR(T_max, eta_min) */
    NERVE_SCHEDULE_COSINE_RESTARTS, /* CosineAnnealingWarmRestarts(T_0, T_mult, eta_min) */
    NERVE_SCHEDULE_PLATEAU          /* ReduceLROnPlateau on the validation loss (per epoch) */
} nerve_schedule_kind;

typedef enum nerve_schedule_interval {
    NERVE_SCHEDULE_PER_EPOCH = 0,
    NERVE_SCHEDULE_PER_STEP
} nerve_schedule_interval;

#define NERVE_SCHEDULE_MAX_MILESTONES 32

typedef struct nerve_schedule {
    nerve_schedule_kind kind;
    int64_t step_size;              /* step */
    double gamma;                   /* step, multistep, exponential */
    nerve_schedule_interval interval;
    int64_t milestones[NERVE_SCHEDULE_MAX_MILESTONES]; /* multistep: increasing */
    int milestone_count;
    int64_t t_max;                  /* cosine */
    int64_t t_0, t_mult;            /* cosine_restarts */
    double eta_min;                 /* cosine, cosine_restarts */
    /* Linear warm-up in front of any schedule (LinearLR chained by
     * SequentialLR): lr * (f + (1 - f) * t / warmup) for t < warmup, then the
     * schedule from its own t = 0. */
    int64_t warmup;
    double warmup_start_factor;     /* f, in (0, 1] */
    /* plateau: reduce lr by factor after more than `patience` epochs without
     * a relative improvement of threshold, then wait cooldown epochs */
    double factor, threshold, min_lr;
    int64_t patience, cooldown;
} nerve_schedule;

/* PyTorch's defaults for kind: gamma 0.1, T_mult 1, eta_min 0, warm-up off
 * with start factor 1/3, factor 0.1, patience 10, threshold 1e-4, cooldown 0,
 * min_lr 0; per epoch. Required values (step_size, milestones, T_max, T_0)
 * are left 0. */
NERVE_API nerve_schedule nerve_schedule_defaults(nerve_schedule_kind kind);
/* The learning rate of interval t in closed form (the plateau schedule: its
 * rate before any reduction; nerve_scheduler follows the reductions). */
NERVE_API double nerve_schedule_lr(const nerve_schedule *s, double base_lr, int64_t t);

/* The schedule in one line of cfg words, e.g. "cosine, interval step, T_max 12,
 * eta_min 0" (only the keys its type reads; warmup when on). Two schedules
 * with the same text give the same rates. Returns buf. */
NERVE_API const char *nerve_schedule_describe(const nerve_schedule *s, char *buf, size_t size);

/* A schedule being followed: the rate of the current interval, and the
 * plateau schedule's memory of the validation loss. */
typedef struct nerve_scheduler {
    nerve_schedule schedule;
    double base_lr;
    int64_t t;             /* intervals completed */
    double lr;             /* the rate of interval t */
    double best;           /* plateau: the best metric so far */
    int64_t bad_intervals, cooldown_left;
} nerve_scheduler;

NERVE_API void nerve_scheduler_init(nerve_scheduler *s, const nerve_schedule *schedule,
                                    double base_lr);
/* Ends interval t (metric: its validation loss, read by plateau only) and
 * returns the rate of interval t + 1. */
NERVE_API double nerve_scheduler_step(nerve_scheduler *s, double metric);

#ifdef __cplusplus
}
#endif
#endif /* NERVE_PUBLIC_OPTIM_H */
