/* Dropout and dropout2d in their two modes. Training: a mask from the
 * graph's noise position (seed, step, sample) at every forward, each element (or channel plane) zeroed with
 * probability p and the rest scaled by 1 / (1 - p), so that the mean is
 * kept; backward applies the same mask. Eval: the identity. Values are read
 * through the device (test_read_value), so that the test runs on every
 * backend (tests/CMakeLists.txt runs it on ref and sealed too). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#define ROWS 400
#define COLS 500
#define COUNT (ROWS * COLS)

typedef struct dropout_graph {
    nerve_graph *g;
    nerve_node x, y, loss;
    nerve_error err;
} dropout_graph;

/* y = op(x) for x of `shape`, loss = mse(y, 0), so that dloss/dy = 2 y / n.
 * x holds values in [1, 2). */
static void build(dropout_graph *d, nerve_shape shape, double p,
                  nerve_node (*op)(nerve_graph *, nerve_node, double, nerve_error *))
{
    memset(d, 0, sizeof *d);
    d->g = nerve_graph_new();
    d->x = test_require_node(nerve_param(d->g, "x", shape, &d->err), &d->err);
    d->y = test_require_node(op(d->g, d->x, p, &d->err), &d->err);
    nerve_node zero = test_require_node(nerve_param(d->g, "zero", shape, &d->err), &d->err);
    nerve_node_set_frozen(d->g, zero, true);
    d->loss = test_require_node(nerve_mse(d->g, d->y, zero, NULL, &d->err), &d->err);
    test_require_ok(nerve_graph_plan(d->g, 1, &d->err), &d->err);
    nerve_real *x = malloc((size_t)nerve_shape_numel(&shape) * sizeof *x);
    assert_non_null(x);
    for (int64_t i = 0; i < nerve_shape_numel(&shape); i++) x[i] = 1 + (nerve_real)(i % 97) / 97;
    test_write_value(d->g, d->x, x);
    free(x);
}

/* x, y and dloss/dx, read back after a run. */
typedef struct dropout_values {
    nerve_real *x, *y, *dx;
} dropout_values;

static dropout_values read_values(dropout_graph *d)
{
    return (dropout_values){test_read_value(d->g, d->x), test_read_value(d->g, d->y),
                            test_read_grad(d->g, d->x)};
}

static void free_values(dropout_values *v)
{
    free(v->x);
    free(v->y);
    free(v->dx);
}

static void run(dropout_graph *d)
{
    nerve_graph_zero_grad(d->g);
    assert_int_equal(nerve_graph_forward(d->g, d->loss, NULL), NERVE_OK);
    assert_int_equal(nerve_graph_backward(d->g, d->loss, NULL), NERVE_OK);
}

static void test_dropout_zeroes_a_fraction_p_and_keeps_the_mean(void **state)
{
    dropout_graph d;
    const double p = 0.3;
    build(&d, nerve_shape_2d(ROWS, COLS), p, nerve_dropout);
    run(&d);
    dropout_values v = read_values(&d);
    const nerve_real *x = v.x, *y = v.y, *dx = v.dx;
    int64_t zeros = 0;
    double sum_x = 0, sum_y = 0;
    for (int64_t i = 0; i < COUNT; i++) {
        sum_x += x[i];
        sum_y += y[i];
        if (y[i] == 0) {
            zeros++;
            assert_true(dx[i] == 0);
        } else {
            assert_true(fabs(y[i] - x[i] / (1 - p)) < 1e-6 * y[i]);
            /* d/dx of (y^2 / n) through y = x / (1 - p) */
            assert_true(fabs(dx[i] - 2 * y[i] / COUNT / (1 - p)) < 1e-6 * fabs(dx[i]));
        }
    }
    /* The standard deviation of the fraction is sqrt(p (1 - p) / COUNT) ~ 0.001. */
    assert_true(fabs((double)zeros / COUNT - p) < 0.005);
    assert_true(fabs(sum_y / sum_x - 1) < 0.01);
    free_values(&v);
    nerve_graph_free(d.g);
}

/* The mask is a function of the seed and the position: the same again at
 * the same (seed, step), another at another step or seed. */
