/* Reading a .cfg into a model: the [net], [data], [optimizer] and [loss]
 * settings, then the layer sections in order, each wired to its input=. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_internal.h"
#include "model/model_internal.h"

static nerve_status read_net(cfg_reader *r, nerve_model_settings *s)
{
    int64_t batch, epochs, seed;
    /* A stream sample is bptt token ids: input may then be left out. */
    if (!cfg_read_int(r, "bptt", false, 0, 0, 1 << 20, &s->bptt)) return r->status;
    nerve_shape chunk = nerve_shape_1d(s->bptt);
    if (s->bptt && !cfg_has(r, "input")) s->input = chunk;
    if (cfg_read_shape(r, "input", s->bptt == 0, &s->input) &&
        cfg_read_int_or(r, "batch", "full", 0, 32, 1, 1 << 20, &batch) &&
        cfg_read_int(r, "epochs", false, 10, 0, 1 << 20, &epochs) &&
        cfg_read_int(r, "seed", false, 1, 0, INT64_MAX, &seed)) {
        s->batch = batch;
        s->epochs = (int)epochs;
        s->seed = (uint64_t)seed;
    }
    if (cfg_has(r, "backend")) {
        const char *names[8] = {NULL};
        for (int i = 0; i < nerve_backend_count() && i < 7; i++) names[i] = nerve_backend_name(i);
        int which;
        if (cfg_read_choice(r, "backend", names, 0, &which))
            snprintf(s->backend, sizeof s->backend, "%s", names[which]);
    }
    if (r->status == NERVE_OK && s->bptt && !nerve_shape_equal(&s->input, &chunk))
        cfg_fail(r, "input", "a stream sample is bptt = %lld token ids: input must be %lld",
                 (long long)s->bptt, (long long)s->bptt);
    return cfg_reader_finish(r);
}

/* Each [loss] type: its cfg spelling, builder, the targets it takes, what the
 * last layer must output and what prediction reports. Every builder has the
 * signature of nerve_mse. */
typedef nerve_node (*loss_builder)(nerve_graph *g, nerve_node output, nerve_node target,
                                   const nerve_loss_options *options, nerve_error *err);
typedef enum loss_input {
    TAKES_ANY,
    TAKES_LOGITS,
    TAKES_PROBABILITIES,
    TAKES_LOG_PROBABILITIES
} loss_input;
typedef enum loss_prediction { PREDICT_OUTPUT, PREDICT_SOFTMAX, PREDICT_SIGMOID } loss_prediction;

static const struct loss_type {
    const char *name;
    loss_builder build;
    loss_targets targets;
    loss_input input;
    loss_prediction prediction;
} loss_types[NERVE_LOSS_COUNT] = {
    [NERVE_LOSS_SOFTMAX_CROSS_ENTROPY] = {"softmax_cross_entropy", nerve_softmax_cross_entropy,
                                          LOSS_TARGETS_LABELS, TAKES_LOGITS, PREDICT_SOFTMAX},
    [NERVE_LOSS_MSE] = {"mse", nerve_mse, LOSS_TARGETS_VALUES, TAKES_ANY, PREDICT_OUTPUT},
    [NERVE_LOSS_L1] = {"l1", nerve_l1, LOSS_TARGETS_VALUES, TAKES_ANY, PREDICT_OUTPUT},
    [NERVE_LOSS_HUBER] = {"huber", nerve_huber, LOSS_TARGETS_VALUES, TAKES_ANY, PREDICT_OUTPUT},
    [NERVE_LOSS_SMOOTH_L1] = {"smooth_l1", nerve_smooth_l1, LOSS_TARGETS_VALUES, TAKES_ANY,
                              PREDICT_OUTPUT},
    [NERVE_LOSS_BCE] = {"bce", nerve_binary_cross_entropy, LOSS_TARGETS_BINARY,
                        TAKES_PROBABILITIES, PREDICT_OUTPUT},
    [NERVE_LOSS_BCE_WITH_LOGITS] = {"bce_with_logits", nerve_bce_with_logits, LOSS_TARGETS_BINARY,
                                    TAKES_LOGITS, PREDICT_SIGMOID},
    [NERVE_LOSS_NLL] = {"nll", nerve_nll, LOSS_TARGETS_LABELS, TAKES_LOG_PROBABILITIES,
                        PREDICT_SOFTMAX},
    [NERVE_LOSS_FOCAL] = {"focal", nerve_focal, LOSS_TARGETS_LABELS, TAKES_LOGITS,
                          PREDICT_SOFTMAX},
    [NERVE_LOSS_DISTILLATION] = {"distillation", nerve_distillation, LOSS_TARGETS_TEACHER,
                                 TAKES_LOGITS, PREDICT_SOFTMAX},
    [NERVE_LOSS_LARGE_MARGIN_SOFTMAX] = {"large_margin_softmax", nerve_large_margin_softmax,
                                         LOSS_TARGETS_LABELS, TAKES_LOGITS, PREDICT_SOFTMAX},
};

