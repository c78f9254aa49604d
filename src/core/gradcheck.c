/* Finite-difference gradient check: compares the analytic gradient of a
 * scalar node w.r.t. every trainable parameter with central differences.
 * Meant for the float64 build, where eps ~1e-6 gives ~1e-9 accuracy.
 * Stochastic ops (dropout, rrelu in training) draw the same noise at every
 * forward, their noise being a function of the graph's position, which does
 * not move here: differences of a function whose noise changed between the
 * two sides would mean nothing. */
#include <math.h>

#include "core/graph_internal.h"

static double loss_at(nerve_graph *g, nerve_node loss)
{
    nerve_graph_forward(g, loss);
    return (double)g->nodes[loss].value[0];
}

nerve_status nerve_gradcheck(nerve_graph *g, nerve_node loss, double eps, double *max_error,
                             nerve_error *err)
{
    if (!g->arena) return nerve_error_set(err, NERVE_ERR_INVALID, "gradcheck: plan the graph first");
    if (loss < 0 || loss >= g->node_count || nerve_shape_numel(&g->nodes[loss].shape) != 1)
        return nerve_error_set(err, NERVE_ERR_INVALID, "gradcheck: node %d is not a scalar", loss);
    nerve_graph_zero_grad(g);
    nerve_graph_forward(g, loss);
    nerve_graph_backward(g, loss);
    double worst = 0;
    for (size_t i = 0; i < g->param_count; i++) {
        if (!g->trainable[i]) continue;
        nerve_real saved = g->params[i];
        g->params[i] = saved + (nerve_real)eps;
        double up = loss_at(g, loss);
        g->params[i] = saved - (nerve_real)eps;
        double down = loss_at(g, loss);
        g->params[i] = saved;
        double numeric = (up - down) / (2 * eps), analytic = g->param_grads[i];
        /* Relative where the gradient is large, absolute where it is near zero. */
        double error = fabs(numeric - analytic) / fmax(1.0, fabs(numeric) + fabs(analytic));
        if (error > worst) worst = error;
    }
    loss_at(g, loss);
    *max_error = worst;
    return NERVE_OK;
}
