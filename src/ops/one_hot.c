/* one_hot: token ids [N, ...] (reals holding integers) -> [N, ..., classes],
 * as torch.nn.functional.one_hot(ids, classes).float(). The ids get no
 * gradient. attr.i[0]: classes. */
#include "core/graph_internal.h"

static nerve_status one_hot_infer_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    const nerve_node_data *ids = nerve_node_input(g, node, 0);
    char is[64];
    if (ids->shape.ndim < 1 || ids->shape.ndim >= NERVE_MAX_DIMS)
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "one_hot '%s': ids %s have more than %d dimensions", node->name,
                               nerve_shape_format(&ids->shape, is, sizeof is), NERVE_MAX_DIMS - 1);
    node->shape = ids->shape;
    node->shape.dim[node->shape.ndim++] = node->attr.i[0];
    return NERVE_OK;
}

static nerve_status one_hot_forward(nerve_graph *g, nerve_node_data *node)
{
    const nerve_node_data *ids = nerve_node_input(g, node, 0);
    NERVE_TRY(NERVE_RUN(g, one_hot, ids->value, node->value, nerve_shape_numel(&ids->shape),
                        node->attr.i[0]));
    return NERVE_OK;
}

/* The ids are indices, not values: nothing flows back to them. */
static nerve_status one_hot_backward(nerve_graph *g, nerve_node_data *node) { return NERVE_OK; }

static int64_t one_hot_flops(const nerve_graph *g, const nerve_node_data *node) { return 0; }

static int64_t one_hot_token_limit(const nerve_graph *g, const nerve_node_data *node)
{
    return node->attr.i[0];
}

static const nerve_op one_hot_op = {
    .name = "one_hot",
    .infer_shape = one_hot_infer_shape,
    .forward = one_hot_forward,
    .backward = one_hot_backward,
    .flops = one_hot_flops,
    .token_limit = one_hot_token_limit,
};

nerve_node nerve_one_hot(nerve_graph *g, nerve_node ids, int64_t classes, nerve_error *err)
{
    if (classes < 1) {
        nerve_error_set(err, NERVE_ERR_INVALID, "one_hot: classes must be at least 1, got %lld",
                        (long long)classes);
        return -1;
    }
    nerve_node_data proto = {0};
    proto.attr.i[0] = classes;
    return nerve_graph_add_op(g, &one_hot_op, &ids, 1, &proto, err);
}
