#include "train/batching.h"

#include "model/model_settings.h"

#include <time.h>

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

void nerve_batching_load(nerve_model *m, const nerve_dataset *ds, const int64_t *index, int64_t n)
{
    nerve_graph *g = nerve_model_graph(m);
    nerve_graph_set_batch(g, n, NULL);
    nerve_dataset_gather(ds, index, n, nerve_node_value(g, nerve_model_input(m)),
                         ds->targets ? nerve_node_value(g, nerve_model_target(m)) : NULL);
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

int64_t nerve_batching_correct(nerve_model *m, const nerve_dataset *ds, const int64_t *index,
                               int64_t n)
{
    nerve_graph *g = nerve_model_graph(m);
    const nerve_real *out = nerve_node_value(g, nerve_model_output(m));
    int64_t steps = nerve_model_label_steps(m);
    int64_t cols = nerve_model_output_size(m) / steps, correct = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t t = 0; t < steps; t++)
            correct += nerve_predicted_class(m, out + (i * steps + t) * cols, cols) ==
                       (int64_t)ds->targets[index[i] * ds->target_size + t];
    return correct;
}
