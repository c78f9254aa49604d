/* Recurrent networks read from a .cfg learn, through the library's trainer:
 * an LSTM remembers the sign its sequence starts with across 12 steps of
 * noise (the last state feeds a dense classifier), and a bidirectional GRU
 * whose whole output sequence is flattened into a classifier tells whether
 * a spike came in the first or the second half. Evaluation and prediction
 * run through the same layers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#define SAMPLES 512
#define STEPS 12
#define FEATURES 2

static const char *const lstm_cfg =
    "[net]\ninput = 12x2\nbatch = 32\nepochs = 40\nseed = 3\n"
    "[optimizer]\ntype = adam\nlr = 0.02\n"
    "[lstm]\nhidden = 12\nreturn = last\n"
    "[dense]\nunits = 2\n";

static const char *const gru_cfg =
    "[net]\ninput = 12x2\nbatch = 32\nepochs = 20\nseed = 4\n"
    "[optimizer]\ntype = adam\nlr = 0.02\n"
    "[gru]\nhidden = 6\nbidirectional = 1\n"
    "[flatten]\n"
    "[dense]\nunits = 2\n";

/* Fills one sequence x [STEPS, FEATURES] and returns its class. */
typedef int (*labeller)(nerve_rng *rng, float *x);

/* Class = the sign of feature 1 at the first step, where it is +-1 (0
 * after); feature 0 is noise in [-1, 1] throughout. */
static int first_sign(nerve_rng *rng, float *x)
{
    int label = (int)nerve_rng_below(rng, 2);
    for (int t = 0; t < STEPS; t++) {
        x[t * FEATURES] = (float)(2 * nerve_rng_uniform(rng) - 1);
        x[t * FEATURES + 1] = t > 0 ? 0.0f : label ? 1.0f : -1.0f;
    }
    return label;
}

/* Class = a spike of 3 in feature 1 within the first half (0) or the
 * second (1), on noise of amplitude 0.3. */
static int spike_half(nerve_rng *rng, float *x)
{
    for (int i = 0; i < STEPS * FEATURES; i++) x[i] = (float)(0.6 * nerve_rng_uniform(rng) - 0.3);
    int at = (int)nerve_rng_below(rng, STEPS);
    x[at * FEATURES + 1] = 3;
    return at >= STEPS / 2;
}

static nerve_dataset sequences(labeller label, uint64_t seed)
{
    nerve_rng rng;
    nerve_rng_seed(&rng, seed);
    nerve_dataset ds = {0};
    ds.count = SAMPLES;
    ds.sample_shape = (nerve_shape){2, {STEPS, FEATURES}};
    ds.sample_size = STEPS * FEATURES;
    ds.target_size = 1;
    ds.num_classes = 2;
    ds.inputs = malloc(SAMPLES * STEPS * FEATURES * sizeof(float));
    ds.targets = malloc(SAMPLES * sizeof(float));
    for (int i = 0; i < SAMPLES; i++)
        ds.targets[i] = (float)label(&rng, ds.inputs + i * STEPS * FEATURES);
    return ds;
}

static void record_loss(const nerve_epoch_report *r, void *user)
{
    double *loss = user;
    if (r->epoch == 1) loss[0] = r->train_loss;
    loss[1] = r->train_loss;
}

static void check_learns(const char *cfg, labeller label)
{
    const char *path = test_tmppath("recurrent_net.cfg");
    test_write_file(path, cfg, strlen(cfg));
    nerve_model *m;
    nerve_error err = {0};
    test_require_ok(nerve_model_load(path, NULL, &m, &err), &err);
    nerve_dataset train = sequences(label, 11), test = sequences(label, 12);
    double loss[2];
    nerve_train_options o = nerve_train_options_from(m);
    o.on_epoch = record_loss;
    o.user = loss;
    test_require_ok(nerve_train(m, &train, NULL, &o, &err), &err);
    if (!(loss[1] < 0.1 * loss[0])) fail_msg("loss %g -> %g", loss[0], loss[1]);

    nerve_evaluation e;
    test_require_ok(nerve_evaluate(m, &test, 0, &e, &err), &err);
    if (e.accuracy < 0.9) fail_msg("test accuracy %g", e.accuracy);
    nerve_evaluation_free(&e);
    float probabilities[4];
    test_require_ok(nerve_predict(m, test.inputs, 2, probabilities, &err), &err);
    for (int i = 0; i < 2; i++)
        assert_true(probabilities[2 * i + (int)test.targets[i]] > 0.5);
    nerve_dataset_free(&train);
    nerve_dataset_free(&test);
    nerve_model_free(m);
}

static void test_an_lstm_remembers_the_first_value(void **state)
{
    check_learns(lstm_cfg, first_sign);
}

static void test_a_bidirectional_gru_finds_the_spike(void **state)
{
    check_learns(gru_cfg, spike_half);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_an_lstm_remembers_the_first_value),
        cmocka_unit_test(test_a_bidirectional_gru_finds_the_spike),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