const char *nerve_loss_name(nerve_loss_kind kind)
{
    return (unsigned)kind < NERVE_LOSS_COUNT ? loss_types[kind].name : "unknown";
}

loss_targets nerve_loss_targets(nerve_loss_kind kind) { return loss_types[kind].targets; }

loss_targets nerve_model_targets(const nerve_model *m)
{
    return m->settings.loss_options.one_hot ? LOSS_TARGETS_LABELS
                                            : nerve_loss_targets(m->settings.loss);
}

/* The keys a [loss] type takes besides type and reduction; any other type
 * setting one is an error, not a silently ignored key. */
#define LOSS_BIT(kind) (1u << (kind))
static const struct loss_key {
    const char *key;
    unsigned kinds;
    const char *types;
} loss_keys[] = {
    {"delta", LOSS_BIT(NERVE_LOSS_HUBER), "huber"},
    {"beta", LOSS_BIT(NERVE_LOSS_SMOOTH_L1), "smooth_l1"},
    {"weights", LOSS_BIT(NERVE_LOSS_SOFTMAX_CROSS_ENTROPY) | LOSS_BIT(NERVE_LOSS_NLL),
     "softmax_cross_entropy and nll"},
    {"label_smoothing", LOSS_BIT(NERVE_LOSS_SOFTMAX_CROSS_ENTROPY), "softmax_cross_entropy"},
    {"gamma", LOSS_BIT(NERVE_LOSS_FOCAL), "focal"},
    {"alpha", LOSS_BIT(NERVE_LOSS_FOCAL), "focal"},
    {"pos_weight", LOSS_BIT(NERVE_LOSS_BCE_WITH_LOGITS), "bce_with_logits"},
    {"temperature", LOSS_BIT(NERVE_LOSS_DISTILLATION), "distillation"},
    {"margin", LOSS_BIT(NERVE_LOSS_LARGE_MARGIN_SOFTMAX), "large_margin_softmax"},
    {"lambda", LOSS_BIT(NERVE_LOSS_LARGE_MARGIN_SOFTMAX), "large_margin_softmax"},
    {"lambda_min", LOSS_BIT(NERVE_LOSS_LARGE_MARGIN_SOFTMAX), "large_margin_softmax"},
    {"lambda_gamma", LOSS_BIT(NERVE_LOSS_LARGE_MARGIN_SOFTMAX), "large_margin_softmax"},
    {"lambda_power", LOSS_BIT(NERVE_LOSS_LARGE_MARGIN_SOFTMAX), "large_margin_softmax"},
    {"one_hot",
     LOSS_BIT(NERVE_LOSS_MSE) | LOSS_BIT(NERVE_LOSS_L1) | LOSS_BIT(NERVE_LOSS_HUBER) |
         LOSS_BIT(NERVE_LOSS_SMOOTH_L1) | LOSS_BIT(NERVE_LOSS_BCE) |
         LOSS_BIT(NERVE_LOSS_BCE_WITH_LOGITS),
     "mse, l1, huber, smooth_l1, bce and bce_with_logits"},
};

/* The key holding a type's per-class (or per-output) list, or NULL. */
static const char *loss_list_key(nerve_loss_kind kind)
{
    switch (kind) {
    case NERVE_LOSS_SOFTMAX_CROSS_ENTROPY:
    case NERVE_LOSS_NLL: return "weights";
    case NERVE_LOSS_FOCAL: return "alpha";
    case NERVE_LOSS_BCE_WITH_LOGITS: return "pos_weight";
    default: return NULL;
    }
}

