/* Checkpoints: a training run's whole state in one safetensors file, written
 * atomically (a temporary file, fsync, rename: a crash leaves the previous
 * checkpoint in place). The tensors are the model's parameters under their
 * names, so that a checkpoint also loads as weights, the optimizer's state
 * and a stream's carried recurrent state; everything else is metadata text,
 * numbers written so that they read back exactly (%.17g, hexadecimal RNG
 * words). The sample order is replayed from the seed rather than stored;
 * dropout's, rrelu's and the augmentation's noise is a function of the seed
 * and the position (core/noise.h), so it has no state to store. */
#include "train/checkpoint.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_internal.h"
#include "io/graph_weights.h"
#include "model/model_internal.h"
#include "ops/recurrent.h"
#include "optim/optimizer.h"

#define OPTIMIZER_KEY "nerve.checkpoint.optimizer"
#define TENSOR_NAME_MAX (NERVE_NAME_MAX + 32)

/* Numbers of the metadata, one key each ("nerve.checkpoint.<key>"). */
typedef enum field_kind { FIELD_INT, FIELD_U64, FIELD_REAL, FIELD_RNG, FIELD_TEXT } field_kind;

typedef struct field {
    const char *key;
    field_kind kind;
    void *value;     /* FIELD_TEXT: char[SETTING_TEXT_MAX] */
    bool must_match; /* a setting of the run that the config must repeat */
    bool optional;   /* absent from checkpoints of older versions */
} field;

#define SETTING_TEXT_MAX 256

/* The run's numbers in one place, so that saving and restoring walk the same
 * table. */
typedef struct snapshot {
    int64_t epoch, epoch_step, global_step, nan_skips, optimizer_steps;
    double lr;
    int64_t schedule_t, bad_intervals, cooldown_left;
    double schedule_lr, schedule_best;
    nerve_rng shuffle_rng;
    train_totals totals;
    int64_t batch, samples, shuffle, lanes, augmented;
    uint64_t seed;
    /* The settings a resume may change (0 epochs: not recorded). */
    int64_t epochs, on_nan, schedule_interval;
    double base_lr, clip_norm, clip_value;
    char schedule[SETTING_TEXT_MAX];
    double early_best;
    int64_t early_best_epoch, early_bad_epochs;
} snapshot;

#define FIELD_MAX 40

static int snapshot_fields(snapshot *s, field *f)
{
    int n = 0;
#define FIELD(key, kind, value, must_match) f[n++] = (field){key, kind, value, must_match, false}
#define SETTING(key, kind, value) f[n++] = (field){key, kind, value, false, true}
    FIELD("batch", FIELD_INT, &s->batch, true);
    FIELD("samples", FIELD_INT, &s->samples, true);
    FIELD("seed", FIELD_U64, &s->seed, true);
    FIELD("shuffle", FIELD_INT, &s->shuffle, true);
    FIELD("lanes", FIELD_INT, &s->lanes, true);
    FIELD("augmented", FIELD_INT, &s->augmented, true);
    FIELD("epoch", FIELD_INT, &s->epoch, false);
    FIELD("epoch_step", FIELD_INT, &s->epoch_step, false);
    FIELD("global_step", FIELD_INT, &s->global_step, false);
    FIELD("nan_skips", FIELD_INT, &s->nan_skips, false);
    FIELD("optimizer_steps", FIELD_INT, &s->optimizer_steps, false);
    FIELD("lr", FIELD_REAL, &s->lr, false);
    FIELD("schedule.t", FIELD_INT, &s->schedule_t, false);
    FIELD("schedule.lr", FIELD_REAL, &s->schedule_lr, false);
    FIELD("schedule.best", FIELD_REAL, &s->schedule_best, false);
    FIELD("schedule.bad_intervals", FIELD_INT, &s->bad_intervals, false);
    FIELD("schedule.cooldown_left", FIELD_INT, &s->cooldown_left, false);
    FIELD("rng.shuffle", FIELD_RNG, &s->shuffle_rng, false);
    FIELD("totals.loss_sum", FIELD_REAL, &s->totals.loss_sum, false);
    FIELD("totals.grad_norm_sum", FIELD_REAL, &s->totals.grad_norm_sum, false);
    FIELD("totals.correct", FIELD_INT, &s->totals.correct, false);
    FIELD("totals.labels", FIELD_INT, &s->totals.labels, false);
    FIELD("totals.seen", FIELD_INT, &s->totals.seen, false);
    FIELD("totals.steps", FIELD_INT, &s->totals.steps, false);
    SETTING("run.epochs", FIELD_INT, &s->epochs);
    SETTING("run.lr", FIELD_REAL, &s->base_lr);
    SETTING("run.schedule", FIELD_TEXT, s->schedule);
    SETTING("run.schedule_interval", FIELD_INT, &s->schedule_interval);
    SETTING("run.clip_norm", FIELD_REAL, &s->clip_norm);
    SETTING("run.clip_value", FIELD_REAL, &s->clip_value);
    SETTING("run.on_nan", FIELD_INT, &s->on_nan);
#undef SETTING
    FIELD("early_stop.best", FIELD_REAL, &s->early_best, false);
    FIELD("early_stop.best_epoch", FIELD_INT, &s->early_best_epoch, false);
    FIELD("early_stop.bad_epochs", FIELD_INT, &s->early_bad_epochs, false);
#undef FIELD
    return n;
}

