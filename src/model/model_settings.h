/* A model's settings: what its [net], [data], [optimizer], [schedule],
 * [loss], [augment] and [train] sections say. Internal: callers outside the
 * library read and change them by key (nerve_model_get, nerve_model_set) or
 * through the typed accessors of nerve/model.h, so that fields can be added
 * and file paths need no fixed-size buffers in the public API. */
#ifndef NERVE_MODEL_SETTINGS_H
#define NERVE_MODEL_SETTINGS_H

#include "nerve.h"

/* [data] class_limit = 0:5000, 1:0.1, *:300: per class, at most N training
 * samples (the first N in file order) or a fraction F of them; `*` for the
 * classes not listed. */
#define NERVE_CLASS_LIMITS 64
typedef struct nerve_class_limit {
    int count;                       /* entries; 0: no limit */
    int classes[NERVE_CLASS_LIMITS]; /* -1: `*` */
    double value[NERVE_CLASS_LIMITS];
    bool fraction[NERVE_CLASS_LIMITS]; /* value is a fraction in (0, 1], else a count */
} nerve_class_limit;

typedef struct nerve_data_settings {
    char format[8];           /* a data_format's name (src/model/data_format.c) */
    char train[1024], train_labels[1024], test[1024], test_labels[1024];
    double scale;
    nerve_normalize normalize;
    int64_t validation;       /* samples (text: characters) held out of train */
    nerve_split validation_split; /* idx, csv: which samples `validation` holds out */
    char validation_file[1024], validation_labels[1024]; /* idx, csv: a validation set of
                                 its own, instead of `validation` */
    int64_t train_limit, test_limit; /* idx, csv: train on the first N of the rest (0: all),
                                      * test on the first N of test (0: all) */
    nerve_class_limit class_limit;   /* idx, csv, folder: per-class subsets of the training set */
    nerve_csv_options csv;
    int64_t length;           /* adding: steps per sample */
    int64_t train_samples, test_samples; /* adding: samples generated */
} nerve_data_settings;

typedef struct nerve_model_settings {
    nerve_shape input;        /* per sample: 784 or 1x28x28 */
    int64_t batch;            /* 0: the whole training set (batch = full) */
    int64_t bptt;             /* truncated BPTT over a text stream cut into `batch`
                                 lanes, chunks of bptt characters; 0: off */
    int epochs;
    uint64_t seed;
    char backend[16];         /* [net] backend (nerve_backend_name); "": not set */
    nerve_data_settings data;
    nerve_optimizer_options optimizer; /* [optimizer]: type, lr, regularisation, clipping */
    nerve_schedule schedule;
    nerve_loss_kind loss;
    nerve_loss_options loss_options; /* weights are owned by the model */
    nerve_augment_options augment;   /* [augment]: applied to training batches only */
    int64_t patience;         /* [train] patience: epochs without improvement before
                                 stopping; 0: no early stopping */
    bool monitor_accuracy;    /* [train] monitor: val_accuracy (else val_loss) */
} nerve_model_settings;

const nerve_model_settings *nerve_model_settings_of(const nerve_model *m);
/* For the tests, which change a loaded model's settings in place. */
nerve_model_settings *nerve_model_settings_mut(nerve_model *m);

#endif