static nerve_status read_loss(cfg_reader *r, nerve_model_settings *s)
{
    static const char *const reductions[] = {"mean", "sum", NULL};
    const char *names[NERVE_LOSS_COUNT + 1] = {NULL};
    for (int k = 0; k < NERVE_LOSS_COUNT; k++) names[k] = loss_types[k].name;
    int type, reduction;
    if (!cfg_read_choice(r, "type", names, 0, &type) ||
        !cfg_read_choice(r, "reduction", reductions, 0, &reduction))
        return r->status;
    for (size_t i = 0; i < sizeof loss_keys / sizeof loss_keys[0]; i++)
        if (cfg_has(r, loss_keys[i].key) && !(loss_keys[i].kinds & LOSS_BIT(type)))
            return cfg_fail(r, loss_keys[i].key, "only applies to [loss] type %s",
                            loss_keys[i].types), r->status;
    nerve_loss_options *o = &s->loss_options;
    int64_t margin;
    float *weights = NULL;
    const char *list_key = loss_list_key((nerve_loss_kind)type);
    if (!cfg_read_double(r, "delta", false, 1, 1e-30, 1e30, &o->delta) ||
        !cfg_read_double(r, "beta", false, 1, 0, 1e30, &o->beta) ||
        !cfg_read_double(r, "label_smoothing", false, 0, 0, 1, &o->label_smoothing) ||
        !cfg_read_double(r, "gamma", false, 2, 0, 1e6, &o->gamma) ||
        !cfg_read_double(r, "temperature", false, 1, 1e-6, 1e6, &o->temperature) ||
        !cfg_read_int(r, "margin", false, 2, 1, 4, &margin) ||
        !cfg_read_double(r, "lambda", false, 0, 0, 1e6, &o->lambda) ||
        !cfg_read_double(r, "lambda_min", false, 0, 0, 1e6, &o->lambda_min) ||
        !cfg_read_double(r, "lambda_gamma", false, 0, 0, 1e6, &o->lambda_gamma) ||
        !cfg_read_double(r, "lambda_power", false, 1, 0, 1e6, &o->lambda_power) ||
        !cfg_read_bool(r, "one_hot", false, &o->one_hot) ||
        (list_key && !cfg_read_list(r, list_key, 0, 1e30, &weights, &o->weight_count)))
        return r->status;
    s->loss = (nerve_loss_kind)type;
    o->reduction = (nerve_reduction)reduction;
    o->margin = (int)margin;
    o->weights = weights; /* the model's: nerve_model_free frees it */
    return cfg_reader_finish(r);
}

typedef nerve_status (*settings_reader)(cfg_reader *r, nerve_model *m);
static nerve_status read_net_section(cfg_reader *r, nerve_model *m)
{
    nerve_status st = read_net(r, &m->settings);
    if (st == NERVE_OK && m->settings.backend[0])
        st = nerve_graph_set_backend(m->graph, m->settings.backend, r->err);
    return st;
}
static nerve_status read_data_section(cfg_reader *r, nerve_model *m)
{
    return nerve_read_data_section(r, &m->settings.data, m->data_origin);
}
static nerve_status read_optimizer_section(cfg_reader *r, nerve_model *m)
{
    return nerve_read_optimizer_section(r, &m->settings.optimizer);
}
static nerve_status read_loss_section(cfg_reader *r, nerve_model *m) { return read_loss(r, &m->settings); }
static nerve_status read_schedule_section(cfg_reader *r, nerve_model *m)
{
    return nerve_read_schedule_section(r, &m->settings.schedule);
}
static nerve_status read_augment_section(cfg_reader *r, nerve_model *m)
{
    return nerve_read_augment_section(r, &m->settings.augment);
}
/* [train]: how training stops (early stopping on the validation set). */
static nerve_status read_train_section(cfg_reader *r, nerve_model *m)
{
    static const char *const monitors[] = {"val_loss", "val_accuracy", NULL};
    int monitor;
    if (!cfg_read_int(r, "patience", false, 0, 0, 1 << 20, &m->settings.patience) ||
        !cfg_read_choice(r, "monitor", monitors, 0, &monitor))
        return r->status;
    m->settings.monitor_accuracy = monitor == 1;
    return NERVE_OK;
}