static void take_snapshot(const train_run *run, snapshot *s)
{
    const nerve_optimizer *opt = run->optimizer;
    const nerve_scheduler *sc = &run->scheduler;
    memset(s, 0, sizeof *s);
    s->epoch = run->epoch;
    s->epoch_step = run->epoch_step;
    s->global_step = run->global_step;
    s->nan_skips = run->nan_skips;
    s->optimizer_steps = opt->steps;
    s->lr = opt->lr;
    s->schedule_t = sc->t;
    s->schedule_lr = sc->lr;
    s->schedule_best = sc->best;
    s->bad_intervals = sc->bad_intervals;
    s->cooldown_left = sc->cooldown_left;
    s->shuffle_rng = run->shuffle_rng;
    s->totals = run->totals;
    s->batch = run->batch;
    s->samples = run->train->count;
    s->shuffle = run->shuffle && !run->stream;
    s->lanes = run->train->lanes;
    s->augmented = run->augment != NULL;
    s->seed = run->seed;
    s->epochs = run->epochs;
    s->on_nan = run->on_nan;
    s->schedule_interval = sc->schedule.interval;
    s->base_lr = sc->base_lr;
    s->clip_norm = run->m->settings.optimizer.clip_norm;
    s->clip_value = run->m->settings.optimizer.clip_value;
    nerve_schedule_describe(&sc->schedule, s->schedule, sizeof s->schedule);
    s->early_best = run->early_best;
    s->early_best_epoch = run->early_best_epoch;
    s->early_bad_epochs = run->early_bad_epochs;
}

static void format_field(const field *f, char *buf, size_t size)
{
    switch (f->kind) {
    case FIELD_INT: snprintf(buf, size, "%" PRId64, *(int64_t *)f->value); break;
    case FIELD_U64: snprintf(buf, size, "%" PRIu64, *(uint64_t *)f->value); break;
    case FIELD_REAL: snprintf(buf, size, "%.17g", *(double *)f->value); break;
    case FIELD_RNG: {
        const uint64_t *w = ((nerve_rng *)f->value)->s;
        snprintf(buf, size, "%016" PRIx64 " %016" PRIx64 " %016" PRIx64 " %016" PRIx64, w[0],
                 w[1], w[2], w[3]);
        break;
    }
    case FIELD_TEXT: snprintf(buf, size, "%s", (const char *)f->value); break;
    }
}

/* Reads text into f's value; false when it is not one well-formed number
 * (or four hexadecimal words) of f's kind. */
static bool parse_field(const field *f, const char *text)
{
    char *end = NULL;
    switch (f->kind) {
    case FIELD_INT: *(int64_t *)f->value = strtoll(text, &end, 10); break;
    case FIELD_U64:
        if (text[0] == '-') return false;
        *(uint64_t *)f->value = strtoull(text, &end, 10);
        break;
    case FIELD_REAL: *(double *)f->value = strtod(text, &end); break;
    case FIELD_RNG: {
        uint64_t *w = ((nerve_rng *)f->value)->s;
        end = (char *)text;
        for (int k = 0; k < 4; k++) {
            const char *start = end;
            w[k] = strtoull(start, &end, 16);
            if (end == start) return false;
        }
        return *end == '\0';
    }
    case FIELD_TEXT:
        if (strlen(text) >= SETTING_TEXT_MAX) return false;
        strcpy(f->value, text);
        return true;
    }
    return end != text && *end == '\0';
}

/* A checkpoint's tensors besides the parameters. */
typedef struct state_tensors {
    nerve_named_tensor *tensors;
    char (*names)[TENSOR_NAME_MAX];
    int count;
    nerve_real **host; /* host copies of the data, on a device without host memory */
} state_tensors;

/* The recurrent ops of a stream, whose final state the next batch starts
 * from: node n's state h (and c) of rows x hidden values, NULL otherwise. */
