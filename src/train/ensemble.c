/* Ensemble evaluation: several trained models' predictions averaged
 * (probabilities for classifiers, as in Dietterich 2000 and the "deep
 * ensembles" of Lakshminarayanan et al. 2017), scored as one model. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_settings.h"
#include "train/batching.h"
#include "train/evaluation.h"

/* Every member must predict the same kind of rows for the same samples. */
static nerve_status check_members(const nerve_ensemble_member *members, int count,
                                  nerve_error *err)
{
    const nerve_ensemble_member *first = &members[0];
    const nerve_dataset *d0 = first->data;
    int classes = nerve_model_classes(first->model);
    int64_t width = nerve_model_output_size(first->model);
    for (int i = 1; i < count; i++) {
        const nerve_ensemble_member *m = &members[i];
        const nerve_dataset *d = m->data;
        int member_classes = nerve_model_classes(m->model);
        int64_t member_width = nerve_model_output_size(m->model);
        if (member_classes != classes)
            return nerve_error_set(err, NERVE_ERR_SHAPE,
                                   "ensemble member %s: %d classes (0: regression), member %s "
                                   "has %d", m->name, member_classes, first->name, classes);
        if (member_width != width)
            return nerve_error_set(err, NERVE_ERR_SHAPE,
                                   "ensemble member %s: outputs %lld values per sample, member "
                                   "%s outputs %lld", m->name, (long long)member_width,
                                   first->name, (long long)width);
        if (d->count != d0->count || d->target_size != d0->target_size || d->lanes != d0->lanes)
            return nerve_error_set(err, NERVE_ERR_INVALID,
                                   "ensemble member %s: %lld samples of %lld targets, member %s "
                                   "has %lld of %lld", m->name, (long long)d->count,
                                   (long long)d->target_size, first->name, (long long)d0->count,
                                   (long long)d0->target_size);
        for (int64_t j = 0; j < d->count * d->target_size; j++)
            if (d->targets[j] != d0->targets[j])
                return nerve_error_set(err, NERVE_ERR_INVALID,
                                       "ensemble member %s: sample %lld has the target %g, "
                                       "member %s's has %g", m->name,
                                       (long long)(j / d->target_size), d->targets[j],
                                       first->name, d0->targets[j]);
    }
    return NERVE_OK;
}

double nerve_score_averaged(nerve_evaluation *e, const nerve_dataset *ds, const nerve_real *mean,
                            int64_t start, int64_t n, int64_t width, int64_t steps)
{
    double loss_sum = 0;
    if (e->classes == 0) {
        /* Mean squared error over the sample's values, summed over samples. */
        for (int64_t i = 0; i < n; i++) {
            double squares = 0;
            for (int64_t j = 0; j < width; j++) {
                double diff = (double)mean[i * width + j] -
                              (double)ds->targets[(start + i) * ds->target_size + j];
                squares += diff * diff;
            }
            loss_sum += squares / (double)width;
        }
        return loss_sum;
    }
    int64_t cols = width / steps;
    for (int64_t k = 0; k < n * steps; k++) {
        const nerve_real *row = mean + k * cols;
        int64_t truth = (int64_t)ds->targets[(start + k / steps) * ds->target_size + k % steps];
        /* One output is a binary classifier's probability of class 1. */
        int64_t best = cols > 1 ? nerve_argmax(row, cols) : row[0] > 0.5f;
        double p = cols > 1 ? (double)row[truth] : truth ? (double)row[0] : 1 - (double)row[0];
        /* A sample's loss is the mean over its labels, as the losses take it. */
        loss_sum -= log(p > DBL_MIN ? p : DBL_MIN) / (double)steps;
        e->confusion[truth * e->classes + best]++;
        double confidence = cols > 1 ? (double)row[best] : best ? (double)row[0] : 1 - (double)row[0];
        nerve_calibration_add(e, confidence, best == truth);
    }
    return loss_sum;
}

