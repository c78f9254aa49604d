/* nerve/ensemble.h, part of nerve.h (include that, or this part alone): a regime: ensembles of
 * models evaluated together. */
#ifndef NERVE_PUBLIC_ENSEMBLE_H
#define NERVE_PUBLIC_ENSEMBLE_H

#include "nerve/evaluate.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One member of an ensemble: a model with its weights loaded, and the
 * evaluation samples normalised for it (every member's data hold the same
 * samples and targets in the same order; normalisation may differ). */
typedef struct nerve_ensemble_member {
    nerve_model *model;
    const nerve_dataset *data;
    const char *name;        /* in error messages, e.g. "b.cfg:b.safetensors" */
} nerve_ensemble_member;

typedef struct nerve_ensemble_evaluation {
    int count;
    nerve_evaluation *members; /* [count]: each member alone, as nerve_evaluate */
    /* The ensemble: the members' predictions (nerve_model_prediction:
     * probabilities for classifiers) averaged. Its loss is the negative log of
     * the averaged probability of the true class (per label) for classifiers,
     * the mean squared error of the averaged outputs otherwise. */
    nerve_evaluation ensemble;
} nerve_ensemble_evaluation;

/* Evaluates count >= 1 members on their data in eval mode, batch by batch
 * (batch 0: the first member's [net] batch), a buffer of one batch of
 * averaged predictions allocated once. The members must agree on the output
 * width, the classes and the samples' count and targets; a mismatch is an
 * error naming the member. */
NERVE_API nerve_status nerve_evaluate_ensemble(const nerve_ensemble_member *members, int count,
                                               int64_t batch, nerve_ensemble_evaluation *out,
                                               nerve_error *err);
NERVE_API void nerve_ensemble_evaluation_free(nerve_ensemble_evaluation *e);

#ifdef __cplusplus
}
#endif
#endif /* NERVE_PUBLIC_ENSEMBLE_H */
