/* Mini-batch training. Everything a step touches is allocated before the
 * first step: the graph's plan, the sample order, the optimizer state.
 * A stream (a text cut into lanes for truncated BPTT) trains in its order,
 * batch j being chunk j of every lane, with the recurrent state carried
 * from one batch to the next and reset at each epoch's start.
 * Each step is checked before its update: a non-finite loss or gradient
 * stops the run or skips the update (nerve_on_nan). The run's state lives in
 * a train_run (checkpoint.h), which checkpoints save and restore. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_internal.h"
#include "core/options.h"
#include "model/model_internal.h"
#include "dist/data_parallel.h"
#include "dist/sync_batch_norm.h"
#include "optim/optimizer.h"
#include "train/batching.h"
#include "train/checkpoint.h"
#include "train/early_stop.h"
#include "train/distributed.h"
#include "train/metrics_log.h"
#include "train/probe.h"
#include "train/state_gradients.h"
#include "train/target_error.h"

static nerve_train_options nerve_train_options_from_value(const nerve_model *m)
{
    nerve_train_options o = {0};
    o.epochs = m->settings.epochs;
    o.batch = m->settings.batch;
    o.seed = m->settings.seed;
    o.patience = m->settings.patience;
    o.monitor_accuracy = m->settings.monitor_accuracy;
    return o;
}

void nerve_train_options_from_sized(const nerve_model *m, nerve_train_options *out, size_t size)
{
    nerve_train_options value = nerve_train_options_from_value(m);
    nerve_options_write(out, size, &value, sizeof value);
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

/* A run in this process: its state (saved in checkpoints) and what it
 * needs besides. */
typedef struct trainer {
    train_run run;
    const nerve_train_options *o;
    nerve_node trained;
    metrics_log log;
    bool per_step;               /* the schedule steps after every step */
    const char *last_checkpoint; /* written or resumed from; NULL: none */
    int64_t last_checkpoint_step, written_at; /* global steps; -1: none */
    double start_time;
    early_stop early;
    nerve_status early_status; /* of the last epoch's early-stopping check */
    bool early_stopped;
    bool target_stopped;                 /* target_error.h; reached: run.target_reached */
    probe probe;                         /* activation statistics (probe.h) */
    state_gradients state_grads;         /* per-time-step ||dL/dh_t|| (state_gradients.h) */
    nerve_comm *comm; /* the ranks training with this one (train/distributed.h), or NULL */
    bool root;        /* rank 0 (or no comm): writes the log and checkpoints */
    dist_shard shard; /* ZeRO-1's, or none */
    dist_buckets buckets; /* the overlapped all-reduce's (bucket_mb), when bucketed */
    bool bucketed;
    double step_accuracy;        /* the last step's own, for its log row; NaN: none */
    /* The last step's ranks whose own loss was not finite (dist_step_sums)
     * and whether this rank's was finite. */
    int nonfinite_ranks, nonfinite_rank;
    bool own_loss_finite;
} trainer;

/* Whether every trainable gradient is finite, in one pass over the flat
 * buffer: x * 0 is 0 for a finite x and NaN for an infinite or NaN one. */
/* Every value of v (g's memory, n of them) is finite; read on the host. */
static bool all_finite(const nerve_graph *g, nerve_real *v, int64_t n)
{
    nerve_graph *graph = (nerve_graph *)g; /* a read: the host copy is its only change */
    nerve_real *host = v ? nerve_graph_host_view(graph, v, n, true, NULL) : NULL;
    bool finite = true;
    for (int64_t i = 0; host && i < n && finite; i++) finite = isfinite(host[i]) != 0;
    nerve_graph_host_view_end(graph, v, host, n, false, NULL);
    return finite;
}

/* "layer 'fc2' (dense)" for a node of a layer; the node's own name otherwise. */
static void describe_node(const nerve_model *m, nerve_node n, char *buf, size_t size)
{
    for (int k = 0; k < m->layer_count; k++) {
        const model_layer *layer = &m->layers[k];
        if (n < layer->first_node || n >= layer->end_node) continue;
        snprintf(buf, size, "layer '%s' (%s)", layer->name, layer->type);
        return;
    }
    snprintf(buf, size, "'%s'", m->graph->nodes[n].name);
}

/* Whether node n's gradient memory was reused, after n's backward, by the
 * gradient of a node that backward reached later (core/plan.c): it then no
 * longer holds n's gradient. */
