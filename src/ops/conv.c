/* What conv2d and conv_transpose2d share: options, operand checks, geometry,
 * multiply-adds. */
#include <stdio.h>

#include "core/options.h"
#include "ops/conv.h"

static nerve_conv2d_options nerve_conv2d_options_default_value(void)
{
    return (nerve_conv2d_options){.stride = {1, 1}, .dilation = {1, 1}, .groups = 1};
}

void nerve_conv2d_options_default_sized(nerve_conv2d_options *out, size_t size)
{
    nerve_conv2d_options value = nerve_conv2d_options_default_value();
    nerve_options_write(out, size, &value, sizeof value);
}

static nerve_status check_pair(const char *op, const char *what, const int64_t *pair, int64_t min,
                               nerve_error *err)
{
    if (pair[0] >= min && pair[1] >= min) return NERVE_OK;
    return nerve_error_set(err, NERVE_ERR_INVALID, "%s: %s must be at least %lld, got (%lld, %lld)",
                           op, what, (long long)min, (long long)pair[0], (long long)pair[1]);
}

static nerve_status check_options(const char *op, const nerve_conv2d_options *o, bool transpose,
                                  nerve_error *err)
{
    nerve_status st = check_pair(op, "stride", o->stride, 1, err);
    if (st == NERVE_OK) st = check_pair(op, "dilation", o->dilation, 1, err);
    if (st == NERVE_OK) st = check_pair(op, "padding", o->padding, 0, err);
    if (st == NERVE_OK) st = check_pair(op, "padding_extra", o->padding_extra, 0, err);
    if (st == NERVE_OK) st = check_pair(op, "output_padding", o->output_padding, 0, err);
    if (st != NERVE_OK) return st;
    if (o->groups < 1)
        return nerve_error_set(err, NERVE_ERR_INVALID, "%s: groups must be at least 1, got %lld",
                               op, (long long)o->groups);
    if (transpose && (o->padding_extra[0] || o->padding_extra[1]))
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "%s: padding_extra is conv2d's; use output_padding", op);
    if (!transpose && (o->output_padding[0] || o->output_padding[1]))
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "%s: output_padding is conv_transpose2d's", op);
    for (int d = 0; d < 2; d++) /* PyTorch's rule */
        if (o->output_padding[d] >= o->stride[d] && o->output_padding[d] >= o->dilation[d])
            return nerve_error_set(err, NERVE_ERR_INVALID,
                                   "%s: output_padding %lld must be smaller than stride %lld or "
                                   "dilation %lld", op, (long long)o->output_padding[d],
                                   (long long)o->stride[d], (long long)o->dilation[d]);
    return NERVE_OK;
}

nerve_node conv_add(nerve_graph *g, const nerve_op *op, nerve_node x, nerve_node weight,
                    nerve_node bias, const nerve_conv2d_options *options, bool transpose,
                    nerve_error *err)
{
    nerve_node_data proto = {0};
    proto.attr.conv = options ? *options : nerve_conv2d_options_default();
    if (check_options(op->name, &proto.attr.conv, transpose, err) != NERVE_OK) return -1;
    int inputs[3] = {x, weight, bias};
    return nerve_graph_add_op(g, op, inputs, bias >= 0 ? 3 : 2, &proto, err);
}

nerve_status conv_check_operands(nerve_graph *g, const nerve_node_data *node, int64_t w0,
                                 int64_t w1, int64_t bias_channels, nerve_error *err)
{
    const nerve_node_data *x = nerve_node_input(g, node, 0);
    const nerve_node_data *w = nerve_node_input(g, node, 1);
    const char *op = node->op->name;
    int64_t groups = node->attr.conv.groups;
    char xs[64], ws[64];
    nerve_shape_format(&x->shape, xs, sizeof xs);
    nerve_shape_format(&w->shape, ws, sizeof ws);
    if (x->shape.ndim != 4)
        return nerve_error_set(err, NERVE_ERR_SHAPE, "%s '%s': input %s is not [N, C, H, W]", op,
                               node->name, xs);
    if (x->shape.dim[1] % groups)
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "%s '%s': the input's %lld channels are not divisible by groups "
                               "%lld", op, node->name, (long long)x->shape.dim[1],
                               (long long)groups);
    if (w->shape.ndim != 4 || (w0 >= 0 && w->shape.dim[0] != w0) ||
        (w1 >= 0 && w->shape.dim[1] != w1) || w->shape.dim[2] < 1 || w->shape.dim[3] < 1)
    {
        char expected[64];
        if (w0 >= 0)
            snprintf(expected, sizeof expected, "[%lld, C_out / groups, kh, kw]", (long long)w0);
        else
            snprintf(expected, sizeof expected, "[C_out, %lld, kh, kw]", (long long)w1);
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "%s '%s': weight %s does not fit input %s in %lld groups (expected "
                               "%s)", op, node->name, ws, xs, (long long)groups, expected);
    }
    if (w0 < 0 && w->shape.dim[0] % groups)
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "%s '%s': the weight's %lld output channels are not divisible by "
                               "groups %lld", op, node->name, (long long)w->shape.dim[0],
                               (long long)groups);
    if (node->input_count == 3) {
        const nerve_node_data *b = nerve_node_input(g, node, 2);
        if (b->shape.ndim != 1 || b->shape.dim[0] != bias_channels)
            return nerve_error_set(err, NERVE_ERR_SHAPE, "%s '%s': bias must have shape [%lld]",
                                   op, node->name, (long long)bias_channels);
    }
    return NERVE_OK;
}

nerve_conv_geometry conv_geometry(const nerve_graph *g, const nerve_node_data *node,
                                  int64_t channels, int64_t height, int64_t width,
                                  int64_t col_channels, int64_t col_height, int64_t col_width)
{
    const nerve_shape *w = &g->nodes[node->input[1]].shape;
    const nerve_conv2d_options *o = &node->attr.conv;
    return (nerve_conv_geometry){
        .channels = channels, .height = height, .width = width,
        .col_channels = col_channels, .col_height = col_height, .col_width = col_width,
        .kernel = {w->dim[2], w->dim[3]},
        .stride = {o->stride[0], o->stride[1]},
        .padding = {o->padding[0], o->padding[1]},
        .dilation = {o->dilation[0], o->dilation[1]},
        .groups = o->groups,
    };
}

int64_t conv_flops(const nerve_conv_geometry *geo)
{
    return 2 * geo->col_channels * geo->col_height * geo->col_width * geo->channels / geo->groups *
           geo->kernel[0] * geo->kernel[1];
}
