/* Loading the data sets a model's [data] section names, and normalising
 * them the same way for training, evaluation and prediction. */
#include <math.h>
#include <string.h>

#include "model/model_internal.h"

nerve_status nerve_model_data_io_error(const nerve_model *m, int key, nerve_status st,
                                       nerve_error *err)
{
    if (st != NERVE_ERR_IO || !m->data_origin[key][0]) return st;
    nerve_error plain = *err;
    return nerve_error_set(err, st, "%s: %s", m->data_origin[key], plain.message);
}

/* key: DATA_TRAIN or DATA_TEST; its labels' key follows it. */
static nerve_status load_file(const nerve_model *m, int key, const char *inputs,
                              const char *labels, nerve_dataset *out, nerve_error *err)
{
    const nerve_data_settings *d = &m->settings.data;
    nerve_status st = strcmp(d->format, "idx") == 0 ? nerve_idx_load(inputs, labels, out, err)
                                                     : nerve_csv_load(inputs, &d->csv, out, err);
    bool labels_failed = labels[0] && strncmp(err->message, labels, strlen(labels)) == 0 &&
                         strncmp(err->message, inputs, strlen(inputs)) != 0;
    return nerve_model_data_io_error(m, labels_failed ? key + 1 : key, st, err);
}

/* The data must fit the network: as many features as the input has
 * elements (valid token ids for an [embedding] or [one_hot]), and the labels
 * or targets its loss takes (nerve_loss_targets), a label per step for a
 * per-step classifier. */
nerve_status nerve_model_check_data(const nerve_model *m, const char *path, const char *labels,
                                    nerve_dataset *ds, nerve_error *err)
{
    /* The targets' problems name the file that holds them. */
    const char *targets_path = labels && labels[0] ? labels : path;
    int64_t features = nerve_shape_numel(&m->settings.input);
    char file_shape[64], input_shape[64];
    if (ds->sample_size != features)
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "%s: samples have %lld values (%s), the network input %s has %lld",
                               path, (long long)ds->sample_size,
                               nerve_shape_format(&ds->sample_shape, file_shape, sizeof file_shape),
                               nerve_shape_format(&m->settings.input, input_shape, sizeof input_shape),
                               (long long)features);
    ds->sample_shape = m->settings.input;
    nerve_status st = nerve_model_check_dataset_tokens(m, ds, path, err);
    if (st != NERVE_OK) return st;
    const char *loss = nerve_loss_name(m->settings.loss);
    long long width = (long long)nerve_model_output_size(m);
    switch (nerve_model_targets(m)) {
    case LOSS_TARGETS_LABELS:
        if (ds->num_classes == 0)
            return nerve_error_set(err, NERVE_ERR_INVALID,
                                   "%s: %s needs class labels, the file has regression targets",
                                   targets_path, loss);
        if (ds->num_classes > m->classes)
            return nerve_error_set(err, NERVE_ERR_SHAPE,
                                   "%s: labels go up to %d but the network has %d outputs",
                                   targets_path,
                                   ds->num_classes - 1, m->classes);
        if (ds->target_size != nerve_model_label_steps(m))
            return nerve_error_set(err, NERVE_ERR_SHAPE,
                                   "%s: %lld labels per sample, the network predicts %lld (one "
                                   "per step)", targets_path, (long long)ds->target_size,
                                   (long long)nerve_model_label_steps(m));
        return NERVE_OK;
    case LOSS_TARGETS_BINARY:
        /* One output and a classification file: its 0/1 labels are the targets. */
        if (ds->num_classes > 0 && width != 1)
            return nerve_error_set(err, NERVE_ERR_SHAPE,
                                   "%s: class labels fit %s with one output; with %lld outputs "
                                   "it takes %lld targets per sample (CSV [data] targets = %lld)",
                                   targets_path, loss, width, width, width);
        if (ds->num_classes > 2)
            return nerve_error_set(err, NERVE_ERR_INVALID,
                                   "%s: labels go up to %d; %s takes labels 0 and 1",
                                   targets_path,
                                   ds->num_classes - 1, loss);
        for (int64_t i = 0; ds->num_classes == 0 && i < ds->count * ds->target_size; i++)
            if (!(ds->targets[i] >= 0 && ds->targets[i] <= 1))
                return nerve_error_set(err, NERVE_ERR_INVALID,
                                       "%s: sample %lld has the target %g; %s takes targets in "
                                       "[0, 1]", targets_path, (long long)(i / ds->target_size),
                                       ds->targets[i], loss);
        break;
    case LOSS_TARGETS_TEACHER:
        if (ds->num_classes > 0)
            return nerve_error_set(err, NERVE_ERR_INVALID,
                                   "%s: %s takes the teacher's %lld logits per sample as targets "
                                   "(CSV [data] targets = %lld), the file has class labels",
                                   targets_path, loss, width, width);
        break;
    case LOSS_TARGETS_VALUES:
        break;
    }
    /* Class labels read as one target each: a regression loss was chosen
     * for a classification file. */
    const char *hint = ds->num_classes > 0 && nerve_model_targets(m) ==
                                                  LOSS_TARGETS_VALUES
                           ? " (the file has class labels: use [loss] type = "
                             "softmax_cross_entropy, or [loss] one_hot = 1 to compare the "
                             "outputs with the labels' one-hot vectors)"
                           : "";
    if (ds->target_size != width)
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "%s: %lld targets per sample, the network outputs %lld%s",
                               targets_path, (long long)ds->target_size, width, hint);
    return NERVE_OK;
}