static nerve_real *carried_state(nerve_graph *g, nerve_node n, int64_t rows, nerve_real **c,
                                 nerve_shape *shape)
{
    const nerve_node_data *node = &g->nodes[n];
    if (node->kind != NERVE_NODE_OP || !node->op->reset_state) return NULL;
    nerve_real *h = nerve_recurrent_state(g, n, c);
    if (!h) return NULL;
    int64_t dim[2] = {rows, g->nodes[node->input[2]].shape.dim[1]};
    *shape = nerve_shape_make(2, dim);
    return h;
}

static void state_tensors_free(state_tensors *s)
{
    for (int i = 0; s->host && i < s->count; i++) free(s->host[i]);
    free(s->host);
    free(s->tensors);
    free(s->names);
}

static nerve_named_tensor *add_tensor(state_tensors *s, const char *prefix, const char *name,
                                      const char *suffix, nerve_shape shape, const nerve_real *data)
{
    snprintf(s->names[s->count], TENSOR_NAME_MAX, "%s%s.%s", prefix, name, suffix);
    nerve_named_tensor *t = &s->tensors[s->count++];
    *t = (nerve_named_tensor){s->names[s->count - 1], shape, data, NERVE_DTYPE_F32};
    return t;
}

/* "optimizer.<param>.<state>" for every state slot the optimizer keeps, and
 * for a stream "state.<node>.h" (and ".c") of every recurrent op; the data
 * point into the optimizer and the graph. */
static bool list_state_tensors(const train_run *run, state_tensors *s)
{
    const nerve_optimizer *opt = run->optimizer;
    nerve_graph *g = run->m->graph;
    size_t most = (size_t)opt->segment_count * OPTIM_MAX_STATE + 2 * (size_t)g->node_count + 1;
    memset(s, 0, sizeof *s);
    s->tensors = calloc(most, sizeof *s->tensors);
    s->names = calloc(most, sizeof *s->names);
    if (!s->tensors || !s->names) return false;
    for (int k = 0; k < opt->segment_count; k++) {
        const optim_segment *segment = &opt->segments[k];
        for (int slot = 0; slot < OPTIM_MAX_STATE; slot++) {
            if (!opt->state[slot]) continue;
            add_tensor(s, "optimizer.", nerve_node_name(g, segment->node),
                       opt->type->state_names[slot], nerve_node_shape(g, segment->node),
                       opt->state[slot] + segment->begin);
        }
    }
    for (nerve_node n = 0; run->stream && n < g->node_count; n++) {
        nerve_real *c = NULL;
        nerve_shape shape;
        nerve_real *h = carried_state(g, n, run->batch, &c, &shape);
        if (!h) continue;
        add_tensor(s, "state.", g->nodes[n].name, "h", shape, h);
        if (c) add_tensor(s, "state.", g->nodes[n].name, "c", shape, c);
    }
    return true;
}

/* Points the tensors' data at host copies where the graph's device has no
 * host memory (saving reads them on the host). */
static nerve_status download_state(nerve_graph *g, state_tensors *s, nerve_error *err)
{
    if (g->device->host_memory) return NERVE_OK;
    s->host = calloc((size_t)s->count + 1, sizeof *s->host);
    if (!s->host) return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory");
    for (int i = 0; i < s->count; i++) {
        nerve_named_tensor *t = &s->tensors[i];
        s->host[i] = nerve_graph_host_view(g, (nerve_real *)t->data,
                                           nerve_shape_numel(&t->shape), true, err);
        if (!s->host[i]) return err ? err->status : NERVE_ERR_NOMEM;
        t->data = s->host[i];
    }
    return NERVE_OK;
}

nerve_status checkpoint_save(const train_run *run, const char *path, nerve_error *err)
{
    snapshot s;
    take_snapshot(run, &s);
    field fields[FIELD_MAX];
    int count = snapshot_fields(&s, fields);
    char keys[FIELD_MAX][64], values[FIELD_MAX][SETTING_TEXT_MAX];
    const char *metadata[2 * (FIELD_MAX + 2) + 1];
    int n = 0;
    metadata[n++] = NERVE_CHECKPOINT_KEY;
    metadata[n++] = NERVE_CHECKPOINT_FORMAT;
    metadata[n++] = OPTIMIZER_KEY;
    metadata[n++] = nerve_optimizer_name(run->optimizer);
    for (int i = 0; i < count; i++) {
        snprintf(keys[i], sizeof keys[i], "nerve.checkpoint.%s", fields[i].key);
        format_field(&fields[i], values[i], sizeof values[i]);
        metadata[n++] = keys[i];
        metadata[n++] = values[i];
    }
    metadata[n] = NULL;
    state_tensors state;
    nerve_status st;
    if (!list_state_tensors(run, &state))
        st = nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory", path);
    else if ((st = download_state(run->m->graph, &state, err)) == NERVE_OK)
        st = nerve_model_save_weights_with(run->m, path, state.tensors, state.count, metadata,
                                           err);
    state_tensors_free(&state);
    return st;
}

