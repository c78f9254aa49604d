/* Mini-batch training. Everything a step touches is allocated before the
 * first step: the graph's plan, the sample order, the optimizer state. */
#include <math.h>
#include <stdlib.h>

#include "model/model_internal.h"
#include "train/batching.h"
#include "train/metrics_log.h"

nerve_train_options nerve_train_options_from(const nerve_model *m)
{
    nerve_train_options o = {0};
    o.epochs = m->settings.epochs;
    o.batch = m->settings.batch;
    o.seed = m->settings.seed;
    o.shuffle = true;
    return o;
}

static nerve_status ensure_optimizer(nerve_model *m, nerve_error *err)
{
    if (m->optimizer) return NERVE_OK;
    nerve_sgd_options sgd = {.lr = m->settings.lr, .momentum = m->settings.momentum};
    m->optimizer = nerve_sgd_new(m->graph, &sgd, err);
    return m->optimizer ? NERVE_OK : NERVE_ERR_INVALID;
}

typedef struct epoch_totals {
    double loss_sum;
    int64_t correct, seen;
} epoch_totals;

/* One optimisation step on samples order[0..n); returns the batch loss. */
static double train_step(nerve_model *m, const nerve_dataset *train, const int64_t *order, int64_t n,
                         epoch_totals *totals)
{
    nerve_graph *g = m->graph;
    nerve_batching_load(m, train, order, n);
    nerve_graph_zero_grad(g);
    nerve_graph_forward(g, m->loss);
    nerve_graph_backward(g, m->loss);
    nerve_optimizer_step(m->optimizer);
    double loss = (double)nerve_node_value(g, m->loss)[0];
    totals->loss_sum += loss * (double)n;
    totals->seen += n;
    if (m->classes) totals->correct += nerve_batching_correct(m, train, order, n);
    return loss;
}

static void validate(nerve_model *m, const nerve_dataset *val, int64_t batch,
                     nerve_epoch_report *r, nerve_error *err)
{
    r->val_loss = r->val_accuracy = NAN;
    if (!val || val->count == 0) return;
    nerve_evaluation e;
    if (nerve_evaluate(m, val, batch, &e, err) != NERVE_OK) return;
    r->val_loss = e.loss;
    r->val_accuracy = e.accuracy;
    nerve_evaluation_free(&e);
}

nerve_status nerve_train(nerve_model *m, const nerve_dataset *train, const nerve_dataset *val,
                         const nerve_train_options *o, nerve_error *err)
{
    if (train->count == 0) return nerve_error_set(err, NERVE_ERR_INVALID, "no training samples");
    if (o->batch < 1) return nerve_error_set(err, NERVE_ERR_INVALID, "batch must be at least 1");
    nerve_status st = nerve_batching_plan(m, o->batch, err);
    if (st == NERVE_OK) st = ensure_optimizer(m, err);
    if (st != NERVE_OK) return st;
    int64_t *order = malloc((size_t)train->count * sizeof *order);
    if (!order) return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory for the sample order");
    for (int64_t i = 0; i < train->count; i++) order[i] = i;
    metrics_log log;
    st = metrics_log_open(&log, o->log_path, err);
    nerve_rng shuffle_rng;
    nerve_rng_seed(&shuffle_rng, o->seed ^ 0x5eedda7aULL);
    nerve_graph_set_training(m->graph, true);

    int64_t steps_per_epoch = (train->count + o->batch - 1) / o->batch, global_step = 0;
    double start_time = nerve_seconds_now();
    for (int epoch = 1; st == NERVE_OK && epoch <= o->epochs; epoch++) {
        if (o->shuffle) nerve_rng_shuffle(&shuffle_rng, order, train->count);
        nerve_optimizer_set_lr(m->optimizer,
                               nerve_schedule_lr(&m->settings.schedule, m->settings.lr, epoch - 1));
        epoch_totals totals = {0};
        double epoch_start = nerve_seconds_now();
        for (int64_t step = 0; step < steps_per_epoch; step++) {
            int64_t first = step * o->batch;
            int64_t n = train->count - first < o->batch ? train->count - first : o->batch;
            double loss = train_step(m, train, order + first, n, &totals);
            global_step++;
            if (!isfinite(loss)) {
                st = nerve_error_set(err, NERVE_ERR_NUMERIC,
                                     "epoch %d, step %lld: the loss is %g (lower the learning "
                                     "rate, or check the data)",
                                     epoch, (long long)global_step, loss);
                break;
            }
            double accuracy = m->classes ? (double)totals.correct / (double)totals.seen : NAN;
            if (o->log_every > 0 && global_step % o->log_every == 0)
                metrics_log_step(&log, epoch, global_step, loss, accuracy,
                                 nerve_optimizer_lr(m->optimizer));
            if (o->on_progress) {
                double elapsed = nerve_seconds_now() - epoch_start;
                nerve_progress p = {epoch, o->epochs, step + 1, steps_per_epoch, global_step,
                                    totals.loss_sum / (double)totals.seen, accuracy,
                                    elapsed > 0 ? (double)totals.seen / elapsed : 0,
                                    nerve_seconds_now() - start_time};
                o->on_progress(&p, o->user);
            }
            if (o->max_steps > 0 && global_step >= o->max_steps) break;
        }
        if (st != NERVE_OK) break;
        nerve_epoch_report r = {0};
        r.epoch = epoch;
        r.seconds = nerve_seconds_now() - epoch_start;
        r.samples_per_second = r.seconds > 0 ? (double)totals.seen / r.seconds : 0;
        r.train_loss = totals.loss_sum / (double)totals.seen;
        r.train_accuracy = m->classes ? (double)totals.correct / (double)totals.seen : NAN;
        r.lr = nerve_optimizer_lr(m->optimizer);
        validate(m, val, o->batch, &r, err);
        nerve_graph_set_training(m->graph, true);
        metrics_log_epoch(&log, &r, global_step);
        if (o->on_epoch) o->on_epoch(&r, o->user);
        if (o->max_steps > 0 && global_step >= o->max_steps) break;
    }
    nerve_status close_st = metrics_log_close(&log, st == NERVE_OK ? err : NULL);
    free(order);
    return st != NERVE_OK ? st : close_st;
}