static bool grad_overwritten(const nerve_graph *g, nerve_node n)
{
    const nerve_node_data *node = &g->nodes[n];
    if (node->kind != NERVE_NODE_OP) return false; /* parameters' and inputs' are their own */
    const nerve_real *begin = node->grad, *end = begin + nerve_shape_numel(&node->shape);
    for (nerve_node k = 0; k < n; k++) {
        const nerve_node_data *other = &g->nodes[k];
        if (other->kind != NERVE_NODE_OP || !g->needed[k] || !other->needs_grad ||
            other->grad == node->grad)
            continue;
        const nerve_real *b = other->grad, *e = b + nerve_shape_numel(&other->shape);
        if (b < end && begin < e) return true;
    }
    return false;
}

/* Where a non-finite step went wrong, scanned only when it happens: the
 * first node the step ran, in graph order, whose value is not finite; when
 * every value is finite, the node nearest the loss whose gradient is not
 * (backward runs in reverse graph order, so that is where it began), among
 * those whose gradient memory still holds their own. */
static void locate_nonfinite(const trainer *t, char *buf, size_t size)
{
    const nerve_model *m = t->run.m;
    const nerve_graph *g = m->graph;
    char what[160];
    /* Data parallel: another rank's slice went wrong, not this one's. */
    if (t->nonfinite_ranks == 1 && t->own_loss_finite) {
        snprintf(buf, size, "the loss is not finite on rank %d's slice of the batch",
                 t->nonfinite_rank);
        return;
    }
    if (t->nonfinite_ranks > 1 && t->own_loss_finite) {
        snprintf(buf, size, "the loss is not finite on %d ranks' slices of the batch",
                 t->nonfinite_ranks);
        return;
    }
    for (nerve_node n = 0; n <= t->trained; n++) {
        const nerve_node_data *node = &g->nodes[n];
        if (!g->needed[n] || all_finite(g, node->value, nerve_shape_numel(&node->shape)))
            continue;
        if (n == m->input)
            snprintf(buf, size, "the input batch holds non-finite values (check the data)");
        else if (n == m->target)
            snprintf(buf, size, "the target batch holds non-finite values (check the data)");
        else if (n == t->trained)
            snprintf(buf, size, "the loss is the first non-finite value (check the targets)");
        else {
            describe_node(m, n, what, sizeof what);
            snprintf(buf, size, "the first non-finite %s: %s", 
                     node->kind == NERVE_NODE_PARAM ? "parameter" : "output", what);
            if (node->kind == NERVE_NODE_PARAM)
                snprintf(buf + strlen(buf), size - strlen(buf), ", '%s'", node->name);
        }
        return;
    }
    for (nerve_node n = t->trained; n >= 0; n--) {
        const nerve_node_data *node = &g->nodes[n];
        if (!g->needed[n] || !node->needs_grad || grad_overwritten(g, n) ||
            all_finite(g, node->grad, nerve_shape_numel(&node->shape)))
            continue;
        describe_node(m, n, what, sizeof what);
        snprintf(buf, size, "the first non-finite gradient: %s%s%s%s", what,
                 node->kind == NERVE_NODE_PARAM ? ", '" : "",
                 node->kind == NERVE_NODE_PARAM ? node->name : "",
                 node->kind == NERVE_NODE_PARAM ? "'" : "");
        return;
    }
    snprintf(buf, size, "no non-finite value found in the graph");
}

/* One line: where and what, what to do, and the last good checkpoint. */
static nerve_status nonfinite_error(const trainer *t, double loss, nerve_error *err)
{
    char where[300], last[300], what[80];
    locate_nonfinite(t, where, sizeof where);
    if (t->last_checkpoint)
        snprintf(last, sizeof last, "last good checkpoint: %s (step %lld)", t->last_checkpoint,
                 (long long)t->last_checkpoint_step);
    else
        snprintf(last, sizeof last, "no checkpoint");
    if (isfinite(loss))
        snprintf(what, sizeof what, "the loss is %g but a gradient is not finite", loss);
    else
        snprintf(what, sizeof what, "the loss is %g", loss);
    const train_run *r = &t->run;
    char skipped[80] = "";
    if (t->o->on_nan == NERVE_ON_NAN_SKIP)
        snprintf(skipped, sizeof skipped, " (%d consecutive steps skipped, the limit)",
                 NERVE_MAX_NAN_SKIPS);
    return nerve_error_set(err, NERVE_ERR_NUMERIC,
                           "epoch %d, step %lld: %s%s; %s; lower the learning rate, or check the "
                           "data; %s",
                           r->epoch, (long long)r->global_step + 1, what, skipped, where, last);
}

/* This rank's count samples order[0..count) into the graph, augmented
 * when the run has [augment], at position in the epoch's order. */
