/* Every [loss] type trains a small network from its cfg; evaluation reports
 * the error rate (the 0-1 loss) as 1 - accuracy, and a binary classifier
 * with one output (bce, bce_with_logits) is scored by a threshold. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#define SAMPLES 120

/* A 2-input network: a tanh hidden layer, then `last` (the out layer's
 * keys), trained with `loss`. */
static nerve_model *load_model(const char *last, const char *loss, const char *lr)
{
    char text[1024];
    snprintf(text, sizeof text,
             "[net]\ninput = 2\nbatch = 16\nepochs = 30\nseed = 5\n"
             "[optimizer]\nlr = %s\nmomentum = 0.9\n[loss]\n%s"
             "[dense]\nunits = 8\nactivation = tanh\n[dense]\nname = out\n%s",
             lr, loss, last);
    const char *path = test_tmppath("loss.cfg");
    test_write_file(path, text, strlen(text));
    nerve_model *m;
    nerve_error err = {0};
    test_require_ok(nerve_model_load(path, NULL, &m, &err), &err);
    return m;
}

/* Points around (-1, -1) (label 0) and (1, 1) (label 1), or with
 * target_size 2 the teacher logits (-2x - 2y, 2x + 2y) of each point. */
static nerve_dataset blobs(int64_t target_size)
{
    nerve_rng rng;
    nerve_rng_seed(&rng, 17);
    nerve_dataset ds = {.count = SAMPLES, .sample_shape = nerve_shape_1d(2), .sample_size = 2,
                        .target_size = target_size, .num_classes = target_size == 1 ? 2 : 0};
    ds.inputs = malloc(SAMPLES * 2 * sizeof(float));
    ds.targets = malloc(SAMPLES * (size_t)target_size * sizeof(float));
    for (int i = 0; i < SAMPLES; i++) {
        int label = i % 2;
        float *x = ds.inputs + 2 * i;
        for (int k = 0; k < 2; k++) x[k] = (float)((label ? 1 : -1) + 0.5 * nerve_rng_normal(&rng));
        if (target_size == 1) {
            ds.targets[i] = (float)label;
        } else {
            ds.targets[2 * i] = -2 * (x[0] + x[1]);
            ds.targets[2 * i + 1] = 2 * (x[0] + x[1]);
        }
    }
    return ds;
}

static nerve_evaluation train_and_evaluate(nerve_model *m, const nerve_dataset *ds,
                                           double *loss_before)
{
    nerve_error err = {0};
    nerve_evaluation e;
    test_require_ok(nerve_evaluate(m, ds, 0, &e, &err), &err);
    *loss_before = e.loss;
    nerve_evaluation_free(&e);
    nerve_train_options o = nerve_train_options_from(m);
    test_require_ok(nerve_train(m, ds, NULL, &o, &err), &err);
    test_require_ok(nerve_evaluate(m, ds, 0, &e, &err), &err);
    return e;
}

/* Trains a classifier and expects accuracy > 0.95, the error rate as
 * 1 - accuracy and a confusion matrix over every sample. */
static void check_classifier(const char *last, const char *loss, const char *lr, int classes)
{
    nerve_model *m = load_model(last, loss, lr);
    assert_int_equal(nerve_model_classes(m), classes);
    nerve_dataset ds = blobs(1);
    double before;
    nerve_evaluation e = train_and_evaluate(m, &ds, &before);
    if (!(e.accuracy > 0.95)) fail_msg("%s: accuracy %g", loss, e.accuracy);
    assert_true(e.loss < before);
    assert_true(e.error_rate == 1 - e.accuracy);
    int64_t total = 0;
    for (int i = 0; i < classes * classes; i++) total += e.confusion[i];
    assert_int_equal(total, SAMPLES);
    nerve_evaluation_free(&e);
    nerve_dataset_free(&ds);
    nerve_model_free(m);
}

