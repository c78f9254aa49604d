/* The layer sections of a .cfg: each reads its keys and adds its nodes.
 * Adding a layer type is one function and one table entry. */
#include <string.h>

#include "model/model_internal.h"

/* Activation names as cfg values; "softmax" and "log_softmax" are ops of their own. */
static const char *const activation_choices[] = {"none",       "identity", "sigmoid", "tanh",
                                                 "relu",       "leaky_relu", "softmax",
                                                 "log_softmax", NULL};

static nerve_node add_activation(nerve_graph *g, nerve_node x, const char *kind_name, double slope,
                                 nerve_error *err)
{
    if (strcmp(kind_name, "softmax") == 0) return nerve_softmax(g, x, err);
    if (strcmp(kind_name, "log_softmax") == 0) return nerve_log_softmax(g, x, err);
    nerve_activation kind = NERVE_ACT_IDENTITY;
    if (strcmp(kind_name, "none") != 0) nerve_activation_from_name(kind_name, &kind);
    if (kind == NERVE_ACT_IDENTITY) return x;
    return nerve_activate(g, x, kind, (float)slope, err);
}

/* Reads activation= (key) and slope=; slope only makes sense for leaky_relu. */
static bool read_activation(cfg_reader *r, const char *key, int def, int *choice, double *slope)
{
    if (!cfg_read_choice(r, key, activation_choices, def, choice)) return false;
    if (cfg_has(r, "slope") && strcmp(activation_choices[*choice], "leaky_relu") != 0)
        return cfg_fail(r, "slope", "only applies to activation leaky_relu");
    return cfg_read_double(r, "slope", false, 0.01, -1e6, 1e6, slope);
}

static const char *const init_choices[] = {"default",     "zeros",      "xavier_uniform",
                                           "xavier_normal", "he_uniform", "he_normal", NULL};

static nerve_node build_dense(nerve_graph *g, const char *name, nerve_node input, cfg_reader *r,
                              nerve_rng *rng, nerve_error *err)
{
    int64_t units;
    int activation, init;
    double slope;
    bool bias;
    if (!cfg_read_int(r, "units", true, 0, 1, 1 << 24, &units) ||
        !read_activation(r, "activation", 0, &activation, &slope) ||
        !cfg_read_bool(r, "bias", true, &bias) ||
        !cfg_read_choice(r, "init", init_choices, 0, &init) || cfg_reader_finish(r) != NERVE_OK)
        return -1;
    nerve_dense_options options = {.units = units, .bias = bias};
    nerve_init_from_name(init_choices[init], &options.init);
    nerve_node y = nerve_dense(g, name, input, &options, rng, err);
    if (y < 0) return -1;
    return add_activation(g, y, activation_choices[activation], slope, err);
}

static nerve_node build_activation(nerve_graph *g, const char *name, nerve_node input,
                                   cfg_reader *r, nerve_rng *rng, nerve_error *err)
{
    int kind;
    double slope;
    if (!read_activation(r, "type", -1, &kind, &slope) || cfg_reader_finish(r) != NERVE_OK)
        return -1;
    nerve_node y = add_activation(g, input, activation_choices[kind], slope, err);
    if (y < 0 || y == input) return y;
    return nerve_graph_rename(g, y, name, err) == NERVE_OK ? y : -1;
}

static nerve_node build_flatten(nerve_graph *g, const char *name, nerve_node input, cfg_reader *r,
                                nerve_rng *rng, nerve_error *err)
{
    if (cfg_reader_finish(r) != NERVE_OK) return -1;
    nerve_node y = nerve_flatten(g, input, err);
    if (y < 0) return -1;
    return nerve_graph_rename(g, y, name, err) == NERVE_OK ? y : -1;
}

static const layer_section_type layer_sections[] = {
    {"dense", build_dense},
    {"activation", build_activation},
    {"flatten", build_flatten},
};
#define LAYER_SECTION_COUNT (int)(sizeof layer_sections / sizeof layer_sections[0])

const layer_section_type *nerve_layer_section_find(const char *type)
{
    for (int i = 0; i < LAYER_SECTION_COUNT; i++)
        if (strcmp(layer_sections[i].name, type) == 0) return &layer_sections[i];
    return NULL;
}

const char *nerve_layer_section_names(void)
{
    static char names[256];
    if (!names[0]) {
        for (int i = 0; i < LAYER_SECTION_COUNT; i++) {
            if (i) strcat(names, ", ");
            strcat(names, layer_sections[i].name);
        }
    }
    return names;
}