static void test_the_mask_is_a_function_of_seed_and_position(void **state)
{
    dropout_graph d;
    build(&d, nerve_shape_2d(ROWS, COLS), 0.5, nerve_dropout);
    static nerve_real first[COUNT], again[COUNT];
    nerve_error err = {0};
    nerve_graph_set_seed(d.g, 7);
    nerve_graph_set_position(d.g, 3, 0);
    assert_int_equal(nerve_graph_forward(d.g, d.y, NULL), NERVE_OK);
    test_require_ok(nerve_node_read(d.g, d.y, first, COUNT, &err), &err);
    assert_int_equal(nerve_graph_forward(d.g, d.y, NULL), NERVE_OK);
    test_require_ok(nerve_node_read(d.g, d.y, again, COUNT, &err), &err);
    assert_memory_equal(first, again, sizeof first);
    nerve_graph_set_position(d.g, 4, 0);
    assert_int_equal(nerve_graph_forward(d.g, d.y, NULL), NERVE_OK);
    test_require_ok(nerve_node_read(d.g, d.y, again, COUNT, &err), &err);
    assert_true(memcmp(first, again, sizeof first) != 0);
    nerve_graph_set_seed(d.g, 8);
    nerve_graph_set_position(d.g, 3, 0);
    assert_int_equal(nerve_graph_forward(d.g, d.y, NULL), NERVE_OK);
    test_require_ok(nerve_node_read(d.g, d.y, again, COUNT, &err), &err);
    assert_true(memcmp(first, again, sizeof first) != 0);
    nerve_graph_set_seed(d.g, 7);
    assert_int_equal(nerve_graph_forward(d.g, d.y, NULL), NERVE_OK);
    test_require_ok(nerve_node_read(d.g, d.y, again, COUNT, &err), &err);
    assert_memory_equal(first, again, sizeof first);
    nerve_graph_free(d.g);
}

static void test_eval_mode_is_the_identity(void **state)
{
    dropout_graph d;
    build(&d, nerve_shape_2d(ROWS, COLS), 0.5, nerve_dropout);
    nerve_graph_set_training(d.g, false);
    run(&d);
    dropout_values v = read_values(&d);
    const nerve_real *x = v.x, *y = v.y, *dx = v.dx;
    assert_memory_equal(x, y, COUNT * sizeof *x);
    for (int64_t i = 0; i < COUNT; i++) assert_true(fabs(dx[i] - 2 * y[i] / COUNT) < 1e-6 * dx[i]);
    free_values(&v);
    nerve_graph_free(d.g);
}

static void test_p_1_drops_everything_and_p_0_nothing(void **state)
{
    dropout_graph d;
    build(&d, nerve_shape_2d(20, 30), 1, nerve_dropout);
    run(&d);
    dropout_values v = read_values(&d);
    for (int64_t i = 0; i < 600; i++) assert_true(v.y[i] == 0 && v.dx[i] == 0);
    free_values(&v);
    nerve_graph_free(d.g);
    build(&d, nerve_shape_2d(20, 30), 0, nerve_dropout);
    run(&d);
    v = read_values(&d);
    assert_memory_equal(v.x, v.y, 600 * sizeof(nerve_real));
    free_values(&v);
    nerve_graph_free(d.g);
}

/* Every (sample, channel) plane is zeroed or scaled whole. */
static void check_whole_channels(int ndim, const int64_t *dims, double p)
{
    dropout_graph d;
    nerve_shape shape = nerve_shape_make(ndim, dims);
    build(&d, shape, p, nerve_dropout2d);
    run(&d);
    dropout_values v = read_values(&d);
    const nerve_real *x = v.x, *y = v.y, *dx = v.dx;
    int64_t planes = dims[0] * dims[1], plane = nerve_shape_numel(&shape) / planes;
    int64_t dropped = 0;
    for (int64_t r = 0; r < planes; r++) {
        bool zero = y[r * plane] == 0;
        dropped += zero;
        for (int64_t i = r * plane; i < (r + 1) * plane; i++) {
            if (zero) {
                assert_true(y[i] == 0 && dx[i] == 0);
            } else {
                assert_true(fabs(y[i] - x[i] / (1 - p)) < 1e-6 * y[i]);
            }
        }
    }
    /* sqrt(p (1 - p) / planes) ~ 0.01 */
    assert_true(fabs((double)dropped / (double)planes - p) < 0.05);
    free_values(&v);
    nerve_graph_free(d.g);
}

static void test_dropout2d_zeroes_whole_channels(void **state)
{
    const int64_t nchw[4] = {64, 32, 3, 3}, ncl[3] = {64, 32, 5};
    check_whole_channels(4, nchw, 0.5);
    check_whole_channels(3, ncl, 0.25);
}

static void test_dropout2d_refuses_flat_inputs_and_dropout_bad_p(void **state)
{
    nerve_graph *g = nerve_graph_new();
    nerve_error err = {0};
    nerve_node x = test_require_node(nerve_param(g, "x", nerve_shape_2d(4, 6), &err), &err);
    assert_int_equal(nerve_dropout2d(g, x, 0.5, &err), -1);
    test_assert_message_contains(&err, "neither [N, C, H, W] nor [N, C, L]");
    assert_int_equal(nerve_dropout(g, x, 1.5, &err), -1);
    test_assert_message_contains(&err, "p must be in [0, 1], got 1.5");
    assert_int_equal(nerve_dropout(g, x, -0.1, &err), -1);
    nerve_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dropout_zeroes_a_fraction_p_and_keeps_the_mean),
        cmocka_unit_test(test_the_mask_is_a_function_of_seed_and_position),
        cmocka_unit_test(test_eval_mode_is_the_identity),
        cmocka_unit_test(test_p_1_drops_everything_and_p_0_nothing),
        cmocka_unit_test(test_dropout2d_zeroes_whole_channels),
        cmocka_unit_test(test_dropout2d_refuses_flat_inputs_and_dropout_bad_p),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
