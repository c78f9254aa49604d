#include "train/early_stop.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_internal.h"

#include "model/model_internal.h"

nerve_status early_stop_begin(early_stop *e, train_run *run, const nerve_train_options *o,
                              const nerve_dataset *val, bool resumed, bool root,
                              nerve_error *err)
{
    memset(e, 0, sizeof *e);
    e->save_path = root ? o->save_best_path : NULL;
    if (!resumed) {
        run->early_best = INFINITY;
        run->early_best_epoch = 0;
        run->early_bad_epochs = 0;
    }
    e->active = o->patience > 0 || o->save_best_path || o->restore_best;
    if (!e->active) return NERVE_OK;
    if (!val || val->count == 0)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "early stopping and the best epoch's weights are judged on the "
                               "validation set: set [data] validation = N");
    if (o->patience < 0)
        return nerve_error_set(err, NERVE_ERR_INVALID, "patience must be at least 0");
    if (o->restore_best) {
        size_t n = nerve_graph_param_count(run->m->graph);
        e->best_params = malloc((n ? n : 1) * sizeof *e->best_params);
        if (!e->best_params)
            return nerve_error_set(err, NERVE_ERR_NOMEM,
                                   "out of memory for a copy of the best epoch's weights");
    }
    return NERVE_OK;
}

nerve_status early_stop_epoch(early_stop *e, train_run *run, const nerve_train_options *o,
                              const nerve_epoch_report *r, bool *stop, nerve_error *err)
{
    *stop = false;
    if (!e->active) return NERVE_OK;
    /* Lower is better: the loss, or the accuracy negated. A NaN never improves. */
    double figure = o->monitor_accuracy ? -r->val_accuracy : r->val_loss;
    if (figure < run->early_best) {
        run->early_best = figure;
        run->early_best_epoch = r->epoch;
        run->early_bad_epochs = 0;
        e->improved = true;
        nerve_graph *g = run->m->graph;
        if (e->best_params) {
            nerve_status st = nerve_graph_download(g, e->best_params, nerve_graph_params(g),
                                                   (int64_t)nerve_graph_param_count(g));
            if (st) return nerve_graph_pass_error(g, st, err);
        }
        if (e->save_path) {
            nerve_status st = nerve_model_save_weights(run->m, e->save_path, err);
            if (st) return st;
        }
    } else {
        run->early_bad_epochs++;
    }
    *stop = o->patience > 0 && run->early_bad_epochs >= o->patience;
    if (*stop && o->on_warning) {
        char message[200];
        snprintf(message, sizeof message,
                 "early stopping after epoch %d: no better %s for %lld epochs (best %g at epoch "
                 "%lld)", r->epoch, o->monitor_accuracy ? "val_accuracy" : "val_loss",
                 (long long)o->patience,
                 o->monitor_accuracy ? -run->early_best : run->early_best,
                 (long long)run->early_best_epoch);
        o->on_warning(message, o->user);
    }
    return NERVE_OK;
}

void early_stop_end(early_stop *e, train_run *run, const nerve_train_options *o, bool restore)
{
    nerve_graph *g = run->m->graph;
    if (restore && e->best_params && e->improved)
        (void)nerve_graph_upload(g, nerve_graph_params(g), e->best_params,
                                 (int64_t)nerve_graph_param_count(g));
    free(e->best_params);
    e->best_params = NULL;
}
