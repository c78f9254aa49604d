/* A model's settings sections ([net], [data], [optimizer], [loss],
 * [schedule], [augment], [train]): read from the cfg, and read or changed
 * by key afterwards (nerve_model_get, nerve_model_set). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/registry.h"
#include "core/options.h"
#include "model/data_format.h"
#include "model/model_internal.h"

static nerve_status read_net(cfg_reader *r, nerve_model_settings *s)
{
    int64_t batch, epochs, seed;
    nerve_init init; /* checked here, used by the layers (cfg_read_init) */
    if (!cfg_read_init(r, "init", &init)) return r->status;
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
    /* backend, or its other name device: a backend's name, or cuda:N (GPU N);
     * checked by name: the CUDA module loads when the graph asks for it */
    const char *backend_key = cfg_has(r, "device") ? "device" : "backend";
    if (cfg_has(r, "device") && cfg_has(r, "backend")) {
        cfg_fail(r, "device", "names the backend too: give backend or device, not both");
    } else if (cfg_has(r, backend_key)) {
        char name[sizeof s->backend] = "", list[128] = "";
        if (cfg_read_string(r, backend_key, false, "", name, sizeof name) &&
            !nerve_device_known(name)) {
            for (int i = 0; i < nerve_backend_count(); i++) {
                size_t used = strlen(list);
                snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                         nerve_backend_name(i));
            }
            cfg_fail(r, backend_key, "'%s' is not one of: %s", name, list);
        } else {
            snprintf(s->backend, sizeof s->backend, "%s", name);
        }
    }
    if (r->status == NERVE_OK && s->bptt && !nerve_shape_equal(&s->input, &chunk))
        cfg_fail(r, "input", "a stream sample is bptt = %lld token ids: input must be %lld",
                 (long long)s->bptt, (long long)s->bptt);
    return cfg_reader_finish(r);
}

typedef nerve_status (*settings_reader)(cfg_reader *r, nerve_model *m);
static nerve_status read_net_section(cfg_reader *r, nerve_model *m) { return read_net(r, &m->settings); }
static nerve_status read_data_section(cfg_reader *r, nerve_model *m)
{
    return nerve_read_data_section(r, &m->settings.data, m->data_origin, &m->class_names);
}
static nerve_status read_optimizer_section(cfg_reader *r, nerve_model *m)
{
    return nerve_read_optimizer_section(r, &m->settings.optimizer);
}
static nerve_status read_loss_section(cfg_reader *r, nerve_model *m)
{
    return nerve_read_loss_section(r, &m->settings);
}
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
    snprintf(s->data.format, sizeof s->data.format, "%s", nerve_data_format_at(0)->name);
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
    char layers[512];
    return nerve_error_set(err, NERVE_ERR_INVALID,
                           "%s:%d: unknown section [%s]%s (settings: net, data, optimizer, "
                           "schedule, loss, augment, train; layers: %s)",
                           file, sec->line, sec->type, hint,
                           nerve_layer_section_names(layers, sizeof layers));
}

nerve_status nerve_read_settings(nerve_config *cfg, nerve_model *m, nerve_error *err)
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
nerve_status nerve_add_missing_settings_sections(nerve_config *cfg, nerve_error *err)
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

const nerve_model_settings *nerve_model_settings_of(const nerve_model *m) { return &m->settings; }
nerve_model_settings *nerve_model_settings_mut(nerve_model *m) { return &m->settings; }
nerve_shape nerve_model_input_shape(const nerve_model *m) { return m->settings.input; }
static nerve_optimizer_options nerve_model_optimizer_options_value(const nerve_model *m)
{
    return m->settings.optimizer;
}

void nerve_model_optimizer_options_sized(const nerve_model *m,
                                         nerve_optimizer_options *out, size_t size)
{
    nerve_optimizer_options value = nerve_model_optimizer_options_value(m);
    nerve_options_write(out, size, &value, sizeof value);
}

/* ---------------------------------------------------------------- by key */

/* Keys that shape the graph, which nerve_model_load has built: set at load
 * time only (its overrides, the CLI's --set). */
static bool shapes_graph(const char *section, const char *key)
{
    if (strcmp(section, "loss") == 0) return true;
    return strcmp(section, "net") == 0 &&
           (strcmp(key, "input") == 0 || strcmp(key, "bptt") == 0 || strcmp(key, "backend") == 0);
}

nerve_status nerve_model_set(nerve_model *m, const char *key, const char *value, nerve_error *err)
{
    const char *dot = key ? strrchr(key, '.') : NULL;
    if (!m || !value || !dot || dot == key)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "nerve_model_set: expected a model, \"section.key\" and a value");
    char section[NERVE_CONFIG_NAME_MAX];
    snprintf(section, sizeof section, "%.*s", (int)(dot - key), key);
    if (settings_section_index(section) < 0)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "nerve_model_set %s: [%s] is not a settings section (net, data, "
                               "optimizer, schedule, augment, train): a layer is built; load "
                               "the model with the override instead",
                               key, section);
    if (shapes_graph(section, dot + 1))
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "nerve_model_set %s: shapes the network, which is built; load "
                               "the model with the override instead (nerve_model_load)",
                               key);
    size_t length = strlen(key) + strlen(value) + 2;
    char *assignment = malloc(length);
    nerve_config *cfg = nerve_config_copy(m->cfg);
    nerve_model *next = calloc(1, sizeof *next);
    nerve_status st = NERVE_OK;
    if (!assignment || !cfg || !next) st = nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory");
    if (st == NERVE_OK) {
        snprintf(assignment, length, "%s=%s", key, value);
        st = nerve_config_override(cfg, assignment, err);
    }
    /* The whole of the settings again, from the changed cfg: a value is
     * checked as the file's would be, and defaults that depend on it (an
     * optimizer type's lr) follow it. */
    if (st == NERVE_OK) st = nerve_read_settings(cfg, next, err);
    if (next) free((void *)next->settings.loss_options.weights); /* [loss] is m's, unchanged */
    if (st == NERVE_OK) {
        nerve_loss_options loss = m->settings.loss_options;
        m->settings = next->settings;
        m->settings.loss_options = loss;
        memcpy(m->data_origin, next->data_origin, sizeof m->data_origin);
        nerve_config *old = m->cfg;
        m->cfg = cfg;
        cfg = old;
    }
    nerve_config_free(cfg);
    free(next);
    free(assignment);
    return st;
}

nerve_status nerve_model_get(const nerve_model *m, const char *key, char *value, size_t size,
                             nerve_error *err)
{
    if (!m || !key || !value || size == 0)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "nerve_model_get: expected a model, \"section.key\" and a buffer");
    const char *text;
    nerve_status st = nerve_config_lookup(m->cfg, key, &text, err);
    if (st != NERVE_OK) return st;
    if (!text) text = "";
    if (strlen(text) >= size)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "nerve_model_get %s: the value has %zu characters, the buffer %zu",
                               key, strlen(text), size - 1);
    memcpy(value, text, strlen(text) + 1);
    return NERVE_OK;
}
