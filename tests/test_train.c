/* The trainer: mini-batches with a last partial batch, the metrics log,
 * --steps, evaluation's confusion matrix, and a stop on a non-finite loss. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_settings.h"
#include "test_support.h"

#define SAMPLES 100 /* batch 32: three full batches and one of 4 */

static nerve_model *load_model(const char *loss, const char *lr)
{
    char text[512];
    snprintf(text, sizeof text,
             "[net]\ninput = 2\nbatch = 32\nepochs = 20\nseed = 3\n"
             "[optimizer]\nlr = %s\nmomentum = 0.9\n[loss]\ntype = %s\n"
             "[dense]\nunits = 8\nactivation = tanh\n[dense]\nunits = 2\n",
             lr, loss);
    const char *path = test_tmppath("train.cfg");
    test_write_file(path, text, strlen(text));
    nerve_model *m;
    nerve_error err = {0};
    assert_int_equal(nerve_model_load(path, NULL, &m, &err), NERVE_OK);
    return m;
}

/* Two Gaussian blobs, centred at (-1, -1) (class 0) and (1, 1) (class 1). */
static nerve_dataset blobs(bool one_hot_targets)
{
    nerve_rng rng;
    nerve_rng_seed(&rng, 11);
    nerve_dataset ds = {0};
    ds.count = SAMPLES;
    ds.sample_shape = nerve_shape_1d(2);
    ds.sample_size = 2;
    ds.target_size = one_hot_targets ? 2 : 1;
    ds.num_classes = one_hot_targets ? 0 : 2;
    ds.inputs = malloc(SAMPLES * 2 * sizeof(float));
    ds.targets = malloc(SAMPLES * ds.target_size * sizeof(float));
    for (int i = 0; i < SAMPLES; i++) {
        int label = i % 2;
        for (int k = 0; k < 2; k++)
            ds.inputs[2 * i + k] = (float)((label ? 1 : -1) + 0.5 * nerve_rng_normal(&rng));
        if (one_hot_targets) {
            ds.targets[2 * i] = (float)(1 - label);
            ds.targets[2 * i + 1] = (float)label;
        } else {
            ds.targets[i] = (float)label;
        }
    }
    return ds;
}

static void count_progress(const nerve_progress *p, void *user) { ++*(int *)user; }

static int count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int lines = 0, c;
    while ((c = fgetc(f)) != EOF) lines += c == '\n';
    fclose(f);
    return lines;
}

static void test_training_learns_separable_blobs_and_logs_each_epoch(void **state)
{
    nerve_model *m = load_model("softmax_cross_entropy", "0.05");
    nerve_dataset ds = blobs(false);
    nerve_error err = {0};
    int steps = 0;
    nerve_train_options o = nerve_train_options_from(m);
    o.log_path = test_tmppath("metrics.csv");
    o.on_progress = count_progress;
    o.user = &steps;
    assert_int_equal(nerve_train(m, &ds, NULL, &o, &err), NERVE_OK);
    assert_int_equal(steps, 20 * 4); /* the partial batch is a step too */
    assert_int_equal(count_lines(o.log_path), 1 + 20);

    nerve_evaluation e;
    assert_int_equal(nerve_evaluate(m, &ds, 0, &e, &err), NERVE_OK);
    assert_true(e.accuracy > 0.95);
    int64_t total = 0;
    for (int i = 0; i < 4; i++) total += e.confusion[i];
    assert_int_equal(total, SAMPLES);
    assert_int_equal(e.count, SAMPLES);
    nerve_evaluation_free(&e);

    float probabilities[SAMPLES * 2];
    assert_int_equal(nerve_predict(m, ds.inputs, SAMPLES, probabilities, &err), NERVE_OK);
    for (int i = 0; i < SAMPLES; i++)
        assert_float_equal(probabilities[2 * i] + probabilities[2 * i + 1], 1.0, 1e-5);
    nerve_dataset_free(&ds);
    nerve_model_free(m);
}

/* torch.optim.lr_scheduler.StepLR(step_size=3, gamma=0.5) from lr 0.1. */
static void test_step_schedule_matches_steplr(void **state)
{
    nerve_schedule s = {.kind = NERVE_SCHEDULE_STEP, .step_size = 3, .gamma = 0.5};
    const double expected[7] = {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025};
    for (int epoch = 0; epoch < 7; epoch++)
        assert_float_equal(nerve_schedule_lr(&s, 0.1, epoch), expected[epoch], 1e-15);
    nerve_schedule constant = {.kind = NERVE_SCHEDULE_CONSTANT};
    assert_float_equal(nerve_schedule_lr(&constant, 0.1, 99), 0.1, 0);
}

