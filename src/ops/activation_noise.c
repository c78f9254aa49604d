/* Activation noise, the "noisy BatchNorm" of Santurkar, Tsipras, Ilyas and
 * Madry 2018 (How does batch normalization help optimization?): in
 * training, each unit j of a sample's values (every element of x[n, ...] but
 * the batch axis) is scaled by s_j ~ U(1 - scale, 1 + scale) and shifted
 * by b_j ~ U(-shift, shift), y[n, j] = x[n, j] s_j + b_j, with s and b drawn
 * anew at every training step and shared by the batch's samples: the
 * distribution every later layer sees moves from step to step, the
 * "internal covariate shift" batch norm was said to remove, injected on
 * purpose. Eval mode is the identity.
 * s and b are the counter-based noise of the graph's step (core/noise.h, as
 * dropout's mask), the batch's own position left out: draws of "sample" 0
 * are the scales and of "sample" 1 the shifts, the same on every backend
 * and every rank. aux holds them ([cols] each) and the scales repeated over
 * the planned batch, which forward and backward multiply by; forward_flag
 * says whether the forward applied them. */
#include "core/graph_internal.h"

#define ATTR_SCALE 0
#define ATTR_SHIFT 1

static nerve_status noise_infer_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    node->shape = nerve_node_input(g, node, 0)->shape;
    int64_t cols = nerve_shape_cols(&node->shape);
    node->aux_size = 2 * cols + nerve_shape_numel(&node->shape);
    return NERVE_OK;
}

static nerve_status noise_forward(nerve_graph *g, nerve_node_data *node)
{
    const nerve_node_data *x = nerve_node_input(g, node, 0);
    double scale = node->attr.f[ATTR_SCALE], shift = node->attr.f[ATTR_SHIFT];
    int64_t rows = nerve_shape_rows(&node->shape), cols = nerve_shape_cols(&node->shape);
    node->forward_flag = nerve_graph_training(g) && (scale > 0 || shift > 0);
    if (!node->forward_flag) {
        nerve_activation_params none = nerve_activation_defaults();
        return NERVE_RUN(g, activation_forward, NERVE_ACT_IDENTITY, &none, x->value, node->value,
                         rows * cols);
    }
    nerve_real *scales = node->aux, *shifts = scales + cols, *repeated = shifts + cols;
    nerve_noise_at at;
    nerve_graph_noise_at(g, node, &at);
    at.first_sample = 0;
    NERVE_TRY(NERVE_RUN(g, uniform_noise, &at, 1, cols, 1 - scale, 1 + scale, scales));
    at.first_sample = 1;
    NERVE_TRY(NERVE_RUN(g, uniform_noise, &at, 1, cols, -shift, shift, shifts));
    NERVE_TRY(NERVE_RUN(g, copy_block, rows, cols, scales, 0, repeated, cols));
    NERVE_TRY(NERVE_RUN(g, scale_rows, x->value, repeated, node->value, rows * cols, 1));
    return NERVE_RUN(g, add_block, rows, cols, shifts, 0, node->value, cols);
}

static nerve_status noise_backward(nerve_graph *g, nerve_node_data *node)
{
    nerve_node_data *x = nerve_node_input(g, node, 0);
    if (!x->needs_grad) return NERVE_OK;
    int64_t n = nerve_shape_numel(&node->shape), cols = nerve_shape_cols(&node->shape);
    if (node->forward_flag)
        return NERVE_RUN(g, scale_rows_backward, node->grad, node->aux + 2 * cols, x->grad, n, 1);
    nerve_activation_params none = nerve_activation_defaults();
    return NERVE_RUN(g, activation_backward, NERVE_ACT_IDENTITY, &none, x->value, node->value,
                     node->grad, true, x->grad, n);
}

static const nerve_op activation_noise_op = {
    .name = "activation_noise",
    .infer_shape = noise_infer_shape,
    .forward = noise_forward,
    .backward = noise_backward,
};

nerve_node nerve_activation_noise(nerve_graph *g, nerve_node x, double scale, double shift,
                                  nerve_error *err)
{
    if (!(scale >= 0 && scale < 1) || !(shift >= 0 && shift <= 1e6)) {
        nerve_error_set(err, NERVE_ERR_INVALID,
                        "activation_noise: scale must be in [0, 1) and shift in [0, 1e6], got "
                        "%g and %g",
                        scale, shift);
        return -1;
    }
    nerve_node_data proto = {0};
    proto.attr.f[ATTR_SCALE] = scale;
    proto.attr.f[ATTR_SHIFT] = shift;
    return nerve_graph_add_op(g, &activation_noise_op, &x, 1, &proto, err);
}
