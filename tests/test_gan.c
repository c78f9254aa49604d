/* nerve_train_gan on a toy distribution, a 1-D Gaussian N(3, 0.5^2): the
 * discriminator first wins (its accuracy moves away from 0.5), then the
 * generator learns the distribution (the accuracy comes back towards 0.5
 * and the samples' mean approaches the real one). Each generator
 * step moves G's weights by -lr times the finite-difference gradient of its
 * objective, for both losses; and bad pairs and options are errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_internal.h"
#include "test_support.h"

#define REAL_MEAN 3.0
#define REAL_STD 0.5
#define REAL_COUNT 2048

static const char *write_cfg(const char *name, const char *text)
{
    const char *path = test_tmppath(name);
    test_write_file(path, text, strlen(text));
    return path;
}

static nerve_model *load(const char *name, const char *text, const char *const *overrides)
{
    nerve_error err = {0};
    nerve_model *m = NULL;
    test_require_ok(nerve_model_load(write_cfg(name, text), overrides, &m, &err), &err);
    return m;
}

/* G: 4 noise values -> 16 tanh -> one value; its [loss] only has to build. */
static const char generator_cfg[] = "[net]\ninput = 4\nseed = 2\n"
                                    "[optimizer]\ntype = adam\nlr = 0.005\nbeta1 = 0.5\n"
                                    "[loss]\ntype = mse\n"
                                    "[dense]\nunits = 16\nactivation = tanh\n"
                                    "[dense]\nunits = 1\n";
/* D: one value -> 32 leaky ReLU -> one logit. */
static const char discriminator_cfg[] = "[net]\ninput = 1\nbatch = 64\nseed = 3\n"
                                        "[optimizer]\ntype = adam\nlr = 0.005\nbeta1 = 0.5\n"
                                        "[loss]\ntype = bce_with_logits\n"
                                        "[dense]\nunits = 32\nactivation = leaky_relu\n"
                                        "slope = 0.2\n"
                                        "[dense]\nunits = 1\n";

static nerve_dataset gaussian_samples(void)
{
    nerve_dataset ds = {0};
    nerve_rng rng;
    nerve_rng_seed(&rng, 11);
    ds.count = REAL_COUNT;
    ds.sample_shape = nerve_shape_1d(1);
    ds.sample_size = 1;
    ds.inputs = malloc(REAL_COUNT * sizeof *ds.inputs);
    assert_non_null(ds.inputs);
    for (int64_t i = 0; i < REAL_COUNT; i++)
        ds.inputs[i] = (float)(REAL_MEAN + REAL_STD * nerve_rng_normal(&rng));
    return ds;
}

/* The mean and standard deviation of n generated values. */
static void generated_moments(nerve_model *g, int n, double *mean, double *std)
{
    nerve_error err = {0};
    float *noise = malloc((size_t)n * 4 * sizeof *noise), *out = malloc((size_t)n * sizeof *out);
    assert_true(noise && out);
    nerve_rng rng;
    nerve_rng_seed(&rng, 5);
    for (int i = 0; i < n * 4; i++) noise[i] = (float)nerve_rng_normal(&rng);
    test_require_ok(nerve_gan_sample(g, noise, n, out, &err), &err);
    double sum = 0, squares = 0;
    for (int i = 0; i < n; i++) sum += out[i], squares += (double)out[i] * out[i];
    *mean = sum / n;
    *std = sqrt(fmax(squares / n - *mean * *mean, 0));
    free(noise);
    free(out);
}

#define EPOCHS 40
typedef struct history {
    nerve_gan_report reports[EPOCHS];
    int count;
} history;

static nerve_status record(const nerve_gan_report *r, void *user, nerve_error *err)
{
    (void)err;
    history *h = user;
    h->reports[h->count++] = *r;
    return NERVE_OK;
}

/* How far D's accuracy (real and fake together) is from a coin's. */
static double edge(const nerve_gan_report *r)
{
    return fabs((r->real_accuracy + r->fake_accuracy) / 2 - 0.5);
}

