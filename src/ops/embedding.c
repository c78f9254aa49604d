/* embedding: a lookup table, as torch.nn.functional.embedding. Token ids
 * ids [N, ...] (reals holding integers, as class labels) pick rows of
 * weight [vocab, dim]: y [N, ..., dim]. The gradient adds each position's
 * dy into its id's row (repeated ids add up); the ids get none. With
 * padding_idx that row gets no gradient, as torch's. attr.i[0]: the padding
 * id, or -1. */
#include "core/graph_internal.h"

static nerve_status embedding_infer_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    const nerve_node_data *ids = nerve_node_input(g, node, 0);
    const nerve_node_data *w = nerve_node_input(g, node, 1);
    char is[64], ws[64];
    if (w->shape.ndim != 2 || ids->shape.ndim < 1 || ids->shape.ndim >= NERVE_MAX_DIMS)
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "embedding '%s': ids %s and weight %s do not fit (expected ids "
                               "[N, ...] of at most %d dimensions and a weight [vocab, dim])",
                               node->name, nerve_shape_format(&ids->shape, is, sizeof is),
                               nerve_shape_format(&w->shape, ws, sizeof ws), NERVE_MAX_DIMS - 1);
    node->shape = ids->shape;
    node->shape.dim[node->shape.ndim++] = w->shape.dim[1];
    return NERVE_OK;
}

static nerve_status embedding_forward(nerve_graph *g, nerve_node_data *node)
{
    const nerve_node_data *ids = nerve_node_input(g, node, 0);
    const nerve_node_data *w = nerve_node_input(g, node, 1);
    NERVE_TRY(NERVE_RUN(g, embedding_forward, ids->value, w->value, node->value,
                        nerve_shape_numel(&ids->shape), w->shape.dim[0], w->shape.dim[1]));
    return NERVE_OK;
}

static nerve_status embedding_backward(nerve_graph *g, nerve_node_data *node)
{
    const nerve_node_data *ids = nerve_node_input(g, node, 0);
    nerve_node_data *w = nerve_node_input(g, node, 1);
    if (!w->needs_grad) return NERVE_OK;
    NERVE_TRY(NERVE_RUN(g, embedding_backward, ids->value, node->grad, w->grad,
                        nerve_shape_numel(&ids->shape), w->shape.dim[0], w->shape.dim[1],
                        node->attr.i[0]));
    return NERVE_OK;
}

/* A copy: no arithmetic. */
static int64_t embedding_flops(const nerve_graph *g, const nerve_node_data *node) { return 0; }

static int64_t embedding_token_limit(const nerve_graph *g, const nerve_node_data *node)
{
    return g->nodes[node->input[1]].shape.dim[0];
}

static const nerve_op embedding_op = {
    .name = "embedding",
    .infer_shape = embedding_infer_shape,
    .forward = embedding_forward,
    .backward = embedding_backward,
    .flops = embedding_flops,
    .token_limit = embedding_token_limit,
};

nerve_node nerve_embedding(nerve_graph *g, nerve_node ids, nerve_node weight, int64_t padding_idx,
                           nerve_error *err)
{
    nerve_shape w = nerve_node_shape(g, weight);
    if (w.ndim == 2 && (padding_idx < -1 || padding_idx >= w.dim[0])) {
        nerve_error_set(err, NERVE_ERR_INVALID,
                        "embedding: padding_idx %lld is outside [0, %lld) (or -1 for none)",
                        (long long)padding_idx, (long long)w.dim[0]);
        return -1;
    }
    nerve_node_data proto = {0};
    proto.attr.i[0] = padding_idx;
    int inputs[2] = {ids, weight};
    return nerve_graph_add_op(g, &embedding_op, inputs, 2, &proto, err);
}
