/* Activations in a .cfg: `type =` of [activation] and `activation =` of
 * [dense] name one, and the same section holds its settings. One table entry
 * per name: the settings keys it reads and the function that reads them and
 * adds its nodes. A setting of another activation is an error naming the
 * ones it belongs to. */
#include <stdio.h>
#include <string.h>

#include "model/model_internal.h"

/* The bound of any real setting: generous, but it keeps a typo such as
 * 1e30 from reaching the kernels. */
#define SETTING_LIMIT 1e6
#define MAX_KEYS 3

typedef struct activation_type activation_type;
struct activation_type {
    const char *name;
    const char *keys[MAX_KEYS]; /* the settings it reads */
    /* Reads them and adds its nodes after x; `name` prefixes its parameters. */
    nerve_node (*build)(const activation_type *type, nerve_graph *g, const char *name,
                        nerve_node x, cfg_reader *r, nerve_error *err);
};

static nerve_node build_none(const activation_type *type, nerve_graph *g, const char *name,
                             nerve_node x, cfg_reader *r, nerve_error *err)
{
    return x;
}

/* An element-wise kind without settings, named as in the cfg. */
static nerve_node build_plain(const activation_type *type, nerve_graph *g, const char *name,
                              nerve_node x, cfg_reader *r, nerve_error *err)
{
    nerve_activation kind = NERVE_ACT_IDENTITY;
    nerve_activation_from_name(type->name, &kind);
    return nerve_activate(g, x, kind, NULL, err);
}

/* SiLU is swish with beta 1, torch.nn.SiLU. */
static nerve_node build_silu(const activation_type *type, nerve_graph *g, const char *name,
                             nerve_node x, cfg_reader *r, nerve_error *err)
{
    return nerve_activate(g, x, NERVE_ACT_SWISH, NULL, err);
}

static nerve_node build_leaky_relu(const activation_type *type, nerve_graph *g, const char *name,
                                   nerve_node x, cfg_reader *r, nerve_error *err)
{
    nerve_activation_params p = nerve_activation_defaults();
    if (!cfg_read_double(r, "slope", false, p.negative_slope, -SETTING_LIMIT, SETTING_LIMIT,
                         &p.negative_slope))
        return -1;
    return nerve_activate(g, x, NERVE_ACT_LEAKY_RELU, &p, err);
}

static nerve_node build_elu(const activation_type *type, nerve_graph *g, const char *name,
                            nerve_node x, cfg_reader *r, nerve_error *err)
{
    nerve_activation_params p = nerve_activation_defaults();
    if (!cfg_read_double(r, "alpha", false, p.alpha, 0, SETTING_LIMIT, &p.alpha)) return -1;
    return nerve_activate(g, x, NERVE_ACT_ELU, &p, err);
}

static nerve_node build_softplus(const activation_type *type, nerve_graph *g, const char *name,
                                 nerve_node x, cfg_reader *r, nerve_error *err)
{
    nerve_activation_params p = nerve_activation_defaults();
    if (!cfg_read_double(r, "beta", false, p.beta, 1e-6, SETTING_LIMIT, &p.beta) ||
        !cfg_read_double(r, "threshold", false, p.threshold, 0, SETTING_LIMIT, &p.threshold))
        return -1;
    return nerve_activate(g, x, NERVE_ACT_SOFTPLUS, &p, err);
}

static nerve_node build_swish(const activation_type *type, nerve_graph *g, const char *name,
                              nerve_node x, cfg_reader *r, nerve_error *err)
{
    nerve_activation_params p = nerve_activation_defaults();
    bool learn_beta;
    if (!cfg_read_double(r, "beta", false, p.beta, 0, SETTING_LIMIT, &p.beta) ||
        !cfg_read_bool(r, "learn_beta", false, &learn_beta))
        return -1;
    if (learn_beta) return nerve_swish_layer(g, name, x, (float)p.beta, err);
    return nerve_activate(g, x, NERVE_ACT_SWISH, &p, err);
}