/* The (x - mean) / std after the division by scale: the training set's
 * statistics for standardize; minus_one_one is the fixed 2x - 1. */
static bool shift_after_scale(const nerve_model *m, double *mean, double *std)
{
    switch (m->settings.data.normalize) {
    case NERVE_NORMALIZE_STANDARDIZE: *mean = m->mean, *std = m->std; return true;
    case NERVE_NORMALIZE_MINUS_ONE_ONE: *mean = 0.5, *std = 0.5; return true;
    default: *mean = 0, *std = 1; return false;
    }
}

void nerve_model_normalize(const nerve_model *m, nerve_dataset *ds)
{
    double mean, std;
    nerve_dataset_scale(ds, (float)m->settings.data.scale);
    if (shift_after_scale(m, &mean, &std)) nerve_dataset_standardize(ds, mean, std);
}

void nerve_model_input_transform(const nerve_model *m, double *gain, double *offset)
{
    double mean, std;
    shift_after_scale(m, &mean, &std);
    *gain = 1 / (m->settings.data.scale * std);
    *offset = -mean / std;
}

void nerve_model_normalization(const nerve_model *m, double *mean, double *std)
{
    *mean = m->mean;
    *std = m->std;
}

void nerve_model_set_normalization(nerve_model *m, double mean, double std)
{
    m->mean = mean;
    m->std = std > 0 && isfinite(std) ? std : 1;
}

bool nerve_model_has_test_data(const nerve_model *m)
{
    const nerve_data_settings *d = &m->settings.data;
    return strcmp(d->format, "adding") == 0 ? d->test_samples > 0 : d->test[0] != 0;
}

/* The adding problem's samples, each set from its own stream derived from
 * [net] seed (apart from the weights' and the shuffling's). */
static nerve_status generate_adding(const nerve_model *m, const char *name, int64_t count,
                                    uint64_t stream, nerve_dataset *out, nerve_error *err)
{
    const nerve_model_settings *s = &m->settings;
    nerve_status st = nerve_adding_generate(s->data.length, count, s->seed ^ stream, out, err);
    if (st == NERVE_OK) st = nerve_model_check_data(m, name, NULL, out, err);
    if (st != NERVE_OK) nerve_dataset_free(out);
    return st;
}

