/* The layer sections of a .cfg: each reads its keys and adds its nodes.
 * Adding a layer type is one function and one table entry. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_internal.h"

/* An initialiser in the cfg spelling (nerve_init_parse; docs/config.md). */
static bool read_init(cfg_reader *r, const char *key, nerve_init *init)
{
    char text[256];
    nerve_error parse_err = {0};
    if (!cfg_read_string(r, key, false, "default", text, sizeof text)) return false;
    if (nerve_init_parse(text, init, &parse_err) == NERVE_OK) return true;
    return cfg_fail(r, key, "%s", parse_err.message);
}

/* bias_init= needs a bias, and an initialiser a 1-D tensor can take. */
static bool read_bias_init(cfg_reader *r, bool bias, int64_t units, nerve_init *init)
{
    if (!read_init(r, "bias_init", init)) return false;
    if (init->kind == NERVE_INIT_DEFAULT) return true;
    if (!bias) return cfg_fail(r, "bias_init", "the layer has no bias (bias = 0)");
    nerve_init law;
    nerve_error shape_err = {0};
    if (nerve_init_resolve(init, nerve_shape_1d(units), &law, &shape_err) == NERVE_OK) return true;
    return cfg_fail(r, "bias_init", "%s", shape_err.message);
}

/* An activation= on a dense layer named L is the activation layer L_act:
 * a PReLU's slope is L_act.weight. */
static nerve_node build_dense(nerve_graph *g, const char *name, nerve_node input, cfg_reader *r,
                              nerve_rng *rng, nerve_error *err)
{
    int64_t units;
    bool bias;
    nerve_init init, bias_init;
    if (!cfg_read_int(r, "units", true, 0, 1, 1 << 24, &units) ||
        !cfg_read_bool(r, "bias", true, &bias) ||
        !read_init(r, "init", &init) || !read_bias_init(r, bias, units, &bias_init))
        return -1;
    nerve_dense_options options = {.units = units, .bias = bias, .init = init,
                                   .bias_init = bias_init};
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
    if (!cfg_read_int(r, "units", true, 0, 1, 1 << 24, &options.units) ||
        !cfg_read_int(r, "pieces", true, 0, 1, 1 << 24, &options.pieces) ||
        !read_init(r, "init", &options.init) || cfg_reader_finish(r) != NERVE_OK)
        return -1;
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

/* "N" (both) or "h,w": a pair of integers of at least min. */
static bool read_pair(cfg_reader *r, const char *key, const char *def, int64_t min, int64_t out[2])
{
    char text[64], *end;
    if (!cfg_read_string(r, key, def == NULL, def, text, sizeof text)) return false;
    const char *p = text;
    for (int k = 0; k < 2; k++) {
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || errno || v < min || v > (1 << 24))
            return cfg_fail(r, key, "expected N or h,w with integers of at least %lld, got '%s'",
                            (long long)min, text);
        out[k] = v;
        while (isspace((unsigned char)*end)) end++;
        if (k == 0 && *end == '\0') {
            out[1] = v;
            return true;
        }
        if (k == 0 && *end != ',') break;
        p = end + 1;
    }
    if (*end != '\0')
        return cfg_fail(r, key, "expected N or h,w with integers of at least %lld, got '%s'",
                        (long long)min, text);
    return true;
}

/* padding = valid | same | N | h,w. `same` is PyTorch's padding='same':
 * stride 1 only, a total of d * (k - 1) per dimension with the odd one at
 * the bottom and right. */
static bool read_conv_padding(cfg_reader *r, const nerve_conv_layer_options *o,
                              nerve_conv2d_options *conv)
{
    char text[64];
    if (!cfg_has(r, "padding")) return true;
    if (!cfg_read_string(r, "padding", false, "valid", text, sizeof text)) return false;
    if (strcmp(text, "valid") == 0) return true;
    if (strcmp(text, "same") != 0) return read_pair(r, "padding", NULL, 0, conv->padding);
    if (conv->stride[0] != 1 || conv->stride[1] != 1)
        return cfg_fail(r, "padding", "same needs stride 1, got stride %lld,%lld",
                        (long long)conv->stride[0], (long long)conv->stride[1]);
    for (int d = 0; d < 2; d++) {
        int64_t total = conv->dilation[d] * (o->kernel[d] - 1);
        conv->padding[d] = total / 2;
        conv->padding_extra[d] = total % 2;
    }
    return true;
}

/* [conv2d] and [conv_transpose2d]: nn.Conv2d's and nn.ConvTranspose2d's
 * arguments, then activation= as [dense]'s (the layer <name>_act). */
static nerve_node build_conv(nerve_graph *g, const char *name, nerve_node input, cfg_reader *r,
                             nerve_rng *rng, bool transpose, nerve_error *err)
{
    nerve_conv_layer_options o = nerve_conv_layer_options_default();
    nerve_conv2d_options *conv = &o.conv;
    if (!cfg_read_int(r, "filters", true, 0, 1, 1 << 24, &o.filters) ||
        !read_pair(r, "kernel", NULL, 1, o.kernel) ||
        !read_pair(r, "stride", "1", 1, conv->stride) ||
        !read_pair(r, "dilation", "1", 1, conv->dilation))
        return -1;
    if (transpose ? !read_pair(r, "padding", "0", 0, conv->padding) ||
                        !read_pair(r, "output_padding", "0", 0, conv->output_padding)
                  : !read_conv_padding(r, &o, conv))
        return -1;
    for (int d = 0; d < 2; d++)
        if (conv->output_padding[d] >= conv->stride[d] &&
            conv->output_padding[d] >= conv->dilation[d])
            return cfg_fail(r, "output_padding", "must be smaller than stride or dilation");
    if (!cfg_read_int(r, "groups", false, 1, 1, 1 << 24, &conv->groups) ||
        !cfg_read_bool(r, "bias", true, &o.bias) || !read_init(r, "init", &o.init) ||
        !read_bias_init(r, o.bias, o.filters, &o.bias_init))
        return -1;
    nerve_shape in = nerve_node_shape(g, input);
    if (in.ndim == 4 && (in.dim[1] % conv->groups || o.filters % conv->groups))
        return cfg_fail(r, "groups", "%lld does not divide both the input's %lld channels and "
                        "the %lld filters", (long long)conv->groups, (long long)in.dim[1],
                        (long long)o.filters);
    nerve_node y = transpose ? nerve_conv_transpose2d_layer(g, name, input, &o, rng, err)
                             : nerve_conv2d_layer(g, name, input, &o, rng, err);
    if (y < 0) return -1;
    char activation_name[NERVE_LAYER_NAME_MAX + 8];
    snprintf(activation_name, sizeof activation_name, "%s_act", name);
    y = nerve_activation_section_build(g, activation_name, y, r, "activation", false, err);
    return y >= 0 && cfg_reader_finish(r) == NERVE_OK ? y : -1;
}

static nerve_node build_conv2d(nerve_graph *g, const char *name, nerve_node input, cfg_reader *r,
                               nerve_rng *rng, nerve_error *err)
{
    return build_conv(g, name, input, r, rng, false, err);
}

static nerve_node build_conv_transpose2d(nerve_graph *g, const char *name, nerve_node input,
                                         cfg_reader *r, nerve_rng *rng, nerve_error *err)
{
    return build_conv(g, name, input, r, rng, true, err);
}

static const layer_section_type layer_sections[] = {
    {"dense", build_dense},
    {"activation", build_activation},
    {"flatten", build_flatten},
    {"maxout", build_maxout},
    {"conv2d", build_conv2d},
    {"conv_transpose2d", build_conv_transpose2d},
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
