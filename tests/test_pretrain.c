/* Greedy layer-wise pre-training: every hidden dense layer learns to
 * reconstruct its input (the error falls), its weights change while the
 * output layer's stay as initialised, the decoder follows the inputs' range,
 * the same seed gives the same weights, and models or options it cannot
 * pre-train are one-line errors naming the layer or option. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_internal.h"
#include "test_support.h"

#define SAMPLES 300
#define FEATURES 16

static const char *const LAYERS =
    /* tanh codes in (-1, 1): the second autoencoder's decoder is linear */
    "[dense]\nname = fc1\nunits = 10\nactivation = tanh\n"
    "[dropout]\np = 0.5\n"
    "[dense]\nname = fc2\nunits = 6\nactivation = sigmoid\n"
    "[dense]\nname = out\nunits = 3\n";

static nerve_model *load_model(const char *layers)
{
    char text[1024];
    snprintf(text, sizeof text,
             "[net]\ninput = %d\nbatch = 20\nepochs = 30\nseed = 3\n"
             "[optimizer]\ntype = sgd\nlr = 0.05\nmomentum = 0.9\n%s",
             FEATURES, layers);
    const char *path = test_tmppath("pretrain.cfg");
    test_write_file(path, text, strlen(text));
    nerve_model *m;
    nerve_error err = {0};
    test_require_ok(nerve_model_load(path, NULL, &m, &err), &err);
    return m;
}

/* Values in [0, 1] that lie near a 3-dimensional surface, so that a narrow
 * code can reconstruct them. */
static nerve_dataset low_rank_data(void)
{
    nerve_rng rng;
    nerve_rng_seed(&rng, 11);
    nerve_dataset ds = {0};
    ds.count = SAMPLES;
    ds.sample_shape = nerve_shape_1d(FEATURES);
    ds.sample_size = FEATURES;
    ds.target_size = 1;
    ds.num_classes = 3;
    ds.inputs = malloc(SAMPLES * FEATURES * sizeof(float));
    ds.targets = calloc(SAMPLES, sizeof(float));
    for (int i = 0; i < SAMPLES; i++) {
        double z[3] = {nerve_rng_normal(&rng), nerve_rng_normal(&rng), nerve_rng_normal(&rng)};
        for (int k = 0; k < FEATURES; k++) {
            double s = z[0] * sin(k) + z[1] * cos(0.5 * k) + z[2] * (k % 3 - 1);
            ds.inputs[i * FEATURES + k] = (float)(1 / (1 + exp(-s)));
        }
        ds.targets[i] = (float)(i % 3);
    }
    return ds;
}

typedef struct reports {
    nerve_pretrain_report layers[4];
    int layer_count, epoch_count;
} reports;

static void on_epoch(const nerve_pretrain_report *r, void *user)
{
    reports *seen = user;
    assert_true(isnan(r->end_loss) && isfinite(r->loss));
    seen->epoch_count++;
}

static void on_layer(const nerve_pretrain_report *r, void *user)
{
    reports *seen = user;
    assert_true(seen->layer_count < 4);
    seen->layers[seen->layer_count++] = *r;
}

static nerve_pretrain_options options_for(nerve_model *m, reports *seen)
{
    nerve_pretrain_options o = nerve_pretrain_options_from(m);
    o.on_epoch = on_epoch;
    o.on_layer = on_layer;
    o.user = seen;
    return o;
}

static nerve_real *copy_params(nerve_model *m)
{
    nerve_graph *g = nerve_model_graph(m);
    size_t n = nerve_graph_param_count(g);
    nerve_real *copy = malloc(n * sizeof *copy);
    /* through the device: the test also runs on the sealed backend */
    assert_int_equal(nerve_graph_download(g, copy, nerve_graph_params(g), (int64_t)n), NERVE_OK);
    return copy;
}

/* Whether parameter `name` holds the same values in `params` (a copy of the
 * flat buffer) as in the model now. */
static bool unchanged(nerve_model *m, const nerve_real *params, const char *name)
{
    nerve_graph *g = nerve_model_graph(m);
    nerve_node n = nerve_graph_find(g, name);
    assert_true(n >= 0);
    nerve_shape shape = nerve_node_shape(g, n);
    int64_t count = nerve_shape_numel(&shape);
    nerve_real *now = malloc((size_t)count * sizeof *now);
    nerve_error err = {0};
    test_require_ok(nerve_node_read(g, n, now, count, &err), &err);
    /* where the parameter lies in the flat buffer: an offset, never read */
    bool same = memcmp(now, params + (nerve_node_value(g, n) - nerve_graph_params(g)),
                       (size_t)count * sizeof *now) == 0;
    free(now);
    return same;
}