static const struct {
    const char *type;
    settings_reader read;
    bool required;
} settings_sections[] = {
    {"net", read_net_section, true},
    {"data", read_data_section, false},
    {"optimizer", read_optimizer_section, false},
    {"loss", read_loss_section, false},
    {"schedule", read_schedule_section, false},
    {"augment", read_augment_section, false},
    {"train", read_train_section, false},
};
#define SETTINGS_SECTION_COUNT (int)(sizeof settings_sections / sizeof settings_sections[0])

static int settings_section_index(const char *type)
{
    for (int i = 0; i < SETTINGS_SECTION_COUNT; i++)
        if (strcmp(settings_sections[i].type, type) == 0) return i;
    return -1;
}

static void default_settings(nerve_model_settings *s)
{
    memset(s, 0, sizeof *s);
    s->batch = 32;
    s->epochs = 10;
    s->seed = 1;
    strcpy(s->data.format, "idx");
    s->data.scale = 1;
    s->data.csv.label_column = -1;
    s->optimizer = nerve_optimizer_defaults(NERVE_OPTIMIZER_SGD);
    s->schedule = nerve_schedule_defaults(NERVE_SCHEDULE_CONSTANT);
    s->loss_options = nerve_loss_options_default();
    s->augment = nerve_augment_defaults();
}

static nerve_status unknown_section(const char *file, const nerve_config_section *sec,
                                    nerve_error *err)
{
    const char *types[SETTINGS_SECTION_COUNT + 64] = {0};
    int n = 0;
    for (int k = 0; k < SETTINGS_SECTION_COUNT; k++) types[n++] = settings_sections[k].type;
    for (int i = 0; nerve_layer_section_name_at(i) && n < (int)(sizeof types / sizeof *types); i++)
        types[n++] = nerve_layer_section_name_at(i);
    const char *closest = nerve_closest_name(sec->type, types, n);
    char hint[80] = "";
    if (closest) snprintf(hint, sizeof hint, ", did you mean [%s]?", closest);
    return nerve_error_set(err, NERVE_ERR_INVALID,
                           "%s:%d: unknown section [%s]%s (settings: net, data, optimizer, "
                           "schedule, loss, augment, train; layers: %s)",
                           file, sec->line, sec->type, hint, nerve_layer_section_names());
}

static nerve_status read_settings(nerve_config *cfg, nerve_model *m, nerve_error *err)
{
    int seen_line[SETTINGS_SECTION_COUNT] = {0};
    const char *file = nerve_config_filename(cfg);
    default_settings(&m->settings);
    for (int i = 0; i < nerve_config_section_count(cfg); i++) {
        nerve_config_section *sec = nerve_config_section_at(cfg, i);
        int k = settings_section_index(sec->type);
        if (k < 0) {
            if (!nerve_layer_section_find(sec->type)) return unknown_section(file, sec, err);
            continue;
        }
        if (seen_line[k])
            return nerve_error_set(err, NERVE_ERR_INVALID, "%s:%d: second [%s] section (first at line %d)",
                                   file, sec->line, sec->type, seen_line[k]);
        seen_line[k] = sec->line ? sec->line : -1;
        cfg_reader r = cfg_reader_begin(cfg, sec, err);
        nerve_status st = settings_sections[k].read(&r, m);
        if (st != NERVE_OK) return st;
    }
    for (int k = 0; k < SETTINGS_SECTION_COUNT; k++)
        if (settings_sections[k].required && !seen_line[k])
            return nerve_error_set(err, NERVE_ERR_INVALID, "%s: missing the [%s] section", file,
                                   settings_sections[k].type);
    nerve_status st = nerve_check_augment_input(cfg, &m->settings, err);
    return st == NERVE_OK ? nerve_check_bptt(cfg, &m->settings, err) : st;
}

/* Optional settings sections exist, empty, even when the file has none, so
 * that --set optimizer.lr=... works on any cfg. */
static nerve_status add_missing_settings_sections(nerve_config *cfg, nerve_error *err)
{
    for (int k = 0; k < SETTINGS_SECTION_COUNT; k++) {
        bool present = false;
        for (int i = 0; i < nerve_config_section_count(cfg); i++)
            present |= strcmp(nerve_config_section_at(cfg, i)->type, settings_sections[k].type) == 0;
        if (!present && !settings_sections[k].required &&
            !nerve_config_add_section(cfg, settings_sections[k].type, err))
            return NERVE_ERR_NOMEM;
    }
    return NERVE_OK;
}

