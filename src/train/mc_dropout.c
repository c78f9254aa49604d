/* Monte-Carlo dropout (Gal & Ghahramani 2016): the dropout layers keep
 * drawing masks at test time, and each sample's predictions are averaged
 * over several passes, as an ensemble of the weight-sharing subnetworks
 * that dropout trains (the notes' claim C19 compares it with the weight
 * scaling of plain evaluation). */
#include <stdlib.h>
#include <string.h>

#include "core/graph_internal.h"
#include "model/model_settings.h"
#include "train/batching.h"
#include "train/evaluation.h"

static bool has_dropout(const nerve_graph *g)
{
    for (int n = 0; n < g->node_count; n++) {
        const nerve_op *op = g->nodes[n].op;
        if (op && strncmp(op->name, "dropout", 7) == 0 && g->nodes[n].attr.f[0] > 0) return true;
    }
    return false;
}

nerve_status nerve_evaluate_mc_dropout(nerve_model *m, const nerve_dataset *ds, int64_t batch,
                                       int samples, nerve_evaluation *out, nerve_error *err)
{
    memset(out, 0, sizeof *out);
    nerve_graph *g = nerve_model_graph(m);
    if (samples < 1)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "Monte-Carlo dropout needs at least 1 sample, not %d", samples);
    if (!has_dropout(g))
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "Monte-Carlo dropout needs a dropout layer with p > 0: this "
                               "network has none");
    if (ds->lanes > 0)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "Monte-Carlo dropout evaluates samples of their own, not a stream");
    batch = nerve_batch_or_all(batch > 0 ? batch : nerve_model_settings_of(m)->batch, ds->count);
    nerve_status st = nerve_model_check_tokens(m, ds->inputs, ds->count, "evaluation set", err);
    if (st == NERVE_OK) st = nerve_graph_plan(g, batch, err);
    if (st == NERVE_OK) st = nerve_evaluation_alloc(out, nerve_model_classes(m), ds->count, err);
    if (st != NERVE_OK) return st;
    int64_t width = nerve_model_output_size(m), steps = nerve_model_label_steps(m);
    nerve_node prediction = nerve_model_prediction(m);
    nerve_real *mean = malloc((size_t)(batch * width) * sizeof *mean);
    int64_t *index = nerve_identity_index(ds->count);
    if (!mean || !index) {
        free(mean);
        free(index);
        nerve_evaluation_free(out);
        return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory evaluating %lld samples",
                               (long long)ds->count);
    }
    nerve_eval_mode mode = nerve_eval_mode_enter(g, false);
    g->dropout_in_eval = true;
    double loss_sum = 0;
    for (int64_t start = 0; st == NERVE_OK && start < ds->count; start += batch) {
        int64_t n = ds->count - start < batch ? ds->count - start : batch;
        memset(mean, 0, (size_t)(n * width) * sizeof *mean);
        nerve_batching_load(m, ds, index + start, n);
        for (int k = 0; st == NERVE_OK && k < samples; k++) {
            /* Pass k draws the masks of step k: the same for a sample
             * whatever the batch. */
            nerve_graph_set_position(g, k, start);
            st = nerve_graph_forward(g, prediction, err);
            if (st != NERVE_OK) break;
            const nerve_real *y = nerve_node_value(g, prediction);
            for (int64_t j = 0; j < n * width; j++) mean[j] += y[j];
        }
        if (st != NERVE_OK) break;
        for (int64_t j = 0; j < n * width; j++) mean[j] /= (nerve_real)samples;
        loss_sum += nerve_score_averaged(out, ds, mean, start, n, width, steps);
    }
    g->dropout_in_eval = false;
    nerve_eval_mode_leave(g, mode);
    free(mean);
    free(index);
    if (st != NERVE_OK) {
        nerve_evaluation_free(out);
        return st;
    }
    nerve_evaluation_finish(out, ds->count, steps, loss_sum);
    return NERVE_OK;
}
