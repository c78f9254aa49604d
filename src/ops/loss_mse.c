/* Mean squared error over all elements, as torch.nn.MSELoss. */
#include "core/options.h"
#include "ops/loss.h"

static nerve_status mse_forward(nerve_graph *g, nerve_node_data *node)
{
    const nerve_node_data *pred = nerve_node_input(g, node, 0);
    const nerve_node_data *target = nerve_node_input(g, node, 1);
    int64_t n = nerve_shape_numel(&pred->shape);
    return NERVE_RUN(g, squared_error, pred->value, target->value, n,
                     loss_reduction_factor(node, (double)n), node->value);
}

static nerve_status mse_backward(nerve_graph *g, nerve_node_data *node)
{
    nerve_node_data *pred = nerve_node_input(g, node, 0);
    const nerve_node_data *target = nerve_node_input(g, node, 1);
    int64_t n = nerve_shape_numel(&pred->shape);
    if (!pred->needs_grad) return NERVE_OK;
    nerve_real scale = 2 * (nerve_real)loss_reduction_factor(node, (double)n);
    return NERVE_RUN(g, add_scaled_difference, n, node->grad, scale, pred->value, target->value,
                     pred->grad);
}

static int64_t mse_flops(const nerve_graph *g, const nerve_node_data *node)
{
    return loss_flops_per_column(g, node, 3);
}

static const nerve_op mse_op = {
    .name = "mse",
    .infer_shape = loss_infer_same_shape,
    .forward = mse_forward,
    .backward = mse_backward,
    .flops = mse_flops,
    .divisor = loss_divisor,
};

nerve_node nerve_mse(nerve_graph *g, nerve_node pred, nerve_node target,
                     const nerve_loss_options *options, nerve_error *err)
{
    NERVE_OPTIONS_IN(nerve_loss_options, options, one_hot, "nerve_mse", err, -1);
    nerve_loss_options o = loss_options_or_default(options);
    int inputs[2] = {pred, target};
    return loss_add(g, &mse_op, inputs, 2, &o, LOSS_NO_WEIGHTS, 0, 0, err);
}
