/* Forward + backward of LeNet's two convolutions at batch 64, in ms per
 * batch: conv 5x5 1->32 'same' on 28x28 (its input takes no gradient, as a
 * network's first layer) and conv 5x5 32->64 'same' on 14x14 (with the
 * input's gradient). bench_conv_torch.py times the same in PyTorch; each
 * figure is the best of 5 rounds of --steps steps.
 *
 *     nerve_bench_conv [--threads N] [--steps N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nerve.h"

#define BATCH 64
#define ROUNDS 5

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void fill(nerve_real *v, int64_t n, nerve_rng *rng)
{
    for (int64_t i = 0; i < n; i++) v[i] = (nerve_real)(nerve_rng_uniform(rng) - 0.5);
}

/* ms per forward + backward of conv(x) -> mse against a fixed target. */
static double time_conv(int64_t channels, int64_t side, int64_t filters, bool input_gradient,
                        int steps)
{
    nerve_error err = {0};
    nerve_graph *g = nerve_graph_new();
    nerve_rng rng;
    nerve_rng_seed(&rng, 1);
    int64_t dims[4] = {BATCH, channels, side, side};
    nerve_node x = input_gradient ? nerve_param(g, "x", nerve_shape_make(4, dims), &err)
                                  : nerve_input(g, "x", nerve_shape_make(3, dims + 1), &err);
    nerve_conv_layer_options o = nerve_conv_layer_options_default();
    o.filters = filters;
    o.kernel[0] = o.kernel[1] = 5;
    o.conv.padding[0] = o.conv.padding[1] = 2;
    nerve_node y = nerve_conv2d_layer(g, "conv", x, &o, &rng, &err);
    int64_t ydims[4] = {BATCH, filters, side, side};
    /* The target has the shape of y: a batch of inputs, or x's full shape. */
    nerve_node t = input_gradient ? nerve_param(g, "target", nerve_shape_make(4, ydims), &err)
                                  : nerve_input(g, "target", nerve_shape_make(3, ydims + 1), &err);
    if (input_gradient) nerve_node_set_frozen(g, t, true);
    nerve_node loss = nerve_mse(g, y, t, NULL, &err);
    if (loss < 0 || nerve_graph_plan(g, BATCH, &err) != NERVE_OK) {
        fprintf(stderr, "bench_conv: %s\n", err.message);
        exit(1);
    }
    fill(nerve_node_value(g, x), BATCH * channels * side * side, &rng);
    fill(nerve_node_value(g, t), BATCH * filters * side * side, &rng);
    /* The best of ROUNDS rounds: the machine is shared, and the minimum is
     * the least disturbed measurement. */
    double ms = 1e30;
    for (int round = 0; round < ROUNDS; round++) {
        double start = 0;
        for (int step = -3; step < steps; step++) {
            if (step == 0) start = now();
            nerve_graph_zero_grad(g);
            if (nerve_graph_forward(g, loss, NULL) != NERVE_OK ||
                nerve_graph_backward(g, loss, NULL) != NERVE_OK)
                abort();
        }
        double round_ms = (now() - start) * 1e3 / steps;
        if (round_ms < ms) ms = round_ms;
    }
    nerve_graph_free(g);
    return ms;
}

int main(int argc, char **argv)
{
    int threads = 2, steps = 20;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--threads") == 0) threads = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--steps") == 0) steps = atoi(argv[i + 1]);
    }
    nerve_set_threads(threads);
    double conv1 = time_conv(1, 28, 32, false, steps);
    double conv2 = time_conv(32, 14, 64, true, steps);
    printf("nerve conv1_ms=%.2f conv2_ms=%.2f total_ms=%.2f\n", conv1, conv2, conv1 + conv2);
    return 0;
}
