/* conv2d: torch.nn.functional.conv2d on NCHW, weight [C_out, C_in / groups,
 * kh, kw]. The input is the kernels' image and the output their columns
 * (nerve_conv_geometry); the backward pass runs the same map's adjoint. */
#include "core/options.h"
#include "ops/batch_norm.h"
#include "ops/conv.h"

static nerve_conv_geometry conv2d_geometry(const nerve_graph *g, const nerve_node_data *node)
{
    const nerve_shape *x = &g->nodes[node->input[0]].shape;
    return conv_geometry(g, node, x->dim[1], x->dim[2], x->dim[3], node->shape.dim[1],
                         node->shape.dim[2], node->shape.dim[3]);
}

/* A folded batch norm's weight and bias, and a vector of zeros (core/fold.c),
 * which lie at the end of the workspace. */
static int64_t fold_size(nerve_graph *g, const nerve_node_data *node)
{
    return nerve_shape_numel(&nerve_node_input(g, node, 1)->shape) + 2 * node->shape.dim[1];
}

static nerve_status conv2d_infer_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    const nerve_node_data *x = nerve_node_input(g, node, 0);
    const nerve_node_data *w = nerve_node_input(g, node, 1);
    const nerve_conv2d_options *o = &node->attr.conv;
    int64_t out_channels = w->shape.ndim == 4 ? w->shape.dim[0] : -1;
    int64_t in_per_group = x->shape.ndim == 4 ? x->shape.dim[1] / o->groups : -1;
    nerve_status st = conv_check_operands(g, node, -1, in_per_group, out_channels, err);
    if (st != NERVE_OK) return st;
    int64_t out[2], padded[2], span[2];
    for (int d = 0; d < 2; d++) {
        padded[d] = x->shape.dim[2 + d] + 2 * o->padding[d] + o->padding_extra[d];
        span[d] = o->dilation[d] * (w->shape.dim[2 + d] - 1) + 1;
        out[d] = (padded[d] - span[d]) / o->stride[d] + 1;
    }
    if (padded[0] < span[0] || padded[1] < span[1])
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "conv2d '%s': kernel %lldx%lld (dilated: %lldx%lld) is larger than "
                               "the padded input %lldx%lld", node->name,
                               (long long)w->shape.dim[2], (long long)w->shape.dim[3],
                               (long long)span[0], (long long)span[1], (long long)padded[0],
                               (long long)padded[1]);
    int64_t dims[4] = {x->shape.dim[0], out_channels, out[0], out[1]};
    node->shape = nerve_shape_make(4, dims);
    nerve_conv_geometry geo = conv2d_geometry(g, node);
    st = nerve_graph_pass_error(
        g, NERVE_RUN(g, conv_workspace, &geo, node->shape.dim[0], &node->workspace_size), err);
    node->workspace_size += fold_size(g, node);
    return st;
}

/* The batch norm this forward applies itself (core/fold.c), or NULL. */
static nerve_node_data *folded_batch_norm(nerve_graph *g, const nerve_node_data *node)
{
    if (!node->fold_consumer) return NULL;
    int i = node->fold_consumer - 1;
    return g->needed[i] && nerve_batch_norm_foldable(g, &g->nodes[i]) ? &g->nodes[i] : NULL;
}

/* The ReLU this forward applies as well (inference plans: core/fold.c),
 * after the convolution or after the batch norm folded into it, or NULL;
 * marks the ReLU either way. Where the batch norm runs itself it applies
 * the ReLU. */
static nerve_node_data *folded_relu(nerve_graph *g, const nerve_node_data *node,
                                    const nerve_node_data *bn)
{
    const nerve_node_data *last = node;
    if (node->fold_consumer && g->nodes[node->fold_consumer - 1].op->folds_into_input) {
        if (!bn) return NULL;
        last = bn;
    }
    return nerve_fold_take(g, last);
}

/* Training plans: with the batch norm folded into it (core/fold.c), where
 * this forward may run it. */
static nerve_status conv2d_training_forward(nerve_graph *g, nerve_node_data *node,
                                            const nerve_conv_geometry *geo,
                                            const nerve_real *weight, const nerve_real *bias)
{
    const nerve_real *x = nerve_node_input(g, node, 0)->value;
    nerve_node_data *bn = node->fold_consumer ? &g->nodes[node->fold_consumer - 1] : NULL;
    nerve_batch_norm_pass pass;
    bool folds = bn && node->needs_grad && nerve_batch_norm_training_pass(g, bn, &pass);
    if (bn) bn->forward_folded = folds;
    if (folds)
        return NERVE_RUN(g, conv_batch_norm_forward, geo, node->shape.dim[0], x, weight, bias,
                         node->value, &pass, g->workspace, g->workspace_size);
    return NERVE_RUN(g, conv_columns, geo, node->shape.dim[0], x, weight, bias, false,
                     node->value, g->workspace, g->workspace_size);
}

/* Inference plans (core/fold.c): whether this forward hands its output,
 * which ends at node `last` (the last fold it applies), to the convolution
 * that alone reads it in the backend's layout; marks that convolution. */
static nerve_status hand_over(nerve_graph *g, const nerve_node_data *node,
                              const nerve_node_data *last, nerve_conv_geometry *geo,
                              int64_t workspace_size)
{
    if (!node->layout_consumer) return NERVE_OK;
    nerve_node_data *next = &g->nodes[node->layout_consumer - 1];
    bool ok = false;
    /* Before the target only: the values an op at or after the target reads
     * stay readable (nerve_graph_plan_inference). */
    if (g->needed[next - g->nodes] && next - g->nodes < g->forward_target &&
        &g->nodes[next->input[0]] == last) {
        nerve_conv_geometry next_geo = conv2d_geometry(g, next);
        int64_t room = g->workspace_size - fold_size(g, next);
        NERVE_TRY(NERVE_RUN(g, conv_hand_over, geo, &next_geo, node->shape.dim[0],
                            room < workspace_size ? room : workspace_size, &ok));
    }
    next->input_private = ok;
    geo->cols_private = ok;
    return NERVE_OK;
}