static nerve_status load_slice(trainer *t, const int64_t *order, int64_t count, int64_t position,
                               nerve_error *err)
{
    train_run *r = &t->run;
    nerve_model *m = r->m;
    nerve_graph *g = m->graph;
    nerve_status st = nerve_batching_load(m, r->train, order, count, err);
    if (st != NERVE_OK) return st;
    nerve_graph_set_position(g, r->global_step, position);
    if (t->o->on_batch) t->o->on_batch(order, count, t->o->user);
    if (!r->augment) return NERVE_OK;
    nerve_real *x = nerve_node_host_view(g, m->input, true, err); /* on the host */
    if (!x) return err ? err->status : NERVE_ERR_NOMEM;
    nerve_augment_apply(r->augment, x, count, r->global_step, position);
    return nerve_node_host_view_end(g, m->input, x, true, err);
}

/* Forward and backward over the loaded slice, the backward pass seeded
 * with share (this rank's part of the global loss); sums gets the share of
 * the loss and the correct labels. */
static nerve_status run_slice(trainer *t, const int64_t *order, int64_t count, double share,
                              dist_step_sums *sums, nerve_error *err)
{
    nerve_model *m = t->run.m;
    nerve_graph *g = m->graph;
    const nerve_real weight = (nerve_real)share;
    nerve_real value; /* the loss: the one value of the step read from the device */
    nerve_status st = nerve_graph_forward(g, t->trained, err);
    if (st == NERVE_OK)
        st = dist_test_failure(t->comm, "NERVE_TEST_FAIL_STEP", t->run.global_step + 1, err);
    if (st == NERVE_OK)
        st = t->comm ? nerve_graph_backward_from(g, t->trained, &weight, err)
                     : nerve_graph_backward(g, t->trained, err);
    if (st == NERVE_OK) st = nerve_node_read(g, t->trained, &value, 1, err);
    if (st != NERVE_OK) return st;
    sums->loss = (double)weight * (double)value;
    if (!m->classes) return NERVE_OK;
    return nerve_batching_correct(m, t->run.train, order, count, &sums->correct, err);
}

/* One optimisation step on samples order[0..n), augmented when the run has
 * [augment]; *loss is the batch loss. With several ranks this rank runs
 * its slice of the batch and the step's sums are reduced
 * (train/distributed.h), so what follows is the same on every rank; a
 * rank whose slice fails (loading it, an op) still joins the step's
 * collectives, and the reduction fails the step on every rank. A
 * non-finite loss or gradient skips the update (*skipped) or fails, as
 * on_nan says. The noise (dropout, rrelu, augmentation) is keyed by the
 * run's global step and each sample's position in the epoch's order: a
 * rank's slice, given its own first position, draws exactly what its rows
 * draw in the whole batch (docs/reference.md, "Random numbers"). */
