/* nerve/checkpoint.h, part of nerve.h (include that, or this part alone): checkpoints of a
 * training run. */
#ifndef NERVE_PUBLIC_CHECKPOINT_H
#define NERVE_PUBLIC_CHECKPOINT_H

#include "nerve/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- checkpoints */

/* A checkpoint is a safetensors file holding the whole state of a training
 * run: the parameters and buffers under their names (so it loads as weights,
 * nerve_model_load_weights), the optimizer's state as
 * "optimizer.<param>.<state>" (PyTorch's names: exp_avg, exp_avg_sq,
 * max_exp_avg_sq, momentum_buffer, square_avg, grad_avg, sum), a stream's
 * carried recurrent state as "state.<node>.h" / ".c", and in the metadata
 * the position (epoch, step), the optimizer's step count and rate, the
 * schedule's state, the shuffling generator, the partial epoch's totals, and
 * the normalisation and vocabulary. The sample order is not stored: it is
 * replayed from the seed and checked against the stored shuffling
 * generator. Dropout's, rrelu's and the augmentation's noise has no state:
 * it is a function of the seed and the position (nerve_graph_set_position).
 * Format 2 (this noise) replaced format 1 (sequential dropout and
 * augmentation generators, stored); a format 1 checkpoint is refused.
 * nerve_train writes checkpoints (nerve_train_options.checkpoint_path)
 * atomically and resumes from one (resume_path) bit-identically, with the
 * same thread count. docs/cli.md, "Checkpoints", gives the details. */
#define NERVE_CHECKPOINT_FORMAT "2"

/* The position a checkpoint file holds, read from its metadata only: the
 * epoch in progress (from 1), the steps done in it and in all; and the
 * settings of the run that wrote it, which a resumed run may change
 * (docs/cli.md, "What a resume may change"). A checkpoint of an older nerve
 * has no settings: epochs is 0 then. */
typedef struct nerve_checkpoint_info {
    int epoch;
    int64_t epoch_step, global_step;
    int epochs;                /* the run's epochs (nerve_train_options.epochs); 0: unknown */
    double base_lr;            /* [optimizer] lr, the rate the schedule starts from */
    double lr;                 /* the rate of the next step */
    double clip_norm, clip_value;
    nerve_on_nan on_nan;
    char schedule[256];        /* nerve_schedule_describe */
} nerve_checkpoint_info;

NERVE_API nerve_status nerve_checkpoint_info_read(const char *path, nerve_checkpoint_info *info,
                                                  nerve_error *err);

#ifdef __cplusplus
}
#endif
#endif /* NERVE_PUBLIC_CHECKPOINT_H */
