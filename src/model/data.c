/* Loading the data sets a model's [data] section names, and normalising
 * them the same way for training, evaluation and prediction. */
#include <math.h>
#include <string.h>

#include "model/model_internal.h"

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
            if (nerve_model_shift_after_scale(m, &mean, &std)) nerve_dataset_standardize(&all, mean, std);
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
