/* The graph's part of a checkpoint (the state protocol, core/state.h): the
 * state its recurrent ops carry from one batch to the next while it carries
 * state (a stream), "state.<node>.h" (and ".c"), rows x hidden values. The
 * parameters are the model's weights, saved as such. */
#include "core/graph_internal.h"

void graph_state(nerve_graph *g, int64_t rows, state_list *s)
{
    for (nerve_node n = 0; g->carry_state && n < g->node_count; n++) {
        nerve_node_data *node = &g->nodes[n];
        if (node->kind != NERVE_NODE_OP || !node->op->carried_state) continue;
        nerve_real *c = NULL;
        int64_t hidden = 0;
        nerve_real *h = node->op->carried_state(g, node, &c, &hidden);
        if (!h) continue;
        int64_t dim[2] = {rows, hidden};
        nerve_shape shape = nerve_shape_make(2, dim);
        state_add_tensor(s, shape, h, "state.%s.h", node->name);
        if (c) state_add_tensor(s, shape, c, "state.%s.c", node->name);
    }
}
