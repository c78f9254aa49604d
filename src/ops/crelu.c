/* CReLU (Shang et al. 2016): concat(relu(x), relu(-x)) along dim 1, which
 * doubles the features (or channels); as torch.cat((F.relu(x), F.relu(-x)), 1). */
#include "core/graph_internal.h"

static nerve_status crelu_infer_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    const nerve_node_data *x = nerve_node_input(g, node, 0);
    char xs[64];
    if (x->shape.ndim < 2)
        return nerve_error_set(err, NERVE_ERR_SHAPE, "crelu '%s': input %s has no dim 1",
                               node->name, nerve_shape_format(&x->shape, xs, sizeof xs));
    node->shape = x->shape;
    node->shape.dim[1] *= 2;
    return NERVE_OK;
}

/* Per sample, the output is the input's block of dim 1 and everything after
 * it, twice: so rows are samples and columns the rest. */
static nerve_status crelu_forward(nerve_graph *g, nerve_node_data *node)
{
    const nerve_node_data *x = nerve_node_input(g, node, 0);
    NERVE_TRY(NERVE_RUN(g, crelu_forward, x->value, node->value, nerve_shape_rows(&x->shape),
                        nerve_shape_cols(&x->shape)));
    return NERVE_OK;
}

static nerve_status crelu_backward(nerve_graph *g, nerve_node_data *node)
{
    nerve_node_data *x = nerve_node_input(g, node, 0);
    if (!x->needs_grad) return NERVE_OK;
    NERVE_TRY(NERVE_RUN(g, crelu_backward, x->value, node->grad, x->grad,
                        nerve_shape_rows(&x->shape), nerve_shape_cols(&x->shape)));
    return NERVE_OK;
}

static const nerve_op crelu_op = {
    .name = "crelu",
    .infer_shape = crelu_infer_shape,
    .forward = crelu_forward,
    .backward = crelu_backward,
};

nerve_node nerve_crelu(nerve_graph *g, nerve_node x, nerve_error *err)
{
    return nerve_graph_add_op(g, &crelu_op, &x, 1, NULL, err);
}
