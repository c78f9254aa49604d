/* conv_transpose2d: torch.nn.functional.conv_transpose2d on NCHW, weight
 * [C_in, C_out / groups, kh, kw], the adjoint of conv2d with that weight:
 * its input is the kernels' columns and its output their image
 * (nerve_conv_geometry), so forward is conv2d's input gradient and backward
 * conv2d's forward. */
#include "core/options.h"
#include "ops/conv.h"

static nerve_conv_geometry transpose_geometry(const nerve_graph *g, const nerve_node_data *node)
{
    const nerve_shape *x = &g->nodes[node->input[0]].shape;
    return conv_geometry(g, node, node->shape.dim[1], node->shape.dim[2], node->shape.dim[3],
                         x->dim[1], x->dim[2], x->dim[3]);
}

static nerve_status transpose_infer_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    const nerve_node_data *x = nerve_node_input(g, node, 0);
    const nerve_node_data *w = nerve_node_input(g, node, 1);
    const nerve_conv2d_options *o = &node->attr.conv;
    int64_t in_channels = x->shape.ndim == 4 ? x->shape.dim[1] : -1;
    int64_t out_channels = w->shape.ndim == 4 ? w->shape.dim[1] * o->groups : -1;
    nerve_status st = conv_check_operands(g, node, in_channels, -1, out_channels, err);
    if (st != NERVE_OK) return st;
    int64_t out[2];
    for (int d = 0; d < 2; d++)
        out[d] = (x->shape.dim[2 + d] - 1) * o->stride[d] - 2 * o->padding[d] +
                 o->dilation[d] * (w->shape.dim[2 + d] - 1) + o->output_padding[d] + 1;
    if (out[0] < 1 || out[1] < 1)
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "conv_transpose2d '%s': padding %lldx%lld leaves an output of "
                               "%lldx%lld", node->name, (long long)o->padding[0],
                               (long long)o->padding[1], (long long)out[0], (long long)out[1]);
    int64_t dims[4] = {x->shape.dim[0], out_channels, out[0], out[1]};
    node->shape = nerve_shape_make(4, dims);
    nerve_conv_geometry geo = transpose_geometry(g, node);
    return nerve_graph_pass_error(
        g, NERVE_RUN(g, conv_workspace, &geo, node->shape.dim[0], &node->workspace_size), err);
}

static nerve_status transpose_forward(nerve_graph *g, nerve_node_data *node)
{
    nerve_conv_geometry geo = transpose_geometry(g, node);
    const nerve_real *bias = node->input_count == 3 ? nerve_node_input(g, node, 2)->value : NULL;
    NERVE_TRY(NERVE_RUN(g, conv_image, &geo, node->shape.dim[0],
                        nerve_node_input(g, node, 0)->value, nerve_node_input(g, node, 1)->value,
                        bias, false, node->value, g->workspace, g->workspace_size));
    return NERVE_OK;
}

/* The gradients of bias (per channel of dy's planes) and of the weight; the
 * input's is conv_columns' (conv2d's backward is one kernel, conv_backward). */
static nerve_status backward_parameters(nerve_graph *g, const nerve_node_data *node,
                                        const nerve_conv_geometry *geo, const nerve_real *image,
                                        const nerve_real *cols, int64_t batch)
{
    nerve_node_data *w = nerve_node_input(g, node, 1);
    if (w->needs_grad) {
        NERVE_TRY(nerve_graph_grad_prepare_add(g, w));
        NERVE_TRY(NERVE_RUN(g, conv_weight_gradient, geo, batch, image, cols, w->grad, g->workspace,
                            g->workspace_size));
    }
    if (node->input_count == 3) {
        nerve_node_data *b = nerve_node_input(g, node, 2);
        const nerve_shape *y = &node->shape;
        if (b->needs_grad) {
            NERVE_TRY(nerve_graph_grad_prepare_add(g, b));
            NERVE_TRY(NERVE_RUN(g, sum_channels, node->grad, b->grad, batch, y->dim[1],
                                y->dim[2] * y->dim[3]));
        }
    }
    return NERVE_OK;
}

static nerve_status transpose_backward(nerve_graph *g, nerve_node_data *node)
{
    nerve_conv_geometry geo = transpose_geometry(g, node);
    nerve_node_data *x = nerve_node_input(g, node, 0);
    int64_t batch = node->shape.dim[0];
    if (x->needs_grad)
        NERVE_TRY(NERVE_RUN(g, conv_columns, &geo, batch, node->grad,
                            nerve_node_input(g, node, 1)->value, NULL,
                            nerve_graph_grad_accumulate(g, x), x->grad, g->workspace,
                            g->workspace_size));
    NERVE_TRY(backward_parameters(g, node, &geo, node->grad, x->value, batch));
    return NERVE_OK;
}

static int64_t transpose_flops(const nerve_graph *g, const nerve_node_data *node)
{
    nerve_conv_geometry geo = transpose_geometry(g, node);
    int64_t bias = node->input_count == 3 ? nerve_shape_cols(&node->shape) : 0;
    return conv_flops(&geo) + bias;
}

static const nerve_op conv_transpose2d_op = {
    .name = "conv_transpose2d",
    .infer_shape = transpose_infer_shape,
    .forward = transpose_forward,
    .backward = transpose_backward,
    .flops = transpose_flops,
    .assigns_grads = true,
};

nerve_node nerve_conv_transpose2d(nerve_graph *g, nerve_node x, nerve_node weight,
                                  nerve_node bias, const nerve_conv2d_options *options,
                                  nerve_error *err)
{
    NERVE_OPTIONS_IN(nerve_conv2d_options, options, output_padding, "nerve_conv_transpose2d",
                     err, -1);
    return conv_add(g, &conv_transpose2d_op, x, weight, bias, options, true, err);
}