static nerve_status load_adding(const nerve_model *m, nerve_dataset *train, nerve_dataset *val,
                                nerve_dataset *test, nerve_error *err)
{
    const nerve_data_settings *d = &m->settings.data;
    nerve_dataset all = {0}, held = {0};
    nerve_status st = NERVE_OK;
    if (test && d->test_samples == 0)
        return nerve_error_set(err, NERVE_ERR_INVALID, "[data] test_samples is 0: no test set");
    if (train || val) {
        st = generate_adding(m, "the adding problem's training samples", d->train_samples,
                             0xadd17a1200000001ULL, &all, err);
        if (st == NERVE_OK && d->validation >= all.count)
            st = nerve_error_set(err, NERVE_ERR_INVALID,
                                 "[data] validation = %lld leaves no training samples out of %lld",
                                 (long long)d->validation, (long long)all.count);
        if (st == NERVE_OK && d->validation > 0)
            st = nerve_dataset_split(&all, d->validation, &held, err);
    }
    if (st == NERVE_OK && test)
        st = generate_adding(m, "the adding problem's test samples", d->test_samples,
                             0xadd7e57000000002ULL, test, err);
    if (st != NERVE_OK) {
        nerve_dataset_free(&all);
        nerve_dataset_free(&held);
        return st;
    }
    if (train) *train = all; else nerve_dataset_free(&all);
    if (val) *val = held; else nerve_dataset_free(&held);
    return NERVE_OK;
}

nerve_status nerve_model_load_data(const nerve_model *cm, nerve_dataset *train, nerve_dataset *val,
                                   nerve_dataset *test, nerve_error *err)
{
    nerve_model *m = (nerve_model *)cm; /* the statistics are learnt from the training set */
    const nerve_data_settings *d = &m->settings.data;
    if (strcmp(d->format, "text") == 0) return nerve_model_load_text(m, train, val, test, err);
    if (strcmp(d->format, "adding") == 0) return load_adding(m, train, val, test, err);
    nerve_dataset all = {0}, held = {0}, test_set = {0};
    nerve_status st = NERVE_OK;
    if ((train || val) && !d->train[0])
        return nerve_error_set(err, NERVE_ERR_INVALID, "[data] train is not set");
    if (test && !d->test[0])
        return nerve_error_set(err, NERVE_ERR_INVALID, "[data] test is not set");
    if (train || val) {
        st = load_file(m, DATA_TRAIN, d->train, d->train_labels, &all, err);
        if (st == NERVE_OK) st = nerve_model_check_data(m, d->train, d->train_labels, &all, err);
        if (st == NERVE_OK && d->validation > 0) {
            if (d->validation >= all.count)
                st = nerve_error_set(err, NERVE_ERR_INVALID,
                                     "[data] validation = %lld leaves no training samples out of %lld",
                                     (long long)d->validation, (long long)all.count);
            else
                st = nerve_dataset_split_by(&all, d->validation, d->validation_split,
                                            m->settings.seed, &held, err);
        }
        if (st == NERVE_OK && d->validation_file[0]) {
            st = load_file(m, DATA_VALIDATION, d->validation_file, d->validation_labels, &held,
                           err);
            if (st == NERVE_OK)
                st = nerve_model_check_data(m, d->validation_file, d->validation_labels, &held,
                                            err);
        }
        /* A subset keeps the buffers and shrinks the count, as the split does. */
        if (st == NERVE_OK && d->train_limit > 0 && d->train_limit < all.count)
            all.count = d->train_limit;
        if (st == NERVE_OK) {
            double mean, std;
            nerve_dataset_scale(&all, (float)d->scale);
            if (d->normalize == NERVE_NORMALIZE_STANDARDIZE) {
                nerve_dataset_moments(&all, &mean, &std);
                nerve_model_set_normalization(m, mean, std);
            }
            if (shift_after_scale(m, &mean, &std)) nerve_dataset_standardize(&all, mean, std);
            if (held.count) nerve_model_normalize(m, &held);
        }
    }
    if (st == NERVE_OK && test) {
        st = load_file(m, DATA_TEST, d->test, d->test_labels, &test_set, err);
        if (st == NERVE_OK) st = nerve_model_check_data(m, d->test, d->test_labels, &test_set, err);
        if (st == NERVE_OK && d->test_limit > 0 && d->test_limit < test_set.count)
            test_set.count = d->test_limit;
        if (st == NERVE_OK) nerve_model_normalize(m, &test_set);
    }
    if (st != NERVE_OK) {
        nerve_dataset_free(&all);
        nerve_dataset_free(&held);
        nerve_dataset_free(&test_set);
        return st;
    }
    if (train) *train = all; else nerve_dataset_free(&all);
    if (val) *val = held; else nerve_dataset_free(&held);
    if (test) *test = test_set;
    return NERVE_OK;
}
