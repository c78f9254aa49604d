/* Mini-batch training. Everything a step touches is allocated before the
 * first step: the graph's plan, the sample order, the optimizer state.
 * A stream (a text cut into lanes for truncated BPTT) trains in its order,
 * batch j being chunk j of every lane, with the recurrent state carried
 * from one batch to the next and reset at each epoch's start. */
#include <math.h>
#include <stdlib.h>

#include "model/model_internal.h"
#include "optim/optimizer.h"
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

/* A layer's weight_decay and l1 (cfg overrides) replace the optimizer's for
 * the layer's parameters, as a PyTorch parameter group. */
static nerve_status apply_layer_regularization(nerve_model *m, nerve_error *err)
{
    const nerve_optimizer_options *o = &m->settings.optimizer;
    for (int i = 0; i < m->layer_count; i++) {
        const model_layer *layer = &m->layers[i];
        if (isnan(layer->weight_decay) && isnan(layer->l1)) continue;
        double weight_decay = isnan(layer->weight_decay) ? o->weight_decay : layer->weight_decay;
        double l1 = isnan(layer->l1) ? o->l1 : layer->l1;
        for (nerve_node n = layer->first_node; n < layer->end_node; n++) {
            if (!nerve_node_is_param(m->graph, n)) continue;
            nerve_status st =
                nerve_optimizer_set_regularization(m->optimizer, n, weight_decay, l1, err);
            if (st != NERVE_OK) return st;
        }
    }
    return NERVE_OK;
}

nerve_status nerve_model_ensure_optimizer(nerve_model *m, nerve_error *err)
{
    if (m->optimizer) return NERVE_OK;
    nerve_error own = {0};
    m->optimizer = nerve_optimizer_new(m->graph, &m->settings.optimizer, &own);
    if (!m->optimizer) return nerve_error_set(err, own.status, "[optimizer] %s", own.message);
    return apply_layer_regularization(m, err);
}

/* The schedule must be valid, and a plateau schedule needs the validation
 * loss it follows. */
static nerve_status check_schedule(const nerve_schedule *s, const nerve_dataset *val,
                                   nerve_error *err)
{
    char why[200];
    const char *key;
    if (nerve_schedule_problem(s, &key, why, sizeof why))
        return nerve_error_set(err, NERVE_ERR_INVALID, "[schedule] %s: %s", key, why);
    if (s->kind == NERVE_SCHEDULE_PLATEAU && (!val || val->count == 0))
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "[schedule] type = plateau lowers the rate when the validation loss "
                               "stalls: it needs a validation set ([data] validation = N)");
    return NERVE_OK;
}

typedef struct epoch_totals {
    double loss_sum;
    int64_t correct, labels, seen;  /* labels: seen x the labels per sample */
} epoch_totals;

/* One optimisation step on samples order[0..n), augmented when augment is
 * not NULL; returns the batch loss. */
