/* The API as docs/api.md teaches it: an options struct with only its
 * required fields set means the documented defaults (a dense, convolutional
 * or recurrent layer gets its bias unless no_bias says otherwise, training
 * shuffles unless no_shuffle says otherwise), a zero
 * that cannot be a default is an error rather than a silent value, and the
 * shape helpers build 3-D and 4-D shapes. */
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

static bool has_node(const nerve_graph *g, const char *name)
{
    for (int n = 0; n < nerve_graph_node_count(g); n++)
        if (strcmp(nerve_node_name(g, n), name) == 0) return true;
    return false;
}

static void test_zeroed_layer_options_have_a_bias(void **state)
{
    nerve_error err = {0};
    nerve_graph *g = nerve_graph_new();
    nerve_rng rng;
    nerve_rng_seed(&rng, 1);
    nerve_node x = test_require_node(nerve_input(g, "x", nerve_shape_1d(4), &err), &err);
    nerve_dense_options dense = {.units = 3};
    test_require_node(nerve_dense(g, "fc", x, &dense, &rng, &err), &err);
    assert_true(has_node(g, "fc.bias"));
    nerve_dense_options no_bias = {.units = 3, .no_bias = true};
    test_require_node(nerve_dense(g, "nb", x, &no_bias, &rng, &err), &err);
    assert_false(has_node(g, "nb.bias"));

    nerve_node image =
        test_require_node(nerve_input(g, "image", nerve_shape_3d(1, 6, 6), &err), &err);
    nerve_conv_layer_options conv = nerve_conv_layer_options_default();
    conv.filters = 2;
    conv.kernel[0] = conv.kernel[1] = 3;
    test_require_node(nerve_conv2d_layer(g, "conv", image, &conv, &rng, &err), &err);
    assert_true(has_node(g, "conv.bias"));

    /* Batch norm filled in part keeps PyTorch's affine and running statistics. */
    nerve_batchnorm_options bn = {.eps = 1e-5, .momentum = 0.1};
    test_require_node(nerve_batchnorm_layer(g, "bn", image, &bn, &err), &err);
    assert_true(has_node(g, "bn.weight"));
    assert_true(has_node(g, "bn.running_mean"));
    nerve_batchnorm_options bare = {.eps = 1e-5, .no_affine = true, .no_running_stats = true};
    test_require_node(nerve_batchnorm_layer(g, "bare", image, &bare, &err), &err);
    assert_false(has_node(g, "bare.weight"));
    assert_false(has_node(g, "bare.running_mean"));

    nerve_node seq = test_require_node(nerve_input(g, "seq", nerve_shape_2d(5, 2), &err), &err);
    nerve_recurrent_options rnn = {.cell = NERVE_CELL_LSTM, .hidden = 4, .layers = 1};
    test_require_node(nerve_recurrent_layer(g, "lstm", seq, &rnn, &rng, &err), &err);
    assert_true(has_node(g, "lstm.bias_ih_l0"));
    nerve_graph_free(g);
}

/* Where zero cannot be the default, it is refused with a message. */
static void test_zeroes_that_cannot_be_defaults_are_errors(void **state)
{
    nerve_error err = {0};
    nerve_graph *g = nerve_graph_new();
    nerve_rng rng;
    nerve_rng_seed(&rng, 1);
    nerve_node x = test_require_node(nerve_input(g, "x", nerve_shape_1d(4), &err), &err);
    nerve_batchnorm_options bn = {0};
    assert_int_equal(nerve_batchnorm_layer(g, "bn", x, &bn, &err), -1);
    assert_non_null(strstr(err.message, "eps > 0"));
    nerve_dense_options dense = {0};
    assert_int_equal(nerve_dense(g, "fc", x, &dense, &rng, &err), -1);
    nerve_node seq = test_require_node(nerve_input(g, "seq", nerve_shape_2d(5, 2), &err), &err);
    nerve_recurrent_options rnn = {.cell = NERVE_CELL_GRU, .hidden = 4};
    assert_int_equal(nerve_recurrent_layer(g, "gru", seq, &rnn, &rng, &err), -1);
    /* Adam from a zeroed struct would run with betas and eps 0. */
    nerve_node w = nerve_param(g, "w", nerve_shape_1d(2), &err);
    assert_true(w >= 0);
    nerve_optimizer_options adam = {.kind = NERVE_OPTIMIZER_ADAM, .lr = 1e-3};
    assert_null(nerve_optimizer_new(g, &adam, &err));
    test_assert_message_contains(&err, "eps");
    test_assert_message_contains(&err, "nerve_optimizer_defaults");
    nerve_graph_free(g);
}

