/* The layer sections of a .cfg: each reads its keys and adds its nodes.
 * Adding a layer type is one function and one table entry. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "model/model_internal.h"

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
        !cfg_read_init(r, "init", &init) || !cfg_read_bias_init(r, bias, units, &bias_init))
        return -1;
    nerve_dense_options options = {.units = units, .no_bias = !bias, .init = init,
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
    nerve_maxout_options options = {0}; /* size 0: this library's layout */
    if (!cfg_read_int(r, "units", true, 0, 1, 1 << 24, &options.units) ||
        !cfg_read_int(r, "pieces", true, 0, 1, 1 << 24, &options.pieces) ||
        !cfg_read_init(r, "init", &options.init) || cfg_reader_finish(r) != NERVE_OK)
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

/* [batchnorm]: nn.BatchNorm1d/2d over dim 1 of its input; an activation= on
 * a layer named L is L_act, as on [dense]. */
static nerve_node build_batchnorm(nerve_graph *g, const char *name, nerve_node input,
                                  cfg_reader *r, nerve_rng *rng, nerve_error *err)
{
    nerve_batchnorm_options o = nerve_batchnorm_defaults();
    if (!cfg_read_double(r, "eps", false, o.eps, 0, 1, &o.eps)) return -1;
    if (o.eps <= 0) {
        cfg_fail(r, "eps", "must be above 0");
        return -1;
    }
    bool affine, track_running_stats;
    if (!cfg_read_double(r, "momentum", false, o.momentum, 0, 1, &o.momentum) ||
        !cfg_read_bool(r, "affine", true, &affine) ||
        !cfg_read_bool(r, "track_running_stats", true, &track_running_stats))
        return -1;
    o.no_affine = !affine;
    o.no_running_stats = !track_running_stats;
    nerve_node y = nerve_batchnorm_layer(g, name, input, &o, err);
    if (y < 0) return -1;
    char activation_name[NERVE_LAYER_NAME_MAX + 8];
    snprintf(activation_name, sizeof activation_name, "%s_act", name);
    y = nerve_activation_section_build(g, activation_name, y, r, "activation", false, err);
    return y >= 0 && cfg_reader_finish(r) == NERVE_OK ? y : -1;
}

/* [dropout] and [dropout2d]: p = 1 is allowed by the ops, as by torch, but a
 * layer that drops every value is a mistake in a cfg. */
typedef nerve_node (*dropout_builder)(nerve_graph *g, nerve_node x, double p, nerve_error *err);

static nerve_node dropout_section(nerve_graph *g, const char *name, nerve_node input,
                                  cfg_reader *r, dropout_builder drop, nerve_error *err)
{
    double p;
    if (!cfg_read_double(r, "p", false, 0.5, 0, 1, &p)) return -1;
    if (p >= 1) {
        cfg_fail(r, "p", "must be below 1 (p = 1 drops every value)");
        return -1;
    }
    if (cfg_reader_finish(r) != NERVE_OK) return -1;
    nerve_node y = drop(g, input, p, err);
    return y >= 0 && nerve_graph_rename(g, y, name, err) == NERVE_OK ? y : -1;
}

static nerve_node build_dropout(nerve_graph *g, const char *name, nerve_node input, cfg_reader *r,
                                nerve_rng *rng, nerve_error *err)
{
    return dropout_section(g, name, input, r, nerve_dropout, err);
}

static nerve_node build_dropout2d(nerve_graph *g, const char *name, nerve_node input,
                                  cfg_reader *r, nerve_rng *rng, nerve_error *err)
{
    return dropout_section(g, name, input, r, nerve_dropout2d, err);
}

/* [noise]: activation noise (nerve_activation_noise); a layer with neither
 * a scale nor a shift would do nothing, a mistake in a cfg. */
