/* Every activation's backward pass against central finite differences, in
 * double precision (this program links the NERVE_F64 engine), through an MSE
 * against a random target. Inputs stay at least 1e-3 away from 0, so that no
 * difference straddles a kink; the few kinks elsewhere (hardtanh's bounds,
 * softplus' threshold) are missed by the seeded draws. The binary step, whose
 * derivative is 0 wherever it exists, is checked directly, as is its
 * straight-through gradient. Sigmoid, tanh, relu, leaky_relu and last-axis
 * softmax are in gradcheck_ops.c. */
#include "gradcheck_support.h"

#define BATCH 4
#define MARGIN 1e-3

static void check_kind(gc_fixture *f, nerve_activation kind,
                       const nerve_activation_params *params, double scale)
{
    nerve_node x = gc_random_param(f, "x", nerve_shape_2d(BATCH, 9), scale, MARGIN);
    double worst = gc_check_through_mse(f, nerve_activate(f->g, x, kind, params, &f->err));
    if (worst >= GC_TOLERANCE) print_error("%s: error %g\n", nerve_activation_name(kind), worst);
    assert_true(worst < GC_TOLERANCE);
}

static void test_elu(void **state) { check_kind(*state, NERVE_ACT_ELU, NULL, 3); }

static void test_elu_alpha_0_7(void **state)
{
    nerve_activation_params params = nerve_activation_defaults();
    params.alpha = 0.7;
    check_kind(*state, NERVE_ACT_ELU, &params, 3);
}

static void test_selu(void **state) { check_kind(*state, NERVE_ACT_SELU, NULL, 3); }
static void test_softplus(void **state) { check_kind(*state, NERVE_ACT_SOFTPLUS, NULL, 5); }

/* Values past the threshold (beta * x > 5) take the linear branch. */
static void test_softplus_beta_2_threshold_5(void **state)
{
    nerve_activation_params params = nerve_activation_defaults();
    params.beta = 2;
    params.threshold = 5;
    check_kind(*state, NERVE_ACT_SOFTPLUS, &params, 4);
}

static void test_swish(void **state) { check_kind(*state, NERVE_ACT_SWISH, NULL, 4); }

static void test_swish_beta_1_5(void **state)
{
    nerve_activation_params params = nerve_activation_defaults();
    params.beta = 1.5;
    check_kind(*state, NERVE_ACT_SWISH, &params, 4);
}

static void test_gelu(void **state) { check_kind(*state, NERVE_ACT_GELU, NULL, 4); }
static void test_gelu_tanh(void **state) { check_kind(*state, NERVE_ACT_GELU_TANH, NULL, 4); }
static void test_hardtanh(void **state) { check_kind(*state, NERVE_ACT_HARDTANH, NULL, 2); }

static void test_hardtanh_min_minus_2_max_0_5(void **state)
{
    nerve_activation_params params = nerve_activation_defaults();
    params.min_val = -2;
    params.max_val = 0.5;
    check_kind(*state, NERVE_ACT_HARDTANH, &params, 3);
}

/* The step at x = -0.5, 0 and 0.5, then loss = mse(y, target): dx must be 0
 * for the plain step, and dloss/dy = 2 (y - target) / n for the
 * straight-through one. */
static void check_binary_step(gc_fixture *f, nerve_activation kind, bool straight_through)
{
    nerve_node x = gc_random_param(f, "x", nerve_shape_1d(3), 1, 0);
    nerve_real *xv = nerve_node_value(f->g, x);
    xv[0] = -0.5;
    xv[1] = 0;
    xv[2] = 0.5;
    nerve_node y = nerve_activate(f->g, x, kind, NULL, &f->err);
    nerve_node target = gc_constant(f, "target", nerve_shape_1d(3), 1);
    nerve_node loss = nerve_mse(f->g, y, target, NULL, &f->err);
    assert_true(loss >= 0);
    assert_int_equal(nerve_graph_plan(f->g, 1, &f->err), NERVE_OK);
    nerve_graph_zero_grad(f->g);
    assert_int_equal(nerve_graph_forward(f->g, loss, NULL), NERVE_OK);
    assert_int_equal(nerve_graph_backward(f->g, loss, NULL), NERVE_OK);

    const nerve_real *yv = nerve_node_value(f->g, y), *t = nerve_node_value(f->g, target);
    const nerve_real *dx = nerve_node_grad(f->g, x);
    const double expected_y[3] = {0, 1, 1}; /* 1 at x == 0 */
    for (int i = 0; i < 3; i++) {
        assert_true(yv[i] == expected_y[i]);
        double expected_dx = straight_through ? 2 * (yv[i] - t[i]) / 3 : 0;
        assert_true(fabs(dx[i] - expected_dx) < 1e-15);
    }
}

static void test_binary_step_has_zero_gradient(void **state)
{
    check_binary_step(*state, NERVE_ACT_BINARY_STEP, false);
}

static void test_binary_step_straight_through_passes_dy(void **state)
{
    check_binary_step(*state, NERVE_ACT_BINARY_STEP_STE, true);
}

/* Slopes of PReLU are parameters too, so their gradients are checked with x's. */
static void check_prelu(gc_fixture *f, nerve_shape x_shape, int64_t slopes)
{
    nerve_node x = gc_random_param(f, "x", x_shape, 2, MARGIN);
    nerve_node w = gc_random_param(f, "w", nerve_shape_1d(slopes), 0.5, 0);
    assert_true(gc_check_through_mse(f, nerve_prelu(f->g, x, w, &f->err)) < GC_TOLERANCE);
}

