/* RReLU in its two modes. Training: every negative element gets its own
 * slope from U(lower, upper), drawn at every forward from the graph's noise
 * position (seed, step, sample: the same position reproduces them), and
 * backward uses the slopes of that forward. Eval: the fixed slope (lower +
 * upper) / 2, the same at every run and at every position. Values are read
 * through the device (nerve_node_read), so that the test runs on every
 * backend (tests/CMakeLists.txt runs it on ref and sealed too). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#define ROWS 50
#define COLS 200
#define COUNT (ROWS * COLS)
#define LOWER 0.125f
#define UPPER (1.0f / 3)

typedef struct rrelu_graph {
    nerve_graph *g;
    nerve_node x, y, loss;
    nerve_error err;
    nerve_real xs[COUNT], ys[COUNT]; /* x as written, y as last read */
} rrelu_graph;

/* y = rrelu(x) for x [ROWS, COLS] of negative values (and one positive
 * column), loss = mse(y, 0) so that dloss/dy = 2 y / COUNT. */
static int setup(void **state)
{
    static rrelu_graph r;
    memset(&r, 0, sizeof r);
    r.g = nerve_graph_new();
    r.x = test_require_node(nerve_param(r.g, "x", nerve_shape_2d(ROWS, COLS), &r.err), &r.err);
    r.y = test_require_node(nerve_rrelu(r.g, r.x, LOWER, UPPER, &r.err), &r.err);
    nerve_node zero =
        test_require_node(nerve_param(r.g, "zero", nerve_shape_2d(ROWS, COLS), &r.err), &r.err);
    nerve_node_set_frozen(r.g, zero, true);
    r.loss = test_require_node(nerve_mse(r.g, r.y, zero, NULL, &r.err), &r.err);
    test_require_ok(nerve_graph_plan(r.g, 1, &r.err), &r.err);
    for (int64_t i = 0; i < COUNT; i++)
        r.xs[i] = i % COLS == 0 ? 2.0f : -1.0f - (nerve_real)(i % 7);
    test_write_value(r.g, r.x, r.xs);
    *state = &r;
    return 0;
}

static int teardown(void **state)
{
    rrelu_graph *r = *state;
    nerve_graph_free(r->g);
    return 0;
}

/* Runs forward to y and reads y into r->ys. */
static void forward_y(rrelu_graph *r)
{
    assert_int_equal(nerve_graph_forward(r->g, r->y, NULL), NERVE_OK);
    test_require_ok(nerve_node_read(r->g, r->y, r->ys, COUNT, &r->err), &r->err);
}

/* The slope element i got in the forward last read. */
static double slope_at(const rrelu_graph *r, int64_t i) { return r->ys[i] / r->xs[i]; }

static void test_training_slopes_are_uniform_in_lower_upper(void **state)
{
    rrelu_graph *r = *state;
    forward_y(r);
    double sum = 0, sum_squares = 0;
    int64_t negatives = 0;
    for (int64_t i = 0; i < COUNT; i++) {
        double a = slope_at(r, i);
        if (i % COLS == 0) {
            assert_true(a == 1); /* positives pass unchanged */
            continue;
        }
        assert_true(a >= LOWER - 1e-6 && a <= UPPER + 1e-6);
        sum += a;
        sum_squares += a * a;
        negatives++;
    }
    /* U(l, u) has mean (l + u) / 2 and variance (u - l)^2 / 12; the bounds
     * are about 8 standard errors of the ~10^4 draws. */
    double mean = sum / negatives, variance = sum_squares / negatives - mean * mean;
    double expected_variance = (UPPER - LOWER) * (UPPER - LOWER) / 12;
    assert_true(fabs(mean - (LOWER + UPPER) / 2) < 5e-3);
    assert_true(fabs(variance - expected_variance) < 0.1 * expected_variance);
}

static void test_training_draws_anew_at_each_position_and_a_position_reproduces(void **state)
{
    rrelu_graph *r = *state;
    static nerve_real first[COUNT];
    nerve_graph_set_seed(r->g, 7);
    forward_y(r);
    memcpy(first, r->ys, sizeof first);
    nerve_graph_set_position(r->g, 1, 0);
    forward_y(r);
    assert_true(memcmp(first, r->ys, sizeof first) != 0);
    nerve_graph_set_position(r->g, 0, 0);
    forward_y(r);
    assert_memory_equal(first, r->ys, sizeof first);
}

/* dloss/dx = slope * dloss/dy with the slope the forward drew. */
static void test_training_backward_uses_the_forward_slopes(void **state)
{
    rrelu_graph *r = *state;
    nerve_graph_zero_grad(r->g);
    assert_int_equal(nerve_graph_forward(r->g, r->loss, NULL), NERVE_OK);
    assert_int_equal(nerve_graph_backward(r->g, r->loss, NULL), NERVE_OK);
    test_require_ok(nerve_node_read(r->g, r->y, r->ys, COUNT, &r->err), &r->err);
    nerve_real *dx = test_read_grad(r->g, r->x);
    for (int64_t i = 0; i < COUNT; i++) {
        double expected = slope_at(r, i) * 2 * r->ys[i] / COUNT;
        assert_true(fabs(dx[i] - expected) <= 1e-6 * fabs(expected));
    }
    free(dx);
}

static void test_eval_slope_is_the_mean_every_run_without_draws(void **state)
{
    rrelu_graph *r = *state;
    static nerve_real first[COUNT];
    nerve_graph_set_training(r->g, false);
    forward_y(r);
    memcpy(first, r->ys, sizeof first);
    for (int64_t i = 0; i < COUNT; i++)
        if (i % COLS != 0) assert_true(fabs(slope_at(r, i) - (LOWER + UPPER) / 2) < 1e-6);
    nerve_graph_set_position(r->g, 5, 17);
    forward_y(r);
    assert_memory_equal(first, r->ys, sizeof first);
}

static void test_lower_above_upper_is_refused(void **state)
{
    nerve_graph *g = nerve_graph_new();
    nerve_error err = {0};
    nerve_node x = test_require_node(nerve_param(g, "x", nerve_shape_1d(3), &err), &err);
    assert_int_equal(nerve_rrelu(g, x, 0.5f, 0.25f, &err), -1);
    test_assert_message_contains(&err, "lower <= upper");
    nerve_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_training_slopes_are_uniform_in_lower_upper, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_training_draws_anew_at_each_position_and_a_position_reproduces, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_training_backward_uses_the_forward_slopes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_eval_slope_is_the_mean_every_run_without_draws,
                                        setup, teardown),
        cmocka_unit_test(test_lower_above_upper_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
