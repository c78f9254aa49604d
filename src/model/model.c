/* Reading a .cfg into a model: the [net], [data], [optimizer] and [loss]
 * settings, then the layer sections in order, each wired to its input=. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_internal.h"

static nerve_status read_net(cfg_reader *r, nerve_model_settings *s)
{
    int64_t batch, epochs, seed;
    if (cfg_read_shape(r, "input", true, &s->input) &&
        cfg_read_int_or(r, "batch", "full", 0, 32, 1, 1 << 20, &batch) &&
        cfg_read_int(r, "epochs", false, 10, 0, 1 << 20, &epochs) &&
        cfg_read_int(r, "seed", false, 1, 0, INT64_MAX, &seed)) {
        s->batch = batch;
        s->epochs = (int)epochs;
        s->seed = (uint64_t)seed;
    }
    return cfg_reader_finish(r);
}

static nerve_status read_data(cfg_reader *r, nerve_data_settings *d)
{
    static const char *const formats[] = {"idx", "csv", NULL};
    static const char *const normalizations[] = {"scale", "standardize", NULL};
    int format, normalize;
    char label_column[32];
    int64_t validation, targets;
    bool header;
    if (!cfg_read_choice(r, "format", formats, 0, &format) ||
        !cfg_read_string(r, "train", false, "", d->train, sizeof d->train) ||
        !cfg_read_string(r, "test", false, "", d->test, sizeof d->test) ||
        !cfg_read_double(r, "scale", false, 1, 1e-30, 1e30, &d->scale) ||
        !cfg_read_choice(r, "normalize", normalizations, 0, &normalize) ||
        !cfg_read_int(r, "validation", false, 0, 0, INT64_MAX, &validation))
        return r->status;
    strcpy(d->format, formats[format]);
    d->normalize = (nerve_normalize)normalize;
    d->validation = validation;
    if (format == 0) {
        if (!cfg_read_string(r, "train_labels", d->train[0] != 0, "", d->train_labels,
                             sizeof d->train_labels) ||
            !cfg_read_string(r, "test_labels", d->test[0] != 0, "", d->test_labels,
                             sizeof d->test_labels))
            return r->status;
    } else {
        if (!cfg_read_string(r, "label_column", false, "last", label_column, sizeof label_column) ||
            !cfg_read_bool(r, "header", false, &header) ||
            !cfg_read_int(r, "targets", false, 0, 0, 1 << 20, &targets))
            return r->status;
        d->csv.header = header;
        d->csv.targets = (int)targets;
        if (strcmp(label_column, "last") == 0) {
            d->csv.label_column = -1;
        } else {
            char *end;
            long c = strtol(label_column, &end, 10);
            if (end == label_column || *end || c < 0 || c > 1 << 20) {
                cfg_fail(r, "label_column", "'%s' is neither 'last' nor a column index",
                         label_column);
                return r->status;
            }
            d->csv.label_column = (int)c;
        }
    }
    return cfg_reader_finish(r);
}

static nerve_status read_loss(cfg_reader *r, nerve_model_settings *s)
{
    static const char *const types[] = {"softmax_cross_entropy", "mse", NULL};
    int type;
    if (cfg_read_choice(r, "type", types, 0, &type)) s->loss = (nerve_loss_kind)type;
    return cfg_reader_finish(r);
}

typedef nerve_status (*settings_reader)(cfg_reader *r, nerve_model *m);
static nerve_status read_net_section(cfg_reader *r, nerve_model *m) { return read_net(r, &m->settings); }
static nerve_status read_data_section(cfg_reader *r, nerve_model *m) { return read_data(r, &m->settings.data); }
static nerve_status read_optimizer_section(cfg_reader *r, nerve_model *m)
{
    return nerve_read_optimizer_section(r, &m->settings.optimizer);
}
static nerve_status read_loss_section(cfg_reader *r, nerve_model *m) { return read_loss(r, &m->settings); }
static nerve_status read_schedule_section(cfg_reader *r, nerve_model *m)
{
    return nerve_read_schedule_section(r, &m->settings.schedule);
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
            if (!nerve_layer_section_find(sec->type))
                return nerve_error_set(err, NERVE_ERR_INVALID,
                                       "%s:%d: unknown section [%s] (settings: net, data, "
                                       "optimizer, schedule, loss; layers: %s)",
                                       file, sec->line, sec->type, nerve_layer_section_names());
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
    return NERVE_OK;
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
        if (nerve_node_is_param(g, n)) return true;
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
        char default_name[NERVE_CONFIG_NAME_MAX], input_name[NERVE_LAYER_NAME_MAX];
        nerve_config_section_name(cfg, i, default_name, sizeof default_name);
        if (!cfg_read_string(&r, "name", false, default_name, layer->name, sizeof layer->name) ||
            !cfg_read_string(&r, "input", false, "", input_name, sizeof input_name))
            return r.status;
        if (!valid_layer_name(layer->name))
            return cfg_fail(&r, "name", "'%s' is not a valid name (letters, digits, _ and -; "
                                        "'input' is reserved)", layer->name), r.status;
        if (find_layer(m, layer->name) >= 0)
            return cfg_fail(&r, "name", "'%s' is already the name of an earlier layer",
                            layer->name), r.status;
        nerve_node input = previous;
        if (strcmp(input_name, "input") == 0) {
            input = m->input;
        } else if (input_name[0]) {
            int k = find_layer(m, input_name);
            if (k < 0)
                return cfg_fail(&r, "input", "no earlier layer is named '%s'", input_name),
                       r.status;
            input = m->layers[k].output;
        }
        if (!read_layer_regularization(&r, layer)) return r.status;
        nerve_error build_err = {0};
        layer->first_node = nerve_graph_node_count(m->graph);
        nerve_node out = type->build(m->graph, layer->name, input, &r, &rng, &build_err);
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

static nerve_status add_loss(nerve_model *m, const char *file, nerve_error *err)
{
    nerve_graph *g = m->graph;
    nerve_shape out = nerve_node_shape(g, m->output);
    const char *last_op = nerve_node_op_name(g, m->output);
    if (m->settings.loss == NERVE_LOSS_SOFTMAX_CROSS_ENTROPY) {
        if (out.ndim != 2 || out.dim[1] < 2)
            return nerve_error_set(err, NERVE_ERR_INVALID,
                                   "%s: softmax_cross_entropy needs a last layer with at least 2 "
                                   "outputs", file);
        if (strcmp(last_op, "softmax") == 0)
            return nerve_error_set(err, NERVE_ERR_INVALID,
                                   "%s: softmax_cross_entropy applies softmax itself: the last "
                                   "layer must output logits (remove its softmax)", file);
        m->classes = (int)out.dim[1];
        m->target = nerve_input(g, "target", nerve_shape_make(0, NULL), err);
        if (m->target < 0) return NERVE_ERR_INVALID;
        m->loss = nerve_softmax_cross_entropy(g, m->output, m->target, err);
        m->prediction = nerve_softmax(g, m->output, err);
        if (m->prediction < 0 || nerve_graph_rename(g, m->prediction, "probabilities", err))
            return NERVE_ERR_INVALID;
    } else {
        m->prediction = m->output;
        m->classes = 0;
        m->target = nerve_input(g, "target", nerve_shape_make(out.ndim - 1, out.dim + 1), err);
        if (m->target < 0) return NERVE_ERR_INVALID;
        m->loss = nerve_mse(g, m->output, m->target, err);
    }
    if (m->loss < 0) return NERVE_ERR_SHAPE;
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
    if (st == NERVE_OK) {
        m->std = 1;
        nerve_rng_seed(nerve_graph_rng(m->graph), m->settings.seed);
        m->input = nerve_input(m->graph, "input", m->settings.input, err);
        st = m->input < 0 ? NERVE_ERR_INVALID : build_layers(cfg, m, err);
    }
    if (st == NERVE_OK) st = add_loss(m, path, err);
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
    free(m->layers);
    free(m);
}

const nerve_model_settings *nerve_model_settings_of(const nerve_model *m) { return &m->settings; }
nerve_model_settings *nerve_model_settings_mut(nerve_model *m) { return &m->settings; }
nerve_graph *nerve_model_graph(nerve_model *m) { return m->graph; }
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

int64_t nerve_model_output_size(const nerve_model *m)
{
    nerve_shape s = nerve_node_shape(m->graph, m->output);
    int64_t n = 1;
    for (int i = 1; i < s.ndim; i++) n *= s.dim[i];
    return n;
}