static nerve_status train_step(trainer *t, const int64_t *order, int64_t n, double *loss,
                               bool *skipped, nerve_error *err)
{
    train_run *r = &t->run;
    nerve_model *m = r->m;
    nerve_graph *g = m->graph;
    const nerve_train_options *o = t->o;
    int64_t first = 0, count = n;
    if (t->comm)
        nerve_dist_slice(n, nerve_comm_rank(t->comm), nerve_comm_size(t->comm), &first, &count);
    dist_step_sums sums = {0};
    nerve_status st = NERVE_OK;
    /* An evaluation or prediction of a larger batch (a callback's, or the
     * validation's) planned forward-only memory: plan training again. */
    if (!nerve_graph_planned_for_training(g)) {
        int64_t ranks = t->comm ? nerve_comm_size(t->comm) : 1;
        st = nerve_graph_plan(g, (r->batch + ranks - 1) / ranks, err);
    }
    if (st == NERVE_OK) nerve_graph_zero_grad(g);
    nerve_graph_sync_begin_step(g);
    /* Where this rank's slice starts in the epoch's order. */
    if (st == NERVE_OK && count > 0)
        st = load_slice(t, order + first, count, r->epoch_step * r->batch + first, err);
    if (st != NERVE_OK && !t->comm) return st;
    /* This rank's share of the global batch's loss (1 alone). */
    double share;
    bool summed;
    nerve_error own = {0};
    nerve_status weighed = nerve_dist_loss_weight(t->comm, g, t->trained, st ? 0 : count, n,
                                                  &share, &summed, &own);
    if (weighed != NERVE_OK) return st ? st : nerve_error_set(err, weighed, "%s", own.message);
    if (t->bucketed) dist_buckets_begin(&t->buckets);
    if (st == NERVE_OK && count > 0) st = run_slice(t, order + first, count, share, &sums, err);
    nerve_dist_loss_end(g, t->trained, summed);
    /* An empty slice, or a pass that failed part-way: the collectives the
     * other ranks' passes make. */
    if (t->comm && (count == 0 || st != NERVE_OK))
        nerve_graph_join_step(g, t->trained, count > 0);
    t->own_loss_finite = isfinite(sums.loss);
    st = dist_reduce_step(t->comm, g, &t->shard, t->bucketed ? &t->buckets : NULL, &sums, st, err);
    if (st != NERVE_OK) return st;
    t->nonfinite_ranks = sums.nonfinite_ranks;
    t->nonfinite_rank = sums.nonfinite_rank;
    metrics_log_comm(&t->log, sums.comm_seconds, sums.exposed_seconds);
    *loss = sums.loss;
    bool finite = isfinite(*loss) && (!t->comm || sums.gradients_finite);
    if (finite && !t->comm) {
        st = nerve_graph_gradients_finite(g, &finite, err);
        if (st != NERVE_OK) return st;
    }
    *skipped = !finite;
    t->step_accuracy = NAN;
    if (*skipped) {
        r->nan_skips++;
        if (o->on_nan != NERVE_ON_NAN_SKIP || r->nan_skips >= NERVE_MAX_NAN_SKIPS)
            return nonfinite_error(t, *loss, err);
        if (o->on_warning) {
            char where[300], message[400];
            locate_nonfinite(t, where, sizeof where);
            snprintf(message, sizeof message,
                     "epoch %d, step %lld: skipped (the loss is %g; %s), %lld in a row", r->epoch,
                     (long long)r->global_step + 1, *loss, where, (long long)r->nan_skips);
            o->on_warning(message, o->user);
        }
        return NERVE_OK;
    }
    r->nan_skips = 0;
    metrics_log_measure(&t->log, !t->shard.counts);
    st = nerve_optimizer_step(r->optimizer);
    if (st != NERVE_OK) st = nerve_graph_pass_error(g, st, err);
    /* Every rank gathers, whatever its own update did (the step's end
     * tells the others). */
    nerve_status gathered = dist_gather_parameters(t->comm, g, &t->shard, st ? NULL : err);
    if (st == NERVE_OK) st = gathered;
    if (st != NERVE_OK) return st;
    metrics_log_updated(&t->log);
    r->totals.loss_sum += *loss * (double)n;
    r->totals.seen += n;
    r->totals.grad_norm_sum += nerve_optimizer_grad_norm(r->optimizer);
    r->totals.steps++;
    if (m->classes) {
        int64_t labels = n * nerve_model_label_steps(m);
        r->totals.correct += sums.correct;
        r->totals.labels += labels;
        t->step_accuracy = (double)sums.correct / (double)labels;
    }
    return NERVE_OK;
}

/* The loss and accuracy of a whole data set in eval mode; NaN for an
 * absent or empty set. */
static nerve_status evaluate_set(nerve_model *m, const nerve_dataset *ds, int64_t batch,
                                 nerve_comm *comm, double *loss, double *accuracy,
                                 nerve_error *err)
{
    *loss = *accuracy = NAN;
    if (!ds || ds->count == 0) return NERVE_OK;
    nerve_evaluation e;
    nerve_status st = nerve_evaluate_sharded(m, ds, batch, comm, &e, err);
    if (st != NERVE_OK) return st;
    *loss = e.loss;
    *accuracy = e.accuracy;
    nerve_evaluation_free(&e);
    return NERVE_OK;
}

/* The epoch's evaluations: validation, and the test and training sets
 * when asked for (learning curves). */
static nerve_status evaluate_epoch(const trainer *t, const nerve_dataset *val,
                                   nerve_epoch_report *r, nerve_error *err)
{
    const train_run *run = &t->run;
    nerve_status st = evaluate_set(run->m, val, run->batch, t->comm, &r->val_loss,
                                   &r->val_accuracy, err);
    if (!st)
        st = evaluate_set(run->m, t->o->test_set, run->batch, t->comm, &r->test_loss,
                          &r->test_accuracy, err);
    if (!st)
        st = evaluate_set(run->m, t->o->eval_train ? run->train : NULL, run->batch, t->comm,
                          &r->train_eval_loss, &r->train_eval_accuracy, err);
    return st;
}

/* Validation inside an epoch (eval_every): an `eval` row, training mode back. */
static nerve_status evaluate_within(trainer *t, const nerve_dataset *val, nerve_error *err)
{
    train_run *r = &t->run;
    nerve_evaluation e;
    nerve_status st = nerve_evaluate_sharded(r->m, val, r->batch, t->comm, &e, err);
    if (st != NERVE_OK) return st;
    nerve_graph_set_training(r->m->graph, true);
    metrics_log_eval(&t->log, r->epoch, r->global_step, e.loss, e.accuracy,
                     nerve_optimizer_lr(r->optimizer));
    nerve_evaluation_free(&e);
    return NERVE_OK;
}

