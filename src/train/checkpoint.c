/* Checkpoints: a training run's whole state in one safetensors file, written
 * atomically (a temporary file, fsync, rename: a crash leaves the previous
 * checkpoint in place). The tensors are the model's parameters under their
 * names, so that a checkpoint also loads as weights, and the state tensors
 * of the run's parts; the scalars are metadata text, numbers written so that
 * they read back exactly (%.17g, hexadecimal RNG words). Each part lists its
 * own state in the state protocol (core/state.h): the trainer (below), the
 * augmentation, the optimizer and the schedule, the graph (a stream's
 * carried recurrent state); this file only saves, checks and restores the
 * list. The sample order is replayed from the seed rather than stored;
 * dropout's, rrelu's and the augmentation's noise is a function of the seed
 * and the position (core/noise.h), so it has no state to store. */
#include "train/checkpoint.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_internal.h"
#include "core/state.h"
#include "data/augment_internal.h"
#include "io/graph_weights.h"
#include "model/model_internal.h"
#include "optim/state.h"

#define OPTIMIZER_KEY "nerve.checkpoint.optimizer"
#define KEY_MAX (STATE_KEY_MAX + 20)

/* The trainer's part: the settings a resume must repeat, the position, the
 * shuffling generator, the epoch's totals, early stopping's bookkeeping. */
static void train_run_state(train_run *run, state_list *s)
{
    state_add(s, "batch", STATE_INT, STATE_MATCHED, &run->batch);
    state_value *v = state_add_computed(s, "samples", STATE_INT, STATE_MATCHED);
    if (v) v->i = run->train->count;
    state_add(s, "seed", STATE_U64, STATE_MATCHED, &run->seed);
    if ((v = state_add_computed(s, "shuffle", STATE_INT, STATE_MATCHED)))
        v->i = run->shuffle && !run->stream;
    if ((v = state_add_computed(s, "lanes", STATE_INT, STATE_MATCHED))) v->i = run->train->lanes;
    state_add(s, "epoch", STATE_INT32, STATE_RESTORED, &run->epoch);
    state_add(s, "epoch_step", STATE_INT, STATE_RESTORED, &run->epoch_step);
    state_add(s, "global_step", STATE_INT, STATE_RESTORED, &run->global_step);
    state_add(s, "nan_skips", STATE_INT, STATE_RESTORED, &run->nan_skips);
    state_add(s, "rng.shuffle", STATE_RNG, STATE_RESTORED, &run->shuffle_rng);
    state_add(s, "totals.loss_sum", STATE_REAL, STATE_RESTORED, &run->totals.loss_sum);
    state_add(s, "totals.grad_norm_sum", STATE_REAL, STATE_RESTORED, &run->totals.grad_norm_sum);
    state_add(s, "totals.correct", STATE_INT, STATE_RESTORED, &run->totals.correct);
    state_add(s, "totals.labels", STATE_INT, STATE_RESTORED, &run->totals.labels);
    state_add(s, "totals.seen", STATE_INT, STATE_RESTORED, &run->totals.seen);
    state_add(s, "totals.steps", STATE_INT, STATE_RESTORED, &run->totals.steps);
    state_add(s, "run.epochs", STATE_INT32, STATE_RECORDED, &run->epochs);
    if ((v = state_add_computed(s, "run.on_nan", STATE_INT, STATE_RECORDED)))
        v->i = (int64_t)run->on_nan;
    state_add(s, "early_stop.best", STATE_REAL, STATE_RESTORED, &run->early_best);
    state_add(s, "early_stop.best_epoch", STATE_INT, STATE_RESTORED, &run->early_best_epoch);
    state_add(s, "early_stop.bad_epochs", STATE_INT, STATE_RESTORED, &run->early_bad_epochs);
    state_add(s, "target.reached", STATE_BOOL, STATE_RESTORED_OPTIONAL, &run->target_reached);
}

/* The whole run's state: every part's list. */
static nerve_status run_state(train_run *run, state_list *s, const char *path, nerve_error *err)
{
    memset(s, 0, sizeof *s);
    train_run_state(run, s);
    augment_state(run->augment, s);
    optim_state(run->optimizer, s);
    optim_scheduler_state(&run->scheduler, s);
    graph_state(run->m->graph, run->batch, s);
    if (!s->failed) return NERVE_OK;
    state_list_free(s);
    return nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory", path);
}

/* The state tensors as the file takes them, their data read through host
 * views (views[i], ended by end_views). */
