/* Mean squared error over all elements, as torch.nn.MSELoss (reduction mean). */
#include "core/graph_internal.h"

static nerve_status mse_infer_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    const nerve_node_data *pred = nerve_node_input(g, node, 0);
    const nerve_node_data *target = nerve_node_input(g, node, 1);
    char ps[64], ts[64];
    if (nerve_shape_numel(&pred->shape) != nerve_shape_numel(&target->shape) ||
        nerve_shape_rows(&pred->shape) != nerve_shape_rows(&target->shape))
        return nerve_error_set(err, NERVE_ERR_SHAPE, "mse: prediction %s and target %s differ",
                               nerve_shape_format(&pred->shape, ps, sizeof ps),
                               nerve_shape_format(&target->shape, ts, sizeof ts));
    node->shape = nerve_shape_1d(1);
    node->batched = false;
    return NERVE_OK;
}

static void mse_forward(nerve_graph *g, nerve_node_data *node)
{
    const nerve_node_data *pred = nerve_node_input(g, node, 0);
    const nerve_node_data *target = nerve_node_input(g, node, 1);
    int64_t n = nerve_shape_numel(&pred->shape);
    double sum = g->backend->squared_error(pred->value, target->value, n);
    node->value[0] = (nerve_real)(n ? sum / n : 0);
}

static void mse_backward(nerve_graph *g, nerve_node_data *node)
{
    nerve_node_data *pred = nerve_node_input(g, node, 0);
    const nerve_node_data *target = nerve_node_input(g, node, 1);
    int64_t n = nerve_shape_numel(&pred->shape);
    if (!pred->needs_grad || n == 0) return;
    nerve_real scale = 2 * node->grad[0] / (nerve_real)n;
    g->backend->add_scaled_difference(n, scale, pred->value, target->value, pred->grad);
}

static int64_t mse_flops(const nerve_graph *g, const nerve_node_data *node)
{
    return 3 * nerve_shape_cols(&g->nodes[node->input[0]].shape);
}

static const nerve_op mse_op = {
    .name = "mse",
    .infer_shape = mse_infer_shape,
    .forward = mse_forward,
    .backward = mse_backward,
    .flops = mse_flops,
};

nerve_node nerve_mse(nerve_graph *g, nerve_node pred, nerve_node target, nerve_error *err)
{
    int inputs[2] = {pred, target};
    return nerve_graph_add_op(g, &mse_op, inputs, 2, NULL, err);
}