static nerve_status conv2d_forward(nerve_graph *g, nerve_node_data *node)
{
    nerve_conv_geometry geo = conv2d_geometry(g, node);
    const nerve_real *weight = nerve_node_input(g, node, 1)->value;
    const nerve_real *bias = node->input_count == 3 ? nerve_node_input(g, node, 2)->value : NULL;
    if (g->plan_training) return conv2d_training_forward(g, node, &geo, weight, bias);
    int64_t workspace_size = g->workspace_size;
    nerve_node_data *bn = folded_batch_norm(g, node);
    if (node->fold_consumer) g->nodes[node->fold_consumer - 1].forward_folded = bn != NULL;
    if (bn) {
        bn->forward_flag = bn->forward_synchronised = false; /* its eval-mode map */
        workspace_size -= fold_size(g, node);
        int64_t channels = node->shape.dim[1];
        nerve_real *folded_weight = g->workspace + workspace_size;
        nerve_real *folded_bias = folded_weight + nerve_shape_numel(&nerve_node_input(g, node, 1)->shape);
        NERVE_TRY(nerve_batch_norm_fold(g, bn, weight, bias, channels,
                                        geo.channels / geo.groups * geo.kernel[0] * geo.kernel[1],
                                        folded_weight, folded_bias, folded_bias + channels));
        weight = folded_weight;
        bias = folded_bias;
    }
    const nerve_real *x = nerve_node_input(g, node, 0)->value;
    geo.image_private = node->input_private;
    nerve_node_data *relu = folded_relu(g, node, bn);
    NERVE_TRY(hand_over(g, node, relu ? relu : bn ? bn : node, &geo, workspace_size));
    /* The ReLU shares this node's value (the plan's in-place chain). */
    if (relu)
        return NERVE_RUN(g, conv_columns_relu, &geo, node->shape.dim[0], x, weight, bias,
                         node->value, g->workspace, workspace_size);
    return NERVE_RUN(g, conv_columns, &geo, node->shape.dim[0], x, weight, bias, false,
                     node->value, g->workspace, workspace_size);
}

/* The gradient of the input, the weight and the bias in one kernel, which
 * can share their work (conv_backward); with the batch norm whose forward
 * this forward ran, its backward first (conv_batch_norm_backward), where
 * this backward follows the batch norm's. */
static nerve_status conv2d_backward(nerve_graph *g, nerve_node_data *node)
{
    nerve_conv_geometry geo = conv2d_geometry(g, node);
    nerve_node_data *x = nerve_node_input(g, node, 0), *w = nerve_node_input(g, node, 1);
    nerve_node_data *b = node->input_count == 3 ? nerve_node_input(g, node, 2) : NULL;
    nerve_node_data *bn = node->fold_consumer ? &g->nodes[node->fold_consumer - 1] : NULL;
    bool with_bn = bn && bn->forward_folded && g->needed[bn - g->nodes];
    nerve_batch_norm_pass pass;
    if (with_bn) {
        NERVE_TRY(nerve_batch_norm_backward_pass(g, bn, &pass));
        nerve_graph_grad_accumulate(g, node); /* the batch norm's pass assigns it */
    }
    bool accumulate = x->needs_grad && nerve_graph_grad_accumulate(g, x);
    if (w->needs_grad) NERVE_TRY(nerve_graph_grad_prepare_add(g, w));
    if (b && b->needs_grad) NERVE_TRY(nerve_graph_grad_prepare_add(g, b));
    if (with_bn)
        return NERVE_RUN(g, conv_batch_norm_backward, &geo, node->shape.dim[0], x->value,
                         w->value, b ? b->value : NULL, node->value, node->grad, &pass,
                         accumulate, x->needs_grad ? x->grad : NULL,
                         w->needs_grad ? w->grad : NULL, b && b->needs_grad ? b->grad : NULL,
                         g->workspace, g->workspace_size);
    return NERVE_RUN(g, conv_backward, &geo, node->shape.dim[0], x->value, w->value, node->grad,
                     accumulate, x->needs_grad ? x->grad : NULL, w->needs_grad ? w->grad : NULL,
                     b && b->needs_grad ? b->grad : NULL, g->workspace, g->workspace_size);
}

static int64_t conv2d_flops(const nerve_graph *g, const nerve_node_data *node)
{
    nerve_conv_geometry geo = conv2d_geometry(g, node);
    int64_t bias = node->input_count == 3 ? nerve_shape_cols(&node->shape) : 0;
    return conv_flops(&geo) + bias;
}

static const nerve_op conv2d_op = {
    .name = "conv2d",
    .infer_shape = conv2d_infer_shape,
    .forward = conv2d_forward,
    .backward = conv2d_backward,
    .flops = conv2d_flops,
    .assigns_grads = true,
    .absorbs_channel_affine = true,
    .absorbs_relu_in_inference = true,
    .absorbs_batch_norm_in_training = true,
};

nerve_node nerve_conv2d(nerve_graph *g, nerve_node x, nerve_node weight, nerve_node bias,
                        const nerve_conv2d_options *options, nerve_error *err)
{
    NERVE_OPTIONS_IN(nerve_conv2d_options, options, output_padding, "nerve_conv2d", err, -1);
    return conv_add(g, &conv2d_op, x, weight, bias, options, false, err);
}
