/* mlp_in_code: a multilayer perceptron built and trained with nerve's C API
 * alone, no cfg file. The task: is a point of the plane inside the ring
 * 0.5 < |p| < 1? No straight line separates the classes; two hidden layers
 * learn the two circles. The loop is written out: gather a batch, forward,
 * backward, optimizer step. Exits 1 if the test accuracy stays below 95%.
 *
 * Usage: mlp_in_code [EPOCHS]: fewer than the 40 epochs is a quick run (the
 * sealed device's test), which checks only that the loss came down.
 *
 * Build (installed library): cc mlp_in_code.c $(pkg-config --cflags --libs nerve)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <nerve.h>

enum { TRAIN = 4000, TEST = 1000, BATCH = 50, EPOCHS = 40 };

static void die(const nerve_error *err)
{
    fprintf(stderr, "mlp_in_code: %s\n", err->message);
    exit(1);
}

/* A builder's result, or the end of the program with its message. */
static nerve_node need(nerve_node n, const nerve_error *err)
{
    if (n < 0) die(err);
    return n;
}

/* count points uniform in [-1.5, 1.5]^2, labelled 1 inside the ring. */
static nerve_dataset ring_points(int64_t count, nerve_rng *rng)
{
    nerve_dataset ds = {.count = count, .sample_shape = nerve_shape_1d(2), .sample_size = 2,
                        .target_size = 1, .num_classes = 2};
    ds.inputs = malloc((size_t)count * 2 * sizeof *ds.inputs);
    ds.targets = malloc((size_t)count * sizeof *ds.targets);
    if (!ds.inputs || !ds.targets) {
        fprintf(stderr, "mlp_in_code: out of memory\n");
        exit(1);
    }
    for (int64_t i = 0; i < count; i++) {
        double x = 3 * nerve_rng_uniform(rng) - 1.5, y = 3 * nerve_rng_uniform(rng) - 1.5;
        double r = sqrt(x * x + y * y);
        ds.inputs[2 * i] = (float)x;
        ds.inputs[2 * i + 1] = (float)y;
        ds.targets[i] = r > 0.5 && r < 1.0;
    }
    return ds;
}

int main(int argc, char **argv)
{
    int epochs = argc > 1 ? atoi(argv[1]) : EPOCHS;
    if (argc > 2 || epochs < 1 || epochs > EPOCHS) {
        fprintf(stderr, "usage: mlp_in_code [EPOCHS (1 to %d)]\n", EPOCHS);
        return 2;
    }
    nerve_error err = {0};
    nerve_rng rng;
    nerve_rng_seed(&rng, 42);
    nerve_dataset train = ring_points(TRAIN, &rng), test = ring_points(TEST, &rng);

    /* 2 -> 32 tanh -> 32 tanh -> 2 logits; labels are class indices, shape []. */
    nerve_graph *g = nerve_graph_new();
    nerve_node x = need(nerve_input(g, "x", nerve_shape_1d(2), &err), &err);
    nerve_node labels = need(nerve_input(g, "labels", nerve_shape_make(0, NULL), &err), &err);
    nerve_dense_options hidden = {NERVE_SIZED(nerve_dense_options),
                                  .units = 32, .activation = NERVE_ACT_TANH};
    nerve_dense_options output = {NERVE_SIZED(nerve_dense_options), .units = 2};
    nerve_node h = need(nerve_dense(g, "fc1", x, &hidden, &rng, &err), &err);
    h = need(nerve_dense(g, "fc2", h, &hidden, &rng, &err), &err);
    nerve_node logits = need(nerve_dense(g, "out", h, &output, &rng, &err), &err);
    nerve_node loss = need(nerve_softmax_cross_entropy(g, logits, labels, NULL, &err), &err);
    if (nerve_graph_plan(g, BATCH, &err) != NERVE_OK) die(&err);

    nerve_optimizer_options adam = nerve_optimizer_defaults(NERVE_OPTIMIZER_ADAM);
    adam.lr = 0.01;
    nerve_optimizer *opt = nerve_optimizer_new(g, &adam, &err);
    if (!opt) die(&err);
    printf("%zu parameters, %s\n", nerve_graph_param_count(g), nerve_optimizer_name(opt));

    /* Batches are gathered on the host and written into the graph's inputs,
     * values read back: nerve_node_write and nerve_node_read work on any
     * device, where nerve_node_value's pointer is host memory only on a host
     * device (cpu, ref). */
    int64_t index[TRAIN];
    for (int64_t i = 0; i < TRAIN; i++) index[i] = i;
    nerve_real xs[BATCH * 2], ys[BATCH], out[BATCH * 2], value;
    nerve_graph_set_training(g, true);
    double first_loss = 0, last_loss = 0;
    for (int epoch = 1; epoch <= epochs; epoch++) {
        nerve_rng_shuffle(&rng, index, TRAIN);
        double total = 0;
        for (int64_t first = 0; first < TRAIN; first += BATCH) {
            nerve_dataset_gather(&train, index + first, BATCH, xs, ys);
            nerve_graph_zero_grad(g);
            if (nerve_node_write(g, x, xs, BATCH * 2, &err) != NERVE_OK ||
                nerve_node_write(g, labels, ys, BATCH, &err) != NERVE_OK ||
                nerve_graph_forward(g, loss, &err) != NERVE_OK ||
                nerve_graph_backward(g, loss, &err) != NERVE_OK ||
                nerve_node_read(g, loss, &value, 1, &err) != NERVE_OK)
                die(&err);
            nerve_optimizer_step(opt);
            total += value;
        }
        last_loss = total / (TRAIN / BATCH);
        if (epoch == 1) first_loss = last_loss;
        if (epoch % 10 == 0 || epoch == epochs) printf("epoch %2d  loss %.4f\n", epoch, last_loss);
    }

    /* Accuracy on the held-out points: the larger logit is the class. */
    nerve_graph_set_training(g, false);
    int64_t correct = 0;
    for (int64_t first = 0; first < TEST; first += BATCH) {
        int64_t batch[BATCH];
        for (int64_t i = 0; i < BATCH; i++) batch[i] = first + i;
        nerve_dataset_gather(&test, batch, BATCH, xs, NULL);
        if (nerve_node_write(g, x, xs, BATCH * 2, &err) != NERVE_OK ||
            nerve_graph_forward(g, logits, &err) != NERVE_OK ||
            nerve_node_read(g, logits, out, BATCH * 2, &err) != NERVE_OK)
            die(&err);
        for (int64_t i = 0; i < BATCH; i++)
            correct += (out[2 * i + 1] > out[2 * i]) == (test.targets[first + i] == 1);
    }
    double accuracy = (double)correct / TEST;
    printf("test accuracy %.4f\n", accuracy);

    nerve_optimizer_free(opt);
    nerve_graph_free(g);
    nerve_dataset_free(&train);
    nerve_dataset_free(&test);
    if (epochs < EPOCHS) return last_loss < first_loss ? 0 : 1; /* a quick run */
    return accuracy >= 0.95 ? 0 : 1;
}
