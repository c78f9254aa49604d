/* conv2d and conv_transpose2d agree with nn.Conv2d and nn.ConvTranspose2d:
 * outputs and the gradients of input, weight and bias for a random upstream
 * gradient, over stride, padding (PyTorch's 'same' included), dilation,
 * groups, depthwise and 1x1 cases; and the layers' default initialisers
 * draw within the bounds torch uses (tests/fixtures/conv.safetensors,
 * written by tests/reference/fixtures_conv.py). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "parity_support.h"

static nerve_conv2d_options options(int64_t stride_h, int64_t stride_w, int64_t pad_h,
                                    int64_t pad_w, int64_t dilation_h, int64_t dilation_w,
                                    int64_t groups)
{
    nerve_conv2d_options o = nerve_conv2d_options_default();
    o.stride[0] = stride_h;
    o.stride[1] = stride_w;
    o.padding[0] = pad_h;
    o.padding[1] = pad_w;
    o.dilation[0] = dilation_h;
    o.dilation[1] = dilation_w;
    o.groups = groups;
    return o;
}

static void check_case(parity *p, const char *name, const nerve_conv2d_options *o, bool bias,
                       bool transpose)
{
    char tensor[96];
    open_fixture(p, "conv");
    snprintf(tensor, sizeof tensor, "%s.x", name);
    nerve_node x = fixture_param(p, tensor, false);
    snprintf(tensor, sizeof tensor, "%s.weight", name);
    nerve_node w = fixture_param(p, tensor, false);
    snprintf(tensor, sizeof tensor, "%s.bias", name);
    nerve_node b = bias ? fixture_param(p, tensor, false) : -1;
    nerve_node y = transpose ? nerve_conv_transpose2d(p->g, x, w, b, o, &p->err)
                             : nerve_conv2d(p->g, x, w, b, o, &p->err);
    test_require_node(y, &p->err);
    snprintf(tensor, sizeof tensor, "%s.dy", name);
    run_with_upstream(p, inject_upstream(p, y, tensor));

    snprintf(tensor, sizeof tensor, "%s.y", name);
    expect_tensor(p, tensor, y, false);
    snprintf(tensor, sizeof tensor, "%s.dx", name);
    expect_tensor(p, tensor, x, true);
    snprintf(tensor, sizeof tensor, "%s.dweight", name);
    expect_tensor(p, tensor, w, true);
    snprintf(tensor, sizeof tensor, "%s.dbias", name);
    if (bias) expect_tensor(p, tensor, b, true);
}

static void test_conv2d_plain(void **state)
{
    nerve_conv2d_options o = options(1, 1, 0, 0, 1, 1, 1);
    check_case(*state, "conv2d_plain", &o, true, false);
}

static void test_conv2d_strided_and_padded(void **state)
{
    nerve_conv2d_options o = options(2, 1, 1, 2, 1, 1, 1);
    check_case(*state, "conv2d_strided", &o, true, false);
}

/* padding='same', kernel 4x2: totals 3 and 1, PyTorch's odd one at the end. */
static void test_conv2d_same_padding_with_even_kernel(void **state)
{
    nerve_conv2d_options o = options(1, 1, 1, 0, 1, 1, 1);
    o.padding_extra[0] = 1;
    o.padding_extra[1] = 1;
    check_case(*state, "conv2d_same_even", &o, true, false);
}

static void test_conv2d_same_padding_dilated(void **state)
{
    nerve_conv2d_options o = options(1, 1, 2, 2, 2, 2, 1);
    check_case(*state, "conv2d_same_dilated", &o, true, false);
}

static void test_conv2d_dilated(void **state)
{
    nerve_conv2d_options o = options(1, 1, 1, 1, 2, 1, 1);
    check_case(*state, "conv2d_dilated", &o, true, false);
}

static void test_conv2d_grouped(void **state)
{
    nerve_conv2d_options o = options(1, 1, 1, 1, 1, 1, 2);
    check_case(*state, "conv2d_grouped", &o, true, false);
}

static void test_conv2d_depthwise(void **state)
{
    nerve_conv2d_options o = options(2, 2, 1, 1, 1, 1, 3);
    check_case(*state, "conv2d_depthwise", &o, true, false);
}

static void test_conv2d_without_bias(void **state)
{
    nerve_conv2d_options o = options(1, 1, 0, 0, 1, 1, 1);
    check_case(*state, "conv2d_nobias", &o, false, false);
}

static void test_conv2d_pointwise(void **state)
{
    check_case(*state, "conv2d_pointwise", NULL, true, false);
}

