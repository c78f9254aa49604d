/* toy_gan: a generative adversarial network on a 2-D Gaussian, written out
 * in code with two separate graphs (what nerve_train_gan does for cfg
 * models).
 *
 * The generator G turns 2 noise values into a point; the discriminator D
 * gives a point one logit, real or generated. D's input takes a gradient
 * (nerve_graph_set_input_grad), so after D's backward pass the gradient of
 * G's loss with respect to the generated points is in D's input, and
 * nerve_graph_backward_from carries it on through G. Each graph has its own
 * optimizer; D's parameters are frozen while G learns through it. Exits 1
 * unless the generated points end up around the real mean and D can no
 * longer tell them apart (accuracy near a coin's). The points, the noise and
 * the gradient between the graphs go through host buffers
 * (nerve_node_write, nerve_node_read, nerve_node_read_grad), so it runs on
 * any backend.
 *
 * Usage: toy_gan [STEPS]: fewer than the 3000 steps is a quick run (the
 * sealed device's test), which checks only that every loss is finite.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <nerve.h>

enum { BATCH = 128, NOISE = 2, STEPS = 3000 };
static const double real_mean[2] = {2.0, -1.0}, real_std[2] = {0.5, 0.25};

static void die(const nerve_error *err)
{
    fprintf(stderr, "toy_gan: %s\n", err->message);
    exit(1);
}

static nerve_node need(nerve_node n, const nerve_error *err)
{
    if (n < 0) die(err);
    return n;
}

static nerve_optimizer *adam(nerve_graph *g, nerve_error *err)
{
    nerve_optimizer_options o = nerve_optimizer_defaults(NERVE_OPTIMIZER_ADAM);
    o.lr = 0.002;
    o.beta1 = 0.5;
    nerve_optimizer *opt = nerve_optimizer_new(g, &o, err);
    if (!opt) die(err);
    return opt;
}

/* D's loss on what its input holds, against `target` for every row; counts
 * the rows D gets right. Accumulates into D's gradients. */
static double judge(nerve_graph *d, nerve_node logit, nerve_node target, nerve_node loss,
                    float value, int *correct)
{
    nerve_error err = {0};
    nerve_real t[BATCH], l[BATCH], result;
    for (int i = 0; i < BATCH; i++) t[i] = value;
    if (nerve_node_write(d, target, t, BATCH, &err) != NERVE_OK ||
        nerve_graph_forward(d, loss, &err) != NERVE_OK ||
        nerve_graph_backward(d, loss, &err) != NERVE_OK ||
        nerve_node_read(d, logit, l, BATCH, &err) != NERVE_OK ||
        nerve_node_read(d, loss, &result, 1, &err) != NERVE_OK)
        die(&err);
    for (int i = 0; i < BATCH; i++) *correct += (l[i] > 0) == (value > 0);
    return result;
}

