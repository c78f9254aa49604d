/* nerve/train.h, part of nerve.h (include that, or this part alone): the training loop. */
#ifndef NERVE_PUBLIC_TRAIN_H
#define NERVE_PUBLIC_TRAIN_H

#include <signal.h>
#include "nerve/comm.h"
#include "nerve/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- training */

typedef struct nerve_progress {
    int epoch, epochs;          /* 1-based */
    int64_t step, steps_per_epoch; /* 1-based within the epoch */
    int64_t global_step;
    double loss, accuracy;      /* running means over this epoch */
    double samples_per_second;
    double elapsed_seconds;
} nerve_progress;

typedef struct nerve_epoch_report {
    int epoch;
    double train_loss, train_accuracy;
    double val_loss, val_accuracy; /* NaN without a validation set */
    double lr;                     /* the rate of the epoch's last step */
    double seconds, samples_per_second;
    double grad_norm;              /* mean over the epoch's steps of the gradient norm
                                      before clipping (nerve_optimizer_grad_norm) */
    /* At the epoch's end, in eval mode: the test set (NaN without
     * nerve_train_options.test_set) and the training set (NaN without
     * eval_train), whose figures, unlike train_loss and train_accuracy,
     * are those of the epoch's final weights without dropout's noise. */
    double test_loss, test_accuracy;
    double train_eval_loss, train_eval_accuracy;
} nerve_epoch_report;

/* What training does with a step whose loss or gradients are not finite
 * (checked before the update). */
typedef enum nerve_on_nan {
    /* Stop with NERVE_ERR_NUMERIC, naming the step and the first layer whose
     * output (or, if all outputs are finite, the gradient) is not finite. */
    NERVE_ON_NAN_STOP = 0,
    /* Skip the update (warning through on_warning); stop as above after
     * NERVE_MAX_NAN_SKIPS consecutive skipped steps. */
    NERVE_ON_NAN_SKIP
} nerve_on_nan;

#define NERVE_MAX_NAN_SKIPS 10

typedef struct nerve_train_options {
    size_t size; /* NERVE_SIZED(nerve_train_options): see nerve/core.h */
    int epochs;
    /* Early stopping on the validation set: stop after `patience` epochs in a
     * row without a better val_loss (or val_accuracy with monitor_accuracy);
     * 0: off. save_best_path: the best epoch's weights, saved atomically at
     * each improvement; restore_best: end with the best epoch's weights. */
    int64_t patience;
    bool monitor_accuracy, restore_best;
    const char *save_best_path;
    int64_t batch;           /* 0: the whole training set (batch gradient descent) */
    int64_t max_steps;       /* stop after this many steps in all (0: no limit) */
    bool no_shuffle;         /* false (the default): reshuffle every epoch (seeded);
                                true: the data set's order */
    uint64_t seed;
    const char *log_path;    /* CSV metrics log (docs/cli.md, "nerve train"), or NULL */
    int64_t log_every;       /* also a log row every N steps (0: per epoch only) */
    void (*on_progress)(const nerve_progress *p, void *user);
    void (*on_epoch)(const nerve_epoch_report *r, void *user);
    /* Called with each training batch's sample indices once it is loaded,
     * before its forward pass: the place to fill inputs of the caller's own
     * (a teacher's logits for distillation). NULL: none. */
    void (*on_batch)(const int64_t *index, int64_t n, void *user);
    void *user;
    /* The node trained on (e.g. a loss built on the model's output); 0: the
     * model's loss. Validation always reports the model's loss. */
    nerve_node loss;
    /* Checkpoints (nerve_checkpoint_save): written to checkpoint_path, when
     * not NULL, every checkpoint_every steps (0: at every epoch's end) and
     * when training ends or stops. */
    const char *checkpoint_path;
    int64_t checkpoint_every;
    /* A checkpoint to continue from (nerve_checkpoint_load), or NULL. */
    const char *resume_path;
    /* A non-finite loss or gradient: stop (the default) or skip the step. */
    nerve_on_nan on_nan;
    /* Polled after every step: when *stop_flag is non-zero, training writes
     * the checkpoint (if any) and returns NERVE_ERR_STOPPED. The library
     * installs no signal handler: the caller's handler sets the flag. */
    volatile sig_atomic_t *stop_flag;
    /* Called with a one-line warning (a skipped step), or NULL. */
    void (*on_warning)(const char *message, void *user);
    /* Data-parallel training (docs/distributed.md): every rank of comm
     * calls nerve_train with the same model, data and options, and they
     * train one model. batch is the global batch: each rank takes a
     * contiguous slice of it, batch norm is synchronised, gradients are
     * summed weighted by slice size, and the step's loss, non-finite check
     * and stop flag are reduced, so every rank takes the same decisions.
     * Only rank 0 writes the log and the checkpoint. A failure on one rank
     * (its slice, an op, rank 0's log or files) fails the call on every
     * rank at the same step: that rank's error, NERVE_ERR_PEER elsewhere;
     * a stop asked of one rank is written to the others' *stop_flag
     * (when not NULL) and stops them all. NULL, or a communicator of one
     * rank: this process alone (no collective in a step). batch_per_rank: batch is each rank's (the global batch is
     * size x batch, Horovod's convention). */
    nerve_comm *comm;
    bool batch_per_rank;
    /* 1: ZeRO stage 1 over comm's ranks: each keeps the optimizer state of
     * 1/size of the parameters (gradients reduce-scattered, the shard
     * updated, the parameters all-gathered); the same training as 0.
     * Checkpoints hold the whole state and resume with or without it. */
    int zero;
    /* Instruments (docs/cli.md, "nerve train"). target_error > 0: the first
     * epoch whose training error (1 - its running training accuracy), or
     * validation error with target_on_val, is at most target_error is
     * reported through on_warning and as a `target` row of the log;
     * target_stop ends training there. Classifiers only. Checkpoints keep
     * whether the target was reached, so that a run reports it once, resumed
     * or not. */
    double target_error;
    bool target_on_val, target_stop;
    /* probe_path: a CSV of per-layer activation statistics (mean, std,
     * percentiles, saturated, zero and dead fractions, a histogram) on a
     * fixed probe batch, the first probe_size training samples (0: 256; at
     * most one batch), in eval mode, before the first step, at every epoch's
     * end and every probe_every steps (0: epochs only). Not for streams nor
     * with comm. */
    const char *probe_path;
    int64_t probe_every, probe_size;
    /* Also evaluate the validation set every eval_every steps (0: at
     * epochs' ends only), an `eval` row of the log each time; not for
     * streams. */
    int64_t eval_every;
    /* > 0: the gradient all-reduce in buckets of about this many MiB (whole
     * tensors, contiguous ranges of the flat gradient buffer from its end),
     * each started, non-blocking, as soon as backward has produced its
     * gradients, and all completed before the optimizer step: communication
     * overlaps backward. The same sums as one all-reduce after backward (0,
     * the default). Not with zero = 1. */
    double bucket_mb;
    /* Learning curves on held-out and training data: test_set evaluated at
     * every epoch's end (test_loss, test_accuracy of the report and the
     * log; NULL: not), eval_train the training set too, in eval mode
     * (train_eval_loss, train_eval_accuracy). */
    const nerve_dataset *test_set; /* since 0.2.1 */
    bool eval_train;               /* since 0.2.1 */
    /* state_gradients_path: a CSV of ||dL/dh_t|| for every time step t of
     * every recurrent op, after every state_gradients_every-th step (0: each
     * epoch's last step), the gradient vanishing back through time; NULL:
     * none. Not with comm. */
    const char *state_gradients_path; /* since 0.2.1 */
    int64_t state_gradients_every;    /* since 0.2.1 */
    /* The optimizer to train with: the caller's (nerve_model_optimizer_new),
     * which keeps its state after the run, so that a later nerve_train
     * continues it. NULL: the run makes one from the model's [optimizer] and
     * frees it when it returns. */
    nerve_optimizer *optimizer; /* since 0.2.1 */
} nerve_train_options;

