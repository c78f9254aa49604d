/* Pooling and the structural ops against central finite differences, in
 * double precision: max pooling (plain, overlapping, padded, ceil_mode,
 * dilated), average pooling (with and without padding in the divisor,
 * ceil_mode's clipped windows, divisor_override), global average pooling,
 * add (three inputs, and one input twice), concat (2-D and 4-D), reshape and
 * identity. */
#include <stdlib.h>

#include "gradcheck_support.h"

#define BATCH 2

/* Max pooling's derivative is a step where two values of a window swap
 * places: its inputs are distinct values 0.01 apart in random order, far
 * more than the finite difference's step, so no window has a tie. */
static nerve_node distinct_param(gc_fixture *f, const char *name, nerve_shape shape)
{
    nerve_node n = gc_random_param(f, name, shape, 1, 0);
    int64_t count = nerve_shape_numel(&shape);
    int64_t *order = malloc((size_t)count * sizeof *order);
    assert_non_null(order);
    for (int64_t i = 0; i < count; i++) order[i] = i;
    nerve_rng_shuffle(&f->rng, order, count);
    nerve_real *v = nerve_node_value(f->g, n);
    for (int64_t i = 0; i < count; i++) v[i] = 0.01 * (double)(order[i] - count / 2);
    free(order);
    return n;
}

static nerve_shape image(int64_t n, int64_t c, int64_t h, int64_t w)
{
    int64_t dims[4] = {n, c, h, w};
    return nerve_shape_make(4, dims);
}

static void expect_gradients(gc_fixture *f, nerve_node y)
{
    if (y < 0) fail_msg("building the op failed: %s", f->err.message);
    double worst = gc_check_through_mse(f, y);
    if (worst >= GC_TOLERANCE) print_error("worst error %g\n", worst);
    assert_true(worst < GC_TOLERANCE);
}

static void check_max_pool(gc_fixture *f, nerve_shape shape, const nerve_pool2d_options *o)
{
    nerve_node x = distinct_param(f, "x", shape);
    expect_gradients(f, nerve_max_pool2d(f->g, x, o, &f->err));
}

static void test_max_pool(void **state)
{
    nerve_pool2d_options o = nerve_pool2d_defaults(2, 2);
    check_max_pool(*state, image(BATCH, 3, 6, 4), &o);
}

/* stride < kernel: an input can be the maximum of several windows. */
static void test_max_pool_overlapping(void **state)
{
    nerve_pool2d_options o = nerve_pool2d_defaults(3, 3);
    o.stride[0] = o.stride[1] = 1;
    check_max_pool(*state, image(BATCH, 2, 5, 6), &o);
}

static void test_max_pool_padded(void **state)
{
    nerve_pool2d_options o = nerve_pool2d_defaults(3, 2);
    o.stride[0] = 2;
    o.padding[0] = o.padding[1] = 1;
    check_max_pool(*state, image(BATCH, 2, 5, 5), &o);
}

static void test_max_pool_ceil_mode(void **state)
{
    nerve_pool2d_options o = nerve_pool2d_defaults(3, 3);
    o.stride[0] = o.stride[1] = 2;
    o.ceil_mode = true;
    check_max_pool(*state, image(BATCH, 2, 6, 7), &o);
}

static void test_max_pool_dilated(void **state)
{
    nerve_pool2d_options o = nerve_pool2d_defaults(2, 2);
    o.stride[0] = o.stride[1] = 1;
    o.dilation[0] = o.dilation[1] = 2;
    o.padding[0] = 1;
    check_max_pool(*state, image(BATCH, 2, 5, 5), &o);
}

static void check_avg_pool(gc_fixture *f, nerve_shape shape, const nerve_pool2d_options *o)
{
    nerve_node x = gc_random_param(f, "x", shape, 1, 0);
    expect_gradients(f, nerve_avg_pool2d(f->g, x, o, &f->err));
}

static void test_avg_pool(void **state)
{
    nerve_pool2d_options o = nerve_pool2d_defaults(2, 3);
    check_avg_pool(*state, image(BATCH, 3, 4, 6), &o);
}

static void test_avg_pool_padding_counted(void **state)
{
    nerve_pool2d_options o = nerve_pool2d_defaults(3, 3);
    o.stride[0] = o.stride[1] = 2;
    o.padding[0] = o.padding[1] = 1;
    check_avg_pool(*state, image(BATCH, 2, 5, 6), &o);
}

static void test_avg_pool_padding_not_counted(void **state)
{
    nerve_pool2d_options o = nerve_pool2d_defaults(3, 3);
    o.stride[0] = o.stride[1] = 2;
    o.padding[0] = o.padding[1] = 1;
    o.count_include_pad = false;
    check_avg_pool(*state, image(BATCH, 2, 5, 6), &o);
}

