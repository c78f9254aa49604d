#include "dist/data_parallel.h"

#include <stdlib.h>
#include <string.h>

#include "core/graph_internal.h"
#include "dist/comm_internal.h"

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

void nerve_dist_failure_flags(nerve_comm *c, nerve_status st, double flags[2])
{
    flags[0] = st != NERVE_OK;
    flags[1] = st != NERVE_OK ? nerve_comm_rank(c) + 1 : 0;
}

nerve_status nerve_dist_collective_failed(nerve_status local, nerve_status st,
                                          const nerve_error *own, nerve_error *err)
{
    return local != NERVE_OK ? local : nerve_error_set(err, st, "%s", own->message);
}

nerve_status nerve_dist_failure_outcome(nerve_status st, const double flags[2], nerve_error *err)
{
    if (st != NERVE_OK || flags[0] == 0) return st;
    if (flags[0] == 1)
        return nerve_error_set(err, NERVE_ERR_PEER, "rank %d failed", (int)flags[1] - 1);
    return nerve_error_set(err, NERVE_ERR_PEER, "%d ranks failed", (int)flags[0]);
}

nerve_status nerve_dist_agree(nerve_comm *c, nerve_status st, nerve_error *err)
{
    if (!c) return st;
    double flags[2];
    nerve_dist_failure_flags(c, st, flags);
    nerve_error own = {0};
    nerve_status collective = nerve_comm_allreduce(c, flags, 2, NERVE_COMM_DOUBLE, &own);
    if (collective != NERVE_OK) return nerve_dist_collective_failed(st, collective, &own, err);
    return nerve_dist_failure_outcome(st, flags, err);
}

const char *nerve_dist_test_hook(nerve_comm *c, const char *variable)
{
    const char *value = getenv(variable);
    if (!c || !value) return NULL;
    char *end;
    long rank = strtol(value, &end, 10);
    if (end == value || rank != nerve_comm_rank(c)) return NULL;
    return *end == ':' ? end + 1 : end;
}

nerve_status nerve_dist_test_alloc(nerve_comm *c, const char *site, nerve_error *err)
{
    const char *hooked = nerve_dist_test_hook(c, "NERVE_TEST_FAIL_ALLOC");
    if (!hooked || strcmp(hooked, site) != 0) return NERVE_OK;
    nerve_status st = nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory at %s on purpose "
                                      "(NERVE_TEST_FAIL_ALLOC=%s)", site, getenv("NERVE_TEST_FAIL_ALLOC"));
    return strcmp(site, "allreduce") == 0 ? nerve_comm_break(c, st) : st;
}
