/* Each activation alone: forward and backward over a rows x cols tensor
 * (4096 x 4096 by default), timed over repeated rounds; prints one CSV row
 * per activation with the best round's nanoseconds per element, forward,
 * backward and both, and both relative to ReLU's. Lab claim C48 ("sigmoid
 * and tanh need exponentials, ReLU is cheap"); in a network the GEMMs
 * dwarf the difference (docs/benchmarks.md, "Activations alone").
 *
 *   nerve_bench_activations [--threads N] [--rows N] [--cols N] [--rounds R] */
#include <math.h>
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

/* The best round's seconds of forward and of backward. */
static int time_activation(nerve_activation kind, int64_t rows, int64_t cols, int64_t rounds,
                           double *forward, double *backward)
{
    nerve_error err = {0};
    nerve_graph *g = nerve_graph_new();
    nerve_node x = nerve_input(g, "x", nerve_shape_1d(cols), &err), y = -1;
    if (x >= 0 && nerve_graph_set_input_grad(g, x, true, &err) == NERVE_OK)
        y = nerve_activate(g, x, kind, NULL, &err);
    nerve_real *upstream = malloc((size_t)(rows * cols) * sizeof *upstream);
    if (y < 0 || !upstream || nerve_graph_plan(g, rows, &err) != NERVE_OK) {
        fprintf(stderr, "nerve_bench_activations: %s: %s\n", nerve_activation_name(kind),
                upstream ? err.message : "out of memory");
        free(upstream);
        nerve_graph_free(g);
        return 1;
    }
    /* Inputs across the activations' interesting range, [-4, 4]. */
    nerve_real *xv = nerve_node_value(g, x);
    for (int64_t i = 0; i < rows * cols; i++) {
        xv[i] = (nerve_real)(8.0 * (double)(i % 1000) / 999.0 - 4.0);
        upstream[i] = 1;
    }
    *forward = *backward = INFINITY;
    for (int64_t r = -1; r < rounds; r++) { /* round -1 warms up */
        double start = seconds_now();
        if (nerve_graph_forward(g, y, &err) != NERVE_OK) break;
        double middle = seconds_now();
        nerve_graph_zero_grad(g);
        if (nerve_graph_backward_from(g, y, upstream, &err) != NERVE_OK) break;
        double end = seconds_now();
        if (r < 0) continue;
        *forward = fmin(*forward, middle - start);
        *backward = fmin(*backward, end - middle);
    }
    free(upstream);
    nerve_graph_free(g);
    if (err.status == NERVE_OK) return 0;
    fprintf(stderr, "nerve_bench_activations: %s: %s\n", nerve_activation_name(kind),
            err.message);
    return 1;
}

int main(int argc, char **argv)
{
    int64_t rows = 4096, cols = 4096, rounds = 5, threads = 2;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *key = argv[i];
        int64_t *target = strcmp(key, "--rows") == 0      ? &rows
                          : strcmp(key, "--cols") == 0    ? &cols
                          : strcmp(key, "--rounds") == 0  ? &rounds
                          : strcmp(key, "--threads") == 0 ? &threads
                                                          : NULL;
        if (!target) {
            fprintf(stderr, "nerve_bench_activations: unknown option %s\n", key);
            return 2;
        }
        *target = atoll(argv[i + 1]);
    }
    if (rows < 1 || cols < 1 || rounds < 1 || threads < 1) {
        fprintf(stderr, "nerve_bench_activations: sizes, rounds and threads must be positive\n");
        return 2;
    }
    nerve_set_threads((int)threads);
    double forward[NERVE_ACT_COUNT], backward[NERVE_ACT_COUNT];
    for (int k = 0; k < NERVE_ACT_COUNT; k++)
        if (time_activation((nerve_activation)k, rows, cols, rounds, &forward[k], &backward[k]))
            return 1;
    double elements = (double)(rows * cols), relu = forward[NERVE_ACT_RELU] + backward[NERVE_ACT_RELU];
    printf("activation,forward_ns_per_element,backward_ns_per_element,total_ns_per_element,"
           "relative_to_relu\n");
    for (int k = 0; k < NERVE_ACT_COUNT; k++)
        printf("%s,%.4f,%.4f,%.4f,%.3f\n", nerve_activation_name((nerve_activation)k),
               1e9 * forward[k] / elements, 1e9 * backward[k] / elements,
               1e9 * (forward[k] + backward[k]) / elements, (forward[k] + backward[k]) / relu);
    return 0;
}
