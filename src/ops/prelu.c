/* PReLU, as torch.nn.PReLU: a learned negative slope, one shared by every
 * element or one per channel (dim 1 of the input). */
#include "core/graph_internal.h"

static nerve_status prelu_infer_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    const nerve_node_data *x = nerve_node_input(g, node, 0);
    const nerve_node_data *w = nerve_node_input(g, node, 1);
    char xs[64], ws[64];
    int64_t channels = w->shape.ndim == 1 ? w->shape.dim[0] : -1;
    bool fits = channels == 1 || (x->shape.ndim >= 2 && channels == x->shape.dim[1]);
    if (!fits)
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "prelu '%s': weight %s fits neither [1] nor input %s's channels "
                               "(dim 1)",
                               node->name, nerve_shape_format(&w->shape, ws, sizeof ws),
                               nerve_shape_format(&x->shape, xs, sizeof xs));
    node->shape = x->shape;
    return NERVE_OK;
}

/* A shared slope is one channel spanning the whole sample. */
static void channel_view(const nerve_node_data *node, const nerve_node_data *w, int64_t *outer,
                         int64_t *channels, int64_t *inner)
{
    *outer = nerve_shape_rows(&node->shape);
    *channels = w->shape.dim[0];
    *inner = nerve_shape_cols(&node->shape) / *channels;
}

static nerve_status prelu_forward(nerve_graph *g, nerve_node_data *node)
{
    const nerve_node_data *x = nerve_node_input(g, node, 0);
    const nerve_node_data *w = nerve_node_input(g, node, 1);
    int64_t outer, channels, inner;
    channel_view(node, w, &outer, &channels, &inner);
    NERVE_TRY(NERVE_RUN(g, prelu_forward, x->value, w->value, node->value, outer, channels, inner));
    return NERVE_OK;
}

static nerve_status prelu_backward(nerve_graph *g, nerve_node_data *node)
{
    nerve_node_data *x = nerve_node_input(g, node, 0);
    nerve_node_data *w = nerve_node_input(g, node, 1);
    int64_t outer, channels, inner;
    channel_view(node, w, &outer, &channels, &inner);
    NERVE_TRY(NERVE_RUN(g, prelu_backward, x->value, w->value, node->grad,
                        x->needs_grad ? x->grad : NULL, w->needs_grad ? w->grad : NULL, outer,
                        channels, inner));
    return NERVE_OK;
}

static const nerve_op prelu_op = {
    .name = "prelu",
    .infer_shape = prelu_infer_shape,
    .forward = prelu_forward,
    .backward = prelu_backward,
};

nerve_node nerve_prelu(nerve_graph *g, nerve_node x, nerve_node weight, nerve_error *err)
{
    int inputs[2] = {x, weight};
    return nerve_graph_add_op(g, &prelu_op, inputs, 2, NULL, err);
}
