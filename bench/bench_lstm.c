/* The recurrent layer alone: forward and backward of one LSTM layer over a
 * batch of sequences, the char-LSTM's shape by default (batch 32, 64 steps,
 * 100 one-hot inputs, hidden 256), timed over repeated rounds; prints the
 * best and the median round as tokens (batch x steps) per second. The input
 * takes no gradient, as a one-hot input; a mean squared error against zeros
 * gives backward its upstream gradient.
 *
 *   nerve_bench_lstm [--threads N] [--batch N] [--steps T] [--inputs I]
 *                    [--hidden H] [--cell rnn|lstm|gru] [--rounds R] [--iterations K] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nerve.h"

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int64_t batch = 32, steps = 64, inputs = 100, hidden = 256, threads = 2;
    int64_t rounds = 7, iterations = 10;
    nerve_recurrent_cell cell = NERVE_CELL_LSTM;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *key = argv[i], *value = argv[i + 1];
        int64_t *target = strcmp(key, "--batch") == 0        ? &batch
                          : strcmp(key, "--steps") == 0      ? &steps
                          : strcmp(key, "--inputs") == 0     ? &inputs
                          : strcmp(key, "--hidden") == 0     ? &hidden
                          : strcmp(key, "--threads") == 0    ? &threads
                          : strcmp(key, "--rounds") == 0     ? &rounds
                          : strcmp(key, "--iterations") == 0 ? &iterations
                                                             : NULL;
        if (target) {
            *target = atoll(value);
        } else if (strcmp(key, "--cell") == 0) {
            cell = strcmp(value, "rnn") == 0 ? NERVE_CELL_RNN_TANH
                   : strcmp(value, "gru") == 0 ? NERVE_CELL_GRU
                                               : NERVE_CELL_LSTM;
        } else {
            fprintf(stderr, "nerve_bench_lstm: unknown option %s\n", key);
            return 2;
        }
    }
    if (batch < 1 || steps < 1 || inputs < 1 || hidden < 1 || rounds < 1 || iterations < 1 ||
        rounds > 1000) {
        fprintf(stderr, "nerve_bench_lstm: sizes, rounds and iterations must be positive\n");
        return 2;
    }
    nerve_set_threads((int)threads);

    nerve_error err = {0};
    nerve_graph *g = nerve_graph_new();
    int64_t dims[2] = {steps, inputs};
    nerve_node x = nerve_input(g, "x", nerve_shape_make(2, dims), &err);
    nerve_recurrent_options o = nerve_recurrent_options_default(cell, hidden);
    nerve_rng rng;
    nerve_rng_seed(&rng, 1);
    nerve_node y = x < 0 ? -1 : nerve_recurrent_layer(g, "lstm", x, &o, &rng, &err);
    nerve_node target = -1, loss = -1;
    if (y >= 0) {
        int64_t target_dims[2] = {steps, hidden};
        target = nerve_input(g, "target", nerve_shape_make(2, target_dims), &err);
    }
    if (target >= 0) loss = nerve_mse(g, y, target, NULL, &err);
    if (loss < 0 || nerve_graph_plan(g, batch, &err) != NERVE_OK) {
        fprintf(stderr, "nerve_bench_lstm: %s\n", err.message);
        nerve_graph_free(g);
        return 1;
    }
    nerve_real *xv = nerve_node_value(g, x);
    for (int64_t n = 0; n < batch * steps; n++) xv[n * inputs + nerve_rng_below(&rng, inputs)] = 1;

    double times[1000];
    for (int64_t r = -1; r < rounds; r++) { /* round -1 warms up */
        double start = seconds_now();
        for (int64_t i = 0; i < iterations; i++) {
            if (nerve_graph_forward(g, loss, NULL) != NERVE_OK ||
                nerve_graph_backward(g, loss, NULL) != NERVE_OK)
                abort();
        }
        if (r >= 0) times[r] = (seconds_now() - start) / (double)iterations;
    }
    qsort(times, (size_t)rounds, sizeof *times, compare_doubles);
    double tokens = (double)(batch * steps);
    printf("nerve_bench_lstm cell=%s batch=%lld steps=%lld inputs=%lld hidden=%lld threads=%lld "
           "best_ms=%.2f median_ms=%.2f best_tokens_per_s=%.0f median_tokens_per_s=%.0f\n",
           cell == NERVE_CELL_LSTM ? "lstm" : cell == NERVE_CELL_GRU ? "gru" : "rnn",
           (long long)batch, (long long)steps, (long long)inputs, (long long)hidden,
           (long long)threads, 1e3 * times[0], 1e3 * times[rounds / 2], tokens / times[0],
           tokens / times[rounds / 2]);
    nerve_graph_free(g);
    return 0;
}