static bool valid_layer_name(const char *name)
{
    if (!name[0] || strcmp(name, "input") == 0) return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-') return false;
    return true;
}

static int find_layer(const nerve_model *m, const char *name)
{
    for (int i = 0; i < m->layer_count; i++)
        if (strcmp(m->layers[i].name, name) == 0) return i;
    return -1;
}

/* input = a,b,...: each an earlier layer's name or "input". */
static bool resolve_inputs(cfg_reader *r, const nerve_model *m, const char *names,
                           nerve_node *inputs, int *count)
{
    *count = 0;
    for (const char *p = names;;) {
        size_t len = strcspn(p, ",");
        char name[NERVE_LAYER_NAME_MAX];
        while (len && isspace((unsigned char)*p)) p++, len--;
        while (len && isspace((unsigned char)p[len - 1])) len--;
        if (len == 0 || len >= sizeof name)
            return cfg_fail(r, "input", "'%s' is not a list of layer names", names);
        if (*count == LAYER_MAX_INPUTS)
            return cfg_fail(r, "input", "more than %d inputs", LAYER_MAX_INPUTS);
        memcpy(name, p, len);
        name[len] = 0;
        int k = find_layer(m, name);
        if (k < 0 && len > 4 && strcmp(name + len - 4, "_act") == 0) {
            /* <name>_act names an inline activation's nodes and parameters
             * (a PReLU's <name>_act.weight), not a layer: the layer's own
             * name is already its activated output. */
            name[len - 4] = 0;
            if (find_layer(m, name) >= 0)
                return cfg_fail(r, "input",
                                "'%s_act' is not a layer: 'input = %s' is already %s's output "
                                "after its activation", name, name, name);
            name[len - 4] = '_';
        }
        if (k < 0 && strcmp(name, "input") != 0)
            return cfg_fail(r, "input", "no earlier layer is named '%s'", name);
        inputs[(*count)++] = k < 0 ? m->input : m->layers[k].output;
        p += strcspn(p, ",");
        if (!*p) return true;
        p++;
    }
}

/* weight_decay = and l1 = on a layer replace [optimizer]'s for the layer's
 * parameters (applied when the trainer creates the optimizer). */
static bool read_layer_regularization(cfg_reader *r, model_layer *layer)
{
    return cfg_read_double(r, "weight_decay", false, NAN, 0, INFINITY, &layer->weight_decay) &&
           cfg_read_double(r, "l1", false, NAN, 0, INFINITY, &layer->l1);
}

static bool check_layer_regularization(cfg_reader *r, nerve_graph *g, const model_layer *layer)
{
    for (nerve_node n = layer->first_node; n < layer->end_node; n++)
        if (nerve_node_is_param(g, n) && !nerve_node_is_buffer(g, n)) return true;
    const char *key = !isnan(layer->weight_decay) ? "weight_decay"
                      : !isnan(layer->l1)           ? "l1"
                                                    : NULL;
    return !key || cfg_fail(r, key, "the layer has no parameters to regularise");
}