static nerve_status read_fields(const nerve_safetensors *st, const char *path, snapshot *s,
                                field *fields, int count, nerve_error *err)
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
    for (int i = 0; i < count; i++) {
        char key[64];
        snprintf(key, sizeof key, "nerve.checkpoint.%s", fields[i].key);
        const char *text = nerve_safetensors_metadata(st, key);
        if (!text && fields[i].optional) continue;
        if (!text)
            return nerve_error_set(err, NERVE_ERR_FORMAT, "%s: checkpoint metadata %s is missing",
                                   path, key);
        if (!parse_field(&fields[i], text))
            return nerve_error_set(err, NERVE_ERR_FORMAT,
                                   "%s: checkpoint metadata %s is not a valid value: '%s'", path,
                                   key, text);
    }
    return NERVE_OK;
}

/* The snapshot a checkpoint's metadata holds: fields lists its entries
 * (count of them), as snapshot_fields lays them out. */
static nerve_status read_snapshot(const nerve_safetensors *st, const char *path, snapshot *s,
                                  field *fields, int *count, nerve_error *err)
{
    memset(s, 0, sizeof *s);
    *count = snapshot_fields(s, fields);
    return read_fields(st, path, s, fields, *count, err);
}

/* The run's settings that the checkpoint must repeat, and a position inside
 * the run. */
static nerve_status check_fields(const train_run *run, const char *path, const snapshot *saved,
                                 field *saved_fields, int count, nerve_error *err)
{
    snapshot now;
    take_snapshot(run, &now);
    field now_fields[FIELD_MAX];
    snapshot_fields(&now, now_fields);
    for (int i = 0; i < count; i++) {
        if (!saved_fields[i].must_match) continue;
        char was[SETTING_TEXT_MAX], is[SETTING_TEXT_MAX];
        format_field(&saved_fields[i], was, sizeof was);
        format_field(&now_fields[i], is, sizeof is);
        if (strcmp(was, is) != 0)
            return nerve_error_set(err, NERVE_ERR_INVALID,
                                   "%s: the checkpoint was trained with %s %s, this run has %s "
                                   "(resume with the same config and data)",
                                   path, saved_fields[i].key, was, is);
    }
    if (saved->epoch < 1 || saved->epoch > INT32_MAX || saved->epoch_step < 0 ||
        saved->epoch_step >= run->steps_per_epoch || saved->global_step < saved->epoch_step ||
        saved->optimizer_steps < 0 || saved->schedule_t < 0 || saved->nan_skips < 0)
        return nerve_error_set(err, NERVE_ERR_FORMAT,
                               "%s: checkpoint position epoch %" PRId64 ", step %" PRId64
                               " of %" PRId64 " is out of range",
                               path, saved->epoch, saved->epoch_step, run->steps_per_epoch);
    return NERVE_OK;
}

/* Every tensor the run's state needs, of its parameter's shape, and no
 * other state tensor in the file. */