int main(int argc, char **argv)
{
    int steps = argc > 1 ? atoi(argv[1]) : STEPS;
    if (argc > 2 || steps < 1 || steps > STEPS) {
        fprintf(stderr, "usage: toy_gan [STEPS (1 to %d)]\n", STEPS);
        return 2;
    }
    nerve_error err = {0};
    nerve_rng rng;
    nerve_rng_seed(&rng, 7);
    nerve_dense_options hidden = {NERVE_SIZED(nerve_dense_options),
                                  .units = 32, .activation = NERVE_ACT_LEAKY_RELU};
    nerve_dense_options point = {NERVE_SIZED(nerve_dense_options), .units = 2};
    nerve_dense_options logit_layer = {NERVE_SIZED(nerve_dense_options), .units = 1};

    /* G: noise -> 32 -> 32 -> a point. */
    nerve_graph *g = nerve_graph_new();
    nerve_node z = need(nerve_input(g, "z", nerve_shape_1d(NOISE), &err), &err);
    nerve_node h = need(nerve_dense(g, "gen.fc1", z, &hidden, &rng, &err), &err);
    h = need(nerve_dense(g, "gen.fc2", h, &hidden, &rng, &err), &err);
    nerve_node fake = need(nerve_dense(g, "gen.out", h, &point, &rng, &err), &err);

    /* D: a point -> 32 -> 32 -> a logit, BCE with logits against 1 (real) or 0. */
    nerve_graph *d = nerve_graph_new();
    nerve_node x = need(nerve_input(d, "x", nerve_shape_1d(2), &err), &err);
    if (nerve_graph_set_input_grad(d, x, true, &err) != NERVE_OK) die(&err);
    nerve_node target = need(nerve_input(d, "target", nerve_shape_1d(1), &err), &err);
    nerve_node k = need(nerve_dense(d, "disc.fc1", x, &hidden, &rng, &err), &err);
    k = need(nerve_dense(d, "disc.fc2", k, &hidden, &rng, &err), &err);
    nerve_node logit = need(nerve_dense(d, "disc.out", k, &logit_layer, &rng, &err), &err);
    nerve_node loss = need(nerve_bce_with_logits(d, logit, target, NULL, &err), &err);

    if (nerve_graph_plan(g, BATCH, &err) != NERVE_OK) die(&err);
    if (nerve_graph_plan(d, BATCH, &err) != NERVE_OK) die(&err);
    nerve_optimizer *g_opt = adam(g, &err), *d_opt = adam(d, &err);
    /* Host buffers: real or generated points, noise, D's input gradient. */
    nerve_real points[BATCH * 2], noise[BATCH * NOISE], upstream[BATCH * 2];
    double accuracy = 0;
    bool finite = true;
    for (int step = 1; step <= steps; step++) {
        /* D step: a real batch against 1, a generated one against 0. */
        nerve_graph_zero_grad(d);
        for (int i = 0; i < BATCH * 2; i++)
            points[i] = (nerve_real)(real_mean[i % 2] + real_std[i % 2] * nerve_rng_normal(&rng));
        if (nerve_node_write(d, x, points, BATCH * 2, &err) != NERVE_OK) die(&err);
        int correct = 0;
        double d_loss = judge(d, logit, target, loss, 1, &correct);
        for (int i = 0; i < BATCH * NOISE; i++) noise[i] = (nerve_real)nerve_rng_normal(&rng);
        if (nerve_node_write(g, z, noise, BATCH * NOISE, &err) != NERVE_OK ||
            nerve_graph_forward(g, fake, &err) != NERVE_OK ||
            nerve_node_read(g, fake, points, BATCH * 2, &err) != NERVE_OK ||
            nerve_node_write(d, x, points, BATCH * 2, &err) != NERVE_OK)
            die(&err);
        d_loss += judge(d, logit, target, loss, 0, &correct);
        nerve_optimizer_step(d_opt);

        /* G step: the same points judged by the updated, frozen D against
         * 1 (the non-saturating loss); the gradient at D's input goes on
         * into G. */
        nerve_graph_freeze_prefix(d, "disc.", true);
        if (nerve_node_write(d, x, points, BATCH * 2, &err) != NERVE_OK) die(&err);
        int fooled = 0;
        double g_loss = judge(d, logit, target, loss, 1, &fooled);
        nerve_graph_zero_grad(g);
        if (nerve_node_read_grad(d, x, upstream, BATCH * 2, &err) != NERVE_OK ||
            nerve_graph_backward_from(g, fake, upstream, &err) != NERVE_OK)
            die(&err);
        nerve_optimizer_step(g_opt);
        nerve_graph_freeze_prefix(d, "disc.", false);

        accuracy = 0.99 * accuracy + 0.01 * correct / (2.0 * BATCH);
        finite = finite && isfinite(d_loss) && isfinite(g_loss);
        if (step % 500 == 0 || step == steps)
            printf("step %4d: D loss %.3f, G loss %.3f, D accuracy (running) %.3f\n", step, d_loss,
                   g_loss, accuracy);
    }

    /* The last batch of generated points against the real distribution. */
    nerve_real p[BATCH * 2];
    if (nerve_node_read(g, fake, p, BATCH * 2, &err) != NERVE_OK) die(&err);
    double mean[2] = {0, 0}, var[2] = {0, 0};
    for (int i = 0; i < BATCH * 2; i++) mean[i % 2] += p[i] / BATCH;
    for (int i = 0; i < BATCH * 2; i++) var[i % 2] += pow(p[i] - mean[i % 2], 2) / BATCH;
    printf("generated mean (%.3f, %.3f), std (%.3f, %.3f); real mean (%.1f, %.1f), std "
           "(%.2f, %.2f)\n",
           mean[0], mean[1], sqrt(var[0]), sqrt(var[1]), real_mean[0], real_mean[1],
           real_std[0], real_std[1]);
    int close = fabs(mean[0] - real_mean[0]) < 0.3 && fabs(mean[1] - real_mean[1]) < 0.3;
    int fooled = fabs(accuracy - 0.5) < 0.15;
    printf("mean within 0.3: %s; D's accuracy within 0.15 of 0.5: %s\n", close ? "yes" : "no",
           fooled ? "yes" : "no");

    nerve_optimizer_free(g_opt);
    nerve_optimizer_free(d_opt);
    nerve_graph_free(g);
    nerve_graph_free(d);
    if (steps < STEPS) return finite ? 0 : 1; /* a quick run */
    return close && fooled ? 0 : 1;
}