static nerve_node build_gelu(const activation_type *type, nerve_graph *g, const char *name,
                             nerve_node x, cfg_reader *r, nerve_error *err)
{
    static const char *const approximations[] = {"none", "tanh", NULL};
    int approximate;
    if (!cfg_read_choice(r, "approximate", approximations, 0, &approximate)) return -1;
    return nerve_activate(g, x, approximate ? NERVE_ACT_GELU_TANH : NERVE_ACT_GELU, NULL, err);
}

static nerve_node build_hardtanh(const activation_type *type, nerve_graph *g, const char *name,
                                 nerve_node x, cfg_reader *r, nerve_error *err)
{
    nerve_activation_params p = nerve_activation_defaults();
    if (!cfg_read_double(r, "min_val", false, p.min_val, -SETTING_LIMIT, SETTING_LIMIT,
                         &p.min_val) ||
        !cfg_read_double(r, "max_val", false, p.max_val, -SETTING_LIMIT, SETTING_LIMIT,
                         &p.max_val))
        return -1;
    if (!(p.min_val < p.max_val))
        return cfg_fail(r, cfg_has(r, "max_val") ? "max_val" : "min_val",
                        "min_val %g must be below max_val %g", p.min_val, p.max_val),
               -1;
    return nerve_activate(g, x, NERVE_ACT_HARDTANH, &p, err);
}

static nerve_node build_binary_step(const activation_type *type, nerve_graph *g,
                                    const char *name, nerve_node x, cfg_reader *r,
                                    nerve_error *err)
{
    bool straight_through;
    if (!cfg_read_bool(r, "straight_through", false, &straight_through)) return -1;
    return nerve_activate(g, x,
                          straight_through ? NERVE_ACT_BINARY_STEP_STE : NERVE_ACT_BINARY_STEP,
                          NULL, err);
}

static nerve_node build_prelu(const activation_type *type, nerve_graph *g, const char *name,
                              nerve_node x, cfg_reader *r, nerve_error *err)
{
    static const char *const channel_modes[] = {"shared", "per_channel", NULL};
    int mode;
    if (!cfg_read_choice(r, "channels", channel_modes, 0, &mode)) return -1;
    return nerve_prelu_layer(g, name, x, mode == 1, err);
}

static nerve_node build_rrelu(const activation_type *type, nerve_graph *g, const char *name,
                              nerve_node x, cfg_reader *r, nerve_error *err)
{
    double lower, upper;
    /* torch.nn.RReLU's defaults. */
    if (!cfg_read_double(r, "lower", false, 1.0 / 8, -SETTING_LIMIT, SETTING_LIMIT, &lower) ||
        !cfg_read_double(r, "upper", false, 1.0 / 3, -SETTING_LIMIT, SETTING_LIMIT, &upper))
        return -1;
    if (lower > upper)
        return cfg_fail(r, cfg_has(r, "upper") ? "upper" : "lower",
                        "lower %g must not exceed upper %g", lower, upper),
               -1;
    return nerve_rrelu(g, x, (float)lower, (float)upper, err);
}

static nerve_node build_crelu(const activation_type *type, nerve_graph *g, const char *name,
                              nerve_node x, cfg_reader *r, nerve_error *err)
{
    return nerve_crelu(g, x, err);
}

/* axis counts the batch as 0, as torch's dim; a softmax across the samples
 * of a batch would make each prediction depend on the others. */
static bool read_axis(cfg_reader *r, int *axis)
{
    int64_t value;
    if (!cfg_read_int(r, "axis", false, -1, -NERVE_MAX_DIMS, NERVE_MAX_DIMS - 1, &value))
        return false;
    if (value == 0)
        return cfg_fail(r, "axis", "axis 0 is the batch; use 1 or more, or -1 for the last");
    *axis = (int)value;
    return true;
}

static nerve_node build_softmax(const activation_type *type, nerve_graph *g, const char *name,
                                nerve_node x, cfg_reader *r, nerve_error *err)
{
    int axis = -1;
    if (!read_axis(r, &axis)) return -1;
    return nerve_softmax_axis(g, x, axis, err);
}