static nerve_status check_state_tensors(const nerve_safetensors *st, const char *path,
                                        const state_tensors *state, nerve_error *err)
{
    for (int i = 0; i < state->count; i++) {
        const nerve_named_tensor *t = &state->tensors[i];
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
        for (int k = 0; k < state->count && !known; k++)
            known = strcmp(state->tensors[k].name, name) == 0;
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

static nerve_status restore(train_run *run, const snapshot *s, const nerve_safetensors *st,
                            const state_tensors *state, nerve_error *err)
{
    nerve_optimizer *opt = run->optimizer;
    nerve_graph *g = run->m->graph;
    /* The tensors' data point into the optimizer's state and the graph,
     * device memory: uploaded. */
    for (int i = 0; i < state->count; i++) {
        const nerve_named_tensor *t = &state->tensors[i];
        nerve_status up = nerve_graph_upload(g, (nerve_real *)t->data,
                                             nerve_safetensors_get(st, t->name, NULL),
                                             nerve_shape_numel(&t->shape));
        if (up != NERVE_OK) return nerve_graph_pass_error(g, up, err);
    }
    opt->steps = s->optimizer_steps;
    opt->lr = s->lr;
    run->scheduler.t = s->schedule_t;
    run->scheduler.lr = s->schedule_lr;
    run->scheduler.best = s->schedule_best;
    run->scheduler.bad_intervals = s->bad_intervals;
    run->scheduler.cooldown_left = s->cooldown_left;
    run->epoch = (int)s->epoch;
    run->epoch_step = s->epoch_step;
    run->global_step = s->global_step;
    run->nan_skips = s->nan_skips;
    run->totals = s->totals;
    run->early_best = s->early_best;
    run->early_best_epoch = s->early_best_epoch;
    run->early_bad_epochs = s->early_bad_epochs;
    return NERVE_OK;
}

/* A resume with another [optimizer] lr or [schedule] than the checkpoint's
 * run: the rate of the resumed step is the new schedule's at the run's
 * position, so the change takes effect at once rather than at the next
 * epoch's scheduler step. The position is the intervals done, in the new
 * schedule's unit (steps, or whole epochs). A plateau schedule that stays
 * one keeps its reductions, scaled to the new rate. Unchanged settings leave
 * the restored state as it was, for a bit-identical resume. */
static void apply_setting_changes(train_run *run, const snapshot *saved)
{
    nerve_scheduler *sc = &run->scheduler;
    char now[SETTING_TEXT_MAX];
    nerve_schedule_describe(&sc->schedule, now, sizeof now);
    if (saved->epochs == 0 || (saved->base_lr == sc->base_lr && strcmp(now, saved->schedule) == 0))
        return;
    const nerve_schedule *schedule = &sc->schedule;
    if (saved->schedule_interval != (int64_t)schedule->interval)
        sc->t = schedule->interval == NERVE_SCHEDULE_PER_STEP ? run->global_step : run->epoch - 1;
    bool still_plateau = schedule->kind == NERVE_SCHEDULE_PLATEAU &&
                         strncmp(saved->schedule, "plateau,", 8) == 0 && sc->t >= schedule->warmup;
    if (still_plateau) {
        double scaled = saved->schedule_lr * sc->base_lr / saved->base_lr;
        sc->lr = scaled > schedule->min_lr ? scaled : schedule->min_lr;
    } else {
        sc->lr = nerve_schedule_lr(schedule, sc->base_lr, sc->t);
        if (schedule->kind != NERVE_SCHEDULE_PLATEAU || strncmp(saved->schedule, "plateau,", 8)) {
            sc->best = INFINITY;
            sc->bad_intervals = sc->cooldown_left = 0;
        }
    }
    run->optimizer->lr = sc->lr;
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
    snapshot saved;
    field fields[FIELD_MAX];
    int count;
    status = read_snapshot(st, path, &saved, fields, &count, err);
    if (!status) status = check_fields(run, path, &saved, fields, count, err);
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
    state_tensors state = {0};
    if (!status && !list_state_tensors(run, &state))
        status = nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory", path);
    /* The parameters first: a different network is the likelier mistake. */
    if (!status) status = nerve_graph_load_from(m->graph, st, path, err);
    if (!status) status = check_state_tensors(st, path, &state, err);
    if (!status) status = restore(run, &saved, st, &state, err);
    if (!status) {
        snapshot replayed;
        train_run_replay_order(run);
        take_snapshot(run, &replayed);
        if (memcmp(&replayed.shuffle_rng, &saved.shuffle_rng, sizeof saved.shuffle_rng) != 0)
            status = nerve_error_set(err, NERVE_ERR_FORMAT,
                                     "%s: the sample order cannot be replayed from the seed "
                                     "(metadata nerve.checkpoint.rng.shuffle disagrees)",
                                     path);
    }
    if (!status) {
        apply_setting_changes(run, &saved);
        status = check_work_left(run, path, err);
    }
    state_tensors_free(&state);
    nerve_safetensors_close(st);
    return status;
}

nerve_status nerve_checkpoint_info_read(const char *path, nerve_checkpoint_info *info,
                                        nerve_error *err)
{
    nerve_safetensors *st;
    nerve_status status = nerve_safetensors_open(path, &st, err);
    if (status) return status;
    snapshot s;
    field fields[FIELD_MAX];
    int count;
    status = read_snapshot(st, path, &s, fields, &count, err);
    nerve_safetensors_close(st);
    if (status) return status;
    info->epoch = (int)s.epoch;
    info->epoch_step = s.epoch_step;
    info->global_step = s.global_step;
    info->epochs = (int)s.epochs;
    info->base_lr = s.base_lr;
    info->lr = s.schedule_lr;
    info->clip_norm = s.clip_norm;
    info->clip_value = s.clip_value;
    info->on_nan = (nerve_on_nan)s.on_nan;
    snprintf(info->schedule, sizeof info->schedule, "%s", s.schedule);
    return NERVE_OK;
}