static double train_step(nerve_model *m, const nerve_train_options *o, const nerve_dataset *train,
                         const int64_t *order, int64_t n, nerve_augment *augment, metrics_log *log,
                         epoch_totals *totals)
{
    nerve_graph *g = m->graph;
    nerve_node trained = o->loss > 0 ? o->loss : m->loss;
    nerve_batching_load(m, train, order, n);
    if (o->on_batch) o->on_batch(order, n, o->user);
    if (augment) nerve_augment_apply(augment, nerve_node_value(g, m->input), n);
    nerve_graph_zero_grad(g);
    nerve_graph_forward(g, trained);
    nerve_graph_backward(g, trained);
    metrics_log_measure(log);
    nerve_optimizer_step(m->optimizer);
    double loss = (double)nerve_node_value(g, trained)[0];
    totals->loss_sum += loss * (double)n;
    totals->seen += n;
    if (m->classes) {
        totals->correct += nerve_batching_correct(m, train, order, n);
        totals->labels += n * nerve_model_label_steps(m);
    }
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
    if (o->batch < 0)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "batch must be at least 1, or 0 for the whole training set");
    bool stream = train->lanes > 0;
    if (stream && o->batch != 0 && o->batch != train->lanes)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "a stream of %lld lanes trains in batches of %lld, not %lld",
                               (long long)train->lanes, (long long)train->lanes,
                               (long long)o->batch);
    int64_t batch = stream ? train->lanes : nerve_batch_or_all(o->batch, train->count);
    const nerve_schedule *schedule = &m->settings.schedule;
    nerve_status st = check_schedule(schedule, val, err);
    if (st == NERVE_OK)
        st = nerve_model_check_tokens(m, train->inputs, train->count, "training set", err);
    if (st == NERVE_OK) st = nerve_graph_plan(m->graph, batch, err);
    if (st == NERVE_OK) st = nerve_model_ensure_optimizer(m, err);
    if (st != NERVE_OK) return st;
    /* Training batches only: evaluation reads the data as it is. */
    nerve_augment *augment = NULL;
    if (nerve_augment_enabled(&m->settings.augment)) {
        nerve_error own = {0};
        augment = nerve_model_augment_new(m, o->seed, &own);
        if (!augment) return nerve_error_set(err, own.status, "%s", own.message);
    }
    int64_t *order = malloc((size_t)train->count * sizeof *order);
    if (!order) {
        nerve_augment_free(augment);
        return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory for the sample order");
    }
    for (int64_t i = 0; i < train->count; i++) order[i] = i;
    metrics_log log;
    st = metrics_log_open(&log, o->log_path, m->graph, err);
    nerve_rng shuffle_rng;
    nerve_rng_seed(&shuffle_rng, o->seed ^ 0x5eedda7aULL);
    nerve_graph_set_training(m->graph, true);
    nerve_scheduler scheduler;
    nerve_scheduler_init(&scheduler, schedule, m->settings.optimizer.lr);
    bool per_step = schedule->interval == NERVE_SCHEDULE_PER_STEP;

    /* A stream's count is a whole number of batches: every batch has all lanes. */
    int64_t steps_per_epoch = (train->count + batch - 1) / batch, global_step = 0;
    double start_time = nerve_seconds_now();
    nerve_graph_set_carry_state(m->graph, stream);
    for (int epoch = 1; st == NERVE_OK && epoch <= o->epochs; epoch++) {
        if (stream)
            nerve_graph_reset_state(m->graph);
        else if (o->shuffle)
            nerve_rng_shuffle(&shuffle_rng, order, train->count);
        epoch_totals totals = {0};
        double epoch_start = nerve_seconds_now(), grad_norm_sum = 0;
        int64_t epoch_steps = 0;
        for (int64_t step = 0; step < steps_per_epoch; step++) {
            int64_t first = step * batch;
            int64_t n = train->count - first < batch ? train->count - first : batch;
            nerve_optimizer_set_lr(m->optimizer, scheduler.lr);
            double loss = train_step(m, o, train, order + first, n, augment, &log, &totals);
            double grad_norm = nerve_optimizer_grad_norm(m->optimizer);
            grad_norm_sum += grad_norm;
            epoch_steps++;
            global_step++;
            if (per_step) nerve_scheduler_step(&scheduler, NAN);
            if (!isfinite(loss)) {
                st = nerve_error_set(err, NERVE_ERR_NUMERIC,
                                     "epoch %d, step %lld: the loss is %g (lower the learning "
                                     "rate, or check the data)",
                                     epoch, (long long)global_step, loss);
                break;
            }
            double accuracy = m->classes ? (double)totals.correct / (double)totals.labels : NAN;
            if (o->log_every > 0 && global_step % o->log_every == 0)
                metrics_log_step(&log, epoch, global_step, loss, accuracy,
                                 nerve_optimizer_lr(m->optimizer), grad_norm);
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
        r.train_accuracy = m->classes ? (double)totals.correct / (double)totals.labels : NAN;
        r.lr = nerve_optimizer_lr(m->optimizer);
        r.grad_norm = grad_norm_sum / (double)epoch_steps;
        validate(m, val, batch, &r, err);
        nerve_graph_set_training(m->graph, true);
        if (!per_step) nerve_scheduler_step(&scheduler, r.val_loss);
        metrics_log_epoch(&log, &r, global_step);
        if (o->on_epoch) o->on_epoch(&r, o->user);
        if (o->max_steps > 0 && global_step >= o->max_steps) break;
    }
    if (stream) nerve_graph_set_carry_state(m->graph, false);
    nerve_status close_st = metrics_log_close(&log, st == NERVE_OK ? err : NULL);
    free(order);
    nerve_augment_free(augment);
    return st != NERVE_OK ? st : close_st;
}