nerve_status nerve_evaluate_ensemble(const nerve_ensemble_member *members, int count,
                                     int64_t batch, nerve_ensemble_evaluation *out,
                                     nerve_error *err)
{
    memset(out, 0, sizeof *out);
    if (count < 1)
        return nerve_error_set(err, NERVE_ERR_INVALID, "an ensemble needs a member, got %d",
                               count);
    nerve_status st = check_members(members, count, err);
    if (st != NERVE_OK) return st;
    nerve_model *first = members[0].model;
    const nerve_dataset *ds = members[0].data;
    batch = nerve_batch_or_all(batch > 0 ? batch : nerve_model_settings_of(first)->batch,
                               ds->count);
    /* A stream's batches are its lanes' chunks in order. */
    bool stream = ds->lanes > 0;
    if (stream) batch = ds->lanes;
    out->members = calloc((size_t)count, sizeof *out->members);
    if (!out->members)
        return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory for %d ensemble members",
                               count);
    out->count = count;
    for (int i = 0; i < count && st == NERVE_OK; i++)
        st = nerve_evaluate(members[i].model, members[i].data, batch, &out->members[i], err);
    int64_t width = nerve_model_output_size(first);
    int64_t steps = nerve_model_label_steps(first);
    nerve_real *mean = NULL;
    int64_t *index = NULL;
    nerve_eval_mode *modes = NULL;
    if (st == NERVE_OK)
        st = nerve_evaluation_alloc(&out->ensemble, nerve_model_classes(first), ds->count, err);
    if (st == NERVE_OK) {
        mean = malloc((size_t)(batch * width) * sizeof *mean);
        index = nerve_identity_index(ds->count);
        modes = malloc((size_t)count * sizeof *modes);
        if (!mean || !index || !modes)
            st = nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory evaluating %lld samples",
                                 (long long)ds->count);
    }
    if (st != NERVE_OK) {
        free(mean);
        free(index);
        free(modes);
        nerve_ensemble_evaluation_free(out);
        return st;
    }
    for (int i = 0; i < count; i++)
        modes[i] = nerve_eval_mode_enter(nerve_model_graph(members[i].model), stream);
    double loss_sum = 0;
    for (int64_t start = 0; st == NERVE_OK && start < ds->count; start += batch) {
        int64_t n = ds->count - start < batch ? ds->count - start : batch;
        memset(mean, 0, (size_t)(n * width) * sizeof *mean);
        for (int i = 0; st == NERVE_OK && i < count; i++) {
            nerve_model *m = members[i].model;
            nerve_graph *g = nerve_model_graph(m);
            nerve_batching_load(m, members[i].data, index + start, n);
            st = nerve_graph_forward(g, nerve_model_prediction(m), err);
            if (st != NERVE_OK) break;
            const nerve_real *y = nerve_node_value(g, nerve_model_prediction(m));
            for (int64_t j = 0; j < n * width; j++) mean[j] += y[j];
        }
        if (st != NERVE_OK) break;
        for (int64_t j = 0; j < n * width; j++) mean[j] /= (nerve_real)count;
        loss_sum += nerve_score_averaged(&out->ensemble, ds, mean, start, n, width, steps);
    }
    for (int i = 0; i < count; i++)
        nerve_eval_mode_leave(nerve_model_graph(members[i].model), modes[i]);
    free(mean);
    free(index);
    free(modes);
    if (st != NERVE_OK) {
        nerve_ensemble_evaluation_free(out);
        return st;
    }
    nerve_evaluation_finish(&out->ensemble, ds->count, steps, loss_sum);
    return NERVE_OK;
}

void nerve_ensemble_evaluation_free(nerve_ensemble_evaluation *e)
{
    for (int i = 0; e->members && i < e->count; i++) nerve_evaluation_free(&e->members[i]);
    free(e->members);
    nerve_evaluation_free(&e->ensemble);
    memset(e, 0, sizeof *e);
}