static nerve_node build_log_softmax(const activation_type *type, nerve_graph *g,
                                    const char *name, nerve_node x, cfg_reader *r,
                                    nerve_error *err)
{
    int axis = -1;
    if (!read_axis(r, &axis)) return -1;
    return nerve_log_softmax(g, x, axis, err);
}

static const activation_type activation_types[] = {
    {"none", {NULL}, build_none},
    {"identity", {NULL}, build_none},
    {"sigmoid", {NULL}, build_plain},
    {"tanh", {NULL}, build_plain},
    {"relu", {NULL}, build_plain},
    {"leaky_relu", {"slope"}, build_leaky_relu},
    {"prelu", {"channels"}, build_prelu},
    {"rrelu", {"lower", "upper"}, build_rrelu},
    {"elu", {"alpha"}, build_elu},
    {"selu", {NULL}, build_plain},
    {"softplus", {"beta", "threshold"}, build_softplus},
    {"swish", {"beta", "learn_beta"}, build_swish},
    {"silu", {NULL}, build_silu},
    {"gelu", {"approximate"}, build_gelu},
    {"hardtanh", {"min_val", "max_val"}, build_hardtanh},
    {"binary_step", {"straight_through"}, build_binary_step},
    {"crelu", {NULL}, build_crelu},
    {"softmax", {"axis"}, build_softmax},
    {"log_softmax", {"axis"}, build_log_softmax},
};
#define ACTIVATION_TYPE_COUNT (int)(sizeof activation_types / sizeof activation_types[0])

static bool reads_key(const activation_type *type, const char *key)
{
    for (int k = 0; k < MAX_KEYS && type->keys[k]; k++)
        if (strcmp(type->keys[k], key) == 0) return true;
    return false;
}

/* Fails on the first setting in the section that belongs to other
 * activations only, naming them: "slope: only applies to activation leaky_relu". */
static bool check_foreign_settings(cfg_reader *r, const activation_type *chosen)
{
    for (int t = 0; t < ACTIVATION_TYPE_COUNT; t++) {
        for (int k = 0; k < MAX_KEYS && activation_types[t].keys[k]; k++) {
            const char *key = activation_types[t].keys[k];
            if (reads_key(chosen, key) || !cfg_has(r, key)) continue;
            char owners[200] = "";
            for (int u = 0; u < ACTIVATION_TYPE_COUNT; u++) {
                if (!reads_key(&activation_types[u], key)) continue;
                size_t used = strlen(owners);
                snprintf(owners + used, sizeof owners - used, "%s%s", used ? ", " : "",
                         activation_types[u].name);
            }
            return cfg_fail(r, key, "only applies to activation %s", owners);
        }
    }
    return true;
}

nerve_node nerve_activation_section_build(nerve_graph *g, const char *name, nerve_node x,
                                          cfg_reader *r, const char *key, bool required,
                                          nerve_error *err)
{
    char value[32];
    if (!cfg_read_string(r, key, required, "none", value, sizeof value)) return -1;
    const activation_type *type = NULL;
    char choices[400] = "";
    for (int t = 0; t < ACTIVATION_TYPE_COUNT; t++) {
        if (strcmp(value, activation_types[t].name) == 0) type = &activation_types[t];
        size_t used = strlen(choices);
        snprintf(choices + used, sizeof choices - used, "%s%s", t ? ", " : "",
                 activation_types[t].name);
    }
    if (!type) return cfg_fail(r, key, "'%s' is not one of: %s", value, choices), -1;
    if (!check_foreign_settings(r, type)) return -1;
    nerve_node y = type->build(type, g, name, x, r, err);
    /* Layers with parameters (PReLU, learnable swish) name their output already. */
    if (y < 0 || y == x || strcmp(nerve_node_name(g, y), name) == 0) return y;
    return nerve_graph_rename(g, y, name, err) == NERVE_OK ? y : -1;
}
