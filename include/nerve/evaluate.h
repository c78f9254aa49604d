/* nerve/evaluate.h, part of nerve.h (include that, or this part alone): evaluation and
 * prediction. */
#ifndef NERVE_PUBLIC_EVALUATE_H
#define NERVE_PUBLIC_EVALUATE_H

#include "nerve/comm.h"
#include "nerve/model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NERVE_CALIBRATION_BINS 15

typedef struct nerve_evaluation {
    int64_t count;           /* samples */
    int64_t labels;          /* labels scored: count, or count x T for a per-step classifier */
    double loss;
    double accuracy;         /* classification only */
    double error_rate;       /* the 0-1 loss averaged: 1 - accuracy */
    int classes;
    double *class_accuracy;  /* [classes] */
    int64_t *confusion;      /* [classes][classes], row = true class */
    /* Calibration (classifiers; NaN otherwise): the expected calibration
     * error of Guo et al. (2017), the labels binned by the predicted class's
     * probability (the confidence) into NERVE_CALIBRATION_BINS equal bins
     * ((k-1)/B, k/B], summing |accuracy - mean confidence| weighted by each
     * bin's share of the labels; and each bin's labels, mean confidence and
     * accuracy (NaN for an empty bin): the reliability diagram. */
    double ece;
    int64_t bin_count[NERVE_CALIBRATION_BINS];
    double bin_confidence[NERVE_CALIBRATION_BINS], bin_accuracy[NERVE_CALIBRATION_BINS];
} nerve_evaluation;

/* In eval mode, batch by batch (batch 0: [net] batch). A stream
 * (ds->lanes > 0) is read in order in batches of its lanes, its state
 * carried from a reset at the start (and reset again at the end). */
NERVE_API nerve_status nerve_evaluate(nerve_model *m, const nerve_dataset *ds, int64_t batch,
                                      nerve_evaluation *out, nerve_error *err);
NERVE_API void nerve_evaluation_free(nerve_evaluation *e);
/* nerve_evaluate over the ranks of comm: each evaluates a contiguous shard
 * of ds and the sums (loss, confusion counts) are all-reduced, so every rank
 * gets the whole set's evaluation. A stream is evaluated whole everywhere. */
NERVE_API nerve_status nerve_evaluate_sharded(nerve_model *m, const nerve_dataset *ds,
                                              int64_t batch, nerve_comm *comm,
                                              nerve_evaluation *out, nerve_error *err);

/* Monte-Carlo dropout (Gal & Ghahramani 2016): nerve_evaluate with the
 * dropout layers drawing masks as in training (batch norm and the rest in
 * eval mode), each sample's predicted probabilities (outputs, for
 * regression) averaged over `samples` passes, each pass with its own masks
 * (the noise position's step is the pass). Scored as an ensemble's average
 * (nerve_evaluate_ensemble). The network needs a dropout layer; a stream is
 * refused. */
NERVE_API nerve_status nerve_evaluate_mc_dropout(nerve_model *m, const nerve_dataset *ds,
                                                 int64_t batch, int samples,
                                                 nerve_evaluation *out, nerve_error *err);

/* Runs the network in eval mode on count samples (inputs as in a dataset,
 * already normalised) and writes count x nerve_model_output_size values:
 * class probabilities (softmax of the logits over the last dimension: T x C
 * per sample for a per-step classifier) for classifiers, raw outputs for
 * regression. */
NERVE_API nerve_status nerve_predict(nerve_model *m, const float *inputs, int64_t count,
                                     float *outputs, nerve_error *err);
/* Width of one prediction row: every output value of one sample (the
 * output's per-sample shape flattened, T x C for a per-step classifier). */
NERVE_API int64_t nerve_model_output_size(const nerve_model *m);

#ifdef __cplusplus
}
#endif
#endif /* NERVE_PUBLIC_EVALUATE_H */
