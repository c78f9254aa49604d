/* Swish with a learnable beta (Ramachandran et al. 2017): y = x * sigmoid(beta * x).
 * The value and dx are the element-wise swish kernels at the current beta;
 * only beta's own gradient needs a kernel of its own. */
#include "core/graph_internal.h"

static nerve_status swish_infer_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    const nerve_node_data *beta = nerve_node_input(g, node, 1);
    char bs[64];
    if (nerve_shape_numel(&beta->shape) != 1 || beta->batched)
        return nerve_error_set(err, NERVE_ERR_SHAPE, "swish '%s': beta %s must have shape [1]",
                               node->name, nerve_shape_format(&beta->shape, bs, sizeof bs));
    node->shape = nerve_node_input(g, node, 0)->shape;
    return NERVE_OK;
}

/* The activation kernels take beta by value: one scalar read from the device
 * (the only host read the op makes; beta's own gradient stays there). */
static nerve_status params_at(nerve_graph *g, const nerve_node_data *beta,
                              nerve_activation_params *p)
{
    nerve_real value;
    *p = nerve_activation_defaults();
    NERVE_TRY(nerve_graph_download(g, &value, beta->value, 1));
    p->beta = value;
    return NERVE_OK;
}

static nerve_status swish_forward(nerve_graph *g, nerve_node_data *node)
{
    const nerve_node_data *x = nerve_node_input(g, node, 0);
    nerve_activation_params p;
    NERVE_TRY(params_at(g, nerve_node_input(g, node, 1), &p));
    return NERVE_RUN(g, activation_forward, NERVE_ACT_SWISH, &p, x->value, node->value,
                     nerve_shape_numel(&node->shape));
}

static nerve_status swish_backward(nerve_graph *g, nerve_node_data *node)
{
    nerve_node_data *x = nerve_node_input(g, node, 0);
    nerve_node_data *beta = nerve_node_input(g, node, 1);
    int64_t n = nerve_shape_numel(&node->shape);
    if (x->needs_grad) {
        nerve_activation_params p;
        NERVE_TRY(params_at(g, beta, &p));
        NERVE_TRY(NERVE_RUN(g, activation_backward, NERVE_ACT_SWISH, &p, x->value, node->value,
                            node->grad, true, x->grad, n));
    }
    if (beta->needs_grad)
        return NERVE_RUN(g, swish_beta_gradient, x->value, beta->value, node->grad, n, beta->grad);
    return NERVE_OK;
}

static int64_t swish_flops(const nerve_graph *g, const nerve_node_data *node)
{
    return 4 * nerve_shape_cols(&node->shape); /* multiply, exp, add, divide */
}

static const nerve_op swish_op = {
    .name = "swish",
    .infer_shape = swish_infer_shape,
    .forward = swish_forward,
    .backward = swish_backward,
    .flops = swish_flops,
};

nerve_node nerve_swish_learnable(nerve_graph *g, nerve_node x, nerve_node beta, nerve_error *err)
{
    int inputs[2] = {x, beta};
    return nerve_graph_add_op(g, &swish_op, inputs, 2, NULL, err);
}
