/* frozen_chain: two networks in one training loop, one's output the other's
 * input, gradients flowing through the second while it stays frozen.
 *
 * First a classifier learns which quadrant of the plane a point lies in, in
 * a graph of its own. Then a generator, which turns a wanted quadrant into a
 * point, is trained through that classifier: both are built in one graph,
 * generator -> classifier -> cross-entropy against the wanted quadrant, the
 * classifier's trained weights copied in by name and frozen. Backward passes
 * through the frozen classifier into the generator; only the generator
 * moves. Exits 1 unless the classifier is unchanged and the generated points
 * land in the wanted quadrants. Values go in and out through copies
 * (nerve_node_write, nerve_node_read), so it runs on any backend.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nerve.h>

enum { QUADRANTS = 4, POINTS = 512, STEPS = 300 };

static void die(const nerve_error *err)
{
    fprintf(stderr, "frozen_chain: %s\n", err->message);
    exit(1);
}

static nerve_node need(nerve_node n, const nerve_error *err)
{
    if (n < 0) die(err);
    return n;
}

/* Quadrant of (x, y): 0 (+, +), 1 (-, +), 2 (-, -), 3 (+, -). */
static int quadrant(double x, double y) { return y >= 0 ? (x >= 0 ? 0 : 1) : (x < 0 ? 2 : 3); }

/* The classifier's layers on a point node: 2 -> 16 tanh -> 4 logits. */
static nerve_node classifier(nerve_graph *g, nerve_node point, nerve_rng *rng, nerve_error *err)
{
    nerve_dense_options hidden = {NERVE_SIZED(nerve_dense_options),
                                  .units = 16, .activation = NERVE_ACT_TANH};
    nerve_dense_options output = {NERVE_SIZED(nerve_dense_options), .units = QUADRANTS};
    nerve_node h = need(nerve_dense(g, "classifier.hidden", point, &hidden, rng, err), err);
    return need(nerve_dense(g, "classifier.out", h, &output, rng, err), err);
}

/* Full-batch Adam on loss for `steps` steps. */
static void train(nerve_graph *g, nerve_node loss, double lr, int steps, nerve_error *err)
{
    nerve_optimizer_options adam = nerve_optimizer_defaults(NERVE_OPTIMIZER_ADAM);
    adam.lr = lr;
    nerve_optimizer *opt = nerve_optimizer_new(g, &adam, err);
    if (!opt) die(err);
    nerve_real value = 0;
    for (int step = 0; step < steps; step++) {
        nerve_graph_zero_grad(g);
        if (nerve_graph_forward(g, loss, err) != NERVE_OK ||
            nerve_graph_backward(g, loss, err) != NERVE_OK ||
            nerve_node_read(g, loss, &value, 1, err) != NERVE_OK)
            die(err);
        nerve_optimizer_step(opt);
    }
    printf("  loss after %d steps: %.4f\n", steps, value);
    nerve_optimizer_free(opt);
}

/* Node n's values, all of them, in a new host buffer (free it). */
static nerve_real *read_all(nerve_graph *g, nerve_node n, nerve_error *err)
{
    nerve_shape shape = nerve_node_shape(g, n);
    int64_t count = nerve_shape_numel(&shape);
    nerve_real *values = malloc((size_t)count * sizeof *values);
    if (!values) {
        fprintf(stderr, "frozen_chain: out of memory\n");
        exit(1);
    }
    if (nerve_node_read(g, n, values, count, err) != NERVE_OK) die(err);
    return values;
}

/* Copies every parameter of `from` into the parameter of the same name in `to`. */
static void copy_parameters(nerve_graph *from, nerve_graph *to, nerve_error *err)
{
    for (nerve_node n = 0; n < nerve_graph_node_count(from); n++) {
        if (!nerve_node_is_param(from, n)) continue;
        nerve_shape shape = nerve_node_shape(from, n);
        nerve_real *values = read_all(from, n, err);
        if (nerve_node_write(to, nerve_graph_find(to, nerve_node_name(from, n)), values,
                             nerve_shape_numel(&shape), err) != NERVE_OK)
            die(err);
        free(values);
    }
}

