/* RReLU (Xu et al. 2015), as torch.nn.RReLU: a random negative slope per
 * element in training, U(lower, upper) afresh at every forward; the fixed
 * mean slope (lower + upper) / 2 in eval. The slopes are kept in aux, so
 * backward is the PReLU kernel with one channel per element, whichever mode
 * ran the forward. They are the counter-based noise of the graph's position
 * (core/noise.h), a function of each sample's global index, so that a seed
 * gives the same noise on every backend and whatever the batch split. */
#include <math.h>

#include "core/graph_internal.h"

static nerve_status rrelu_infer_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    node->shape = nerve_node_input(g, node, 0)->shape;
    node->aux_size = nerve_shape_numel(&node->shape); /* the slopes */
    return NERVE_OK;
}

static void draw_slopes(nerve_graph *g, nerve_node_data *node, int64_t n)
{
    double lower = node->attr.f[0], upper = node->attr.f[1];
    if (nerve_graph_training(g)) {
        nerve_noise_at at;
        int64_t samples = nerve_graph_noise_at(g, node, &at);
        nerve_noise_uniform(&at, samples, n / samples, lower, upper, node->aux);
    } else {
        for (int64_t i = 0; i < n; i++) node->aux[i] = (nerve_real)((lower + upper) / 2);
    }
}

static void rrelu_forward(nerve_graph *g, nerve_node_data *node)
{
    const nerve_node_data *x = nerve_node_input(g, node, 0);
    int64_t n = nerve_shape_numel(&node->shape);
    draw_slopes(g, node, n);
    g->backend->prelu_forward(x->value, node->aux, node->value, 1, n, 1);
}

static void rrelu_backward(nerve_graph *g, nerve_node_data *node)
{
    nerve_node_data *x = nerve_node_input(g, node, 0);
    if (!x->needs_grad) return;
    int64_t n = nerve_shape_numel(&node->shape);
    g->backend->prelu_backward(x->value, node->aux, node->grad, x->grad, NULL, 1, n, 1);
}

static const nerve_op rrelu_op = {
    .name = "rrelu",
    .infer_shape = rrelu_infer_shape,
    .forward = rrelu_forward,
    .backward = rrelu_backward,
};

nerve_node nerve_rrelu(nerve_graph *g, nerve_node x, float lower, float upper, nerve_error *err)
{
    if (!(isfinite(lower) && isfinite(upper) && lower <= upper)) {
        nerve_error_set(err, NERVE_ERR_INVALID, "rrelu: need finite lower <= upper, got %g and %g",
                        lower, upper);
        return -1;
    }
    nerve_node_data proto = {0};
    proto.attr.f[0] = lower;
    proto.attr.f[1] = upper;
    return nerve_graph_add_op(g, &rrelu_op, &x, 1, &proto, err);
}
