/* The state of a training run beyond its model (trainer.c owns it), and
 * checkpoints: that state, the model's parameters and the optimizer's state
 * in one safetensors file (include/nerve.h, "checkpoints"). */
#ifndef NERVE_CHECKPOINT_H
#define NERVE_CHECKPOINT_H

#include "nerve.h"

/* Sums over the steps of the epoch in progress, for its report. */
typedef struct train_totals {
    double loss_sum, grad_norm_sum;
    int64_t correct, labels, seen; /* labels: seen x the labels per sample */
    int64_t steps;                 /* updates made (skipped steps excluded) */
} train_totals;

typedef struct train_run {
    nerve_model *m;
    nerve_optimizer *optimizer; /* the run's (nerve_train_options.optimizer, or its own) */
    const nerve_dataset *train;
    int64_t batch, steps_per_epoch;
    uint64_t seed;
    bool shuffle, stream;
    int64_t *order;          /* [train->count]: the epoch's sample order */
    nerve_rng shuffle_rng;
    nerve_augment *augment;  /* NULL without [augment] */
    nerve_scheduler scheduler;
    int epoch;               /* the epoch in progress, from 1 */
    int64_t epoch_step;      /* steps done in it; 0: not begun (not shuffled yet) */
    int64_t global_step;
    train_totals totals;
    int64_t nan_skips;       /* consecutive skipped steps */
    /* The run's own settings, saved so that a resume can tell what changed. */
    int epochs;
    int64_t max_steps;
    nerve_on_nan on_nan;
    /* Early stopping (early_stop.c): the best monitored validation figure so
     * far (as a loss: accuracy is negated), its epoch, the epochs since. */
    double early_best;
    int64_t early_best_epoch, early_bad_epochs;
    /* Whether the target error (target_error.c) was reached: once per run,
     * a resume included. */
    bool target_reached;
} train_run;

/* The sample order of a run at its position: the identity, shuffled once
 * per begun epoch from the seed (training shuffles in place, epoch after
 * epoch); also seeds run->shuffle_rng. */
void train_run_replay_order(train_run *run);

/* Writes the run's checkpoint to path, atomically. */
nerve_status checkpoint_save(train_run *run, const char *path, nerve_error *err);
/* Restores the run and its model from the checkpoint at path, after checking
 * that it matches them; on error names the file and what differs. A changed
 * [optimizer] lr or [schedule] takes effect at the resumed step (the rate is
 * recomputed at the schedule's position); a position past the run's epochs
 * or steps is an error ("nothing to train"). */
nerve_status checkpoint_restore(train_run *run, const char *path, nerve_error *err);

#endif