static nerve_status view_state_tensors(nerve_graph *g, const state_list *s,
                                       nerve_named_tensor *out, nerve_real **views,
                                       nerve_error *err)
{
    for (int i = 0; i < s->tensor_count; i++) {
        const state_tensor *t = &s->tensors[i];
        views[i] = nerve_graph_host_view(g, t->data, nerve_shape_numel(&t->shape), true, err);
        if (!views[i]) return err ? err->status : NERVE_ERR_NOMEM;
        out[i] = (nerve_named_tensor){t->name, t->shape, views[i], NERVE_DTYPE_F32};
    }
    return NERVE_OK;
}

static void end_views(nerve_graph *g, const state_list *s, nerve_real **views)
{
    for (int i = 0; views && i < s->tensor_count; i++)
        if (views[i])
            nerve_graph_host_view_end(g, s->tensors[i].data, views[i],
                                      nerve_shape_numel(&s->tensors[i].shape), false, NULL);
}

nerve_status checkpoint_save(train_run *run, const char *path, nerve_error *err)
{
    state_list s;
    nerve_status st = run_state(run, &s, path, err);
    if (st) return st;
    int n = 0, count = s.scalar_count;
    const char **metadata = malloc((size_t)(2 * count + 5) * sizeof *metadata);
    char(*keys)[KEY_MAX] = malloc((size_t)count * sizeof *keys + 1);
    char(*values)[STATE_TEXT_MAX] = malloc((size_t)count * sizeof *values + 1);
    nerve_named_tensor *tensors = calloc((size_t)s.tensor_count + 1, sizeof *tensors);
    nerve_real **views = calloc((size_t)s.tensor_count + 1, sizeof *views);
    if (!metadata || !keys || !values || !tensors || !views)
        st = nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory", path);
    if (!st) {
        metadata[n++] = NERVE_CHECKPOINT_KEY;
        metadata[n++] = NERVE_CHECKPOINT_FORMAT;
        metadata[n++] = OPTIMIZER_KEY;
        metadata[n++] = nerve_optimizer_name(run->optimizer);
        for (int i = 0; i < count; i++) {
            const state_scalar *scalar = &s.scalars[i];
            snprintf(keys[i], sizeof keys[i], "nerve.checkpoint.%s", scalar->key);
            state_format(scalar->kind, state_value_of(scalar), values[i], sizeof values[i]);
            metadata[n++] = keys[i];
            metadata[n++] = values[i];
        }
        metadata[n] = NULL;
        st = view_state_tensors(run->m->graph, &s, tensors, views, err);
    }
    if (!st)
        st = nerve_model_save_weights_with(run->m, path, tensors, s.tensor_count, metadata, err);
    end_views(run->m->graph, &s, views);
    free(views);
    free(tensors);
    free(values);
    free(keys);
    free(metadata);
    state_list_free(&s);
    return st;
}

/* A checkpoint of this format, not a weights file or an older format. */
static nerve_status check_format(const nerve_safetensors *st, const char *path, nerve_error *err)
{
    const char *format = nerve_safetensors_metadata(st, NERVE_CHECKPOINT_KEY);
    if (!format)
        return nerve_error_set(err, NERVE_ERR_FORMAT,
                               "%s: not a checkpoint (no metadata %s): a weights file starts a "
                               "run with --init, not --resume",
                               path, NERVE_CHECKPOINT_KEY);
    if (strcmp(format, NERVE_CHECKPOINT_FORMAT) != 0)
        return nerve_error_set(err, NERVE_ERR_FORMAT,
                               "%s: checkpoint format %s, this nerve reads format %s", path,
                               format, NERVE_CHECKPOINT_FORMAT);
    return NERVE_OK;
}

/* The value of metadata "nerve.checkpoint.<key>" in *out; *present false
 * when it is absent and may be (required false). */
static nerve_status read_value(const nerve_safetensors *st, const char *path, const char *key,
                               state_kind kind, bool required, state_value *out, bool *present,
                               nerve_error *err)
{
    char full[KEY_MAX];
    snprintf(full, sizeof full, "nerve.checkpoint.%s", key);
    const char *text = nerve_safetensors_metadata(st, full);
    *present = text != NULL;
    memset(out, 0, sizeof *out);
    if (!text && !required) return NERVE_OK;
    if (!text)
        return nerve_error_set(err, NERVE_ERR_FORMAT, "%s: checkpoint metadata %s is missing",
                               path, full);
    if (!state_parse(kind, text, out))
        return nerve_error_set(err, NERVE_ERR_FORMAT,
                               "%s: checkpoint metadata %s is not a valid value: '%s'", path, full,
                               text);
    return NERVE_OK;
}