/* Options from the model's settings: epochs, batch, seed, early stopping. */
NERVE_API void nerve_train_options_from_sized(const nerve_model *m, nerve_train_options *out,
                                              size_t size);
static inline nerve_train_options nerve_train_options_from(const nerve_model *m)
{
    nerve_train_options o;
    nerve_train_options_from_sized(m, &o, sizeof o);
    return o;
}

/* Mini-batch training over train (last partial batch included); val may be
 * NULL (not with a plateau schedule). The [schedule] steps after every epoch,
 * or after every step when its interval is per step. Allocates everything up
 * front: no allocation inside a step (checkpoints may allocate). Stops with
 * NERVE_ERR_NUMERIC on a non-finite loss or gradient (options->on_nan), and
 * with NERVE_ERR_STOPPED when *options->stop_flag is set, after the current
 * step and its checkpoint. With options->resume_path it continues the run a
 * checkpoint holds, up to options->epochs (and max_steps, counted from the
 * start of the run); the checkpoint must match the model (tensor names and
 * shapes), the optimizer kind, the batch, the training set's size and the
 * seed, and the error names the file and what differs. The model's
 * [optimizer] lr and [schedule] may differ from the checkpoint's: the rate
 * is recomputed at the run's position and used from the resumed step on. A
 * checkpoint already at options->epochs or max_steps is an error (nothing to
 * train); nerve_checkpoint_info_read gives the epochs the run had.
 * A stream (train->lanes > 0, a text cut for [net] bptt) trains in its order,
 * never shuffled, with batches of exactly `lanes` samples (options->batch 0
 * or lanes), carrying the recurrent state from batch to batch
 * (nerve_graph_set_carry_state), reset at every epoch's start; carrying is
 * off again when training ends. */
NERVE_API nerve_status nerve_train(nerve_model *m, const nerve_dataset *train,
                                   const nerve_dataset *val, const nerve_train_options *options,
                                   nerve_error *err);

#ifdef __cplusplus
}
#endif
#endif /* NERVE_PUBLIC_TRAIN_H */