static nerve_status build_layers(nerve_config *cfg, nerve_model *m, nerve_error *err)
{
    const char *file = nerve_config_filename(cfg);
    nerve_rng rng;
    nerve_rng_seed(&rng, m->settings.seed);
    m->layers = calloc((size_t)nerve_config_section_count(cfg) + 1, sizeof *m->layers);
    if (!m->layers) return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory");
    nerve_node previous = m->input;
    for (int i = 0; i < nerve_config_section_count(cfg); i++) {
        nerve_config_section *sec = nerve_config_section_at(cfg, i);
        const layer_section_type *type = nerve_layer_section_find(sec->type);
        if (!type) continue;
        cfg_reader r = cfg_reader_begin(cfg, sec, err);
        model_layer *layer = &m->layers[m->layer_count];
        char default_name[NERVE_CONFIG_NAME_MAX];
        char input_names[LAYER_MAX_INPUTS * NERVE_LAYER_NAME_MAX];
        nerve_config_section_name(cfg, i, default_name, sizeof default_name);
        if (!cfg_read_string(&r, "name", false, default_name, layer->name, sizeof layer->name) ||
            !cfg_read_string(&r, "input", false, "", input_names, sizeof input_names))
            return r.status;
        if (!valid_layer_name(layer->name))
            return cfg_fail(&r, "name", "'%s' is not a valid name (letters, digits, _ and -; "
                                        "'input' is reserved)", layer->name), r.status;
        if (find_layer(m, layer->name) >= 0)
            return cfg_fail(&r, "name", "'%s' is already the name of an earlier layer",
                            layer->name), r.status;
        nerve_node inputs[LAYER_MAX_INPUTS] = {previous};
        int input_count = 1;
        if (input_names[0] && !resolve_inputs(&r, m, input_names, inputs, &input_count))
            return r.status;
        if (type->join ? input_count < 2 : input_count > 1)
            return cfg_fail(&r, "input", type->join ? "[%s] joins two or more layers "
                                                      "(input = a,b)"
                                                    : "[%s] takes one input",
                            type->name), r.status;
        if (!read_layer_regularization(&r, layer)) return r.status;
        nerve_error build_err = {0};
        layer->first_node = nerve_graph_node_count(m->graph);
        nerve_node out = type->join ? type->join(m->graph, layer->name, inputs, input_count, &r,
                                                 &build_err)
                                    : type->build(m->graph, layer->name, inputs[0], &r, &rng,
                                                  &build_err);
        if (r.status != NERVE_OK) return r.status;
        if (out < 0)
            return nerve_error_set(err, build_err.status ? build_err.status : NERVE_ERR_INVALID,
                                   "%s:%d: [%s] %s", file, sec->line, sec->type, build_err.message);
        layer->end_node = nerve_graph_node_count(m->graph);
        if (!check_layer_regularization(&r, m->graph, layer)) return r.status;
        layer->type = type->name;
        layer->output = previous = out;
        m->layer_count++;
    }
    if (m->layer_count == 0)
        return nerve_error_set(err, NERVE_ERR_INVALID, "%s: the network has no layers", file);
    m->output = previous;
    return NERVE_OK;
}

/* An error about a settings section ([loss], [data]): at the line of `key`
 * when the section sets it, else at the file. */
