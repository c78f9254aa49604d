/* Ensemble evaluation: one member is the model itself, the ensemble's figures
 * are those of the averaged predictions (nerve_predict's, averaged here),
 * and members that disagree on outputs or samples are errors naming them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#define SAMPLES 100 /* batch 32: three full batches and one of 4 */
#define CLASSES 3

/* An untrained MLP: its weights from the seed are a different model per seed. */
static nerve_model *load_model(const char *loss, int outputs, int seed)
{
    char text[512];
    snprintf(text, sizeof text,
             "[net]\ninput = 2\nbatch = 32\nseed = %d\n[loss]\ntype = %s\n"
             "[dense]\nunits = 8\nactivation = tanh\n[dense]\nunits = %d\n",
             seed, loss, outputs);
    const char *path = test_tmppath("ensemble.cfg");
    test_write_file(path, text, strlen(text));
    nerve_model *m;
    nerve_error err = {0};
    test_require_ok(nerve_model_load(path, NULL, &m, &err), &err);
    return m;
}

/* Three overlapping blobs, labelled 0..2 (or one-hot targets for regression). */
static nerve_dataset blobs(bool one_hot_targets)
{
    nerve_rng rng;
    nerve_rng_seed(&rng, 5);
    nerve_dataset ds = {0};
    ds.count = SAMPLES;
    ds.sample_shape = nerve_shape_1d(2);
    ds.sample_size = 2;
    ds.target_size = one_hot_targets ? CLASSES : 1;
    ds.num_classes = one_hot_targets ? 0 : CLASSES;
    ds.inputs = malloc(SAMPLES * 2 * sizeof(float));
    ds.targets = calloc((size_t)(SAMPLES * ds.target_size), sizeof(float));
    for (int i = 0; i < SAMPLES; i++) {
        int label = i % CLASSES;
        for (int k = 0; k < 2; k++)
            ds.inputs[2 * i + k] = (float)(label - 1 + nerve_rng_normal(&rng));
        if (one_hot_targets)
            ds.targets[i * CLASSES + label] = 1;
        else
            ds.targets[i] = (float)label;
    }
    return ds;
}

static void test_an_ensemble_of_one_model_twice_is_that_model(void **state)
{
    (void)state;
    nerve_model *a = load_model("softmax_cross_entropy", CLASSES, 1);
    nerve_model *b = load_model("softmax_cross_entropy", CLASSES, 1);
    nerve_dataset ds = blobs(false);
    nerve_ensemble_member members[] = {{a, &ds, "a"}, {b, &ds, "b"}};
    nerve_ensemble_evaluation e;
    nerve_error err = {0};
    test_require_ok(nerve_evaluate_ensemble(members, 2, 0, &e, &err), &err);
    assert_int_equal(e.count, 2);
    assert_int_equal(e.ensemble.count, SAMPLES);
    assert_int_equal(e.ensemble.classes, CLASSES);
    assert_true(e.ensemble.accuracy == e.members[0].accuracy);
    assert_true(fabs(e.ensemble.loss - e.members[0].loss) < 1e-5);
    assert_memory_equal(e.ensemble.confusion, e.members[1].confusion,
                        CLASSES * CLASSES * sizeof *e.ensemble.confusion);
    nerve_ensemble_evaluation_free(&e);
    nerve_dataset_free(&ds);
    nerve_model_free(a);
    nerve_model_free(b);
}

/* The averaged predictions of the members, from nerve_predict. */
static float *averaged_predictions(nerve_model **models, int count, const nerve_dataset *ds)
{
    int64_t width = nerve_model_output_size(models[0]);
    float *mean = calloc((size_t)(SAMPLES * width), sizeof *mean);
    float *one = malloc((size_t)(SAMPLES * width) * sizeof *one);
    nerve_error err = {0};
    for (int i = 0; i < count; i++) {
        test_require_ok(nerve_predict(models[i], ds->inputs, SAMPLES, one, &err), &err);
        for (int64_t j = 0; j < SAMPLES * width; j++) mean[j] += one[j] / (float)count;
    }
    free(one);
    return mean;
}

