/* The [conv2d] and [conv_transpose2d] sections: their keys build the layers
 * PyTorch would (weight layouts, 'same' padding, output shapes, the
 * activation layer), and every mistake is an error naming file:line and key. */
#include <stdio.h>
#include <string.h>

#include "test_support.h"

static const char *const base_cfg =
    "[net]\n"
    "input = 2x8x8\n"
    "[optimizer]\n"
    "lr = 0.1\n";

static nerve_status load(const char *layers, nerve_model **m, nerve_error *err)
{
    char text[4096];
    snprintf(text, sizeof text, "%s%s", base_cfg, layers);
    const char *path = test_tmppath("conv.cfg");
    test_write_file(path, text, strlen(text));
    *m = NULL;
    return nerve_model_load(path, NULL, m, err);
}

static void expect_error(const char *layers, const char *needle)
{
    nerve_model *m;
    nerve_error err = {0};
    assert_int_not_equal(load(layers, &m, &err), NERVE_OK);
    assert_null(m);
    test_assert_message_contains(&err, "conv.cfg:");
    test_assert_message_contains(&err, needle);
}

static nerve_shape shape_of(nerve_model *m, const char *node)
{
    nerve_graph *g = nerve_model_graph(m);
    nerve_node n = nerve_graph_find(g, node);
    if (n < 0) fail_msg("no node '%s'", node);
    return nerve_node_shape(g, n);
}

static void expect_dims(nerve_shape s, int64_t d0, int64_t d1, int64_t d2, int64_t d3)
{
    assert_int_equal(s.ndim, 4);
    assert_int_equal(s.dim[0], d0);
    assert_int_equal(s.dim[1], d1);
    assert_int_equal(s.dim[2], d2);
    assert_int_equal(s.dim[3], d3);
}

static void test_conv_layers_build_with_pytorch_layouts_and_shapes(void **state)
{
    nerve_model *m;
    nerve_error err = {0};
    nerve_status st = load("[conv2d]\nname = c1\nfilters = 4\nkernel = 4,3\npadding = same\n"
                           "activation = relu\n"
                           "[conv2d]\nname = c2\nfilters = 6\nkernel = 3\nstride = 2\n"
                           "padding = 1\ngroups = 2\nbias = 0\n"
                           "[conv_transpose2d]\nname = up\nfilters = 3\nkernel = 3\nstride = 2\n"
                           "padding = 1\noutput_padding = 1\n"
                           "[dense]\nunits = 2\n",
                           &m, &err);
    if (st != NERVE_OK) fail_msg("%s", err.message);
    expect_dims(shape_of(m, "c1.weight"), 4, 2, 4, 3);
    expect_dims(shape_of(m, "c1"), 1, 4, 8, 8); /* 'same' keeps 8x8 with an even kernel */
    expect_dims(shape_of(m, "c1_act"), 1, 4, 8, 8);
    expect_dims(shape_of(m, "c2.weight"), 6, 2, 3, 3);
    assert_int_equal(nerve_graph_find(nerve_model_graph(m), "c2.bias"), -1);
    expect_dims(shape_of(m, "c2"), 1, 6, 4, 4);
    expect_dims(shape_of(m, "up.weight"), 6, 3, 3, 3); /* [in, out / groups, kh, kw] */
    expect_dims(shape_of(m, "up"), 1, 3, 8, 8);
    assert_int_equal(nerve_model_layer_count(m), 4);
    assert_string_equal(nerve_model_layer_type(m, 2), "conv_transpose2d");
    nerve_model_free(m);
}

static void test_missing_filters_is_an_error(void **state)
{
    expect_error("[conv2d]\nkernel = 3\n", "filters");
}

static void test_missing_kernel_is_an_error(void **state)
{
    expect_error("[conv2d]\nfilters = 3\n", "kernel");
}

static void test_groups_must_divide_the_channels(void **state)
{
    expect_error("[conv2d]\nfilters = 4\nkernel = 3\ngroups = 3\n", "groups: 3 does not divide");
}

static void test_groups_must_divide_the_filters(void **state)
{
    expect_error("[conv2d]\nfilters = 3\nkernel = 3\ngroups = 2\n", "groups: 2 does not divide");
}

static void test_an_unknown_padding_word_is_an_error(void **state)
{
    expect_error("[conv2d]\nfilters = 4\nkernel = 3\npadding = full\n",
                 "padding: 'full' is not valid, same, N or H,W");
}

static void test_same_padding_needs_stride_1(void **state)
{
    expect_error("[conv2d]\nfilters = 4\nkernel = 3\nstride = 2\npadding = same\n",
                 "padding: same needs stride 1");
}

static void test_a_malformed_pair_is_an_error(void **state)
{
    expect_error("[conv2d]\nfilters = 4\nkernel = 3x3\n", "kernel: '3x3' is not N or H,W");
    expect_error("[conv2d]\nfilters = 4\nkernel = 3,3,3\n", "kernel: '3,3,3' is not N or H,W");
    expect_error("[conv2d]\nfilters = 4\nkernel = 0\n", "kernel: 0 is out of range [1, 16777216]");
    expect_error("[conv2d]\nfilters = 4\nkernel = 3\npadding = -1\n", "padding");
}

static void test_a_kernel_larger_than_the_input_is_an_error(void **state)
{
    expect_error("[conv2d]\nfilters = 4\nkernel = 9\n", "larger than the padded input 8x8");
}

static void test_output_padding_must_be_below_stride_or_dilation(void **state)
{
    expect_error("[conv_transpose2d]\nfilters = 4\nkernel = 3\nstride = 2\noutput_padding = 2\n",
                 "output_padding: must be smaller than stride or dilation");
}

static void test_conv2d_has_no_output_padding_key(void **state)
{
    expect_error("[conv2d]\nfilters = 4\nkernel = 3\noutput_padding = 1\n", "unknown key");
}

static void test_conv_needs_an_image_input(void **state)
{
    expect_error("[flatten]\n[conv2d]\nfilters = 4\nkernel = 3\n", "is not [N, C, H, W]");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_layers_build_with_pytorch_layouts_and_shapes),
        cmocka_unit_test(test_missing_filters_is_an_error),
        cmocka_unit_test(test_missing_kernel_is_an_error),
        cmocka_unit_test(test_groups_must_divide_the_channels),
        cmocka_unit_test(test_groups_must_divide_the_filters),
        cmocka_unit_test(test_an_unknown_padding_word_is_an_error),
        cmocka_unit_test(test_same_padding_needs_stride_1),
        cmocka_unit_test(test_a_malformed_pair_is_an_error),
        cmocka_unit_test(test_a_kernel_larger_than_the_input_is_an_error),
        cmocka_unit_test(test_output_padding_must_be_below_stride_or_dilation),
        cmocka_unit_test(test_conv2d_has_no_output_padding_key),
        cmocka_unit_test(test_conv_needs_an_image_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