static nerve_status section_error(nerve_config *cfg, const char *section, const char *key,
                                  nerve_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
static nerve_status section_error(nerve_config *cfg, const char *section, const char *key,
                                  nerve_error *err, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    for (int i = 0; i < nerve_config_section_count(cfg); i++) {
        nerve_config_section *sec = nerve_config_section_at(cfg, i);
        if (strcmp(sec->type, section) != 0) continue;
        cfg_reader r = cfg_reader_begin(cfg, sec, err);
        if (key && cfg_has(&r, key)) return cfg_fail(&r, key, "%s", what), r.status;
    }
    return nerve_error_set(err, NERVE_ERR_INVALID, "%s: [%s] %s", nerve_config_filename(cfg),
                           section, what);
}

/* The size of the output's last dimension: the classes of [N, C] and of a
 * per-step classifier's [N, T, C]. */
static int64_t output_width(const nerve_model *m)
{
    nerve_shape s = nerve_node_shape(m->graph, m->output);
    return s.ndim > 1 ? s.dim[s.ndim - 1] : 1;
}

/* What the last layer must be for the loss: the class-label losses want at
 * least 2 outputs (per step, for a sequence); each loss wants logits,
 * probabilities or log-probabilities. */
static nerve_status check_last_layer(nerve_model *m, nerve_config *cfg, nerve_error *err)
{
    nerve_graph *g = m->graph;
    nerve_loss_kind kind = m->settings.loss;
    const struct loss_type *type = &loss_types[kind];
    const char *last_op = nerve_node_op_name(g, m->output);
    int64_t width = output_width(m);
    if ((type->targets == LOSS_TARGETS_LABELS || type->targets == LOSS_TARGETS_TEACHER) &&
        width < 2)
        return section_error(cfg, "loss", "type", err,
                             "%s needs a last layer with at least 2 outputs", type->name);
    if (type->input == TAKES_LOGITS && strcmp(last_op, "softmax") == 0)
        return section_error(cfg, "loss", "type", err,
                             "%s applies its softmax or sigmoid itself: the last layer must "
                             "output logits (remove its softmax)", type->name);
    if (type->input == TAKES_LOG_PROBABILITIES && strcmp(last_op, "log_softmax") != 0)
        return section_error(cfg, "loss", "type", err,
                             "%s takes log-probabilities: end the network with activation = "
                             "log_softmax (softmax_cross_entropy is the two fused)", type->name);
    if (type->input == TAKES_PROBABILITIES && strcmp(last_op, "linear") == 0)
        return section_error(cfg, "loss", "type", err,
                             "%s takes probabilities: end the network with a sigmoid, or use "
                             "bce_with_logits on the logits", type->name);
    const model_layer *last = &m->layers[m->layer_count - 1];
    char bias[NERVE_LAYER_NAME_MAX + 8];
    snprintf(bias, sizeof bias, "%s.bias", last->name);
    if (kind == NERVE_LOSS_LARGE_MARGIN_SOFTMAX &&
        (strcmp(last->type, "dense") != 0 || strcmp(last_op, "linear") != 0 ||
         nerve_graph_find(g, bias) >= 0))
        return section_error(cfg, "loss", "type", err,
                             "large_margin_softmax needs the last layer to be a [dense] with "
                             "bias = 0 and no activation (the margin is on the angle between "
                             "its input and weights)");
    const char *list_key = loss_list_key(kind);
    const nerve_loss_options *o = &m->settings.loss_options;
    if (o->weights && o->weight_count != width &&
        !(kind == NERVE_LOSS_BCE_WITH_LOGITS && o->weight_count == 1))
        return section_error(cfg, "loss", list_key, err,
                             "%lld values for the last layer's width %lld (%s)",
                             (long long)o->weight_count, (long long)width,
                             kind == NERVE_LOSS_BCE_WITH_LOGITS ? "one per output, or one for all"
                                                                : "one per class");
    return NERVE_OK;
}

/* Token ids are read as they are: [data] must not scale or standardise an
 * input that an [embedding] or [one_hot] reads. */
static nerve_status check_token_input(nerve_model *m, nerve_config *cfg, nerve_error *err)
{
    int64_t limit = nerve_graph_token_limit(m->graph, m->input);
    const nerve_data_settings *d = &m->settings.data;
    if (limit == 0) return NERVE_OK;
    if (d->scale != 1)
        return section_error(cfg, "data", "scale", err,
                             "must be 1: the input is token ids (read by an embedding or "
                             "one_hot layer), which scaling would change");
    if (d->normalize != NERVE_NORMALIZE_SCALE)
        return section_error(cfg, "data", "normalize", err,
                             "must be scale: the input is token ids (read by an embedding or "
                             "one_hot layer), which standardising would change");
    return NERVE_OK;
}

/* The target's per-sample shape: the output's for regression, [] (one
 * label) for a classifier [N, C], [T] (a label per step) for a per-step
 * classifier [N, T, C]. */
static nerve_status add_loss(nerve_model *m, nerve_config *cfg, nerve_error *err)
{
    nerve_graph *g = m->graph;
    const struct loss_type *type = &loss_types[m->settings.loss];
    nerve_status st = check_last_layer(m, cfg, err);
    if (st != NERVE_OK) return st;
    nerve_shape out = nerve_node_shape(g, m->output);
    int64_t width = nerve_model_output_size(m);
    nerve_shape per_sample = nerve_shape_make(out.ndim - 1, out.dim + 1);
    bool one_hot = m->settings.loss_options.one_hot;
    if (one_hot && (out.ndim != 2 || width < 2))
        return section_error(cfg, "loss", "one_hot", err,
                             "needs a last layer of at least 2 outputs, one per class (it has "
                             "%lld)", (long long)width);
    if (type->targets == LOSS_TARGETS_LABELS || one_hot) {
        m->classes = (int)output_width(m);
        per_sample = nerve_shape_make(out.ndim > 2 ? out.ndim - 2 : 0, out.dim + 1);
    } else if (type->targets == LOSS_TARGETS_BINARY) {
        m->classes = width == 1 ? 2 : 0; /* one output: a binary classifier */
    }
    m->target = nerve_input(g, "target", per_sample, err);
    if (m->target < 0) return NERVE_ERR_INVALID;
    /* one_hot: the loss compares the output with the labels' one-hot vectors. */
    nerve_node targets = one_hot ? nerve_one_hot(g, m->target, width, err) : m->target;
    if (targets < 0) return NERVE_ERR_INVALID;
    m->loss = type->build(g, m->output, targets, &m->settings.loss_options, err);
    if (m->loss < 0) return NERVE_ERR_SHAPE;
    m->prediction = m->output;
    if (type->prediction != PREDICT_OUTPUT) {
        m->prediction = type->prediction == PREDICT_SOFTMAX
                            ? nerve_softmax(g, m->output, err)
                            : nerve_activate(g, m->output, NERVE_ACT_SIGMOID, 0, err);
        if (m->prediction < 0 || nerve_graph_rename(g, m->prediction, "probabilities", err))
            return NERVE_ERR_INVALID;
    }
    return nerve_graph_rename(g, m->loss, "loss", err);
}

nerve_status nerve_model_load(const char *path, const char *const *overrides, nerve_model **out,
                              nerve_error *err)
{
    *out = NULL;
    nerve_config *cfg = NULL;
    nerve_status st = nerve_config_load(path, &cfg, err);
    if (st == NERVE_OK) st = add_missing_settings_sections(cfg, err);
    for (int i = 0; st == NERVE_OK && overrides && overrides[i]; i++)
        st = nerve_config_override(cfg, overrides[i], err);
    nerve_model *m = NULL;
    if (st == NERVE_OK) {
        m = calloc(1, sizeof *m);
        if (m) m->graph = nerve_graph_new();
        if (!m || !m->graph) st = nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory");
    }
    if (st == NERVE_OK) st = read_settings(cfg, m, err);
    if (st == NERVE_OK) st = nerve_graph_check_backend(m->graph, err);
    if (st == NERVE_OK) {
        m->std = 1;
        nerve_graph_set_seed(m->graph, m->settings.seed);
        m->input = nerve_input(m->graph, "input", m->settings.input, err);
        st = m->input < 0 ? NERVE_ERR_INVALID : build_layers(cfg, m, err);
    }
    if (st == NERVE_OK) st = add_loss(m, cfg, err);
    if (st == NERVE_OK) st = check_token_input(m, cfg, err);
    nerve_config_free(cfg);
    if (st != NERVE_OK) {
        nerve_model_free(m);
        return st;
    }
    *out = m;
    return NERVE_OK;
}

void nerve_model_free(nerve_model *m)
{
    if (!m) return;
    nerve_graph_free(m->graph);
    nerve_optimizer_free(m->optimizer);
    free((void *)m->settings.loss_options.weights);
    nerve_vocab_free(&m->vocab);
    free(m->layers);
    free(m);
}

const nerve_model_settings *nerve_model_settings_of(const nerve_model *m) { return &m->settings; }
nerve_model_settings *nerve_model_settings_mut(nerve_model *m) { return &m->settings; }
nerve_shape nerve_model_input_shape(const nerve_model *m) { return m->settings.input; }
nerve_optimizer_options nerve_model_optimizer_options(const nerve_model *m)
{
    return m->settings.optimizer;
}
nerve_graph *nerve_model_graph(nerve_model *m) { return m->graph; }
nerve_optimizer *nerve_model_optimizer(nerve_model *m) { return m->optimizer; }
nerve_node nerve_model_input(const nerve_model *m) { return m->input; }
nerve_node nerve_model_output(const nerve_model *m) { return m->output; }
nerve_node nerve_model_target(const nerve_model *m) { return m->target; }
nerve_node nerve_model_loss(const nerve_model *m) { return m->loss; }
nerve_node nerve_model_prediction(const nerve_model *m) { return m->prediction; }
int nerve_model_layer_count(const nerve_model *m) { return m->layer_count; }
int nerve_model_classes(const nerve_model *m) { return m->classes; }

const char *nerve_model_layer_name(const nerve_model *m, int i)
{
    return i >= 0 && i < m->layer_count ? m->layers[i].name : NULL;
}

const char *nerve_model_layer_type(const nerve_model *m, int i)
{
    return i >= 0 && i < m->layer_count ? m->layers[i].type : NULL;
}

nerve_node nerve_model_layer_node(const nerve_model *m, int i)
{
    return i >= 0 && i < m->layer_count ? m->layers[i].output : -1;
}

int64_t nerve_model_label_steps(const nerve_model *m)
{
    int64_t width = nerve_model_output_size(m);
    if (m->classes == 0) return 0;
    return width > m->classes ? width / m->classes : 1;
}

int64_t nerve_model_output_size(const nerve_model *m)
{
    nerve_shape s = nerve_node_shape(m->graph, m->output);
    int64_t n = 1;
    for (int i = 1; i < s.ndim; i++) n *= s.dim[i];
    return n;
}
