/* flatten: [N, ...] -> [N, prod(...)], a view of the input's memory. */
#include "core/graph_internal.h"

static nerve_status flatten_infer_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    const nerve_shape *in = &nerve_node_input(g, node, 0)->shape;
    node->shape = nerve_shape_2d(nerve_shape_rows(in), nerve_shape_cols(in));
    return NERVE_OK;
}

static nerve_status flatten_noop(nerve_graph *g, nerve_node_data *node) { return NERVE_OK; }

static const nerve_op flatten_op = {
    .name = "flatten",
    .infer_shape = flatten_infer_shape,
    .forward = flatten_noop,
    .backward = flatten_noop,
    .aliases_input = true,
};

nerve_node nerve_flatten(nerve_graph *g, nerve_node x, nerve_error *err)
{
    return nerve_graph_add_op(g, &flatten_op, &x, 1, NULL, err);
}
