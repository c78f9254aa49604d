/* Loading the data sets a model's [data] section names, and normalising
 * them the same way for training, evaluation and prediction. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/image.h"
#include "model/data_format.h"
#include "model/model_internal.h"

/* The images' shape a flat input was given, CxHxW (HxW as 1xHxW), kept
 * with the weights for prediction. */
static void remember_image_shape(nerve_model *m, const nerve_shape *file_shape)
{
    const nerve_shape *input = &m->settings.input;
    int channels, height, width;
    if (input->ndim != 1 || nerve_shape_numel(file_shape) != input->dim[0]) return;
    if (file_shape->ndim == 2 && file_shape->dim[0] > 1 && file_shape->dim[1] > 1)
        m->image_shape = nerve_shape_3d(1, file_shape->dim[0], file_shape->dim[1]);
    else if (file_shape->ndim == 3 && nerve_image_layout(file_shape, &channels, &height, &width))
        m->image_shape = *file_shape;
}

/* key: DATA_TRAIN, DATA_VALIDATION or DATA_TEST; its labels' key follows
 * it. The training set gives the model its class names when it has none;
 * the others' are mapped onto them. */
static nerve_status load_file(nerve_model *m, int key, const char *inputs, const char *labels,
                              nerve_dataset *out, nerve_error *err)
{
    nerve_status st = nerve_model_data_format(m)->load_file(m, inputs, labels, out, err);
    bool labels_failed = labels[0] && strncmp(err->message, labels, strlen(labels)) == 0 &&
                         strncmp(err->message, inputs, strlen(inputs)) != 0;
    if (st != NERVE_OK) return nerve_model_data_io_error(m, labels_failed ? key + 1 : key, st, err);
    if (key == DATA_TRAIN) remember_image_shape(m, &out->sample_shape);
    st = nerve_model_match_classes(m, out, inputs, key == DATA_TRAIN, err);
    if (st != NERVE_OK) nerve_dataset_free(out);
    return st;
}

/* [data] class_limit on the training set (what validation leaves): each
 * class's count or fraction of its samples, the first in file order. */
static nerve_status limit_classes(const nerve_class_limit *limit, const char *path,
                                  nerve_dataset *ds, nerve_error *err)
{
    int classes = ds->num_classes;
    if (ds->target_size != 1 || classes == 0 || ds->lanes > 0)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "[data] class_limit needs one class label per sample; %s has "
                               "none", path);
    int64_t *limits = malloc((size_t)classes * sizeof *limits);
    int64_t *sizes = calloc((size_t)classes, sizeof *sizes);
    if (!limits || !sizes) {
        free(limits), free(sizes);
        return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory for [data] class_limit");
    }
    for (int64_t i = 0; i < ds->count; i++) {
        int64_t c = (int64_t)ds->targets[i];
        if (c >= 0 && c < classes) sizes[c]++;
    }
    nerve_status st = NERVE_OK;
    for (int c = 0; c < classes; c++) limits[c] = -1;
    for (int pass = 0; pass < 2; pass++) /* `*` first, the classes named over it */
        for (int k = 0; k < limit->count && st == NERVE_OK; k++) {
            int c = limit->classes[k];
            if ((c < 0) != (pass == 0)) continue;
            if (c >= classes) {
                st = nerve_error_set(err, NERVE_ERR_INVALID,
                                     "[data] class_limit names class %d, but %s has %d classes "
                                     "(0 to %d)", c, path, classes, classes - 1);
                break;
            }
            for (int d = c < 0 ? 0 : c; d < (c < 0 ? classes : c + 1); d++)
                limits[d] = limit->fraction[k] ? llround(limit->value[k] * (double)sizes[d])
                                               : (int64_t)limit->value[k];
        }
    if (st == NERVE_OK) st = nerve_dataset_limit_classes(ds, limits, classes, err);
    free(limits);
    free(sizes);
    return st;
}

bool nerve_model_has_test_data(const nerve_model *m)
{
    return nerve_model_data_format(m)->has_test(&m->settings.data);
}

nerve_status nerve_model_load_data(const nerve_model *cm, nerve_dataset *train, nerve_dataset *val,
                                   nerve_dataset *test, nerve_error *err)
{
    nerve_model *m = (nerve_model *)cm; /* the statistics are learnt from the training set */
    const nerve_data_settings *d = &m->settings.data;
    const data_format *format = nerve_model_data_format(m);
    if (format->load_sets) return format->load_sets(m, train, val, test, err);
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
        if (st == NERVE_OK && d->class_limit.count > 0)
            st = limit_classes(&d->class_limit, d->train, &all, err);
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
