/* Inverted dropout (Srivastava et al. 2014), as torch.nn.Dropout and
 * Dropout2d: in training, each row of the input (an element, or a channel's
 * plane for dropout2d) is zeroed with probability p and the others scaled by
 * 1 / (1 - p), so that the expected output is the input and eval mode is the
 * identity. The mask, one scale per row, is the counter-based noise of the
 * graph's position (core/noise.h; as rrelu's slopes): a sample's mask is a
 * function of its global index, not of its row in the batch, the same on
 * every backend, drawn by the device's dropout_mask kernel. It is kept in
 * aux, and whether the forward applied it in forward_flag, so backward
 * follows the forward whatever the mode is by then.
 * Where no mask applies (eval mode, p = 0) the identity activation's
 * kernels run. */
#include "core/graph_internal.h"

static const nerve_op dropout_op, dropout2d_op;

/* The rows one draw covers: every element, or each (sample, channel). */
static int64_t mask_rows(const nerve_node_data *node)
{
    if (node->op == &dropout_op) return nerve_shape_numel(&node->shape);
    return node->shape.dim[0] * node->shape.dim[1];
}

static nerve_status dropout_infer_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    node->shape = nerve_node_input(g, node, 0)->shape;
    node->aux_size = mask_rows(node);
    return NERVE_OK;
}

static nerve_status dropout2d_infer_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    const nerve_node_data *x = nerve_node_input(g, node, 0);
    char xs[64];
    if (x->shape.ndim != 3 && x->shape.ndim != 4)
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "dropout2d '%s': input %s is neither [N, C, H, W] nor [N, C, L] "
                               "(dropout drops single elements)",
                               node->name, nerve_shape_format(&x->shape, xs, sizeof xs));
    return dropout_infer_shape(g, node, err);
}

static nerve_status dropout_forward(nerve_graph *g, nerve_node_data *node)
{
    const nerve_node_data *x = nerve_node_input(g, node, 0);
    double p = node->attr.f[0];
    int64_t n = nerve_shape_numel(&node->shape), rows = mask_rows(node);
    nerve_real *mask = node->aux;
    node->forward_flag = (nerve_graph_training(g) || g->dropout_in_eval) && p > 0;
    if (!node->forward_flag) {
        nerve_activation_params none = nerve_activation_defaults();
        NERVE_TRY(
            NERVE_RUN(g, activation_forward, NERVE_ACT_IDENTITY, &none, x->value, node->value, n));
        return NERVE_OK;
    }
    nerve_noise_at at;
    int64_t samples = nerve_graph_noise_at(g, node, &at);
    NERVE_TRY(NERVE_RUN(g, dropout_mask, &at, samples, rows / samples, p, mask));
    return NERVE_RUN(g, scale_rows, x->value, mask, node->value, rows, n / rows);
}

static nerve_status dropout_backward(nerve_graph *g, nerve_node_data *node)
{
    nerve_node_data *x = nerve_node_input(g, node, 0);
    if (!x->needs_grad) return NERVE_OK;
    int64_t n = nerve_shape_numel(&node->shape), rows = mask_rows(node);
    nerve_activation_params none = nerve_activation_defaults();
    if (node->forward_flag)
        NERVE_TRY(NERVE_RUN(g, scale_rows_backward, node->grad, node->aux, x->grad, rows, n / rows));
    else
        NERVE_TRY(NERVE_RUN(g, activation_backward, NERVE_ACT_IDENTITY, &none, x->value,
                            node->value, node->grad, true, x->grad, n));
    return NERVE_OK;
}

static const nerve_op dropout_op = {
    .name = "dropout",
    .infer_shape = dropout_infer_shape,
    .forward = dropout_forward,
    .backward = dropout_backward,
};

static const nerve_op dropout2d_op = {
    .name = "dropout2d",
    .infer_shape = dropout2d_infer_shape,
    .forward = dropout_forward,
    .backward = dropout_backward,
};

static nerve_node add_dropout(nerve_graph *g, const nerve_op *op, nerve_node x, double p,
                              nerve_error *err)
{
    if (!(p >= 0 && p <= 1)) {
        nerve_error_set(err, NERVE_ERR_INVALID, "%s: p must be in [0, 1], got %g", op->name, p);
        return -1;
    }
    nerve_node_data proto = {0};
    proto.attr.f[0] = p;
    return nerve_graph_add_op(g, op, &x, 1, &proto, err);
}

nerve_node nerve_dropout(nerve_graph *g, nerve_node x, double p, nerve_error *err)
{
    return add_dropout(g, &dropout_op, x, p, err);
}

nerve_node nerve_dropout2d(nerve_graph *g, nerve_node x, double p, nerve_error *err)
{
    return add_dropout(g, &dropout2d_op, x, p, err);
}
