#include "dist/data_parallel.h"

#include "core/graph_internal.h"

void nerve_dist_slice(int64_t n, int rank, int size, int64_t *first, int64_t *count)
{
    *first = n * rank / size;
    *count = n * (rank + 1) / size - *first;
}

double nerve_dist_loss_weight(int64_t count, int64_t n)
{
    return n > 0 ? (double)count / (double)n : 0;
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
