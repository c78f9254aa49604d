/* Element-wise activations. The maths of each kind is one kernel pair in the
 * backend; this op only routes shapes and gradients. */
#include <math.h>
#include <string.h>

#include "core/graph_internal.h"
#include "core/options.h"

static const char *const activation_names[NERVE_ACT_COUNT] = {
    [NERVE_ACT_IDENTITY] = "identity",
    [NERVE_ACT_SIGMOID] = "sigmoid",
    [NERVE_ACT_TANH] = "tanh",
    [NERVE_ACT_RELU] = "relu",
    [NERVE_ACT_LEAKY_RELU] = "leaky_relu",
    [NERVE_ACT_ELU] = "elu",
    [NERVE_ACT_SELU] = "selu",
    [NERVE_ACT_SOFTPLUS] = "softplus",
    [NERVE_ACT_SWISH] = "swish",
    [NERVE_ACT_GELU] = "gelu",
    [NERVE_ACT_GELU_TANH] = "gelu_tanh",
    [NERVE_ACT_HARDTANH] = "hardtanh",
    [NERVE_ACT_BINARY_STEP] = "binary_step",
    [NERVE_ACT_BINARY_STEP_STE] = "binary_step_ste",
};

/* The defaults of torch.nn.LeakyReLU, ELU, Softplus and Hardtanh. */
static nerve_activation_params nerve_activation_defaults_value(void)
{
    return (nerve_activation_params){.negative_slope = 0.01, .alpha = 1, .beta = 1,
                                     .threshold = 20, .min_val = -1, .max_val = 1};
}

void nerve_activation_defaults_sized(nerve_activation_params *out, size_t size)
{
    nerve_activation_params value = nerve_activation_defaults_value();
    nerve_options_write(out, size, &value, sizeof value);
}

const char *nerve_activation_name(nerve_activation kind)
{
    return (unsigned)kind < NERVE_ACT_COUNT ? activation_names[kind] : "unknown";
}

bool nerve_activation_from_name(const char *name, nerve_activation *kind)
{
    for (int k = 0; k < NERVE_ACT_COUNT; k++) {
        if (strcmp(name, activation_names[k]) == 0) {
            *kind = (nerve_activation)k;
            return true;
        }
    }
    return false;
}

static nerve_status activation_infer_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    node->shape = nerve_node_input(g, node, 0)->shape;
    return NERVE_OK;
}

static nerve_status activation_forward(nerve_graph *g, nerve_node_data *node)
{
    if (node->forward_folded) return NERVE_OK; /* the op before wrote it (core/fold.c) */
    const nerve_node_data *x = nerve_node_input(g, node, 0);
    NERVE_TRY(NERVE_RUN(g, activation_forward, node->attr.activation.kind,
                        &node->attr.activation.params, x->value, node->value,
                        nerve_shape_numel(&node->shape)));
    return NERVE_OK;
}

static nerve_status activation_backward(nerve_graph *g, nerve_node_data *node)
{
    nerve_node_data *x = nerve_node_input(g, node, 0);
    if (!x->needs_grad) return NERVE_OK;
    /* A ReLU folded into the batch norm or add before it leaves its gradient
     * for that op's backward to mask, unless it is a batch norm that sums
     * across ranks. */
    if (node->forward_folded && !x->forward_synchronised) {
        x->grad_from_relu = true;
        return NERVE_OK;
    }
    /* A folded ReLU's input was never written: its output gives the same
     * mask, max(0, y) > 0 where y > 0. */
    const nerve_real *input = node->forward_folded ? node->value : x->value;
    NERVE_TRY(NERVE_RUN(g, activation_backward, node->attr.activation.kind,
                        &node->attr.activation.params, input, node->value, node->grad,
                        nerve_graph_grad_accumulate(g, x), x->grad,
                        nerve_shape_numel(&node->shape)));
    return NERVE_OK;
}

static const nerve_op activation_op = {
    .name = "activation",
    .infer_shape = activation_infer_shape,
    .forward = activation_forward,
    .backward = activation_backward,
    .assigns_grads = true,
    .forward_in_place = true,
    .activation = true,
};

static nerve_status check_params(nerve_activation kind, const nerve_activation_params *p,
                                 nerve_error *err)
{
    const double values[] = {p->negative_slope, p->alpha, p->beta, p->threshold, p->min_val,
                             p->max_val};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        if (!isfinite(values[i]))
            return nerve_error_set(err, NERVE_ERR_INVALID, "%s: a setting is not finite",
                                   activation_names[kind]);
    if (kind == NERVE_ACT_SOFTPLUS && p->beta == 0)
        return nerve_error_set(err, NERVE_ERR_INVALID, "softplus: beta must not be 0");
    if (kind == NERVE_ACT_HARDTANH && !(p->min_val < p->max_val))
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "hardtanh: min_val %g must be below max_val %g", p->min_val,
                               p->max_val);
    return NERVE_OK;
}

nerve_node nerve_activate(nerve_graph *g, nerve_node x, nerve_activation kind,
                          const nerve_activation_params *params, nerve_error *err)
{
    NERVE_OPTIONS_IN(nerve_activation_params, params, max_val, "nerve_activate", err, -1);
    if ((unsigned)kind >= NERVE_ACT_COUNT) {
        nerve_error_set(err, NERVE_ERR_INVALID, "unknown activation kind %d", (int)kind);
        return -1;
    }
    nerve_node_data proto = {0};
    proto.attr.activation.kind = kind;
    proto.attr.activation.params = params ? *params : nerve_activation_defaults();
    if (check_params(kind, &proto.attr.activation.params, err) != NERVE_OK) return -1;
    return nerve_graph_add_op(g, &activation_op, &x, 1, &proto, err);
}
