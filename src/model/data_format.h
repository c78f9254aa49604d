/* The [data] formats, one table: each format's name, the [data] keys it
 * reads and how its data sets are made. Everything that depends on the
 * format (the [data] reader, nerve_model_load_data, the commands) asks the
 * table instead of comparing names. */
#ifndef NERVE_MODEL_DATA_FORMAT_H
#define NERVE_MODEL_DATA_FORMAT_H

#include "model/model_settings.h"
#include "nerve.h"

/* Groups of [data] keys; a format reads the groups its `keys` has. */
enum {
    DATA_KEYS_FILES = 1u << 0,       /* train, test */
    DATA_KEYS_LABEL_FILES = 1u << 1, /* train_labels, test_labels, validation_labels */
    DATA_KEYS_SAMPLES = 1u << 2,     /* validation_file, validation_split, scale, normalize,
                                        train_limit, test_limit, class_names */
    DATA_KEYS_CSV = 1u << 3,         /* label_column, header, targets, sequence_column */
    DATA_KEYS_GENERATED = 1u << 4    /* length, train_samples, test_samples */
};

typedef struct data_format {
    const char *name;
    unsigned keys;
    /* Reads one file (or folder) of samples; labels is its labels file ("":
     * none). NULL for a format that makes its sets itself (load_sets). */
    nerve_status (*load_file)(const nerve_model *m, const char *inputs, const char *labels,
                              nerve_dataset *out, nerve_error *err);
    /* Makes the training, validation and test sets (each may be NULL); NULL
     * for the file formats, whose sets nerve_model_load_data reads. */
    nerve_status (*load_sets)(nerve_model *m, nerve_dataset *train, nerve_dataset *val,
                              nerve_dataset *test, nerve_error *err);
    /* Whether the settings give a test set. */
    bool (*has_test)(const nerve_data_settings *d);
    /* A character stream: [net] bptt can cut it, generate samples it. */
    bool characters;
    /* A reference figure nerve train prints beside the model's: its words
     * and the function that computes it from a data set; NULL: none. */
    const char *baseline_text;
    double (*baseline)(const nerve_dataset *ds);
} data_format;

/* The format named `name`, or NULL. */
const data_format *nerve_data_format_find(const char *name);
/* The i-th format, NULL past the last (the first is the default, idx). */
const data_format *nerve_data_format_at(int i);
/* The model's [data] format. */
const data_format *nerve_model_data_format(const nerve_model *m);

#endif
