/* [loss] lambda_gamma anneals large_margin_softmax's lambda during training
 * as Liu et al. (2016): lambda_t = max(lambda_min, lambda (1 + gamma t)^-power)
 * at step t; without lambda_gamma, lambda stays. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"
#include "core/graph_internal.h"

static nerve_model *load(const char *loss)
{
    char text[1024];
    snprintf(text, sizeof text,
             "[net]\ninput = 2\nbatch = 10\nepochs = 1000\nseed = 4\n"
             "[optimizer]\nlr = 0.05\n[loss]\ntype = large_margin_softmax\n%s\n"
             "[dense]\nunits = 8\nactivation = tanh\n[dense]\nunits = 3\nbias = 0\n",
             loss);
    const char *path = test_tmppath("lsoftmax.cfg");
    test_write_file(path, text, strlen(text));
    nerve_model *m;
    nerve_error err = {0};
    test_require_ok(nerve_model_load(path, NULL, &m, &err), &err);
    return m;
}

static nerve_dataset samples(void)
{
    nerve_rng rng;
    nerve_rng_seed(&rng, 5);
    nerve_dataset ds = {.count = 30, .sample_shape = nerve_shape_1d(2), .sample_size = 2,
                        .target_size = 1, .num_classes = 3};
    ds.inputs = malloc(60 * sizeof(float));
    ds.targets = malloc(30 * sizeof(float));
    for (int i = 0; i < 30; i++) {
        ds.inputs[2 * i] = (float)nerve_rng_normal(&rng);
        ds.inputs[2 * i + 1] = (float)nerve_rng_normal(&rng);
        ds.targets[i] = (float)(i % 3);
    }
    return ds;
}

/* The loss node's lambda after `steps` training steps (the last set at step steps - 1). */
static double lambda_after(const char *loss, int64_t steps)
{
    nerve_model *m = load(loss);
    nerve_dataset ds = samples();
    nerve_error err = {0};
    nerve_train_options o = nerve_train_options_from(m);
    o.max_steps = steps;
    test_require_ok(nerve_train(m, &ds, NULL, &o, &err), &err);
    double lambda = nerve_model_graph(m)->nodes[nerve_model_loss(m)].attr.loss.param;
    nerve_dataset_free(&ds);
    nerve_model_free(m);
    return lambda;
}

static void test_lambda_anneals_to_its_floor(void **state)
{
    const char *annealed = "lambda = 100\nlambda_gamma = 0.1\nlambda_power = 1\nlambda_min = 2";
    assert_float_equal(lambda_after(annealed, 10), 100 / (1 + 0.1 * 9), 1e-9);
    assert_float_equal(lambda_after(annealed, 200), 100 / (1 + 0.1 * 199), 1e-9);
    assert_float_equal(lambda_after("lambda = 100\nlambda_gamma = 0.1\nlambda_min = 10", 200), 10,
                       1e-12);
    assert_float_equal(lambda_after("lambda = 5\nlambda_gamma = 0.2\nlambda_power = 0.5", 4),
                       5 * pow(1 + 0.2 * 3, -0.5), 1e-9);
    /* No lambda_gamma: fixed. */
    assert_float_equal(lambda_after("lambda = 3", 20), 3, 1e-12);
}

static void test_annealing_keys_belong_to_large_margin_softmax(void **state)
{
    const char *text = "[net]\ninput = 2\n[loss]\ntype = mse\nlambda_gamma = 0.1\n"
                       "[dense]\nunits = 2\n";
    const char *path = test_tmppath("bad.cfg");
    test_write_file(path, text, strlen(text));
    nerve_model *m = NULL;
    nerve_error err = {0};
    assert_int_not_equal(nerve_model_load(path, NULL, &m, &err), NERVE_OK);
    test_assert_message_contains(&err, "bad.cfg:5");
    test_assert_message_contains(&err, "only applies to [loss] type large_margin_softmax");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lambda_anneals_to_its_floor),
        cmocka_unit_test(test_annealing_keys_belong_to_large_margin_softmax),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