/* The first batch's sample indices, as on_batch sees them. */
typedef struct first_batch {
    int64_t index[8];
    int64_t n;
} first_batch;

static void remember_first_batch(const int64_t *index, int64_t n, void *user)
{
    first_batch *b = user;
    if (b->n) return;
    b->n = n < 8 ? n : 8;
    memcpy(b->index, index, (size_t)b->n * sizeof *index);
}

/* Whether training with these options takes samples 0..7 in order first. */
static bool trains_in_file_order(nerve_model *m, const nerve_dataset *ds,
                                 nerve_train_options o)
{
    first_batch b = {.n = 0};
    nerve_error err = {0};
    o.on_batch = remember_first_batch;
    o.user = &b;
    test_require_ok(nerve_train(m, ds, NULL, &o, &err), &err);
    for (int64_t i = 0; i < b.n; i++)
        if (b.index[i] != i) return false;
    return true;
}

/* nerve_train_options: the zero value of every switch is its documented
 * default (shuffled epochs). */
static void test_zeroed_train_options_shuffle(void **state)
{
    static const char cfg[] = "[net]\ninput = 2\nbatch = 8\nepochs = 1\n[dense]\nunits = 2\n";
    const char *path = test_tmppath("defaults.cfg");
    test_write_file(path, cfg, strlen(cfg));
    nerve_model *m;
    nerve_error err = {0};
    test_require_ok(nerve_model_load(path, NULL, &m, &err), &err);
    nerve_dataset ds = {.count = 64, .sample_shape = nerve_shape_1d(2), .sample_size = 2,
                        .target_size = 1, .num_classes = 2};
    ds.inputs = calloc(64 * 2, sizeof *ds.inputs);
    ds.targets = calloc(64, sizeof *ds.targets);
    assert_non_null(ds.inputs);
    assert_non_null(ds.targets);
    for (int i = 0; i < 64; i++) ds.targets[i] = (float)(i % 2);

    nerve_train_options zeroed = {.epochs = 1, .batch = 8, .seed = 1};
    assert_false(trains_in_file_order(m, &ds, zeroed));
    nerve_train_options in_order = zeroed;
    in_order.no_shuffle = true;
    assert_true(trains_in_file_order(m, &ds, in_order));
    assert_false(trains_in_file_order(m, &ds, nerve_train_options_from(m)));
    nerve_dataset_free(&ds);
    nerve_model_free(m);
}

static void test_shape_helpers_build_3d_and_4d_shapes(void **state)
{
    nerve_shape image = nerve_shape_3d(1, 28, 28), batch = nerve_shape_4d(128, 1, 28, 28);
    char text[64];
    assert_int_equal(image.ndim, 3);
    assert_string_equal(nerve_shape_format(&image, text, sizeof text), "1x28x28");
    assert_int_equal(batch.ndim, 4);
    assert_int_equal(nerve_shape_numel(&batch), 128 * 784);
    assert_string_equal(nerve_shape_format(&batch, text, sizeof text), "128x1x28x28");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zeroed_layer_options_have_a_bias),
        cmocka_unit_test(test_zeroes_that_cannot_be_defaults_are_errors),
        cmocka_unit_test(test_zeroed_train_options_shuffle),
        cmocka_unit_test(test_shape_helpers_build_3d_and_4d_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
