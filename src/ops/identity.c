/* identity: y = x as a view of x's memory, so it costs nothing at run time
 * (a cfg [identity] layer, a named point in a graph). */
#include "core/graph_internal.h"

static nerve_status identity_infer_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    node->shape = nerve_node_input(g, node, 0)->shape;
    return NERVE_OK;
}

static nerve_status identity_noop(nerve_graph *g, nerve_node_data *node) { return NERVE_OK; }

static const nerve_op identity_op = {
    .name = "identity",
    .infer_shape = identity_infer_shape,
    .forward = identity_noop,
    .backward = identity_noop,
    .aliases_input = true,
};

nerve_node nerve_identity(nerve_graph *g, nerve_node x, nerve_error *err)
{
    return nerve_graph_add_op(g, &identity_op, &x, 1, NULL, err);
}
