/* Reading a .cfg into a model: the [net], [data], [optimizer] and [loss]
 * settings, then the layer sections in order, each wired to its input=. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_internal.h"
#include "core/options.h"
#include "model/data_format.h"
#include "model/model_internal.h"

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
    const loss_type *type = nerve_loss_type_of(kind);
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
    const char *list_key = nerve_loss_list_key(kind);
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
    const loss_type *type = nerve_loss_type_of(m->settings.loss);
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
    if (st == NERVE_OK) st = nerve_add_missing_settings_sections(cfg, err);
    for (int i = 0; st == NERVE_OK && overrides && overrides[i]; i++)
        st = nerve_config_override(cfg, overrides[i], err);
    nerve_model *m = NULL;
    if (st == NERVE_OK) {
        m = calloc(1, sizeof *m);
        if (m) m->graph = nerve_graph_new();
        if (!m || !m->graph) st = nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory");
    }
    if (st == NERVE_OK) st = nerve_read_settings(cfg, m, err);
    if (st == NERVE_OK && m->settings.backend[0])
        st = nerve_graph_set_backend(m->graph, m->settings.backend, err);
    if (st == NERVE_OK) st = nerve_graph_check_backend(m->graph, err);
    if (st == NERVE_OK) {
        m->std = 1;
        nerve_graph_set_seed(m->graph, m->settings.seed);
        m->input = nerve_input(m->graph, "input", m->settings.input, err);
        st = m->input < 0 ? NERVE_ERR_INVALID : build_layers(cfg, m, err);
    }
    if (st == NERVE_OK) st = add_loss(m, cfg, err);
    if (st == NERVE_OK) st = check_token_input(m, cfg, err);
    if (st == NERVE_OK) st = nerve_model_check_class_names(m, cfg, err);
    if (m) {
        m->cfg = cfg;
    } else {
        nerve_config_free(cfg);
    }
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
    nerve_config_free(m->cfg);
    free((void *)m->settings.loss_options.weights);
    nerve_vocab_free(&m->vocab);
    nerve_class_names_free(&m->class_names);
    free(m->layers);
    free(m);
}

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