static void test_cross_entropy_with_weights_and_smoothing(void **state)
{
    check_classifier("units = 2\n",
                     "type = softmax_cross_entropy\nweights = 1, 2\nlabel_smoothing = 0.1\n",
                     "0.05", 2);
}

static void test_nll_after_log_softmax(void **state)
{
    check_classifier("units = 2\nactivation = log_softmax\n", "type = nll\nreduction = sum\n",
                     "0.002", 2);
}

static void test_focal(void **state)
{
    check_classifier("units = 2\n", "type = focal\ngamma = 2\nalpha = 0.5, 1\n", "0.1", 2);
}

static void test_large_margin_softmax(void **state)
{
    check_classifier("units = 2\nbias = 0\n", "type = large_margin_softmax\nmargin = 3\n", "0.02",
                     2);
}

/* One output, thresholded at 0.5 (a probability) or 0 (a logit). */
static void test_bce_one_output_is_a_binary_classifier(void **state)
{
    check_classifier("units = 1\nactivation = sigmoid\n", "type = bce\n", "0.1", 2);
}

static void test_bce_with_logits_one_output_is_a_binary_classifier(void **state)
{
    check_classifier("units = 1\n", "type = bce_with_logits\npos_weight = 2\n", "0.1", 2);

    nerve_model *m = load_model("units = 1\n", "type = bce_with_logits\n", "0.1");
    nerve_dataset ds = blobs(1);
    float p[SAMPLES];
    nerve_error err = {0};
    test_require_ok(nerve_predict(m, ds.inputs, SAMPLES, p, &err), &err);
    for (int i = 0; i < SAMPLES; i++) assert_true(p[i] > 0 && p[i] < 1); /* sigmoid(logit) */
    nerve_dataset_free(&ds);
    nerve_model_free(m);
}

/* Regression losses fit y = x0 + x1 (targets of the output's shape). */
static void check_regression(const char *loss)
{
    nerve_model *m = load_model("units = 1\n", loss, "0.02");
    nerve_dataset ds = blobs(1);
    ds.num_classes = 0;
    for (int i = 0; i < SAMPLES; i++) ds.targets[i] = ds.inputs[2 * i] + ds.inputs[2 * i + 1];
    double before;
    nerve_evaluation e = train_and_evaluate(m, &ds, &before);
    if (!(e.loss < before / 4)) fail_msg("%s: loss %g from %g", loss, e.loss, before);
    assert_true(isnan(e.accuracy) && isnan(e.error_rate));
    nerve_evaluation_free(&e);
    nerve_dataset_free(&ds);
    nerve_model_free(m);
}

static void test_l1(void **state) { check_regression("type = l1\n"); }
static void test_huber(void **state) { check_regression("type = huber\ndelta = 0.5\n"); }
static void test_smooth_l1(void **state)
{
    check_regression("type = smooth_l1\nreduction = sum\n");
}

/* The student learns the teacher's logits' softmax at temperature 2. */
static void test_distillation(void **state)
{
    nerve_model *m = load_model("units = 2\n", "type = distillation\ntemperature = 2\n", "0.05");
    nerve_dataset ds = blobs(2);
    double before;
    nerve_evaluation e = train_and_evaluate(m, &ds, &before);
    if (!(e.loss < before / 4)) fail_msg("distillation: loss %g from %g", e.loss, before);
    nerve_evaluation_free(&e);
    nerve_dataset_free(&ds);
    nerve_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cross_entropy_with_weights_and_smoothing),
        cmocka_unit_test(test_nll_after_log_softmax),
        cmocka_unit_test(test_focal),
        cmocka_unit_test(test_large_margin_softmax),
        cmocka_unit_test(test_bce_one_output_is_a_binary_classifier),
        cmocka_unit_test(test_bce_with_logits_one_output_is_a_binary_classifier),
        cmocka_unit_test(test_l1),
        cmocka_unit_test(test_huber),
        cmocka_unit_test(test_smooth_l1),
        cmocka_unit_test(test_distillation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