static void record_lr(const nerve_epoch_report *r, void *user) { ((double *)user)[r->epoch - 1] = r->lr; }

static void test_trainer_applies_the_schedule_each_epoch(void **state)
{
    nerve_model *m = load_model("softmax_cross_entropy", "0.05");
    nerve_model_settings *s = nerve_model_settings_mut(m);
    s->schedule = (nerve_schedule){.kind = NERVE_SCHEDULE_STEP, .step_size = 2, .gamma = 0.1};
    nerve_dataset ds = blobs(false);
    nerve_error err = {0};
    double lr[5];
    nerve_train_options o = nerve_train_options_from(m);
    o.epochs = 5;
    o.on_epoch = record_lr;
    o.user = lr;
    assert_int_equal(nerve_train(m, &ds, NULL, &o, &err), NERVE_OK);
    const double expected[5] = {0.05, 0.05, 0.005, 0.005, 0.0005};
    for (int i = 0; i < 5; i++) assert_float_equal(lr[i], expected[i], 1e-12);
    nerve_dataset_free(&ds);
    nerve_model_free(m);
}

static void test_max_steps_stops_early(void **state)
{
    nerve_model *m = load_model("softmax_cross_entropy", "0.05");
    nerve_dataset ds = blobs(false);
    nerve_error err = {0};
    int steps = 0;
    nerve_train_options o = nerve_train_options_from(m);
    o.max_steps = 5;
    o.on_progress = count_progress;
    o.user = &steps;
    assert_int_equal(nerve_train(m, &ds, NULL, &o, &err), NERVE_OK);
    assert_int_equal(steps, 5);
    nerve_dataset_free(&ds);
    nerve_model_free(m);
}

static void test_mse_regression_trains(void **state)
{
    nerve_model *m = load_model("mse", "0.05");
    nerve_dataset ds = blobs(true);
    nerve_error err = {0};
    nerve_evaluation before, after;
    assert_int_equal(nerve_evaluate(m, &ds, 0, &before, &err), NERVE_OK);
    nerve_train_options o = nerve_train_options_from(m);
    assert_int_equal(nerve_train(m, &ds, NULL, &o, &err), NERVE_OK);
    assert_int_equal(nerve_evaluate(m, &ds, 0, &after, &err), NERVE_OK);
    assert_true(after.loss < 0.05 && after.loss < before.loss / 4);
    nerve_evaluation_free(&before);
    nerve_evaluation_free(&after);
    nerve_dataset_free(&ds);
    nerve_model_free(m);
}

static void test_diverging_run_stops_with_a_message(void **state)
{
    nerve_model *m = load_model("mse", "1e5");
    nerve_dataset ds = blobs(true);
    nerve_error err = {0};
    nerve_train_options o = nerve_train_options_from(m);
    assert_int_equal(nerve_train(m, &ds, NULL, &o, &err), NERVE_ERR_NUMERIC);
    test_assert_message_contains(&err, "step");
    test_assert_message_contains(&err, "the loss is");
    nerve_dataset_free(&ds);
    nerve_model_free(m);
}

static void test_unwritable_metrics_log_is_an_error(void **state)
{
    nerve_model *m = load_model("softmax_cross_entropy", "0.05");
    nerve_dataset ds = blobs(false);
    nerve_error err = {0};
    nerve_train_options o = nerve_train_options_from(m);
    o.log_path = "/nonexistent/dir/metrics.csv";
    assert_int_equal(nerve_train(m, &ds, NULL, &o, &err), NERVE_ERR_IO);
    test_assert_message_contains(&err, "/nonexistent/dir/metrics.csv");
    nerve_dataset_free(&ds);
    nerve_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_training_learns_separable_blobs_and_logs_each_epoch),
        cmocka_unit_test(test_step_schedule_matches_steplr),
        cmocka_unit_test(test_trainer_applies_the_schedule_each_epoch),
        cmocka_unit_test(test_max_steps_stops_early),
        cmocka_unit_test(test_mse_regression_trains),
        cmocka_unit_test(test_diverging_run_stops_with_a_message),
        cmocka_unit_test(test_unwritable_metrics_log_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
