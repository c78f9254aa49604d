/* Activation statistics on a fixed probe batch: the instrument of the
 * saturation, vanishing and dead-unit claims (Glorot & Bengio 2010 Fig. 2-4,
 * Ioffe & Szegedy 2015 Fig. 1, dying ReLUs). The first samples of the
 * training set go through the network in eval mode, and every layer's output
 * is summarised in one row of a CSV (docs/cli.md, "Activation statistics"):
 * the same samples every time, so the rows differ only by training. */
#ifndef NERVE_PROBE_H
#define NERVE_PROBE_H

#include <stdio.h>

#include "nerve.h"
#include "train/checkpoint.h"

#define PROBE_BINS 20

typedef struct probe {
    FILE *file; /* NULL: no probe, every call a no-op */
    const char *path;
    nerve_model *m;
    const nerve_dataset *train;
    int64_t *index; /* 0 .. count - 1 */
    int64_t count;
    int *layers;    /* the layers probed: those with a per-sample output */
    int layer_count;
    nerve_real *sorted;         /* one layer's values, for its percentiles */
    unsigned char *active; /* one layer's units: not zero on some sample */
    double *lo, *hi;       /* each layer's histogram range, fixed by the first probe */
    bool started;          /* the header is written (by the first probe, or the resumed run) */
    int64_t last_step;     /* the step of the last row; -1: none */
    double start;
} probe;

/* Opens o->probe_path (NULL: no probe) and allocates what a probe needs;
 * the header waits for the first probe, which fixes the histograms' ranges.
 * A resumed run (o->resume_path, run at its restored position) continues
 * the file of the run it resumes: its rows up to the resumed step are kept
 * (those the interrupted run wrote after its checkpoint are written again),
 * with the header's histogram ranges, and elapsed goes on from the last
 * kept row; a file of another network is an error, a missing one starts
 * afresh. */
nerve_status probe_open(probe *p, const nerve_train_options *o, const train_run *run,
                        nerve_error *err);
/* One row: the probe batch through the network in eval mode (the training
 * mode and batch are restored by the next step's load); none when the last
 * row is already of this step. */
nerve_status probe_run(probe *p, int epoch, int64_t step, nerve_error *err);
nerve_status probe_close(probe *p, nerve_error *err);

#endif