/* What the file holds for each scalar of the list (saved[i], present[i]). */
static nerve_status read_saved(const nerve_safetensors *st, const char *path, const state_list *s,
                               state_value *saved, bool *present, nerve_error *err)
{
    for (int i = 0; i < s->scalar_count; i++) {
        const state_scalar *scalar = &s->scalars[i];
        bool required = scalar->role == STATE_RESTORED || scalar->role == STATE_MATCHED;
        nerve_status status = read_value(st, path, scalar->key, scalar->kind, required, &saved[i],
                                         &present[i], err);
        if (status) return status;
    }
    return NERVE_OK;
}

/* The saved value of an integer scalar of the list (0 when absent). */
static int64_t saved_int(const state_list *s, const state_value *saved, const char *key)
{
    int i = state_find(s, key);
    if (i < 0) return 0;
    return s->scalars[i].kind == STATE_INT32 ? saved[i].i32 : saved[i].i;
}

/* The run's settings that the checkpoint must repeat, and a position inside
 * the run. */
static nerve_status check_saved(const train_run *run, const char *path, const state_list *s,
                                const state_value *saved, nerve_error *err)
{
    for (int i = 0; i < s->scalar_count; i++) {
        const state_scalar *scalar = &s->scalars[i];
        if (scalar->role != STATE_MATCHED) continue;
        char was[STATE_TEXT_MAX], is[STATE_TEXT_MAX];
        state_format(scalar->kind, &saved[i], was, sizeof was);
        state_format(scalar->kind, state_value_of(scalar), is, sizeof is);
        if (strcmp(was, is) != 0)
            return nerve_error_set(err, NERVE_ERR_INVALID,
                                   "%s: the checkpoint was trained with %s %s, this run has %s "
                                   "(resume with the same config and data)",
                                   path, scalar->key, was, is);
    }
    int64_t epoch = saved_int(s, saved, "epoch"), epoch_step = saved_int(s, saved, "epoch_step");
    if (epoch < 1 || epoch_step < 0 || epoch_step >= run->steps_per_epoch ||
        saved_int(s, saved, "global_step") < epoch_step ||
        saved_int(s, saved, "optimizer_steps") < 0 || saved_int(s, saved, "schedule.t") < 0 ||
        saved_int(s, saved, "nan_skips") < 0)
        return nerve_error_set(err, NERVE_ERR_FORMAT,
                               "%s: checkpoint position epoch %" PRId64 ", step %" PRId64
                               " of %" PRId64 " is out of range",
                               path, epoch, epoch_step, run->steps_per_epoch);
    return NERVE_OK;
}

/* Every tensor the run's state needs, of its owner's shape, and no other
 * state tensor in the file. */
static nerve_status check_state_tensors(const nerve_safetensors *st, const char *path,
                                        const state_list *s, nerve_error *err)
{
    for (int i = 0; i < s->tensor_count; i++) {
        const state_tensor *t = &s->tensors[i];
        nerve_shape shape;
        char expected[96], found[96];
        nerve_shape_format(&t->shape, expected, sizeof expected);
        if (!nerve_safetensors_get(st, t->name, &shape))
            return nerve_error_set(err, NERVE_ERR_FORMAT,
                                   "%s: no tensor '%s' (shape %s): the checkpoint's optimizer "
                                   "options or recurrent layers differ from this run's",
                                   path, t->name, expected);
        if (!nerve_shape_equal(&shape, &t->shape))
            return nerve_error_set(err, NERVE_ERR_SHAPE,
                                   "%s: tensor '%s' has shape %s, this run expects %s", path,
                                   t->name, nerve_shape_format(&shape, found, sizeof found),
                                   expected);
        if (strcmp(nerve_safetensors_dtype(st, t->name), "F32") != 0)
            return nerve_error_set(err, NERVE_ERR_FORMAT, "%s: tensor '%s' is %s, not F32", path,
                                   t->name, nerve_safetensors_dtype(st, t->name));
    }
    for (int i = 0; i < nerve_safetensors_count(st); i++) {
        const char *name = nerve_safetensors_name(st, i);
        if (strncmp(name, "optimizer.", 10) != 0 && strncmp(name, "state.", 6) != 0) continue;
        bool known = false;
        for (int k = 0; k < s->tensor_count && !known; k++)
            known = strcmp(s->tensors[k].name, name) == 0;
        if (!known)
            return nerve_error_set(err, NERVE_ERR_FORMAT,
                                   "%s: tensor '%s' is not part of this run's state (different "
                                   "optimizer options or layers?)",
                                   path, name);
    }
    return NERVE_OK;
}

