/* A per-step classifier read from a cfg, [embedding] then [dense] over the
 * steps, learns a next-token rule: in sequences that follow a fixed
 * permutation of 8 tokens, the token after x is perm[x]. Accuracy, the
 * running accuracy of training and the confusion matrix count every step. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#define VOCAB 8
#define STEPS 6
#define SAMPLES 48

static const int perm[VOCAB] = {3, 0, 6, 1, 7, 2, 5, 4};

static const char cfg[] =
    "[net]\ninput = 6\nbatch = 16\nepochs = 1\nseed = 3\n"
    "[optimizer]\ntype = adam\nlr = 0.05\n"
    "[loss]\ntype = softmax_cross_entropy\n"
    "[embedding]\nname = emb\nvocab = 8\ndim = 8\n"
    "[dense]\nname = next\nunits = 8\n";

/* Input x_0 .. x_{T-1} from a random start, target x_1 .. x_T. */
static nerve_dataset next_token_data(void)
{
    nerve_rng rng;
    nerve_rng_seed(&rng, 11);
    nerve_dataset ds = {.count = SAMPLES, .sample_shape = nerve_shape_1d(STEPS),
                        .sample_size = STEPS, .target_size = STEPS, .num_classes = VOCAB};
    ds.inputs = malloc(SAMPLES * STEPS * sizeof(float));
    ds.targets = malloc(SAMPLES * STEPS * sizeof(float));
    for (int i = 0; i < SAMPLES; i++) {
        int token = (int)nerve_rng_below(&rng, VOCAB);
        for (int t = 0; t < STEPS; t++) {
            ds.inputs[i * STEPS + t] = (float)token;
            token = perm[token];
            ds.targets[i * STEPS + t] = (float)token;
        }
    }
    return ds;
}

static nerve_model *load_model(void)
{
    const char *path = test_tmppath("next_token.cfg");
    test_write_file(path, cfg, sizeof cfg - 1);
    nerve_model *m;
    nerve_error err = {0};
    test_require_ok(nerve_model_load(path, NULL, &m, &err), &err);
    return m;
}

static void keep_report(const nerve_epoch_report *r, void *user)
{
    *(nerve_epoch_report *)user = *r;
}

/* The steps whose most probable class is the target, from nerve_predict. */
static int64_t correct_steps(nerve_model *m, const nerve_dataset *ds)
{
    float *probabilities = malloc(SAMPLES * STEPS * VOCAB * sizeof(float));
    nerve_error err = {0};
    test_require_ok(nerve_predict(m, ds->inputs, ds->count, probabilities, &err), &err);
    int64_t correct = 0;
    for (int k = 0; k < SAMPLES * STEPS; k++) {
        const float *row = probabilities + k * VOCAB;
        int best = 0;
        double total = 0;
        for (int c = 0; c < VOCAB; c++) {
            total += row[c];
            if (row[c] > row[best]) best = c;
        }
        assert_true(fabs(total - 1) < 1e-5); /* a softmax over each step's classes */
        correct += best == (int)ds->targets[k];
    }
    free(probabilities);
    return correct;
}

static void test_learns_the_next_token_at_every_step(void **state)
{
    nerve_model *m = load_model();
    nerve_dataset ds = next_token_data();
    nerve_error err = {0};
    nerve_epoch_report report = {0};
    nerve_train_options o = nerve_train_options_from(m);
    o.on_epoch = keep_report;
    o.user = &report;

    /* After one epoch the model is partly right: accuracy is the share of
     * steps, as nerve_predict's argmax of each step counts them. */
    test_require_ok(nerve_train(m, &ds, NULL, &o, &err), &err);
    assert_true(report.train_accuracy >= 0 && report.train_accuracy <= 1);
    nerve_evaluation e;
    test_require_ok(nerve_evaluate(m, &ds, 0, &e, &err), &err);
    assert_int_equal(e.count, SAMPLES);
    assert_int_equal(e.labels, SAMPLES * STEPS);
    assert_true(fabs(e.accuracy - (double)correct_steps(m, &ds) / (SAMPLES * STEPS)) < 1e-12);
    int64_t confused = 0;
    for (int i = 0; i < VOCAB * VOCAB; i++) confused += e.confusion[i];
    assert_int_equal(confused, SAMPLES * STEPS);
    nerve_evaluation_free(&e);

    o.epochs = 40;
    test_require_ok(nerve_train(m, &ds, NULL, &o, &err), &err);
    assert_true(report.train_accuracy == 1);
    test_require_ok(nerve_evaluate(m, &ds, 0, &e, &err), &err);
    assert_true(e.accuracy == 1);
    assert_true(e.loss < 0.05);
    for (int c = 0; c < VOCAB; c++) assert_true(e.confusion[c * VOCAB + c] > 0);
    nerve_evaluation_free(&e);
    nerve_dataset_free(&ds);
    nerve_model_free(m);
}

/* A data set made in code is checked too, when training starts. */
static void test_training_refuses_bad_token_ids(void **state)
{
    nerve_model *m = load_model();
    nerve_dataset ds = next_token_data();
    ds.inputs[3 * STEPS + 2] = VOCAB;
    nerve_error err = {0};
    nerve_train_options o = nerve_train_options_from(m);
    assert_int_equal(nerve_train(m, &ds, NULL, &o, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "training set: sample 3, step 2: token id 8 is not an "
                                       "integer in [0, 8)");
    nerve_evaluation e;
    assert_int_equal(nerve_evaluate(m, &ds, 0, &e, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "evaluation set: sample 3, step 2");
    nerve_dataset_free(&ds);
    nerve_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_learns_the_next_token_at_every_step),
        cmocka_unit_test(test_training_refuses_bad_token_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
