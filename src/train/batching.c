#include "train/batching.h"

#include "model/model_settings.h"

#include <time.h>

#include "core/graph_internal.h"

double nerve_seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int64_t nerve_batch_or_all(int64_t batch, int64_t count)
{
    return batch > 0 ? batch : count > 0 ? count : 1;
}

/* Gathered on the host straight into the nodes of a host-memory device,
 * else into host copies then uploaded. */
nerve_status nerve_batching_load(nerve_model *m, const nerve_dataset *ds, const int64_t *index,
                                 int64_t n, nerve_error *err)
{
    nerve_graph *g = nerve_model_graph(m);
    nerve_status st = nerve_graph_set_batch(g, n, err);
    if (st != NERVE_OK) return st;
    nerve_node in = nerve_model_input(m), target = ds->targets ? nerve_model_target(m) : -1;
    nerve_real *x = nerve_node_host_view(g, in, false, err), *y = NULL;
    if (x && target >= 0 && !(y = nerve_node_host_view(g, target, false, err))) {
        nerve_node_host_view_end(g, in, x, false, err);
        x = NULL;
    }
    if (!x) return err ? err->status : NERVE_ERR_NOMEM;
    nerve_dataset_gather(ds, index, n, x, y);
    st = nerve_node_host_view_end(g, in, x, true, err);
    if (y) {
        nerve_status end = nerve_node_host_view_end(g, target, y, st == NERVE_OK, err);
        if (st == NERVE_OK) st = end;
    }
    return st;
}

int64_t nerve_argmax(const nerve_real *row, int64_t cols)
{
    int64_t best = 0;
    for (int64_t c = 1; c < cols; c++)
        if (row[c] > row[best]) best = c;
    return best;
}

int64_t nerve_predicted_class(const nerve_model *m, const nerve_real *row, int64_t cols)
{
    if (cols > 1) return nerve_argmax(row, cols);
    nerve_real threshold = nerve_model_settings_of(m)->loss == NERVE_LOSS_BCE ? 0.5f : 0;
    return row[0] > threshold;
}

nerve_status nerve_batching_correct(nerve_model *m, const nerve_dataset *ds, const int64_t *index,
                                    int64_t n, int64_t *correct, nerve_error *err)
{
    nerve_graph *g = nerve_model_graph(m);
    nerve_node output = nerve_model_output(m);
    nerve_real *out = nerve_node_host_view(g, output, true, err);
    if (!out) return err ? err->status : NERVE_ERR_NOMEM;
    int64_t steps = nerve_model_label_steps(m);
    int64_t cols = nerve_model_output_size(m) / steps;
    *correct = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t t = 0; t < steps; t++)
            *correct += nerve_predicted_class(m, out + (i * steps + t) * cols, cols) ==
                        (int64_t)ds->targets[index[i] * ds->target_size + t];
    return nerve_node_host_view_end(g, output, out, false, err);
}
