#include "dist/data_parallel.h"

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
    return nerve_comm_allreduce(c, nerve_graph_grads(g), (int64_t)nerve_graph_param_count(g),
                                NERVE_COMM_REAL, err);
}