static void test_each_hidden_layer_learns_to_reconstruct(void **state)
{
    (void)state;
    nerve_model *m = load_model(LAYERS);
    nerve_dataset ds = low_rank_data();
    nerve_real *initial = copy_params(m);
    reports seen = {0};
    nerve_pretrain_options o = options_for(m, &seen);
    o.epochs = 20;
    nerve_error err = {0};
    test_require_ok(nerve_pretrain(m, &ds, &o, &err), &err);

    assert_int_equal(seen.layer_count, 2);
    assert_int_equal(seen.epoch_count, 2 * 20);
    assert_string_equal(seen.layers[0].layer, "fc1");
    assert_string_equal(seen.layers[1].layer, "fc2");
    assert_int_equal(seen.layers[0].inputs, FEATURES);
    assert_int_equal(seen.layers[0].units, 10);
    assert_int_equal(seen.layers[1].inputs, 10);
    assert_true(seen.layers[0].sigmoid_decoder);  /* the data lie in [0, 1] */
    assert_false(seen.layers[1].sigmoid_decoder); /* tanh codes do not */
    for (int k = 0; k < 2; k++) {
        const nerve_pretrain_report *r = &seen.layers[k];
        printf("%s: reconstruction MSE %.5f -> %.5f\n", r->layer, r->start_loss, r->end_loss);
        assert_int_equal(r->index, k + 1);
        assert_int_equal(r->count, 2);
        assert_true(r->end_loss < 0.5 * r->start_loss);
    }

    assert_false(unchanged(m, initial, "fc1.weight"));
    assert_false(unchanged(m, initial, "fc1.bias"));
    assert_false(unchanged(m, initial, "fc2.weight"));
    assert_false(unchanged(m, initial, "fc2.bias"));
    assert_true(unchanged(m, initial, "out.weight"));
    assert_true(unchanged(m, initial, "out.bias"));
    free(initial);

    /* Fine-tuning starts from there. */
    nerve_train_options t = nerve_train_options_from(m);
    t.epochs = 1;
    test_require_ok(nerve_train(m, &ds, NULL, &t, &err), &err);
    nerve_dataset_free(&ds);
    nerve_model_free(m);
}

static void test_the_same_seed_gives_the_same_weights(void **state)
{
    (void)state;
    nerve_dataset ds = low_rank_data();
    nerve_real *weights[3];
    size_t count = 0;
    for (int run = 0; run < 3; run++) {
        nerve_model *m = load_model(LAYERS);
        reports seen = {0};
        nerve_pretrain_options o = options_for(m, &seen);
        o.epochs = 2;
        o.noise = 0.25;
        o.seed = run == 2 ? 8 : 7;
        nerve_error err = {0};
        test_require_ok(nerve_pretrain(m, &ds, &o, &err), &err);
        count = nerve_graph_param_count(nerve_model_graph(m));
        weights[run] = copy_params(m);
        nerve_model_free(m);
    }
    assert_memory_equal(weights[0], weights[1], count * sizeof(nerve_real));
    assert_memory_not_equal(weights[0], weights[2], count * sizeof(nerve_real));
    for (int run = 0; run < 3; run++) free(weights[run]);
    nerve_dataset_free(&ds);
}

/* nerve_pretrain on a model of `layers` fails with a message holding needle. */
static void assert_pretrain_fails(const char *layers, const nerve_pretrain_options *changes,
                                  const char *needle)
{
    nerve_model *m = load_model(layers);
    nerve_dataset ds = low_rank_data();
    reports seen = {0};
    nerve_pretrain_options o = changes ? *changes : options_for(m, &seen);
    nerve_error err = {0};
    assert_int_equal(nerve_pretrain(m, &ds, &o, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, needle);
    assert_null(strchr(err.message, '\n'));
    assert_int_equal(seen.layer_count, 0);
    nerve_dataset_free(&ds);
    nerve_model_free(m);
}

static void test_models_it_cannot_pretrain_are_errors(void **state)
{
    (void)state;
    assert_pretrain_fails("[dense]\nname = out\nunits = 3\n", NULL,
                          "no hidden layer to pre-train: 'out' is the output layer");
    assert_pretrain_fails("[activation]\ntype = tanh\n[dense]\nname = out\nunits = 3\n", NULL,
                          "no hidden layer to pre-train");
    assert_pretrain_fails("[dense]\nname = fc1\nunits = 8\n[batchnorm]\nname = bn\n"
                          "[dense]\nname = out\nunits = 3\n",
                          NULL, "layer 'bn' is a [batchnorm]: only [dense] layers can be "
                                "pre-trained (below the output layer 'out')");
    assert_pretrain_fails("[dense]\nname = fc1\nunits = 8\nactivation = prelu\n"
                          "[dense]\nname = out\nunits = 3\n",
                          NULL, "layer 'fc1': its activation ('fc1_act', op prelu) cannot be "
                                "pre-trained");
    assert_pretrain_fails("[dense]\nname = fc1\nunits = 8\nactivation = crelu\n"
                          "[dense]\nname = out\nunits = 3\n",
                          NULL, "layer 'fc1': its activation ('fc1_act', op crelu)");
}

static void test_bad_options_are_errors(void **state)
{
    (void)state;
    nerve_model *m = load_model(LAYERS);
    nerve_pretrain_options base = nerve_pretrain_options_from(m);
    nerve_model_free(m);
    nerve_pretrain_options o = base;
    o.epochs = 0;
    assert_pretrain_fails(LAYERS, &o, "pretrain: epochs must be at least 1, got 0");
    o = base;
    o.noise = 1;
    assert_pretrain_fails(LAYERS, &o, "pretrain: noise 1 is out of range [0, 1)");
    o = base;
    o.lr = -0.1;
    assert_pretrain_fails(LAYERS, &o, "pretrain: lr must be above 0, got -0.1");
    o = base;
    o.batch = -2;
    assert_pretrain_fails(LAYERS, &o, "pretrain: batch must be at least 1, got -2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_hidden_layer_learns_to_reconstruct),
        cmocka_unit_test(test_the_same_seed_gives_the_same_weights),
        cmocka_unit_test(test_models_it_cannot_pretrain_are_errors),
        cmocka_unit_test(test_bad_options_are_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