static void train_toy(nerve_gan_loss loss, history *h, double *mean, double *std)
{
    nerve_error err = {0};
    nerve_model *g = load("g.cfg", generator_cfg, NULL);
    nerve_model *d = load("d.cfg", discriminator_cfg, NULL);
    nerve_dataset real = gaussian_samples();
    double start_mean, start_std;
    generated_moments(g, 1000, &start_mean, &start_std);
    nerve_gan_options o = nerve_gan_options_from(d);
    o.epochs = EPOCHS;
    o.loss = loss;
    o.on_epoch = record;
    o.user = h;
    test_require_ok(nerve_train_gan(g, d, &real, &o, &err), &err);
    generated_moments(g, 1000, mean, std);
    printf("%s: generated mean %.3f std %.3f (at the start %.3f, %.3f)\n",
           loss == NERVE_GAN_MINIMAX ? "minimax" : "non-saturating", *mean, *std, start_mean,
           start_std);
    for (int e = 0; e < h->count; e += 5)
        printf("  epoch %d: D loss %.3f, G loss %.3f, accuracy real %.3f fake %.3f\n",
               h->reports[e].epoch, h->reports[e].discriminator_loss,
               h->reports[e].generator_loss, h->reports[e].real_accuracy,
               h->reports[e].fake_accuracy);
    assert_true(fabs(start_mean - REAL_MEAN) > 1.5);
    nerve_dataset_free(&real);
    nerve_model_free(g);
    nerve_model_free(d);
}

static void test_generator_learns_the_distribution(void **state)
{
    (void)state;
    history h = {0};
    double mean, std;
    train_toy(NERVE_GAN_NON_SATURATING, &h, &mean, &std);
    assert_int_equal(h.count, EPOCHS);
    /* D wins early, then is fooled about half the time. */
    double early = 0, late = 0;
    for (int e = 0; e < 3; e++) early = fmax(early, edge(&h.reports[e]));
    for (int e = EPOCHS - 5; e < EPOCHS; e++) late += edge(&h.reports[e]) / 5;
    printf("D accuracy's distance from 0.5: early %.3f, late %.3f\n", early, late);
    assert_true(early > 0.2);
    assert_true(late < 0.1);
    assert_true(fabs(mean - REAL_MEAN) < 0.3);
    /* A 1-D GAN tends to narrow the distribution (a partial mode collapse):
     * the spread only has to stay clearly above a single point's. */
    assert_true(std > 0.05 && std < 1.0);
}

static void test_minimax_loss_also_learns(void **state)
{
    (void)state;
    history h = {0};
    double mean, std;
    train_toy(NERVE_GAN_MINIMAX, &h, &mean, &std);
    /* log(1 - D(G(z))) is negative, unlike the non-saturating loss. */
    assert_true(h.reports[EPOCHS - 1].generator_loss < 0);
    assert_true(fabs(mean - REAL_MEAN) < 0.5);
}

/* G's objective on fixed noise z: mean log(1 - sigmoid(l)) (minimax) or
 * mean softplus(-l) (non-saturating), l = D(G(z)). */
static double objective(nerve_model *g, nerve_model *d, const nerve_real *z, int64_t n,
                        nerve_gan_loss loss)
{
    nerve_graph *gg = nerve_model_graph(g), *dg = nerve_model_graph(d);
    nerve_error err = {0};
    nerve_real fakes[64], logit[64]; /* through the host: the test runs on every backend */
    assert_true(n <= 64);
    test_require_ok(nerve_node_write(gg, nerve_model_input(g), z, n * 4, &err), &err);
    assert_int_equal(nerve_graph_forward(gg, nerve_model_output(g), NULL), NERVE_OK);
    test_require_ok(nerve_node_read(gg, nerve_model_output(g), fakes, n, &err), &err);
    test_require_ok(nerve_node_write(dg, nerve_model_input(d), fakes, n, &err), &err);
    assert_int_equal(nerve_graph_forward(dg, nerve_model_output(d), NULL), NERVE_OK);
    test_require_ok(nerve_node_read(dg, nerve_model_output(d), logit, n, &err), &err);
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        double l = loss == NERVE_GAN_MINIMAX ? logit[i] : -logit[i];
        double softplus = l > 0 ? l + log1p(exp(-l)) : log1p(exp(l));
        sum += loss == NERVE_GAN_MINIMAX ? -softplus : softplus;
    }
    return sum / (double)n;
}