static void test_conv_transpose2d_strided(void **state)
{
    nerve_conv2d_options o = options(2, 2, 0, 0, 1, 1, 1);
    check_case(*state, "convt_strided", &o, true, true);
}

static void test_conv_transpose2d_padding_and_output_padding(void **state)
{
    nerve_conv2d_options o = options(2, 3, 1, 0, 1, 1, 1);
    o.output_padding[0] = 1;
    o.output_padding[1] = 2;
    check_case(*state, "convt_padded", &o, true, true);
}

static void test_conv_transpose2d_grouped(void **state)
{
    nerve_conv2d_options o = options(2, 2, 1, 1, 1, 1, 2);
    o.output_padding[0] = o.output_padding[1] = 1;
    check_case(*state, "convt_grouped", &o, true, true);
}

static void test_conv_transpose2d_dilated(void **state)
{
    nerve_conv2d_options o = options(1, 1, 0, 0, 2, 2, 1);
    o.output_padding[0] = o.output_padding[1] = 1;
    check_case(*state, "convt_dilated", &o, false, true);
}

/* Every value lies in [low, high] of the fixture's bounds and the extremes
 * come close to them (thousands of draws): the bounds are torch's. */
static void expect_uniform_within(parity *p, const char *bounds, nerve_node n)
{
    char name[96];
    nerve_shape s;
    snprintf(name, sizeof name, "%s.low", bounds);
    double low = fixture_tensor(p, name, &s)[0];
    snprintf(name, sizeof name, "%s.high", bounds);
    double high = fixture_tensor(p, name, &s)[0];
    nerve_shape shape = nerve_node_shape(p->g, n);
    nerve_real *v = test_read_value(p->g, n);
    double lowest = INFINITY, highest = -INFINITY;
    for (int64_t i = 0; i < nerve_shape_numel(&shape); i++) {
        lowest = fmin(lowest, v[i]);
        highest = fmax(highest, v[i]);
    }
    free(v);
    if (lowest < low || highest > high || lowest > low * 0.98 || highest < high * 0.98)
        fail_msg("%s: drawn in [%g, %g], torch draws in [%g, %g]", bounds, lowest, highest, low,
                 high);
}

static void check_default_init(parity *p, bool transpose)
{
    const char *layer = transpose ? "conv_transpose2d" : "conv2d";
    char name[96];
    open_fixture(p, "conv");
    int64_t dims[4] = {1, 4, 5, 5};
    nerve_node x = test_require_node(nerve_param(p->g, "x", nerve_shape_make(4, dims), &p->err),
                                     &p->err);
    nerve_conv_layer_options o = nerve_conv_layer_options_default();
    o.filters = 600;
    o.kernel[0] = 3;
    o.kernel[1] = 2;
    o.conv.groups = 2;
    nerve_rng rng;
    nerve_rng_seed(&rng, 5);
    nerve_node y = transpose ? nerve_conv_transpose2d_layer(p->g, "c", x, &o, &rng, &p->err)
                             : nerve_conv2d_layer(p->g, "c", x, &o, &rng, &p->err);
    test_require_node(y, &p->err);
    snprintf(name, sizeof name, "init.%s.weight", layer);
    expect_uniform_within(p, name, nerve_graph_find(p->g, "c.weight"));
    snprintf(name, sizeof name, "init.%s.bias", layer);
    expect_uniform_within(p, name, nerve_graph_find(p->g, "c.bias"));
}

static void test_conv2d_layer_default_init(void **state) { check_default_init(*state, false); }

static void test_conv_transpose2d_layer_default_init(void **state)
{
    check_default_init(*state, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        PARITY_TEST(test_conv2d_plain),
        PARITY_TEST(test_conv2d_strided_and_padded),
        PARITY_TEST(test_conv2d_same_padding_with_even_kernel),
        PARITY_TEST(test_conv2d_same_padding_dilated),
        PARITY_TEST(test_conv2d_dilated),
        PARITY_TEST(test_conv2d_grouped),
        PARITY_TEST(test_conv2d_depthwise),
        PARITY_TEST(test_conv2d_without_bias),
        PARITY_TEST(test_conv2d_pointwise),
        PARITY_TEST(test_conv_transpose2d_strided),
        PARITY_TEST(test_conv_transpose2d_padding_and_output_padding),
        PARITY_TEST(test_conv_transpose2d_grouped),
        PARITY_TEST(test_conv_transpose2d_dilated),
        PARITY_TEST(test_conv2d_layer_default_init),
        PARITY_TEST(test_conv_transpose2d_layer_default_init),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