static void test_classifiers_average_their_probabilities(void **state)
{
    (void)state;
    nerve_model *models[3];
    nerve_dataset ds = blobs(false);
    nerve_ensemble_member members[3];
    for (int i = 0; i < 3; i++) {
        models[i] = load_model("softmax_cross_entropy", CLASSES, i + 1);
        members[i] = (nerve_ensemble_member){models[i], &ds, "member"};
    }
    nerve_ensemble_evaluation e;
    nerve_error err = {0};
    test_require_ok(nerve_evaluate_ensemble(members, 3, 0, &e, &err), &err);
    float *mean = averaged_predictions(models, 3, &ds);
    int64_t correct = 0;
    double nll = 0;
    for (int i = 0; i < SAMPLES; i++) {
        const float *p = mean + i * CLASSES;
        int best = 0;
        for (int c = 1; c < CLASSES; c++)
            if (p[c] > p[best]) best = c;
        int truth = (int)ds.targets[i];
        correct += best == truth;
        nll -= log(p[truth]) / SAMPLES;
    }
    assert_true(fabs(e.ensemble.accuracy - (double)correct / SAMPLES) < 1e-12);
    assert_true(fabs(e.ensemble.loss - nll) < 1e-5);
    for (int i = 0; i < 3; i++) {
        nerve_evaluation alone;
        test_require_ok(nerve_evaluate(models[i], &ds, 0, &alone, &err), &err);
        assert_true(alone.accuracy == e.members[i].accuracy);
        assert_true(alone.loss == e.members[i].loss);
        nerve_evaluation_free(&alone);
        nerve_model_free(models[i]);
    }
    free(mean);
    nerve_ensemble_evaluation_free(&e);
    nerve_dataset_free(&ds);
}

static void test_regression_averages_outputs_and_scores_their_squared_error(void **state)
{
    (void)state;
    nerve_model *models[2] = {load_model("mse", CLASSES, 1), load_model("mse", CLASSES, 2)};
    nerve_dataset ds = blobs(true);
    nerve_ensemble_member members[] = {{models[0], &ds, "a"}, {models[1], &ds, "b"}};
    nerve_ensemble_evaluation e;
    nerve_error err = {0};
    test_require_ok(nerve_evaluate_ensemble(members, 2, 7, &e, &err), &err);
    float *mean = averaged_predictions(models, 2, &ds);
    double mse = 0;
    for (int j = 0; j < SAMPLES * CLASSES; j++)
        mse += (mean[j] - ds.targets[j]) * (mean[j] - ds.targets[j]) / (SAMPLES * CLASSES);
    assert_int_equal(e.ensemble.classes, 0);
    assert_true(fabs(e.ensemble.loss - mse) < 1e-5);
    assert_true(isnan(e.ensemble.accuracy));
    free(mean);
    nerve_ensemble_evaluation_free(&e);
    nerve_dataset_free(&ds);
    nerve_model_free(models[0]);
    nerve_model_free(models[1]);
}

static void test_members_that_disagree_are_errors_naming_them(void **state)
{
    (void)state;
    nerve_model *a = load_model("softmax_cross_entropy", CLASSES, 1);
    nerve_model *wide = load_model("softmax_cross_entropy", CLASSES + 1, 1);
    nerve_model *regression = load_model("mse", CLASSES, 1);
    nerve_dataset ds = blobs(false), other = blobs(false), fewer = blobs(false);
    other.targets[41] = 0;
    fewer.count = SAMPLES - 1;
    nerve_ensemble_evaluation e;
    nerve_error err = {0};

    nerve_ensemble_member widths[] = {{a, &ds, "a.cfg:a"}, {wide, &ds, "wide.cfg:w"}};
    assert_int_equal(nerve_evaluate_ensemble(widths, 2, 0, &e, &err), NERVE_ERR_SHAPE);
    test_assert_message_contains(&err, "ensemble member wide.cfg:w: 4 classes");

    nerve_ensemble_member kinds[] = {{a, &ds, "a"}, {regression, &ds, "r"}};
    assert_int_equal(nerve_evaluate_ensemble(kinds, 2, 0, &e, &err), NERVE_ERR_SHAPE);
    test_assert_message_contains(&err, "ensemble member r: 0 classes");

    nerve_ensemble_member labels[] = {{a, &ds, "a"}, {a, &other, "b"}};
    assert_int_equal(nerve_evaluate_ensemble(labels, 2, 0, &e, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "ensemble member b: sample 41 has the target 0");

    nerve_ensemble_member counts[] = {{a, &ds, "a"}, {a, &fewer, "b"}};
    assert_int_equal(nerve_evaluate_ensemble(counts, 2, 0, &e, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "ensemble member b: 99 samples");

    assert_int_equal(nerve_evaluate_ensemble(counts, 0, 0, &e, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "needs a member");

    nerve_dataset_free(&ds);
    nerve_dataset_free(&other);
    nerve_dataset_free(&fewer);
    nerve_model_free(a);
    nerve_model_free(wide);
    nerve_model_free(regression);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_an_ensemble_of_one_model_twice_is_that_model),
        cmocka_unit_test(test_classifiers_average_their_probabilities),
        cmocka_unit_test(test_regression_averages_outputs_and_scores_their_squared_error),
        cmocka_unit_test(test_members_that_disagree_are_errors_naming_them),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
