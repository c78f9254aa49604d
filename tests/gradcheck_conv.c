/* conv2d and conv_transpose2d against central finite differences in double
 * precision: the gradients w.r.t. input, weight and bias for every geometry
 * the kernels treat differently (stride, padding, PyTorch's asymmetric
 * 'same' padding, dilation, groups, depthwise, rectangular and 1x1 kernels).
 * Two samples, so that the kernels' per-thread weight gradients are summed. */
#include "gradcheck_support.h"

#define BATCH 2

typedef struct conv_case {
    int64_t channels, height, width;    /* the input's */
    int64_t filters, kernel_h, kernel_w;
    bool bias;
    nerve_conv2d_options options;
} conv_case;

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

static void check(gc_fixture *f, const conv_case *c, bool transpose)
{
    int64_t x_dims[4] = {BATCH, c->channels, c->height, c->width};
    int64_t w_dims[4] = {c->filters, c->channels / c->options.groups, c->kernel_h, c->kernel_w};
    if (transpose) {
        w_dims[0] = c->channels;
        w_dims[1] = c->filters / c->options.groups;
    }
    nerve_node x = gc_random_param(f, "x", nerve_shape_make(4, x_dims), 1, 0);
    nerve_node w = gc_random_param(f, "w", nerve_shape_make(4, w_dims), 1, 0);
    nerve_node b = c->bias ? gc_random_param(f, "b", nerve_shape_1d(c->filters), 1, 0) : -1;
    nerve_node y = transpose ? nerve_conv_transpose2d(f->g, x, w, b, &c->options, &f->err)
                             : nerve_conv2d(f->g, x, w, b, &c->options, &f->err);
    if (y < 0) fail_msg("%s", f->err.message);
    double worst = gc_check_through_mse(f, y);
    if (worst >= GC_TOLERANCE) print_error("error %g\n", worst);
    assert_true(worst < GC_TOLERANCE);
}

static void test_conv2d_plain(void **state)
{
    conv_case c = {3, 5, 5, 4, 3, 3, true, options(1, 1, 0, 0, 1, 1, 1)};
    check(*state, &c, false);
}

static void test_conv2d_strided(void **state)
{
    conv_case c = {2, 7, 6, 3, 3, 3, true, options(2, 2, 0, 0, 1, 1, 1)};
    check(*state, &c, false);
}

static void test_conv2d_padded(void **state)
{
    conv_case c = {2, 4, 5, 3, 3, 3, true, options(1, 2, 1, 2, 1, 1, 1)};
    check(*state, &c, false);
}

/* padding='same' with a 4x2 kernel: totals 3 and 1, one more at the bottom and right. */
static void test_conv2d_same_padding_with_even_kernel(void **state)
{
    conv_case c = {2, 5, 5, 3, 4, 2, true, options(1, 1, 1, 0, 1, 1, 1)};
    c.options.padding_extra[0] = 1;
    c.options.padding_extra[1] = 1;
    check(*state, &c, false);
}

static void test_conv2d_dilated(void **state)
{
    conv_case c = {2, 7, 6, 3, 3, 2, true, options(1, 1, 1, 0, 2, 3, 1)};
    check(*state, &c, false);
}

static void test_conv2d_grouped(void **state)
{
    conv_case c = {4, 5, 5, 6, 3, 3, true, options(1, 1, 1, 1, 1, 1, 2)};
    check(*state, &c, false);
}

/* groups = channels, two filters per channel. */
static void test_conv2d_depthwise(void **state)
{
    conv_case c = {3, 5, 5, 6, 3, 3, true, options(2, 1, 1, 1, 1, 1, 3)};
    check(*state, &c, false);
}

static void test_conv2d_rectangular_kernel(void **state)
{
    conv_case c = {2, 5, 7, 3, 2, 4, true, options(1, 2, 0, 1, 1, 1, 1)};
    check(*state, &c, false);
}

static void test_conv2d_without_bias(void **state)
{
    conv_case c = {3, 5, 5, 4, 3, 3, false, options(1, 1, 1, 1, 1, 1, 1)};
    check(*state, &c, false);
}

/* 1x1, stride 1, no padding: the kernels skip im2col. */
static void test_conv2d_pointwise(void **state)
{
    conv_case c = {4, 3, 4, 6, 1, 1, true, options(1, 1, 0, 0, 1, 1, 2)};
    check(*state, &c, false);
}

static void test_conv_transpose2d_strided(void **state)
{
    conv_case c = {3, 3, 3, 2, 3, 3, true, options(2, 2, 0, 0, 1, 1, 1)};
    check(*state, &c, true);
}

static void test_conv_transpose2d_padding_and_output_padding(void **state)
{
    conv_case c = {2, 3, 4, 3, 3, 2, true, options(2, 3, 1, 0, 1, 1, 1)};
    c.options.output_padding[0] = 1;
    c.options.output_padding[1] = 2;
    check(*state, &c, true);
}

static void test_conv_transpose2d_grouped(void **state)
{
    conv_case c = {4, 3, 3, 6, 3, 3, true, options(2, 1, 1, 0, 1, 1, 2)};
    check(*state, &c, true);
}

/* output_padding 1 >= stride 1 is allowed below dilation 2. */
static void test_conv_transpose2d_dilated_with_output_padding(void **state)
{
    conv_case c = {2, 3, 3, 3, 2, 3, false, options(1, 1, 0, 1, 2, 2, 1)};
    c.options.output_padding[0] = 1;
    check(*state, &c, true);
}

static void test_conv_transpose2d_pointwise(void **state)
{
    conv_case c = {4, 3, 4, 2, 1, 1, true, options(1, 1, 0, 0, 1, 1, 1)};
    check(*state, &c, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_conv2d_plain, gc_setup, gc_teardown),
        cmocka_unit_test_setup_teardown(test_conv2d_strided, gc_setup, gc_teardown),
        cmocka_unit_test_setup_teardown(test_conv2d_padded, gc_setup, gc_teardown),
        cmocka_unit_test_setup_teardown(test_conv2d_same_padding_with_even_kernel, gc_setup,
                                        gc_teardown),
        cmocka_unit_test_setup_teardown(test_conv2d_dilated, gc_setup, gc_teardown),
        cmocka_unit_test_setup_teardown(test_conv2d_grouped, gc_setup, gc_teardown),
        cmocka_unit_test_setup_teardown(test_conv2d_depthwise, gc_setup, gc_teardown),
        cmocka_unit_test_setup_teardown(test_conv2d_rectangular_kernel, gc_setup, gc_teardown),
        cmocka_unit_test_setup_teardown(test_conv2d_without_bias, gc_setup, gc_teardown),
        cmocka_unit_test_setup_teardown(test_conv2d_pointwise, gc_setup, gc_teardown),
        cmocka_unit_test_setup_teardown(test_conv_transpose2d_strided, gc_setup, gc_teardown),
        cmocka_unit_test_setup_teardown(test_conv_transpose2d_padding_and_output_padding,
                                        gc_setup, gc_teardown),
        cmocka_unit_test_setup_teardown(test_conv_transpose2d_grouped, gc_setup, gc_teardown),
        cmocka_unit_test_setup_teardown(test_conv_transpose2d_dilated_with_output_padding,
                                        gc_setup, gc_teardown),
        cmocka_unit_test_setup_teardown(test_conv_transpose2d_pointwise, gc_setup, gc_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
