/* The [data] formats' table (data_format.h) and the file formats' readers. */
#include <string.h>

#include "model/data_format.h"
#include "model/model_internal.h"

static nerve_status load_idx(const nerve_model *m, const char *inputs, const char *labels,
                             nerve_dataset *out, nerve_error *err)
{
    return nerve_idx_load(inputs, labels, out, err);
}

static nerve_status load_csv(const nerve_model *m, const char *inputs, const char *labels,
                             nerve_dataset *out, nerve_error *err)
{
    return nerve_csv_load(inputs, &m->settings.data.csv, out, err);
}

/* Every image at the network input's shape. */
static nerve_status load_folder(const nerve_model *m, const char *inputs, const char *labels,
                                nerve_dataset *out, nerve_error *err)
{
    return nerve_folder_load(inputs, &m->settings.input, out, err);
}

static bool test_file_set(const nerve_data_settings *d) { return d->test[0] != 0; }
static bool test_samples_set(const nerve_data_settings *d) { return d->test_samples > 0; }

static const data_format formats[] = {
    {"idx", DATA_KEYS_FILES | DATA_KEYS_LABEL_FILES | DATA_KEYS_SAMPLES, load_idx, NULL,
     test_file_set, false, NULL, NULL},
    {"csv", DATA_KEYS_FILES | DATA_KEYS_SAMPLES | DATA_KEYS_CSV, load_csv, NULL, test_file_set,
     false, NULL, NULL},
    {"text", DATA_KEYS_FILES, NULL, nerve_model_load_text, test_file_set, true, NULL, NULL},
    {"adding", DATA_KEYS_GENERATED, NULL, nerve_model_load_adding, test_samples_set, false,
     "adding problem: predicting 1 always gives MSE", nerve_adding_baseline},
    {"folder", DATA_KEYS_FILES | DATA_KEYS_SAMPLES, load_folder, NULL, test_file_set, false,
     NULL, NULL},
};
#define FORMAT_COUNT (int)(sizeof formats / sizeof formats[0])

const data_format *nerve_data_format_at(int i)
{
    return i >= 0 && i < FORMAT_COUNT ? &formats[i] : NULL;
}

const data_format *nerve_data_format_find(const char *name)
{
    for (int i = 0; i < FORMAT_COUNT; i++)
        if (strcmp(formats[i].name, name) == 0) return &formats[i];
    return NULL;
}

const data_format *nerve_model_data_format(const nerve_model *m)
{
    const data_format *f = nerve_data_format_find(m->settings.data.format);
    return f ? f : &formats[0];
}