/* Writes the checkpoint, unless none is asked for or this position has one. */
static nerve_status save_checkpoint(trainer *t, nerve_error *err)
{
    const char *path = t->o->checkpoint_path;
    if (!path || t->written_at == t->run.global_step) return NERVE_OK;
    /* A checkpoint holds the whole optimizer state, gathered from the shards. */
    bool sharded = t->shard.counts != NULL;
    nerve_status st = sharded ? dist_shard_end(t->run.optimizer, &t->shard, err) : NERVE_OK;
    if (!st) st = dist_from_root(t->comm, t->root ? checkpoint_save(&t->run, path, err) : NERVE_OK,
                                 err);
    if (!st && sharded) st = dist_shard_start(t->comm, t->run.optimizer, &t->shard, err);
    if (st) return st;
    t->written_at = t->last_checkpoint_step = t->run.global_step;
    t->last_checkpoint = path;
    return NERVE_OK;
}

static void begin_epoch(train_run *r)
{
    if (r->stream)
        nerve_graph_reset_state(r->m->graph);
    else if (r->shuffle)
        nerve_rng_shuffle(&r->shuffle_rng, r->order, r->train->count);
    r->totals = (train_totals){0};
}

/* The epoch's report: its totals, the validation set, the schedule's epoch
 * step. A validation that fails (on any rank) fails the run. */
static nerve_status end_epoch(trainer *t, const nerve_dataset *val, double epoch_start,
                              nerve_error *err)
{
    train_run *run = &t->run;
    const train_totals *totals = &run->totals;
    nerve_epoch_report r = {0};
    r.epoch = run->epoch;
    r.seconds = nerve_seconds_now() - epoch_start;
    r.samples_per_second = r.seconds > 0 ? (double)totals->seen / r.seconds : 0;
    r.train_loss = totals->loss_sum / (double)totals->seen;
    r.train_accuracy = run->m->classes ? (double)totals->correct / (double)totals->labels : NAN;
    r.lr = nerve_optimizer_lr(run->optimizer);
    r.grad_norm = totals->grad_norm_sum / (double)totals->steps;
    nerve_status st = evaluate_epoch(t, val, &r, err);
    nerve_graph_set_training(run->m->graph, true);
    if (st != NERVE_OK) return st;
    if (!t->per_step) nerve_scheduler_step(&run->scheduler, r.val_loss);
    metrics_log_epoch(&t->log, &r, run->global_step);
    if (t->o->on_epoch) t->o->on_epoch(&r, t->o->user);
    t->early_status = early_stop_epoch(&t->early, run, t->o, &r, &t->early_stopped, err);
    target_error_epoch(&run->target_reached, t->o, &r, run->global_step, &t->log,
                       &t->target_stopped);
    if (!t->early_status)
        t->early_status = probe_run(&t->probe, run->epoch, run->global_step, err);
    /* Rank 0 alone saves the best weights: every rank learns how that
     * went, and stops when any rank's early stopping or target says so. */
    int stop = t->early_stopped || t->target_stopped;
    t->early_status = dist_agree_stop(t->comm, t->early_status, &stop, err);
    t->early_stopped = t->early_stopped || (stop && !t->target_stopped);
    return NERVE_OK;
}

static void report_step(trainer *t, double loss, double grad_norm, double epoch_start)
{
    const train_run *r = &t->run;
    const nerve_train_options *o = t->o;
    double accuracy = r->m->classes ? (double)r->totals.correct / (double)r->totals.labels : NAN;
    if (o->log_every > 0 && r->global_step % o->log_every == 0)
        metrics_log_step(&t->log, r->epoch, r->global_step, loss, t->step_accuracy,
                         nerve_optimizer_lr(r->optimizer), grad_norm);
    if (o->on_progress) {
        double elapsed = nerve_seconds_now() - epoch_start;
        nerve_progress p = {r->epoch, o->epochs, r->epoch_step, r->steps_per_epoch,
                            r->global_step, r->totals.loss_sum / (double)r->totals.seen, accuracy,
                            elapsed > 0 ? (double)r->totals.seen / elapsed : 0,
                            nerve_seconds_now() - t->start_time};
        o->on_progress(&p, o->user);
    }
}

