/* Element-wise activations. The maths of each kind is one kernel pair in the
 * backend; this op only routes shapes and gradients. */
#include <string.h>

#include "core/graph_internal.h"

static const char *const activation_names[NERVE_ACT_COUNT] = {
    [NERVE_ACT_IDENTITY] = "identity", [NERVE_ACT_SIGMOID] = "sigmoid",
    [NERVE_ACT_TANH] = "tanh",         [NERVE_ACT_RELU] = "relu",
    [NERVE_ACT_LEAKY_RELU] = "leaky_relu",
};

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

static void activation_forward(nerve_graph *g, nerve_node_data *node)
{
    const nerve_node_data *x = nerve_node_input(g, node, 0);
    g->backend->activation_forward(node->attr.activation.kind, node->attr.activation.param,
                                   x->value, node->value, nerve_shape_numel(&node->shape));
}

static void activation_backward(nerve_graph *g, nerve_node_data *node)
{
    nerve_node_data *x = nerve_node_input(g, node, 0);
    if (!x->needs_grad) return;
    g->backend->activation_backward(node->attr.activation.kind, node->attr.activation.param,
                                    x->value, node->value, node->grad, x->grad,
                                    nerve_shape_numel(&node->shape));
}

static const nerve_op activation_op = {
    .name = "activation",
    .infer_shape = activation_infer_shape,
    .forward = activation_forward,
    .backward = activation_backward,
};

nerve_node nerve_activate(nerve_graph *g, nerve_node x, nerve_activation kind, float param,
                          nerve_error *err)
{
    if ((unsigned)kind >= NERVE_ACT_COUNT) {
        nerve_error_set(err, NERVE_ERR_INVALID, "unknown activation kind %d", (int)kind);
        return -1;
    }
    nerve_node_data proto = {0};
    proto.attr.activation.kind = kind;
    proto.attr.activation.param = param;
    return nerve_graph_add_op(g, &activation_op, &x, 1, &proto, err);
}
