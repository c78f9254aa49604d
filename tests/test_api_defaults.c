/* The API as docs/api.md teaches it: an options struct with only its
 * required fields set means the documented defaults (a dense, convolutional
 * or recurrent layer gets its bias unless no_bias says otherwise), a zero
 * that cannot be a default is an error rather than a silent value, and the
 * shape helpers build 3-D and 4-D shapes. */
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
    nerve_graph_free(g);
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
        cmocka_unit_test(test_shape_helpers_build_3d_and_4d_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