static nerve_node build_noise(nerve_graph *g, const char *name, nerve_node input, cfg_reader *r,
                              nerve_rng *rng, nerve_error *err)
{
    double scale, shift;
    if (!cfg_read_double(r, "scale", false, 0, 0, 0.999, &scale) ||
        !cfg_read_double(r, "shift", false, 0, 0, 1e6, &shift))
        return -1;
    if (scale == 0 && shift == 0) {
        cfg_fail(r, NULL, "needs scale or shift above 0 (without them it does nothing)");
        return -1;
    }
    if (cfg_reader_finish(r) != NERVE_OK) return -1;
    nerve_node y = nerve_activation_noise(g, input, scale, shift, err);
    return y >= 0 && nerve_graph_rename(g, y, name, err) == NERVE_OK ? y : -1;
}

/* Kernel, stride, padding and dilation of a convolution, per axis. */
#define CONV_SIZE_MAX (1 << 24)

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
    if (strcmp(text, "same") != 0) {
        if (!isdigit((unsigned char)text[0]))
            return cfg_fail(r, "padding", "'%s' is not valid, same, N or H,W", text);
        return cfg_read_pair(r, "padding", true, 0, CONV_SIZE_MAX, conv->padding);
    }
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
    bool bias;
    if (!cfg_read_int(r, "filters", true, 0, 1, 1 << 24, &o.filters) ||
        !cfg_read_pair(r, "kernel", true, 1, CONV_SIZE_MAX, o.kernel) ||
        !cfg_read_pair(r, "stride", false, 1, CONV_SIZE_MAX, conv->stride) ||
        !cfg_read_pair(r, "dilation", false, 1, CONV_SIZE_MAX, conv->dilation))
        return -1;
    if (transpose ? !cfg_read_pair(r, "padding", false, 0, CONV_SIZE_MAX, conv->padding) ||
                        !cfg_read_pair(r, "output_padding", false, 0, CONV_SIZE_MAX,
                                       conv->output_padding)
                  : !read_conv_padding(r, &o, conv))
        return -1;
    for (int d = 0; d < 2; d++)
        if (conv->output_padding[d] >= conv->stride[d] &&
            conv->output_padding[d] >= conv->dilation[d])
            return cfg_fail(r, "output_padding", "must be smaller than stride or dilation");
    if (!cfg_read_int(r, "groups", false, 1, 1, 1 << 24, &conv->groups) ||
        !cfg_read_bool(r, "bias", true, &bias) || !cfg_read_init(r, "init", &o.init) ||
        !cfg_read_bias_init(r, bias, o.filters, &o.bias_init))
        return -1;
    o.no_bias = !bias;
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
    {"dense", .build = build_dense},
    {"activation", .build = build_activation},
    {"flatten", .build = build_flatten},
    {"maxout", .build = build_maxout},
    {"maxpool2d", .build = nerve_maxpool2d_section_build},
    {"avgpool2d", .build = nerve_avgpool2d_section_build},
    {"global_avgpool", .build = nerve_global_avgpool_section_build},
    {"reshape", .build = nerve_reshape_section_build},
    {"identity", .build = nerve_identity_section_build},
    {"add", .join = nerve_add_section_join},
    {"concat", .join = nerve_concat_section_join},
    {"batchnorm", .build = build_batchnorm},
    {"dropout", .build = build_dropout},
    {"dropout2d", .build = build_dropout2d},
    {"noise", .build = build_noise},
    {"conv2d", .build = build_conv2d},
    {"conv_transpose2d", .build = build_conv_transpose2d},
    {"embedding", .build = nerve_embedding_section_build},
    {"one_hot", .build = nerve_one_hot_section_build},
    {"rnn", .build = nerve_rnn_section_build},
    {"lstm", .build = nerve_lstm_section_build},
    {"gru", .build = nerve_gru_section_build},
};
#define LAYER_SECTION_COUNT (int)(sizeof layer_sections / sizeof layer_sections[0])

const layer_section_type *nerve_layer_section_find(const char *type)
{
    for (int i = 0; i < LAYER_SECTION_COUNT; i++)
        if (strcmp(layer_sections[i].name, type) == 0) return &layer_sections[i];
    return NULL;
}

const char *nerve_layer_section_name_at(int i)
{
    return i >= 0 && i < LAYER_SECTION_COUNT ? layer_sections[i].name : NULL;
}

const char *nerve_layer_section_names(char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < LAYER_SECTION_COUNT && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "",
                                 layer_sections[i].name);
    return buf;
}
