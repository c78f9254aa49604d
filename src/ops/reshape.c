/* reshape: each sample of [N, ...] takes a new shape of as many elements; a
 * view of the input's memory, as flatten. The target's -1 is resolved when
 * the op is built, and the dims kept in attr.i (0 after the last). */
#include "core/graph_internal.h"

#define RESHAPE_MAX_DIMS 4

static nerve_status reshape_infer_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    const nerve_shape *in = &nerve_node_input(g, node, 0)->shape;
    nerve_shape out = {.ndim = 1, .dim = {nerve_shape_rows(in)}};
    for (int d = 0; d < RESHAPE_MAX_DIMS && node->attr.i[d]; d++)
        out.dim[out.ndim++] = node->attr.i[d];
    node->shape = out;
    return NERVE_OK;
}

static nerve_status reshape_noop(nerve_graph *g, nerve_node_data *node) { return NERVE_OK; }

static const nerve_op reshape_op = {
    .name = "reshape",
    .infer_shape = reshape_infer_shape,
    .forward = reshape_noop,
    .backward = reshape_noop,
    .aliases_input = true,
};

nerve_node nerve_reshape(nerve_graph *g, nerve_node x, nerve_shape sample_shape, nerve_error *err)
{
    char text[64], target[64];
    if (x < 0 || x >= g->node_count) {
        nerve_error_set(err, NERVE_ERR_INVALID, "reshape: input is not a node of this graph");
        return -1;
    }
    nerve_shape_format(&sample_shape, target, sizeof target);
    if (sample_shape.ndim < 1 || sample_shape.ndim > RESHAPE_MAX_DIMS) {
        nerve_error_set(err, NERVE_ERR_SHAPE, "reshape: a sample has 1 to %d dimensions, not %d",
                        RESHAPE_MAX_DIMS, sample_shape.ndim);
        return -1;
    }
    const nerve_shape *in = &g->nodes[x].shape;
    int64_t have = nerve_shape_cols(in), known = 1;
    int inferred = -1;
    for (int d = 0; d < sample_shape.ndim; d++) {
        int64_t n = sample_shape.dim[d];
        if (n == -1 && inferred < 0) {
            inferred = d;
        } else if (n < 1) {
            nerve_error_set(err, NERVE_ERR_SHAPE,
                            "reshape: shape %s: each dimension is at least 1, and one may be -1",
                            target);
            return -1;
        } else {
            known *= n;
        }
    }
    bool fits = inferred >= 0 ? have > 0 && have % known == 0 : have == known;
    if (!fits) {
        nerve_error_set(err, NERVE_ERR_SHAPE,
                        "reshape: input %s has %lld elements per sample, which shape %s cannot "
                        "hold", nerve_shape_format(in, text, sizeof text), (long long)have, target);
        return -1;
    }
    if (inferred >= 0) sample_shape.dim[inferred] = have / known;
    nerve_node_data proto = {0};
    for (int d = 0; d < sample_shape.ndim; d++) proto.attr.i[d] = sample_shape.dim[d];
    return nerve_graph_add_op(g, &reshape_op, &x, 1, &proto, err);
}