void train_run_replay_order(train_run *run)
{
    for (int64_t i = 0; i < run->train->count; i++) run->order[i] = i;
    nerve_rng_seed(&run->shuffle_rng, run->seed ^ 0x5eedda7aULL);
    if (!run->shuffle || run->stream) return;
    int64_t begun = run->epoch_step > 0 ? run->epoch : run->epoch - 1;
    for (int64_t e = 0; e < begun; e++)
        nerve_rng_shuffle(&run->shuffle_rng, run->order, run->train->count);
}

/* Writes the saved state into its owners: the restored scalars, and the
 * tensors, uploaded to the graph's device. */
static nerve_status restore(train_run *run, const nerve_safetensors *st, const state_list *s,
                            const state_value *saved, const bool *present, nerve_error *err)
{
    nerve_graph *g = run->m->graph;
    for (int i = 0; i < s->tensor_count; i++) {
        const state_tensor *t = &s->tensors[i];
        nerve_status up = nerve_graph_upload(g, t->data, nerve_safetensors_get(st, t->name, NULL),
                                             nerve_shape_numel(&t->shape));
        if (up != NERVE_OK) return nerve_graph_pass_error(g, up, err);
    }
    for (int i = 0; i < s->scalar_count; i++) {
        state_role role = s->scalars[i].role;
        if (present[i] && (role == STATE_RESTORED || role == STATE_RESTORED_OPTIONAL))
            state_store(&s->scalars[i], &saved[i]);
    }
    return NERVE_OK;
}

/* A resume with another [optimizer] lr or [schedule] than the checkpoint's
 * run: the rate of the resumed step is the new schedule's at the run's
 * position, so the change takes effect at once rather than at the next
 * epoch's scheduler step. The position is the intervals done, in the new
 * schedule's unit (steps, or whole epochs). A plateau schedule that stays
 * one keeps its reductions, scaled to the new rate. Unchanged settings leave
 * the restored state as it was, for a bit-identical resume. A checkpoint of
 * an older nerve has no settings recorded: nothing to compare. */
static void apply_setting_changes(train_run *run, const state_list *s, const state_value *saved,
                                  const bool *present)
{
    int epochs = state_find(s, "run.epochs"), base_lr = state_find(s, "run.lr");
    int described = state_find(s, "run.schedule");
    int interval = state_find(s, "run.schedule_interval");
    nerve_scheduler *sc = &run->scheduler;
    char now[STATE_TEXT_MAX];
    nerve_schedule_describe(&sc->schedule, now, sizeof now);
    const char *was = saved[described].text;
    if (!present[epochs] || saved[epochs].i32 == 0 ||
        (saved[base_lr].real == sc->base_lr && strcmp(now, was) == 0))
        return;
    const nerve_schedule *schedule = &sc->schedule;
    if (saved[interval].i != (int64_t)schedule->interval)
        sc->t = schedule->interval == NERVE_SCHEDULE_PER_STEP ? run->global_step : run->epoch - 1;
    bool still_plateau = schedule->kind == NERVE_SCHEDULE_PLATEAU &&
                         strncmp(was, "plateau,", 8) == 0 && sc->t >= schedule->warmup;
    if (still_plateau) {
        double saved_lr = saved[state_find(s, "schedule.lr")].real;
        double scaled = saved_lr * sc->base_lr / saved[base_lr].real;
        sc->lr = scaled > schedule->min_lr ? scaled : schedule->min_lr;
    } else {
        sc->lr = nerve_schedule_lr(schedule, sc->base_lr, sc->t);
        if (schedule->kind != NERVE_SCHEDULE_PLATEAU || strncmp(was, "plateau,", 8)) {
            sc->best = INFINITY;
            sc->bad_intervals = sc->cooldown_left = 0;
        }
    }
    nerve_optimizer_set_lr(run->optimizer, sc->lr);
}

/* A resumed run that would take no step is a mistake in its epochs or
 * steps, not a success. */
static nerve_status check_work_left(const train_run *run, const char *path, nerve_error *err)
{
    char ends[80];
    if (run->epoch > run->epochs)
        snprintf(ends, sizeof ends, "after epoch %d", run->epochs);
    else if (run->max_steps > 0 && run->global_step >= run->max_steps)
        snprintf(ends, sizeof ends, "at step %" PRId64 " (steps)", run->max_steps);
    else
        return NERVE_OK;
    char where[120];
    if (run->epoch_step == 0)
        snprintf(where, sizeof where, "%d whole epoch%s", run->epoch - 1,
                 run->epoch == 2 ? "" : "s");
    else
        snprintf(where, sizeof where, "epoch %d up to its step %" PRId64, run->epoch,
                 run->epoch_step);
    return nerve_error_set(err, NERVE_ERR_INVALID,
                           "%s: nothing to train: the checkpoint has done %" PRId64
                           " steps (%s) and this run ends %s; resume with more epochs or steps "
                           "(--epochs N, --steps N)",
                           path, run->global_step, where, ends);
}

