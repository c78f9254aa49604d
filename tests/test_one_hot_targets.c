/* [loss] one_hot: class labels as the one-hot targets of a regression loss.
 * The evaluated mse is the mean squared distance between the outputs and
 * the labels' one-hot vectors, computed apart; such a network is a
 * classifier that learns (accuracy reported); the key belongs to the
 * regression and binary losses and needs one output per class. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#define SAMPLES 90

static nerve_status load(const char *loss, int outputs, nerve_model **m, nerve_error *err)
{
    char text[1024];
    snprintf(text, sizeof text,
             "[net]\ninput = 2\nbatch = 10\nepochs = 20\nseed = 4\n"
             "[optimizer]\nlr = 0.1\nmomentum = 0.9\n[loss]\n%s\n"
             "[dense]\nunits = 16\nactivation = tanh\n[dense]\nunits = %d\n",
             loss, outputs);
    const char *path = test_tmppath("onehot.cfg");
    test_write_file(path, text, strlen(text));
    *m = NULL;
    return nerve_model_load(path, NULL, m, err);
}

/* Three Gaussian blobs, class k centred at angle 2 pi k / 3. */
static nerve_dataset blobs(void)
{
    nerve_rng rng;
    nerve_rng_seed(&rng, 5);
    nerve_dataset ds = {.count = SAMPLES, .sample_shape = nerve_shape_1d(2), .sample_size = 2,
                        .target_size = 1, .num_classes = 3};
    ds.inputs = malloc(SAMPLES * 2 * sizeof(float));
    ds.targets = malloc(SAMPLES * sizeof(float));
    for (int i = 0; i < SAMPLES; i++) {
        int k = i % 3;
        ds.inputs[2 * i] = (float)(2 * cos(2.0944 * k) + 0.4 * nerve_rng_normal(&rng));
        ds.inputs[2 * i + 1] = (float)(2 * sin(2.0944 * k) + 0.4 * nerve_rng_normal(&rng));
        ds.targets[i] = (float)k;
    }
    return ds;
}

static void test_mse_against_one_hot_labels(void **state)
{
    nerve_model *m;
    nerve_error err = {0};
    test_require_ok(load("type = mse\none_hot = 1", 3, &m, &err), &err);
    assert_int_equal(nerve_model_classes(m), 3);
    nerve_dataset ds = blobs();
    /* Before training: the evaluation's loss is the mean over samples of the
     * mean over the 3 outputs of (y - onehot)^2. */
    float y[SAMPLES * 3];
    test_require_ok(nerve_predict(m, ds.inputs, SAMPLES, y, &err), &err);
    double expected = 0;
    for (int i = 0; i < SAMPLES; i++)
        for (int c = 0; c < 3; c++) {
            double d = y[3 * i + c] - (c == (int)ds.targets[i] ? 1.0 : 0.0);
            expected += d * d / (3.0 * SAMPLES);
        }
    nerve_evaluation e;
    test_require_ok(nerve_evaluate(m, &ds, 0, &e, &err), &err);
    assert_float_equal(e.loss, expected, 1e-5);
    assert_int_equal(e.classes, 3);
    nerve_evaluation_free(&e);
    nerve_train_options o = nerve_train_options_from(m);
    test_require_ok(nerve_train(m, &ds, NULL, &o, &err), &err);
    test_require_ok(nerve_evaluate(m, &ds, 0, &e, &err), &err);
    if (e.accuracy < 0.95) fail_msg("accuracy %g after training", e.accuracy);
    nerve_evaluation_free(&e);
    nerve_model_free(m);
    nerve_dataset_free(&ds);
}

static void test_bce_with_logits_one_hot_is_a_classifier(void **state)
{
    nerve_model *m;
    nerve_error err = {0};
    test_require_ok(load("type = bce_with_logits\none_hot = 1", 3, &m, &err), &err);
    assert_int_equal(nerve_model_classes(m), 3);
    nerve_dataset ds = blobs();
    nerve_train_options o = nerve_train_options_from(m);
    test_require_ok(nerve_train(m, &ds, NULL, &o, &err), &err);
    nerve_evaluation e;
    test_require_ok(nerve_evaluate(m, &ds, 0, &e, &err), &err);
    if (e.accuracy < 0.95) fail_msg("accuracy %g after training", e.accuracy);
    nerve_evaluation_free(&e);
    nerve_model_free(m);
    nerve_dataset_free(&ds);
}

static void test_one_hot_needs_its_losses_and_a_class_per_output(void **state)
{
    nerve_model *m;
    nerve_error err = {0};
    assert_int_not_equal(load("type = softmax_cross_entropy\none_hot = 1", 3, &m, &err), NERVE_OK);
    test_assert_message_contains(&err, "only applies to [loss] type mse");
    assert_int_not_equal(load("type = mse\none_hot = 1", 1, &m, &err), NERVE_OK);
    test_assert_message_contains(&err, "one_hot");
    test_assert_message_contains(&err, "at least 2 outputs");
    /* Without one_hot, mse is regression. */
    test_require_ok(load("type = mse", 3, &m, &err), &err);
    assert_int_equal(nerve_model_classes(m), 0);
    nerve_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mse_against_one_hot_labels),
        cmocka_unit_test(test_bce_with_logits_one_hot_is_a_classifier),
        cmocka_unit_test(test_one_hot_needs_its_losses_and_a_class_per_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
