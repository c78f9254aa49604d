/* The layer sections of a .cfg: each reads its keys and adds its nodes.
 * Adding a layer type is one function and one table entry. */
#include <stdio.h>
#include <string.h>

#include "model/model_internal.h"

static const char *const init_choices[] = {"default",     "zeros",      "xavier_uniform",
                                           "xavier_normal", "he_uniform", "he_normal", NULL};

/* An activation= on a dense layer named L is the activation layer L_act:
 * a PReLU's slope is L_act.weight. */
static nerve_node build_dense(nerve_graph *g, const char *name, nerve_node input, cfg_reader *r,
                              nerve_rng *rng, nerve_error *err)
{
    int64_t units;
    int init;
    bool bias;
    if (!cfg_read_int(r, "units", true, 0, 1, 1 << 24, &units) ||
        !cfg_read_bool(r, "bias", true, &bias) ||
        !cfg_read_choice(r, "init", init_choices, 0, &init))
        return -1;
    nerve_dense_options options = {.units = units, .bias = bias};
    nerve_init_from_name(init_choices[init], &options.init);
    nerve_node y = nerve_dense(g, name, input, &options, rng, err);
    if (y < 0) return -1;
    char activation_name[NERVE_LAYER_NAME_MAX + 8];
    snprintf(activation_name, sizeof activation_name, "%s_act", name);
    y = nerve_activation_section_build(g, activation_name, y, r, "activation", false, err);
    return y >= 0 && cfg_reader_finish(r) == NERVE_OK ? y : -1;
}

static nerve_node build_activation(nerve_graph *g, const char *name, nerve_node input,
                                   cfg_reader *r, nerve_rng *rng, nerve_error *err)
{
    nerve_node y = nerve_activation_section_build(g, name, input, r, "type", true, err);
    return y >= 0 && cfg_reader_finish(r) == NERVE_OK ? y : -1;
}

/* Maxout: parameters <name>.weight [units * pieces, in] and <name>.bias. */
static nerve_node build_maxout(nerve_graph *g, const char *name, nerve_node input, cfg_reader *r,
                               nerve_rng *rng, nerve_error *err)
{
    nerve_maxout_options options;
    int init;
    if (!cfg_read_int(r, "units", true, 0, 1, 1 << 24, &options.units) ||
        !cfg_read_int(r, "pieces", true, 0, 1, 1 << 24, &options.pieces) ||
        !cfg_read_choice(r, "init", init_choices, 0, &init))
        return -1;
    if (cfg_reader_finish(r) != NERVE_OK) return -1;
    nerve_init_from_name(init_choices[init], &options.init);
    return nerve_maxout(g, name, input, &options, rng, err);
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
    {"maxout", build_maxout},
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