int main(void)
{
    nerve_error err = {0};
    nerve_rng rng;
    nerve_rng_seed(&rng, 3);

    /* 1. The classifier alone, on random points and their quadrants. */
    nerve_graph *solo = nerve_graph_new();
    nerve_node point = need(nerve_input(solo, "point", nerve_shape_1d(2), &err), &err);
    nerve_node labels = need(nerve_input(solo, "quadrant", nerve_shape_make(0, NULL), &err), &err);
    nerve_node logits = classifier(solo, point, &rng, &err);
    nerve_node loss = need(nerve_softmax_cross_entropy(solo, logits, labels, NULL, &err), &err);
    if (nerve_graph_plan(solo, POINTS, &err) != NERVE_OK) die(&err);
    nerve_real xy[2 * POINTS], q[POINTS];
    for (int i = 0; i < POINTS; i++) {
        xy[2 * i] = (nerve_real)(2 * nerve_rng_uniform(&rng) - 1);
        xy[2 * i + 1] = (nerve_real)(2 * nerve_rng_uniform(&rng) - 1);
        q[i] = (nerve_real)quadrant(xy[2 * i], xy[2 * i + 1]);
    }
    if (nerve_node_write(solo, point, xy, 2 * POINTS, &err) != NERVE_OK ||
        nerve_node_write(solo, labels, q, POINTS, &err) != NERVE_OK)
        die(&err);
    printf("classifier:\n");
    train(solo, loss, 0.02, STEPS, &err);

    /* 2. generator -> classifier in one graph: wanted quadrant (one-hot)
     * -> 16 tanh -> a point in (-1, 1)^2 -> the classifier's layers. */
    nerve_graph *chain = nerve_graph_new();
    nerve_node wanted = need(nerve_input(chain, "wanted", nerve_shape_make(0, NULL), &err), &err);
    nerve_node code = need(nerve_one_hot(chain, wanted, QUADRANTS, &err), &err);
    nerve_dense_options hidden = {NERVE_SIZED(nerve_dense_options),
                                  .units = 16, .activation = NERVE_ACT_TANH};
    nerve_dense_options to_point = {NERVE_SIZED(nerve_dense_options),
                                    .units = 2, .activation = NERVE_ACT_TANH};
    nerve_node h = need(nerve_dense(chain, "generator.hidden", code, &hidden, &rng, &err), &err);
    nerve_node generated = need(nerve_dense(chain, "generator.out", h, &to_point, &rng, &err),
                                &err);
    nerve_node judged = classifier(chain, generated, &rng, &err);
    nerve_node chain_loss = need(nerve_softmax_cross_entropy(chain, judged, wanted, NULL, &err),
                                 &err);
    if (nerve_graph_plan(chain, POINTS, &err) != NERVE_OK) die(&err);
    copy_parameters(solo, chain, &err);
    const char *frozen[] = {"classifier.hidden.weight", "classifier.hidden.bias",
                            "classifier.out.weight", "classifier.out.bias"};
    for (int i = 0; i < 4; i++)
        nerve_node_set_frozen(chain, nerve_graph_find(chain, frozen[i]), true);

    nerve_real w[POINTS];
    for (int i = 0; i < POINTS; i++) w[i] = (nerve_real)(i % QUADRANTS);
    if (nerve_node_write(chain, wanted, w, POINTS, &err) != NERVE_OK) die(&err);
    printf("generator through the frozen classifier:\n");
    train(chain, chain_loss, 0.02, STEPS, &err);

    /* The classifier did not move; the generated points are where the
     * classifier was trained to see each quadrant. */
    int unchanged = 1;
    for (int i = 0; i < 4; i++) {
        nerve_node a = nerve_graph_find(solo, frozen[i]), b = nerve_graph_find(chain, frozen[i]);
        nerve_shape shape = nerve_node_shape(solo, a);
        nerve_real *before = read_all(solo, a, &err), *after = read_all(chain, b, &err);
        unchanged &= memcmp(before, after,
                            (size_t)nerve_shape_numel(&shape) * sizeof(nerve_real)) == 0;
        free(before);
        free(after);
    }
    nerve_real p[2 * POINTS];
    if (nerve_node_read(chain, generated, p, 2 * POINTS, &err) != NERVE_OK) die(&err);
    int placed = 0;
    for (int i = 0; i < POINTS; i++) placed += quadrant(p[2 * i], p[2 * i + 1]) == (int)w[i];
    for (int k = 0; k < QUADRANTS; k++)
        printf("  quadrant %d -> (%+.3f, %+.3f)\n", k, p[2 * k], p[2 * k + 1]);
    printf("classifier unchanged: %s; points in the wanted quadrant: %d of %d\n",
           unchanged ? "yes" : "no", placed, POINTS);

    nerve_graph_free(chain);
    nerve_graph_free(solo);
    return unchanged && placed == POINTS ? 0 : 1;
}