static nerve_status stopped_error(const trainer *t, nerve_error *err)
{
    const train_run *r = &t->run;
    if (t->o->checkpoint_path)
        return nerve_error_set(err, NERVE_ERR_STOPPED,
                               "stopped at epoch %d, step %lld: checkpoint written to %s "
                               "(continue with --resume %s)",
                               r->epoch, (long long)r->global_step, t->o->checkpoint_path,
                               t->o->checkpoint_path);
    return nerve_error_set(err, NERVE_ERR_STOPPED,
                           "stopped at epoch %d, step %lld: no checkpoint written (train with "
                           "--checkpoint FILE to be able to resume)",
                           r->epoch, (long long)r->global_step);
}

/* The epochs from the run's position on. */
static nerve_status run_epochs(trainer *t, const nerve_dataset *val, nerve_error *err)
{
    train_run *r = &t->run;
    const nerve_train_options *o = t->o;
    const int64_t every = o->checkpoint_every;
    /* A resumed run may already be at its step limit. */
    bool stopping = o->max_steps > 0 && r->global_step >= o->max_steps, interrupted = false;
    while (!stopping && r->epoch <= o->epochs) {
        if (r->epoch_step == 0) begin_epoch(r);
        double epoch_start = nerve_seconds_now();
        while (r->epoch_step < r->steps_per_epoch) {
            int64_t first = r->epoch_step * r->batch;
            int64_t n = r->train->count - first < r->batch ? r->train->count - first : r->batch;
            nerve_optimizer_set_lr(r->optimizer, r->scheduler.lr);
            nerve_model_anneal_loss(r->m, r->global_step);
            double loss = 0;
            bool skipped = false;
            nerve_status st = train_step(t, r->order + first, n, &loss, &skipped, err);
            if (st == NERVE_OK) {
                r->epoch_step++;
                r->global_step++;
                if (t->per_step) nerve_scheduler_step(&r->scheduler, NAN);
                /* Read before anything else runs the graph. */
                st = state_gradients_step(&t->state_grads, r->epoch, r->global_step,
                                          r->epoch_step == r->steps_per_epoch, err);
            }
            if (st == NERVE_OK) {
                report_step(t, loss, skipped ? NAN : nerve_optimizer_grad_norm(r->optimizer),
                            epoch_start);
                st = metrics_log_status(&t->log, err);
            }
            /* Every rank ends the step together: a failure of one rank's
             * own, or a stop asked of any rank, ends them all here. A rank
             * not asked takes the request as its own (the CLI exits with
             * 128 + the signal). */
            int stop = o->stop_flag ? (int)*o->stop_flag : 0;
            if ((st = dist_agree_stop(t->comm, st, &stop, err))) return st;
            if (stop > 0 && o->stop_flag && !*o->stop_flag)
                *o->stop_flag = (sig_atomic_t)stop;
            if (o->eval_every > 0 && r->global_step % o->eval_every == 0 &&
                r->epoch_step < r->steps_per_epoch && (st = evaluate_within(t, val, err)))
                return st;
            if (o->probe_every > 0 && r->global_step % o->probe_every == 0 &&
                r->epoch_step < r->steps_per_epoch &&
                (st = probe_run(&t->probe, r->epoch, r->global_step, err)))
                return st;
            stopping = o->max_steps > 0 && r->global_step >= o->max_steps;
            if (stop) stopping = interrupted = true;
            if (stopping) break;
            /* At an epoch's end the checkpoint waits for the epoch's report. */
            if (every > 0 && r->global_step % every == 0 && r->epoch_step < r->steps_per_epoch &&
                (st = save_checkpoint(t, err)))
                return st;
        }
        if (r->epoch_step < r->steps_per_epoch) {
            /* Stopped inside the epoch: the checkpoint holds this position;
             * a step limit still reports the partial epoch. */
            nerve_status st = save_checkpoint(t, err);
            if (st) return st;
            if (!interrupted && (st = end_epoch(t, val, epoch_start, err))) return st;
            break;
        }
        nerve_status st = end_epoch(t, val, epoch_start, err);
        if (st) return st;
        if (t->early_status) return t->early_status;
        stopping = stopping || t->early_stopped || t->target_stopped;
        r->epoch++;
        r->epoch_step = 0;
        if ((every <= 0 || r->global_step % every == 0 || stopping || r->epoch > o->epochs) &&
            (st = save_checkpoint(t, err)))
            return st;
    }
    return interrupted ? stopped_error(t, err) : NERVE_OK;
}

