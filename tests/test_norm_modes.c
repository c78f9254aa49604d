/* Training and eval mode in a network with batch norm and dropout:
 * nerve_graph_set_training(false) makes batch norm normalise with its running
 * statistics and dropout pass values through; evaluation and prediction run
 * in eval mode and leave the running statistics as training left them,
 * while every training step moves them and counts itself. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#define SAMPLES 20
#define FEATURES 4

static const char *const cfg =
    "[net]\ninput = 4\nbatch = 8\nepochs = 1\n"
    "[batchnorm]\nname = bn\n"
    "[dropout]\nname = drop\np = 0.5\n"
    "[dense]\nunits = 3\n";

static nerve_model *load_model(void)
{
    const char *path = test_tmppath("modes.cfg");
    test_write_file(path, cfg, strlen(cfg));
    nerve_model *m;
    nerve_error err = {0};
    test_require_ok(nerve_model_load(path, NULL, &m, &err), &err);
    return m;
}

/* Features with means far from 0 and spreads far from 1. */
static nerve_dataset samples(void)
{
    nerve_dataset ds = {0};
    ds.count = SAMPLES;
    ds.sample_shape = nerve_shape_1d(FEATURES);
    ds.sample_size = FEATURES;
    ds.target_size = 1;
    ds.num_classes = 3;
    ds.inputs = malloc(SAMPLES * FEATURES * sizeof(float));
    ds.targets = malloc(SAMPLES * sizeof(float));
    nerve_rng rng;
    nerve_rng_seed(&rng, 5);
    for (int i = 0; i < SAMPLES; i++) {
        for (int k = 0; k < FEATURES; k++)
            ds.inputs[i * FEATURES + k] = (float)(5 * k + (k + 1) * nerve_rng_normal(&rng));
        ds.targets[i] = (float)(i % 3);
    }
    return ds;
}

/* The first count values of the node called name, read through the device
 * (so that the test runs on every backend). */
static void read_named(nerve_model *m, const char *name, nerve_real *values, int64_t count)
{
    nerve_graph *g = nerve_model_graph(m);
    nerve_node n = nerve_graph_find(g, name);
    assert_true(n >= 0);
    nerve_error err = {0};
    test_require_ok(nerve_node_read(g, n, values, count, &err), &err);
}

static nerve_real batches_tracked(nerve_model *m)
{
    nerve_real count;
    read_named(m, "bn.num_batches_tracked", &count, 1);
    return count;
}

/* The running statistics and count, copied. */
static void snapshot(nerve_model *m, nerve_real *state)
{
    read_named(m, "bn.running_mean", state, FEATURES);
    read_named(m, "bn.running_var", state + FEATURES, FEATURES);
    state[2 * FEATURES] = batches_tracked(m);
}

static void test_eval_mode_uses_running_statistics_and_no_dropout(void **state)
{
    nerve_model *m = load_model();
    nerve_dataset ds = samples();
    nerve_graph *g = nerve_model_graph(m);
    nerve_error err = {0};
    test_require_ok(nerve_graph_plan(g, 8, &err), &err);
    test_require_ok(nerve_node_write(g, nerve_model_input(m), ds.inputs, 8 * FEATURES, &err),
                    &err);

    assert_int_equal(nerve_graph_forward(g, nerve_graph_find(g, "drop"), NULL), NERVE_OK);
    nerve_real bn[8 * FEATURES], drop[8 * FEATURES];
    read_named(m, "bn", bn, 8 * FEATURES);
    read_named(m, "drop", drop, 8 * FEATURES);
    int zeros = 0;
    for (int k = 0; k < FEATURES; k++) {
        double mean = 0;
        for (int i = 0; i < 8; i++) mean += bn[i * FEATURES + k] / 8;
        assert_true(fabs(mean) < 1e-5); /* the batch's own statistics */
    }
    for (int i = 0; i < 8 * FEATURES; i++) zeros += drop[i] == 0;
    assert_true(zeros > 0);
    assert_true(batches_tracked(m) == 1);

    nerve_real before[2 * FEATURES + 1], after[2 * FEATURES + 1];
    snapshot(m, before);
    nerve_graph_set_training(g, false);
    assert_int_equal(nerve_graph_forward(g, nerve_graph_find(g, "drop"), NULL), NERVE_OK);
    read_named(m, "bn", bn, 8 * FEATURES);
    read_named(m, "drop", drop, 8 * FEATURES);
    const nerve_real *mean = before, *var = before + FEATURES; /* the snapshot's statistics */
    for (int i = 0; i < 8; i++) {
        for (int k = 0; k < FEATURES; k++) {
            double x = ds.inputs[i * FEATURES + k];
            double expected = (x - mean[k]) / sqrt(var[k] + 1e-5);
            assert_true(fabs(bn[i * FEATURES + k] - expected) < 1e-4 * fmax(1, fabs(expected)));
            assert_true(drop[i * FEATURES + k] == bn[i * FEATURES + k]);
        }
    }
    snapshot(m, after);
    assert_memory_equal(before, after, sizeof before);
    nerve_dataset_free(&ds);
    nerve_model_free(m);
}

static void test_evaluation_and_prediction_leave_running_statistics_alone(void **state)
{
    nerve_model *m = load_model();
    nerve_dataset ds = samples();
    nerve_error err = {0};
    nerve_train_options o = nerve_train_options_from(m);
    test_require_ok(nerve_train(m, &ds, NULL, &o, &err), &err);
    /* 20 samples in batches of 8: three steps, each counted. */
    assert_true(batches_tracked(m) == 3);
    assert_true(nerve_graph_training(nerve_model_graph(m)));

    nerve_real before[2 * FEATURES + 1], after[2 * FEATURES + 1];
    snapshot(m, before);
    nerve_evaluation e;
    test_require_ok(nerve_evaluate(m, &ds, 8, &e, &err), &err);
    nerve_evaluation_free(&e);
    float outputs[SAMPLES * 3];
    test_require_ok(nerve_predict(m, ds.inputs, SAMPLES, outputs, &err), &err);
    snapshot(m, after);
    assert_memory_equal(before, after, sizeof before);
    nerve_dataset_free(&ds);
    nerve_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eval_mode_uses_running_statistics_and_no_dropout),
        cmocka_unit_test(test_evaluation_and_prediction_leave_running_statistics_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