static void test_prelu_shared(void **state) { check_prelu(*state, nerve_shape_2d(BATCH, 5), 1); }

static void test_prelu_per_feature(void **state)
{
    check_prelu(*state, nerve_shape_2d(BATCH, 5), 5);
}

static void test_prelu_per_nchw_channel(void **state)
{
    int64_t dims[4] = {2, 3, 2, 2};
    check_prelu(*state, nerve_shape_make(4, dims), 3);
}

static void test_swish_learnable_beta(void **state)
{
    gc_fixture *f = *state;
    nerve_node x = gc_random_param(f, "x", nerve_shape_2d(BATCH, 6), 3, 0);
    nerve_node beta = gc_random_param(f, "beta", nerve_shape_1d(1), 2, 0.5);
    double worst = gc_check_through_mse(f, nerve_swish_learnable(f->g, x, beta, &f->err));
    assert_true(worst < GC_TOLERANCE);
}

/* In eval mode the slope is the fixed (lower + upper) / 2; training mode's
 * random slopes are tested by their statistics (test_rrelu_modes.c). */
static void test_rrelu_eval(void **state)
{
    gc_fixture *f = *state;
    nerve_node x = gc_random_param(f, "x", nerve_shape_2d(BATCH, 9), 2, MARGIN);
    nerve_node y = nerve_rrelu(f->g, x, 1.0f / 8, 1.0f / 3, &f->err);
    nerve_graph_set_training(f->g, false);
    assert_true(gc_check_through_mse(f, y) < GC_TOLERANCE);
}

static void test_crelu(void **state)
{
    gc_fixture *f = *state;
    nerve_node x = gc_random_param(f, "x", nerve_shape_2d(BATCH, 5), 2, MARGIN);
    assert_true(gc_check_through_mse(f, nerve_crelu(f->g, x, &f->err)) < GC_TOLERANCE);
}

static void test_crelu_nchw(void **state)
{
    gc_fixture *f = *state;
    int64_t dims[4] = {2, 3, 2, 2};
    nerve_node x = gc_random_param(f, "x", nerve_shape_make(4, dims), 2, MARGIN);
    assert_true(gc_check_through_mse(f, nerve_crelu(f->g, x, &f->err)) < GC_TOLERANCE);
}

/* Affine map then the max over each unit's pieces; ties between pieces are
 * the kinks, and random affine outputs stay clear of them. */
static void test_maxout(void **state)
{
    gc_fixture *f = *state;
    nerve_node x = gc_random_param(f, "x", nerve_shape_2d(BATCH, 5), 1, 0);
    nerve_node w = gc_random_param(f, "w", nerve_shape_2d(3 * 4, 5), 1, 0);
    nerve_node b = gc_random_param(f, "b", nerve_shape_1d(3 * 4), 1, 0);
    nerve_node affine = nerve_linear(f->g, x, w, b, &f->err);
    double worst = gc_check_through_mse(f, nerve_maxout_reduce(f->g, affine, 4, &f->err));
    assert_true(worst < GC_TOLERANCE);
}

static void check_along_axis(gc_fixture *f, nerve_node (*op)(nerve_graph *, nerve_node, int,
                                                             nerve_error *),
                             int axis)
{
    int64_t dims[3] = {2, 3, 4};
    nerve_node x = gc_random_param(f, "x", nerve_shape_make(3, dims), 3, 0);
    assert_true(gc_check_through_mse(f, op(f->g, x, axis, &f->err)) < GC_TOLERANCE);
}

static void test_softmax_axis_1(void **state) { check_along_axis(*state, nerve_softmax_axis, 1); }
static void test_softmax_axis_0(void **state) { check_along_axis(*state, nerve_softmax_axis, 0); }
static void test_log_softmax_axis_1(void **state)
{
    check_along_axis(*state, nerve_log_softmax, 1);
}

static void test_log_softmax_last_axis(void **state)
{
    check_along_axis(*state, nerve_log_softmax, -1);
}

#define GC_TEST(f) cmocka_unit_test_setup_teardown(f, gc_setup, gc_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        GC_TEST(test_elu),
        GC_TEST(test_elu_alpha_0_7),
        GC_TEST(test_selu),
        GC_TEST(test_softplus),
        GC_TEST(test_softplus_beta_2_threshold_5),
        GC_TEST(test_swish),
        GC_TEST(test_swish_beta_1_5),
        GC_TEST(test_gelu),
        GC_TEST(test_gelu_tanh),
        GC_TEST(test_hardtanh),
        GC_TEST(test_hardtanh_min_minus_2_max_0_5),
        GC_TEST(test_binary_step_has_zero_gradient),
        GC_TEST(test_binary_step_straight_through_passes_dy),
        GC_TEST(test_prelu_shared),
        GC_TEST(test_prelu_per_feature),
        GC_TEST(test_prelu_per_nchw_channel),
        GC_TEST(test_swish_learnable_beta),
        GC_TEST(test_rrelu_eval),
        GC_TEST(test_crelu),
        GC_TEST(test_crelu_nchw),
        GC_TEST(test_maxout),
        GC_TEST(test_softmax_axis_1),
        GC_TEST(test_softmax_axis_0),
        GC_TEST(test_log_softmax_axis_1),
        GC_TEST(test_log_softmax_last_axis),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