static void check_generator_step(nerve_gan_loss loss)
{
    nerve_error err = {0};
    const double lr = 1e-3;
    nerve_model *g = load("g_sgd.cfg",
                          "[net]\ninput = 4\nseed = 2\n[optimizer]\ntype = sgd\nlr = 0.001\n"
                          "[loss]\ntype = mse\n[dense]\nunits = 16\nactivation = tanh\n"
                          "[dense]\nunits = 1\n",
                          NULL);
    nerve_model *d = load("d.cfg", discriminator_cfg, NULL);
    nerve_dataset real = gaussian_samples();
    nerve_graph *gg = nerve_model_graph(g);
    test_require_ok(nerve_graph_plan(gg, 64, &err), &err);
    size_t count = nerve_graph_param_count(gg);
    nerve_real *before = malloc(count * sizeof *before), *after = malloc(count * sizeof *after);
    assert_true(before && after);
    /* the flat parameter buffer is device memory: copied through the device */
    nerve_real *params = nerve_graph_params(gg);
    assert_int_equal(nerve_graph_download(gg, before, params, (int64_t)count), NERVE_OK);

    nerve_gan_options o = nerve_gan_options_from(d);
    o.loss = loss;
    o.max_steps = 1;
    test_require_ok(nerve_train_gan(g, d, &real, &o, &err), &err);
    assert_int_equal(nerve_graph_download(gg, after, params, (int64_t)count), NERVE_OK);

    /* The step's noise: the first draws of the seed's stream. */
    nerve_real z[64 * 4];
    nerve_rng rng;
    nerve_rng_seed(&rng, o.seed);
    for (int i = 0; i < 64 * 4; i++) z[i] = (nerve_real)nerve_rng_normal(&rng);
    assert_int_equal(nerve_graph_upload(gg, params, before, (int64_t)count), NERVE_OK);
    double worst = 0;
    for (size_t p = 0; p < count; p += 7) {
        const nerve_real eps = 1e-2f;
        nerve_real saved = before[p], up_value = saved + eps, down_value = saved - eps;
        assert_int_equal(nerve_graph_upload(gg, params + p, &up_value, 1), NERVE_OK);
        double up = objective(g, d, z, 64, loss);
        assert_int_equal(nerve_graph_upload(gg, params + p, &down_value, 1), NERVE_OK);
        double down = objective(g, d, z, 64, loss);
        assert_int_equal(nerve_graph_upload(gg, params + p, &saved, 1), NERVE_OK);
        double numeric = (up - down) / (2 * (double)eps);
        double analytic = ((double)before[p] - (double)after[p]) / lr;
        double error = fabs(numeric - analytic) / fmax(1e-2, fabs(numeric) + fabs(analytic));
        worst = fmax(worst, error);
    }
    printf("%s: worst relative difference of the G step from -lr x gradient: %.2e\n",
           loss == NERVE_GAN_MINIMAX ? "minimax" : "non-saturating", worst);
    assert_true(worst < 2e-2);
    free(before);
    free(after);
    nerve_dataset_free(&real);
    nerve_model_free(g);
    nerve_model_free(d);
}

static void test_generator_step_follows_its_gradient(void **state)
{
    (void)state;
    check_generator_step(NERVE_GAN_NON_SATURATING);
    check_generator_step(NERVE_GAN_MINIMAX);
}

static void expect_error(nerve_model *g, nerve_model *d, const nerve_dataset *real,
                         const nerve_gan_options *o, const char *needle)
{
    nerve_error err = {0};
    assert_int_not_equal(nerve_train_gan(g, d, real, o, &err), NERVE_OK);
    test_assert_message_contains(&err, needle);
    assert_null(strchr(err.message, '\n'));
}

static void test_bad_pairs_and_options(void **state)
{
    (void)state;
    nerve_model *g = load("g.cfg", generator_cfg, NULL);
    nerve_model *d = load("d.cfg", discriminator_cfg, NULL);
    nerve_dataset real = gaussian_samples();
    nerve_gan_options o = nerve_gan_options_from(d);

    o.k = 0;
    expect_error(g, d, &real, &o, "k (discriminator steps per generator step) must be at least 1");
    o.k = 100;
    expect_error(g, d, &real, &o, "fewer than k x batch");
    o.k = 1;

    const char *wide[] = {"net.input=3", NULL};
    nerve_model *d3 = load("d.cfg", discriminator_cfg, wide);
    expect_error(g, d3, &real, &o, "the generator's output 1 (1 values) does not fit the "
                                   "discriminator's input 3 (3 values)");
    const char *two[] = {"loss.type=softmax_cross_entropy", "dense1.units=2", NULL};
    nerve_model *classifier = load("d.cfg", discriminator_cfg, two);
    expect_error(g, classifier, &real, &o, "must output one logit with [loss] type = "
                                           "bce_with_logits");
    nerve_model_free(d3);
    nerve_model_free(classifier);
    nerve_dataset_free(&real);
    nerve_model_free(g);
    nerve_model_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generator_learns_the_distribution),
        cmocka_unit_test(test_minimax_loss_also_learns),
        cmocka_unit_test(test_generator_step_follows_its_gradient),
        cmocka_unit_test(test_bad_pairs_and_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
