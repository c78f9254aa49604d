/* Gradient clipping stops an exploding RNN (the notes' cure for exploding
 * gradients through time): a tanh RNN on the adding problem (T = 20) with a
 * learning rate too high for it diverges to an infinite loss within the first
 * epoch, and the same run with clip_norm trains to well below the trivial
 * baseline (always answering 1: MSE about 0.167). */
#include <math.h>
#include <string.h>

#include "test_support.h"

static const char *const exploding_cfg =
    "[net]\ninput = 20x2\nbatch = 32\nepochs = 30\nseed = 1\n"
    "[data]\nformat = adding\nlength = 20\ntrain_samples = 2000\ntest_samples = 0\n"
    "[optimizer]\ntype = sgd\nlr = 0.3\n"
    "[loss]\ntype = mse\n"
    "[rnn]\nname = rnn\nhidden = 32\ninit = orthogonal\nreturn = last\n"
    "[dense]\nname = out\nunits = 1\n";

typedef struct run_record {
    double last_loss;
    double max_grad_norm; /* before clipping, the largest epoch mean */
} run_record;

static void on_epoch(const nerve_epoch_report *r, void *user)
{
    run_record *rec = user;
    rec->last_loss = r->train_loss;
    if (r->grad_norm > rec->max_grad_norm) rec->max_grad_norm = r->grad_norm;
}

/* Trains the cfg with the overrides; returns nerve_train's status. */
static nerve_status train(const char *const *overrides, run_record *rec, nerve_error *err)
{
    const char *path = test_tmppath("exploding_rnn.cfg");
    test_write_file(path, exploding_cfg, strlen(exploding_cfg));
    nerve_model *m;
    test_require_ok(nerve_model_load(path, overrides, &m, err), err);
    nerve_dataset data = {0};
    test_require_ok(nerve_model_load_data(m, &data, NULL, NULL, err), err);
    nerve_train_options o = nerve_train_options_from(m);
    o.on_epoch = on_epoch;
    o.user = rec;
    nerve_status st = nerve_train(m, &data, NULL, &o, err);
    nerve_dataset_free(&data);
    nerve_model_free(m);
    return st;
}

static void test_without_clipping_the_rnn_diverges(void **state)
{
    (void)state;
    run_record rec = {0};
    nerve_error err = {0};
    assert_int_equal(train(NULL, &rec, &err), NERVE_ERR_NUMERIC);
    if (!strstr(err.message, "epoch 1,")) fail_msg("expected divergence in epoch 1: %s", err.message);
}

static void test_clipping_the_gradient_norm_lets_it_train(void **state)
{
    (void)state;
    const char *const clip[] = {"optimizer.clip_norm=0.5", NULL};
    run_record rec = {0};
    nerve_error err = {0};
    test_require_ok(train(clip, &rec, &err), &err);
    assert_true(isfinite(rec.last_loss));
    /* The trivial answer scores ~0.167; the clipped RNN learns the sum. */
    if (!(rec.last_loss < 0.09)) fail_msg("final train loss %g", rec.last_loss);
    /* Clipping was doing something: the raw gradient norm went above it. */
    if (!(rec.max_grad_norm > 0.5)) fail_msg("largest mean gradient norm %g", rec.max_grad_norm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_without_clipping_the_rnn_diverges),
        cmocka_unit_test(test_clipping_the_gradient_norm_lets_it_train),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