static nerve_status check_options(const nerve_train_options *o, const nerve_dataset *train,
                                  nerve_error *err)
{
    if (train->count == 0) return nerve_error_set(err, NERVE_ERR_INVALID, "no training samples");
    if (o->batch < 0)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "batch must be at least 1, or 0 for the whole training set");
    if (train->lanes > 0 && o->batch != 0 && o->batch != train->lanes)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "a stream of %lld lanes trains in batches of %lld, not %lld",
                               (long long)train->lanes, (long long)train->lanes,
                               (long long)o->batch);
    if (o->checkpoint_every < 0)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "checkpoint_every must be at least 1, or 0 for every epoch");
    if (o->zero != 0 && o->zero != 1)
        return nerve_error_set(err, NERVE_ERR_INVALID, "zero must be 0 or 1 (ZeRO stage 1), not %d",
                               o->zero);
    if (!(o->bucket_mb >= 0) || !isfinite(o->bucket_mb))
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "bucket_mb must be 0 (no buckets) or a positive size in MiB, not %g",
                               o->bucket_mb);
    if (o->bucket_mb > 0 && o->zero == 1)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "bucket_mb overlaps the gradient all-reduce with backward; ZeRO-1 "
                               "reduce-scatters instead: use one or the other");
    if (o->eval_every < 0)
        return nerve_error_set(err, NERVE_ERR_INVALID, "eval_every must be at least 0");
    if (o->eval_every > 0 && train->lanes > 0)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "evaluation every N steps would break a stream's carried state: "
                               "a text cut for [net] bptt is evaluated at epochs' ends");
    if (o->on_nan != NERVE_ON_NAN_STOP && o->on_nan != NERVE_ON_NAN_SKIP)
        return nerve_error_set(err, NERVE_ERR_INVALID, "unknown on_nan %d", (int)o->on_nan);
    return NERVE_OK;
}

