#include "dist/data_parallel.h"

#include "core/graph_internal.h"

void nerve_dist_slice(int64_t n, int rank, int size, int64_t *first, int64_t *count)
{
    *first = n * rank / size;
    *count = n * (rank + 1) / size - *first;
}

/* Whether the loss's own divisor is needed: a class-weighted mean divides
 * by its labels' summed weights, which differ from rank to rank in a way
 * the sample counts do not tell. The same answer on every rank (it depends
 * on the graph alone). */
static bool weighted_mean(const nerve_graph *g, nerve_node loss)
{
    const nerve_node_data *node = &g->nodes[loss];
    return node->kind == NERVE_NODE_OP && node->op->divisor &&
           node->attr.loss.reduction == NERVE_REDUCTION_MEAN && node->constants;
}

static bool summed_loss(const nerve_graph *g, nerve_node loss)
{
    const nerve_node_data *node = &g->nodes[loss];
    return node->kind == NERVE_NODE_OP && node->op->divisor &&
           node->attr.loss.reduction == NERVE_REDUCTION_SUM;
}

nerve_status nerve_dist_loss_weight(nerve_comm *c, nerve_graph *g, nerve_node loss, int64_t count,
                                    int64_t n, double *weight, bool *summed, nerve_error *err)
{
    *summed = false;
    if (summed_loss(g, loss)) {
        *weight = count > 0;
        return NERVE_OK;
    }
    if (!c || !weighted_mean(g, loss)) {
        *weight = n > 0 ? (double)count / (double)n : 0;
        return NERVE_OK;
    }
    nerve_node_data *node = &g->nodes[loss];
    double divisor = count > 0 ? node->op->divisor(g, node) : 0;
    nerve_status st = nerve_comm_allreduce(c, &divisor, 1, NERVE_COMM_DOUBLE, err);
    /* The sum of this rank's terms over the global divisor: a slice whose
     * labels all weigh 0 adds its terms (0 but with label smoothing) rather
     * than 0 / 0. 1 / 0 when no label of the global batch weighs anything,
     * as one process divides by 0. */
    node->attr.loss.reduction = NERVE_REDUCTION_SUM;
    *summed = true;
    *weight = 1 / divisor;
    return st;
}

void nerve_dist_loss_end(nerve_graph *g, nerve_node loss, bool summed)
{
    if (summed) g->nodes[loss].attr.loss.reduction = NERVE_REDUCTION_MEAN;
}

double nerve_dist_loss_divisor(const nerve_graph *g, nerve_node loss, int64_t count)
{
    const nerve_node_data *node = &g->nodes[loss];
    if (summed_loss(g, loss)) return 0;
    return weighted_mean(g, loss) ? node->op->divisor(g, node) : (double)count;
}

nerve_status nerve_dist_allreduce_gradients(nerve_graph *g, nerve_comm *c, nerve_error *err)
{
    /* The communicator sums host memory. */
    if (!g->device->host_memory)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "allreduce_gradients: backend '%s' has no host memory (data-parallel "
                               "training runs on cpu or ref)",
                               nerve_graph_backend(g));
    return nerve_comm_allreduce(c, nerve_graph_grads(g), (int64_t)nerve_graph_param_count(g),
                                NERVE_COMM_REAL, err);
}
