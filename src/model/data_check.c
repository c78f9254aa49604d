/* Whether a data set fits a model (its samples, labels or targets), and the
 * messages for [data] files that cannot be read: shared by every data
 * format's loader (data.c, text_data.c). */
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