nerve_status nerve_train(nerve_model *m, const nerve_dataset *train, const nerve_dataset *val,
                         const nerve_train_options *o, nerve_error *err)
{
    NERVE_OPTIONS_IN(nerve_train_options, o, bucket_mb, "nerve_train", err, NERVE_ERR_INVALID);
    nerve_status st = check_options(o, train, err);
    if (st != NERVE_OK) return st;
    /* A world of one rank is no world: its collectives would be copies or
     * nothing, so its steps take the path of one process (no all-reduce,
     * no agreement, batch norm's own kernels). */
    nerve_comm *comm = o->comm && nerve_comm_size(o->comm) > 1 ? o->comm : NULL;
    trainer t = {.o = o, .trained = o->loss > 0 ? o->loss : m->loss, .last_checkpoint_step = -1,
                 .written_at = -1, .comm = comm, .root = !comm || !nerve_comm_rank(comm)};
    train_run *r = &t.run;
    r->m = m;
    r->train = train;
    r->stream = train->lanes > 0;
    r->batch = r->stream ? train->lanes : nerve_batch_or_all(o->batch, train->count);
    if (comm && o->batch_per_rank && !r->stream) r->batch *= nerve_comm_size(comm);
    /* A stream's count is a whole number of batches: every batch has all lanes. */
    r->steps_per_epoch = (train->count + r->batch - 1) / r->batch;
    r->seed = o->seed;
    r->shuffle = !o->no_shuffle;
    r->epoch = 1;
    r->epochs = o->epochs;
    r->max_steps = o->max_steps;
    r->on_nan = o->on_nan;
    const nerve_schedule *schedule = &m->settings.schedule;
    t.per_step = schedule->interval == NERVE_SCHEDULE_PER_STEP;
    st = check_schedule(schedule, val, err);
    if (st == NERVE_OK && o->eval_every > 0 && (!val || val->count == 0))
        st = nerve_error_set(err, NERVE_ERR_INVALID,
                             "evaluation every N steps needs a validation set: set [data] "
                             "validation = N");
    if (st == NERVE_OK)
        st = nerve_model_check_dataset_tokens(m, train, "training set", err);
    /* Each rank runs at most its largest slice of a batch. */
    int64_t slice = t.comm ? (r->batch + nerve_comm_size(t.comm) - 1) / nerve_comm_size(t.comm)
                           : r->batch;
    if (st == NERVE_OK) st = nerve_graph_plan(m->graph, slice, err);
    if (st == NERVE_OK) st = nerve_dist_test_alloc(t.comm, "plan", err);
    /* Memory can run out on one rank only: from here a failure goes on to
     * the run's first agreement below, as a rank's checkpoint or log does,
     * and every rank fails there together. */
    if (st == NERVE_OK && o->optimizer && o->optimizer->graph != m->graph)
        st = nerve_error_set(err, NERVE_ERR_INVALID,
                             "nerve_train: the optimizer is over another graph than the "
                             "model's (make it with nerve_model_optimizer_new)");
    /* The run's optimizer: the caller's, or one of its own from [optimizer]. */
    nerve_error own = {0};
    if (st == NERVE_OK) {
        r->optimizer = o->optimizer ? o->optimizer : nerve_model_optimizer_new(m, &own);
        if (!r->optimizer) st = nerve_error_set(err, own.status, "%s", own.message);
    }
    /* Training batches only: evaluation reads the data as it is. */
    if (st == NERVE_OK && nerve_augment_enabled(&m->settings.augment)) {
        r->augment = nerve_model_augment_new(m, o->seed, &own);
        if (!r->augment) st = nerve_error_set(err, own.status, "%s", own.message);
    }
    r->order = st == NERVE_OK ? malloc((size_t)train->count * sizeof *r->order) : NULL;
    if (!r->order && st == NERVE_OK)
        st = nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory for the sample order");
    /* Recording the state gradients enlarges the recurrent ops' memory: the
     * graph is planned again. */
    if (st == NERVE_OK) st = state_gradients_open(&t.state_grads, o, m->graph, err);
    if (st == NERVE_OK && t.state_grads.file) st = nerve_graph_plan(m->graph, slice, err);
    if (st == NERVE_OK) train_run_replay_order(r);
    nerve_scheduler_init(&r->scheduler, schedule, m->settings.optimizer.lr);
    nerve_graph_set_carry_state(m->graph, r->stream);
    nerve_graph_set_seed(m->graph, o->seed);
    if (st == NERVE_OK && o->resume_path) {
        st = checkpoint_restore(r, o->resume_path, err);
        t.last_checkpoint = o->resume_path;
        t.last_checkpoint_step = t.written_at = r->global_step;
    }
    if (st == NERVE_OK) st = metrics_log_open(&t.log, t.root ? o->log_path : NULL, m->graph, err);
    /* A checkpoint or log one rank cannot open fails every rank here. */
    st = nerve_dist_agree(t.comm, st, err);
    /* The collectives (gradients, ZeRO's shards, batch norm's sums) run on
     * host memory. */
    if (st == NERVE_OK && t.comm && !m->graph->device->host_memory)
        st = nerve_error_set(err, NERVE_ERR_INVALID,
                             "data-parallel training needs a backend with host memory (cpu, "
                             "ref); '%s' has none",
                             m->graph->device->name);
    if (st == NERVE_OK && t.comm && o->zero == 1)
        st = dist_shard_start(t.comm, r->optimizer, &t.shard, err);
    if (st == NERVE_OK) st = nerve_graph_set_comm(m->graph, t.comm, err); /* batch norm's sums */
    if (st == NERVE_OK && t.comm && o->bucket_mb > 0) {
        st = dist_buckets_init(&t.buckets, t.comm, m->graph, o->bucket_mb, err);
        t.bucketed = st == NERVE_OK;
    }
    if (st == NERVE_OK)
        st = early_stop_begin(&t.early, r, o, val, o->resume_path != NULL, t.root, err);
    if (st == NERVE_OK) st = target_error_check_options(m, o, val, err);
    if (st == NERVE_OK) st = probe_open(&t.probe, o, r, err);
    if (st == NERVE_OK) st = probe_run(&t.probe, r->epoch, r->global_step, err);
    /* Every rank starts, or none (one out of memory above). */
    st = nerve_dist_agree(t.comm, st, err);
    nerve_graph_set_training(m->graph, true);
    t.start_time = nerve_seconds_now();
    if (st == NERVE_OK) st = run_epochs(&t, val, err);
    nerve_status close_st = metrics_log_close(&t.log, st == NERVE_OK ? err : NULL);
    if (st == NERVE_OK) st = close_st;
    /* The runs end together (run_epochs ends every rank at the same step),
     * and rank 0's log, which only it writes, decides for all. */
    st = nerve_dist_agree(t.comm, st, err);
    early_stop_end(&t.early, r, o, st == NERVE_OK && o->restore_best);
    nerve_status probe_st = probe_close(&t.probe, st == NERVE_OK ? err : NULL);
    if (st == NERVE_OK) st = probe_st;
    nerve_status grads_st = state_gradients_close(&t.state_grads, st == NERVE_OK ? err : NULL);
    if (st == NERVE_OK) st = grads_st;
    if (r->stream) nerve_graph_set_carry_state(m->graph, false);
    nerve_graph_set_comm(m->graph, NULL, NULL);
    if (t.bucketed) dist_buckets_free(&t.buckets);
    /* The caller's optimizer whole again, unless a collective has failed. */
    if (t.shard.counts) {
        nerve_status end_st = dist_shard_end(r->optimizer, &t.shard, st == NERVE_OK ? err : NULL);
        if (st == NERVE_OK) st = end_st;
    }
    free(r->order);
    nerve_augment_free(r->augment);
    if (r->optimizer != o->optimizer) nerve_optimizer_free(r->optimizer);
    return st;
}
