/* custom_loop: a network read from a cfg, trained by a loop of one's own
 * through the lower-level API instead of nerve_train: batches gathered by
 * hand on the host and written into the graph's inputs, forward, backward,
 * the global gradient norm clipped by the optimizer (clip_norm) and read
 * back, a learning rate set at every step (linear warm-up, then cosine
 * decay), the optimizer's step. Then nerve_evaluate on test data, and the
 * weights saved for predict_app. Every tensor access is a copy through the
 * graph's device (nerve_node_write, nerve_node_read), so the loop runs on
 * any backend (NERVE_BACKEND=ref, sealed, ...).
 *
 * Usage: custom_loop CFG [WEIGHTS_OUT]
 * Trains on the first TRAIN samples of the cfg's training set for the cfg's
 * epochs; exits 1 if the test accuracy is below 75%.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <nerve.h>

enum { TRAIN = 6000, TEST = 2000, WARMUP = 20 };
static const double pi = 3.14159265358979323846;

static void die(const nerve_error *err)
{
    fprintf(stderr, "custom_loop: %s\n", err->message);
    exit(1);
}

/* Keeps the first `keep` samples of ds, dropping the rest. */
static void truncate_dataset(nerve_dataset *ds, int64_t keep, nerve_error *err)
{
    if (ds->count <= keep) return;
    nerve_dataset rest;
    if (nerve_dataset_split(ds, ds->count - keep, &rest, err) != NERVE_OK) die(err);
    nerve_dataset_free(&rest);
}

/* Warm-up from lr / WARMUP to lr over the first steps, then half a cosine
 * down to zero at the last step. */
static double learning_rate(double lr, int64_t step, int64_t steps)
{
    if (step < WARMUP) return lr * (step + 1) / WARMUP;
    double progress = (double)(step - WARMUP) / (double)(steps - WARMUP);
    return lr * 0.5 * (1 + cos(pi * progress));
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: custom_loop CFG [WEIGHTS_OUT]\n");
        return 2;
    }
    nerve_error err = {0};
    nerve_model *m;
    if (nerve_model_load(argv[1], NULL, &m, &err) != NERVE_OK) die(&err);
    /* [net] batch, epochs and seed, and the [optimizer] options. */
    nerve_train_options run = nerve_train_options_from(m);
    nerve_optimizer_options optimizer = nerve_model_optimizer_options(m);
    /* clip_grad_norm_(max_norm = 5) before every update, on the device. */
    optimizer.clip_norm = 5.0;
    nerve_dataset train, test;
    if (nerve_model_load_data(m, &train, NULL, &test, &err) != NERVE_OK) die(&err);
    truncate_dataset(&train, TRAIN, &err);
    truncate_dataset(&test, TEST, &err);

    nerve_graph *g = nerve_model_graph(m);
    nerve_node input = nerve_model_input(m), target = nerve_model_target(m);
    nerve_node loss = nerve_model_loss(m);
    int64_t batch = run.batch;
    if (nerve_graph_plan(g, batch, &err) != NERVE_OK) die(&err);
    nerve_optimizer *opt = nerve_optimizer_new(g, &optimizer, &err);
    if (!opt) die(&err);

    /* Host buffers for one batch, written into the input nodes. */
    int64_t *index = malloc((size_t)train.count * sizeof *index);
    nerve_real *xs = malloc((size_t)(batch * train.sample_size) * sizeof *xs);
    nerve_real *ys = malloc((size_t)(batch * train.target_size) * sizeof *ys);
    if (!index || !xs || !ys) return 1;
    for (int64_t i = 0; i < train.count; i++) index[i] = i;
    nerve_rng rng;
    nerve_rng_seed(&rng, run.seed);
    int64_t batches = (train.count + batch - 1) / batch;
    int64_t steps = batches * run.epochs, step = 0;
    nerve_graph_set_training(g, true);
    for (int epoch = 1; epoch <= run.epochs; epoch++) {
        nerve_rng_shuffle(&rng, index, train.count);
        double total = 0, largest_norm = 0;
        for (int64_t first = 0; first < train.count; first += batch, step++) {
            int64_t n = train.count - first < batch ? train.count - first : batch;
            nerve_graph_set_batch(g, n, &err); /* the last batch may be short */
            nerve_dataset_gather(&train, index + first, n, xs, ys);
            nerve_graph_zero_grad(g);
            nerve_real value;
            if (nerve_node_write(g, input, xs, n * train.sample_size, &err) != NERVE_OK ||
                nerve_node_write(g, target, ys, n * train.target_size, &err) != NERVE_OK ||
                nerve_graph_forward(g, loss, &err) != NERVE_OK ||
                nerve_graph_backward(g, loss, &err) != NERVE_OK ||
                nerve_node_read(g, loss, &value, 1, &err) != NERVE_OK)
                die(&err);
            nerve_optimizer_set_lr(opt, learning_rate(optimizer.lr, step, steps));
            if (nerve_optimizer_step(opt) != NERVE_OK) {
                fprintf(stderr, "custom_loop: the optimizer step failed\n");
                return 1;
            }
            /* the norm before clipping, as clip_grad_norm_ returns it */
            largest_norm = fmax(largest_norm, nerve_optimizer_grad_norm(opt));
            total += value;
        }
        printf("epoch %d  loss %.4f  largest gradient norm %.3f  lr %.5f\n", epoch,
               total / batches, largest_norm, nerve_optimizer_lr(opt));
    }

    nerve_evaluation ev;
    if (nerve_evaluate(m, &test, 0, &ev, &err) != NERVE_OK) die(&err);
    printf("test loss %.4f  accuracy %.4f on %lld samples\n", ev.loss, ev.accuracy,
           (long long)ev.count);
    int ok = ev.accuracy >= 0.75;
    if (argc == 3 && nerve_model_save_weights(m, argv[2], &err) != NERVE_OK) die(&err);

    nerve_evaluation_free(&ev);
    free(index);
    free(xs);
    free(ys);
    nerve_optimizer_free(opt);
    nerve_dataset_free(&train);
    nerve_dataset_free(&test);
    nerve_model_free(m);
    return ok ? 0 : 1;
}