nerve_status checkpoint_restore(train_run *run, const char *path, nerve_error *err)
{
    nerve_safetensors *st;
    nerve_status status = nerve_safetensors_open(path, &st, err);
    if (status) return status;
    state_list s = {0};
    state_value *saved = NULL;
    bool *present = NULL;
    status = check_format(st, path, err);
    if (!status) status = run_state(run, &s, path, err);
    if (!status) {
        saved = calloc((size_t)s.scalar_count + 1, sizeof *saved);
        present = calloc((size_t)s.scalar_count + 1, sizeof *present);
        if (!saved || !present) status = nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory");
    }
    /* Everything is checked before anything is restored. */
    if (!status) status = read_saved(st, path, &s, saved, present, err);
    if (!status) status = check_saved(run, path, &s, saved, err);
    const char *optimizer = nerve_safetensors_metadata(st, OPTIMIZER_KEY);
    const char *expected = nerve_optimizer_name(run->optimizer);
    if (!status && (!optimizer || strcmp(optimizer, expected) != 0))
        status = nerve_error_set(err, NERVE_ERR_INVALID,
                                 "%s: the checkpoint's optimizer is %s, this run's is %s", path,
                                 optimizer ? optimizer : "(missing)", expected);
    nerve_model *m = run->m;
    double mean, std;
    if (!status) status = nerve_model_read_normalization(st, path, &mean, &std, err);
    if (!status && (mean != m->mean || std != m->std))
        status = nerve_error_set(err, NERVE_ERR_INVALID,
                                 "%s: the checkpoint's data normalisation (mean %.9g, std %.9g) "
                                 "is not this training set's (mean %.9g, std %.9g)",
                                 path, mean, std, m->mean, m->std);
    /* The parameters first: a different network is the likelier mistake. */
    if (!status) status = nerve_graph_load_from(m->graph, st, path, err);
    if (!status) status = check_state_tensors(st, path, &s, err);
    if (!status) status = restore(run, st, &s, saved, present, err);
    if (!status) {
        nerve_rng restored = run->shuffle_rng;
        train_run_replay_order(run);
        if (memcmp(&restored, &run->shuffle_rng, sizeof restored) != 0)
            status = nerve_error_set(err, NERVE_ERR_FORMAT,
                                     "%s: the sample order cannot be replayed from the seed "
                                     "(metadata nerve.checkpoint.rng.shuffle disagrees)",
                                     path);
    }
    if (!status) {
        apply_setting_changes(run, &s, saved, present);
        status = check_work_left(run, path, err);
    }
    free(saved);
    free(present);
    state_list_free(&s);
    nerve_safetensors_close(st);
    return status;
}

nerve_status nerve_checkpoint_info_read(const char *path, nerve_checkpoint_info *info,
                                        nerve_error *err)
{
    nerve_safetensors *st;
    nerve_status status = nerve_safetensors_open(path, &st, err);
    if (status) return status;
    /* The position (always there), then the settings of the run that wrote
     * it (absent from older checkpoints: zero). */
    static const struct {
        const char *key;
        state_kind kind;
        bool required;
    } keys[] = {{"epoch", STATE_INT32, true},          {"epoch_step", STATE_INT, true},
                {"global_step", STATE_INT, true},      {"schedule.lr", STATE_REAL, true},
                {"run.epochs", STATE_INT32, false},    {"run.lr", STATE_REAL, false},
                {"run.clip_norm", STATE_REAL, false},  {"run.clip_value", STATE_REAL, false},
                {"run.on_nan", STATE_INT, false},      {"run.schedule", STATE_TEXT, false}};
    enum { COUNT = sizeof keys / sizeof keys[0] };
    state_value v[COUNT];
    bool present;
    status = check_format(st, path, err);
    for (int i = 0; i < COUNT && !status; i++)
        status = read_value(st, path, keys[i].key, keys[i].kind, keys[i].required, &v[i],
                            &present, err);
    nerve_safetensors_close(st);
    if (status) return status;
    info->epoch = v[0].i32;
    info->epoch_step = v[1].i;
    info->global_step = v[2].i;
    info->lr = v[3].real;
    info->epochs = v[4].i32;
    info->base_lr = v[5].real;
    info->clip_norm = v[6].real;
    info->clip_value = v[7].real;
    info->on_nan = (nerve_on_nan)v[8].i;
    snprintf(info->schedule, sizeof info->schedule, "%s", v[9].text);
    return NERVE_OK;
}