static void test_avg_pool_ceil_mode(void **state)
{
    nerve_pool2d_options o = nerve_pool2d_defaults(3, 3);
    o.stride[0] = o.stride[1] = 2;
    o.padding[1] = 1;
    o.ceil_mode = true;
    check_avg_pool(*state, image(BATCH, 2, 6, 6), &o);
}

static void test_avg_pool_divisor_override(void **state)
{
    nerve_pool2d_options o = nerve_pool2d_defaults(2, 2);
    o.stride[0] = o.stride[1] = 1;
    o.divisor_override = 3;
    check_avg_pool(*state, image(BATCH, 2, 4, 4), &o);
}

static void test_global_avg_pool(void **state)
{
    gc_fixture *f = *state;
    nerve_node x = gc_random_param(f, "x", image(BATCH, 3, 4, 5), 1, 0);
    expect_gradients(f, nerve_global_avg_pool(f->g, x, &f->err));
}

static void test_add_three_inputs(void **state)
{
    gc_fixture *f = *state;
    nerve_node x[3];
    x[0] = gc_random_param(f, "a", image(BATCH, 2, 3, 3), 1, 0);
    x[1] = gc_random_param(f, "b", image(BATCH, 2, 3, 3), 1, 0);
    x[2] = gc_random_param(f, "c", image(BATCH, 2, 3, 3), 1, 0);
    expect_gradients(f, nerve_add(f->g, NULL, x, 3, &f->err));
}

/* add(x, x) = 2x: the one input takes the gradient twice. */
static void test_add_same_input_twice(void **state)
{
    gc_fixture *f = *state;
    nerve_node x = gc_random_param(f, "x", nerve_shape_2d(BATCH, 5), 1, 0);
    nerve_node twice[2] = {x, x};
    expect_gradients(f, nerve_add(f->g, NULL, twice, 2, &f->err));
}

static void test_concat_features(void **state)
{
    gc_fixture *f = *state;
    nerve_node x[3];
    x[0] = gc_random_param(f, "a", nerve_shape_2d(BATCH, 3), 1, 0);
    x[1] = gc_random_param(f, "b", nerve_shape_2d(BATCH, 1), 1, 0);
    x[2] = gc_random_param(f, "c", nerve_shape_2d(BATCH, 4), 1, 0);
    expect_gradients(f, nerve_concat(f->g, NULL, x, 3, &f->err));
}

static void test_concat_channels(void **state)
{
    gc_fixture *f = *state;
    nerve_node x[3];
    x[0] = gc_random_param(f, "a", image(BATCH, 2, 3, 2), 1, 0);
    x[1] = gc_random_param(f, "b", image(BATCH, 1, 3, 2), 1, 0);
    x[2] = gc_random_param(f, "c", image(BATCH, 3, 3, 2), 1, 0);
    expect_gradients(f, nerve_concat(f->g, NULL, x, 3, &f->err));
}

/* reshape and identity share their input's memory; a linear map after
 * each makes the gradient that reaches x depend on the layout. */
static void test_reshape(void **state)
{
    gc_fixture *f = *state;
    nerve_node x = gc_random_param(f, "x", image(BATCH, 2, 3, 4), 1, 0);
    int64_t dims[2] = {4, -1};
    nerve_node y = nerve_reshape(f->g, x, nerve_shape_make(2, dims), &f->err);
    if (y < 0) fail_msg("%s", f->err.message);
    assert_int_equal(nerve_node_shape(f->g, y).dim[2], 6);
    nerve_node pooled = nerve_global_avg_pool(f->g, y, &f->err);
    nerve_node w = gc_random_param(f, "w", nerve_shape_2d(3, 4), 1, 0);
    expect_gradients(f, nerve_linear(f->g, pooled, w, -1, &f->err));
}

static void test_identity(void **state)
{
    gc_fixture *f = *state;
    nerve_node x = gc_random_param(f, "x", nerve_shape_2d(BATCH, 4), 1, 0);
    nerve_node w = gc_random_param(f, "w", nerve_shape_2d(3, 4), 1, 0);
    nerve_node y = nerve_identity(f->g, x, &f->err);
    nerve_node both[2] = {y, x};
    nerve_node sum = nerve_add(f->g, NULL, both, 2, &f->err);
    expect_gradients(f, nerve_linear(f->g, sum, w, -1, &f->err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, gc_setup, gc_teardown)
        T(test_max_pool),
        T(test_max_pool_overlapping),
        T(test_max_pool_padded),
        T(test_max_pool_ceil_mode),
        T(test_max_pool_dilated),
        T(test_avg_pool),
        T(test_avg_pool_padding_counted),
        T(test_avg_pool_padding_not_counted),
        T(test_avg_pool_ceil_mode),
        T(test_avg_pool_divisor_override),
        T(test_global_avg_pool),
        T(test_add_three_inputs),
        T(test_add_same_input_twice),
        T(test_concat_features),
        T(test_concat_channels),
        T(test_reshape),
        T(test_identity),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
