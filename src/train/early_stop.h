/* Early stopping on the validation set, and the best epoch's weights: kept
 * in a file (atomically) and in memory, to end training with them. The
 * state that must survive a checkpoint lives in the train_run. */
#ifndef NERVE_EARLY_STOP_H
#define NERVE_EARLY_STOP_H

#include <stdbool.h>

#include "nerve.h"
#include "train/checkpoint.h"

typedef struct early_stop {
    nerve_real *best_params; /* restore_best: the flat parameters of the best epoch */
    bool active;             /* patience, save_best or restore_best asked for */
    bool improved;           /* best_params holds an epoch of this process */
    const char *save_path;   /* the best weights' file: on the root rank only */
} early_stop;

/* Checks the options against the validation set and allocates the copy. A
 * fresh run (not resumed) starts with no best epoch. Of data-parallel ranks
 * (which see the same validation figures) only the root writes the file. */
nerve_status early_stop_begin(early_stop *e, train_run *run, const nerve_train_options *o,
                              const nerve_dataset *val, bool resumed, bool root,
                              nerve_error *err);
/* After an epoch's report: records an improvement (saving the weights), and
 * whether the patience has run out. */
nerve_status early_stop_epoch(early_stop *e, train_run *run, const nerve_train_options *o,
                              const nerve_epoch_report *r, bool *stop, nerve_error *err);
/* At the end of training: the best epoch's parameters back into the model
 * (restore_best; a resumed run restores the best epoch since the resume,
 * the file of save_best holds the best of all), and the copy freed. */
void early_stop_end(early_stop *e, train_run *run, const nerve_train_options *o, bool restore);

#endif
