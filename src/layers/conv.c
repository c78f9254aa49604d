/* Convolution layers: nn.Conv2d's and nn.ConvTranspose2d's parameters
 * (<name>.weight, <name>.bias) and initialisation. */
#include <stdio.h>

#include "core/options.h"
#include "layers/layer_support.h"

static nerve_conv_layer_options nerve_conv_layer_options_default_value(void)
{
    return (nerve_conv_layer_options){.conv = nerve_conv2d_options_default()};
}

void nerve_conv_layer_options_default_sized(nerve_conv_layer_options *out, size_t size)
{
    nerve_conv_layer_options value = nerve_conv_layer_options_default_value();
    nerve_options_write(out, size, &value, sizeof value);
}

static nerve_node conv_layer(nerve_graph *g, const char *name, nerve_node x,
                             const nerve_conv_layer_options *o, nerve_rng *rng, bool transpose,
                             nerve_error *err)
{
    const char *type = transpose ? "conv_transpose2d" : "conv2d";
    nerve_shape in = nerve_node_shape(g, x);
    char pname[NERVE_NAME_MAX + 16], shape_text[64];
    if (o->filters < 1 || o->kernel[0] < 1 || o->kernel[1] < 1) {
        nerve_error_set(err, NERVE_ERR_INVALID, "%s '%s': filters and kernel must be at least 1",
                        type, name);
        return -1;
    }
    if (in.ndim != 4) {
        nerve_error_set(err, NERVE_ERR_SHAPE, "%s '%s': input %s is not [N, C, H, W]", type, name,
                        nerve_shape_format(&in, shape_text, sizeof shape_text));
        return -1;
    }
    int64_t channels = in.dim[1], groups = o->conv.groups;
    if (groups < 1 || channels % groups || o->filters % groups) {
        nerve_error_set(err, NERVE_ERR_SHAPE,
                        "%s '%s': groups %lld must divide the input's %lld channels and the %lld "
                        "filters", type, name, (long long)groups, (long long)channels,
                        (long long)o->filters);
        return -1;
    }
    if (o->no_bias && o->bias_init.kind != NERVE_INIT_DEFAULT) {
        nerve_error_set(err, NERVE_ERR_INVALID, "%s '%s': bias_init given for a layer without a "
                        "bias", type, name);
        return -1;
    }
    int64_t dims[4] = {o->filters, channels / groups, o->kernel[0], o->kernel[1]};
    if (transpose) {
        dims[0] = channels;
        dims[1] = o->filters / groups;
    }
    snprintf(pname, sizeof pname, "%s.weight", name);
    nerve_node w = nerve_param(g, pname, nerve_shape_make(4, dims), err);
    if (w < 0) return -1;
    /* _ConvNd.reset_parameters: as nn.Linear's, with torch's fan_in of the
     * weight, dims[1] * kh * kw, for both layer types. */
    nerve_init weight_init =
        o->init.kind == NERVE_INIT_DEFAULT ? nerve_dense_default_weight_init() : o->init;
    if (!nerve_layer_fill_param(g, w, &weight_init, rng, err)) return -1;
    nerve_node b = -1;
    if (!o->no_bias) {
        snprintf(pname, sizeof pname, "%s.bias", name);
        b = nerve_param(g, pname, nerve_shape_1d(o->filters), err);
        if (b < 0) return -1;
        nerve_init bias_init = o->bias_init.kind == NERVE_INIT_DEFAULT
                                   ? nerve_dense_default_bias_init(dims[1] * dims[2] * dims[3])
                                   : o->bias_init;
        if (!nerve_layer_fill_param(g, b, &bias_init, rng, err)) return -1;
    }
    nerve_node y = transpose ? nerve_conv_transpose2d(g, x, w, b, &o->conv, err)
                             : nerve_conv2d(g, x, w, b, &o->conv, err);
    if (y < 0 || nerve_graph_rename(g, y, name, err) != NERVE_OK) return -1;
    return y;
}

nerve_node nerve_conv2d_layer(nerve_graph *g, const char *name, nerve_node x,
                              const nerve_conv_layer_options *options, nerve_rng *rng,
                              nerve_error *err)
{
    NERVE_OPTIONS_IN(nerve_conv_layer_options, options, bias_init, "nerve_conv2d_layer", err, -1);
    return conv_layer(g, name, x, options, rng, false, err);
}

nerve_node nerve_conv_transpose2d_layer(nerve_graph *g, const char *name, nerve_node x,
                                        const nerve_conv_layer_options *options,
                                        nerve_rng *rng, nerve_error *err)
{
    NERVE_OPTIONS_IN(nerve_conv_layer_options, options, bias_init, "nerve_conv_transpose2d_layer",
                     err, -1);
    return conv_layer(g, name, x, options, rng, true, err);
}
