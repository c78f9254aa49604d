#include "core/options.h"
#include "ops/pool2d.h"

static nerve_pool2d_options nerve_pool2d_defaults_value(int64_t kernel_h, int64_t kernel_w)
{
    nerve_pool2d_options o = {.kernel = {kernel_h, kernel_w},
                              .stride = {kernel_h, kernel_w},
                              .dilation = {1, 1},
                              .count_include_pad = true};
    return o;
}

void nerve_pool2d_defaults_sized(int64_t kernel_h, int64_t kernel_w,
                                 nerve_pool2d_options *out, size_t size)
{
    nerve_pool2d_options value = nerve_pool2d_defaults_value(kernel_h, kernel_w);
    nerve_options_write(out, size, &value, sizeof value);
}

static const char *const axis_name[2] = {"height", "width"};

nerve_node pool2d_add(nerve_graph *g, const nerve_op *op, nerve_node x,
                      const nerve_pool2d_options *options, bool with_dilation, nerve_error *err)
{
    const nerve_pool2d_options *o = options;
    for (int a = 0; a < 2; a++) {
        const char *bad = o->kernel[a] < 1                          ? "kernel must be at least 1"
                          : o->stride[a] < 1                        ? "stride must be at least 1"
                          : o->dilation[a] < 1                      ? "dilation must be at least 1"
                          : !with_dilation && o->dilation[a] != 1   ? "has no dilation"
                          : o->padding[a] < 0                       ? "padding must not be negative"
                          : o->padding[a] > o->kernel[a] / 2        ? "padding must be at most "
                                                                      "half the kernel"
                                                                    : NULL;
        if (bad) {
            nerve_error_set(err, NERVE_ERR_INVALID,
                            "%s: %s (%s: kernel %lld, stride %lld, padding %lld, dilation %lld)",
                            op->name, bad, axis_name[a], (long long)o->kernel[a],
                            (long long)o->stride[a], (long long)o->padding[a],
                            (long long)o->dilation[a]);
            return -1;
        }
    }
    if (o->divisor_override < 0) {
        nerve_error_set(err, NERVE_ERR_INVALID, "%s: divisor_override must be positive or 0 (none)",
                        op->name);
        return -1;
    }
    nerve_node_data proto = {0};
    proto.attr.pool = *o;
    return nerve_graph_add_op(g, op, &x, 1, &proto, err);
}

/* torch's pooling_output_shape: floor (or ceil) of the span over the stride,
 * plus one; with ceil_mode the last window must start inside the input or
 * its left padding, never in the right padding alone. */
static int64_t pool_output_size(int64_t in, int64_t kernel, int64_t pad, int64_t stride,
                                int64_t dilation, bool ceil_mode)
{
    int64_t span = in + 2 * pad - dilation * (kernel - 1) - 1 + (ceil_mode ? stride - 1 : 0);
    int64_t floor_div = span >= 0 ? span / stride : -((-span + stride - 1) / stride);
    int64_t out = floor_div + 1;
    if (ceil_mode && (out - 1) * stride >= in + pad) out--;
    return out;
}

nerve_status pool2d_infer_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    const nerve_node_data *x = nerve_node_input(g, node, 0);
    const nerve_shape *in = &x->shape;
    const nerve_pool2d_options *o = &node->attr.pool;
    char text[64];
    if (in->ndim != 4)
        return nerve_error_set(err, NERVE_ERR_SHAPE, "%s: input '%s' %s is not [N, C, H, W]",
                               node->op->name, x->name, nerve_shape_format(in, text, sizeof text));
    int64_t out[2];
    for (int a = 0; a < 2; a++) {
        out[a] = pool_output_size(in->dim[2 + a], o->kernel[a], o->padding[a], o->stride[a],
                                  o->dilation[a], o->ceil_mode);
        if (out[a] < 1)
            return nerve_error_set(err, NERVE_ERR_SHAPE,
                                   "%s: input '%s' %s is too small for a kernel of %lldx%lld "
                                   "(padding %lldx%lld, dilation %lldx%lld)",
                                   node->op->name, x->name,
                                   nerve_shape_format(in, text, sizeof text),
                                   (long long)o->kernel[0], (long long)o->kernel[1],
                                   (long long)o->padding[0], (long long)o->padding[1],
                                   (long long)o->dilation[0], (long long)o->dilation[1]);
    }
    node->shape = *in;
    node->shape.dim[2] = out[0];
    node->shape.dim[3] = out[1];
    return NERVE_OK;
}

nerve_pool2d_geometry pool2d_geometry(nerve_graph *g, const nerve_node_data *node)
{
    const nerve_shape *in = &nerve_node_input(g, node, 0)->shape;
    const nerve_pool2d_options *o = &node->attr.pool;
    nerve_pool2d_geometry p = {
        .planes = in->dim[0] * in->dim[1],
        .in_h = in->dim[2], .in_w = in->dim[3],
        .out_h = node->shape.dim[2], .out_w = node->shape.dim[3],
        .kernel_h = o->kernel[0], .kernel_w = o->kernel[1],
        .stride_h = o->stride[0], .stride_w = o->stride[1],
        .pad_h = o->padding[0], .pad_w = o->padding[1],
        .dilation_h = o->dilation[0], .dilation_w = o->dilation[1],
        .count_include_pad = o->count_include_pad,
        .divisor_override = o->divisor_override,
    };
    return p;
}

int64_t pool2d_flops(const nerve_graph *g, const nerve_node_data *node)
{
    return nerve_shape_cols(&node->shape) * node->attr.pool.kernel[0] * node->attr.pool.kernel[1];
}
