/* Every op's backward pass against central finite differences, in double
 * precision (this program links the NERVE_F64 engine). Each op's inputs are
 * made parameters so that gradients reach them; an MSE against a random
 * target turns the output into a scalar with a non-trivial upstream gradient. */
#include "gradcheck_support.h"

#define BATCH 4

static void test_linear_with_bias(void **state)
{
    gc_fixture *f = *state;
    nerve_node x = gc_random_param(f, "x", nerve_shape_2d(BATCH, 7), 1, 0);
    nerve_node w = gc_random_param(f, "w", nerve_shape_2d(3, 7), 1, 0);
    nerve_node b = gc_random_param(f, "b", nerve_shape_1d(3), 1, 0);
    assert_true(gc_check_through_mse(f, nerve_linear(f->g, x, w, b, &f->err)) < GC_TOLERANCE);
}

static void test_linear_without_bias(void **state)
{
    gc_fixture *f = *state;
    nerve_node x = gc_random_param(f, "x", nerve_shape_2d(BATCH, 5), 1, 0);
    nerve_node w = gc_random_param(f, "w", nerve_shape_2d(6, 5), 1, 0);
    assert_true(gc_check_through_mse(f, nerve_linear(f->g, x, w, -1, &f->err)) < GC_TOLERANCE);
}

static void check_activation(gc_fixture *f, nerve_activation kind,
                             const nerve_activation_params *params, double scale)
{
    nerve_node x = gc_random_param(f, "x", nerve_shape_2d(BATCH, 9), scale, 1e-3);
    double worst = gc_check_through_mse(f, nerve_activate(f->g, x, kind, params, &f->err));
    if (worst >= GC_TOLERANCE) print_error("%s: error %g\n", nerve_activation_name(kind), worst);
    assert_true(worst < GC_TOLERANCE);
}

static void test_identity(void **state) { check_activation(*state, NERVE_ACT_IDENTITY, NULL, 2); }
static void test_sigmoid(void **state) { check_activation(*state, NERVE_ACT_SIGMOID, NULL, 6); }
static void test_tanh(void **state) { check_activation(*state, NERVE_ACT_TANH, NULL, 3); }
static void test_relu(void **state) { check_activation(*state, NERVE_ACT_RELU, NULL, 2); }

static void test_leaky_relu(void **state)
{
    nerve_activation_params params = nerve_activation_defaults();
    params.negative_slope = 0.1;
    check_activation(*state, NERVE_ACT_LEAKY_RELU, &params, 2);
}

static void test_softmax(void **state)
{
    gc_fixture *f = *state;
    nerve_node x = gc_random_param(f, "x", nerve_shape_2d(BATCH, 6), 3, 0);
    assert_true(gc_check_through_mse(f, nerve_softmax(f->g, x, &f->err)) < GC_TOLERANCE);
}

static void test_flatten(void **state)
{
    gc_fixture *f = *state;
    int64_t dims[4] = {BATCH, 2, 3, 2};
    nerve_node x = gc_random_param(f, "x", nerve_shape_make(4, dims), 1, 0);
    nerve_node w = gc_random_param(f, "w", nerve_shape_2d(3, 12), 1, 0);
    nerve_node flat = nerve_flatten(f->g, x, &f->err);
    assert_true(gc_check_through_mse(f, nerve_linear(f->g, flat, w, -1, &f->err)) < GC_TOLERANCE);
}

static void test_softmax_cross_entropy(void **state)
{
    gc_fixture *f = *state;
    nerve_node logits = gc_random_param(f, "logits", nerve_shape_2d(BATCH, 5), 4, 0);
    nerve_node labels = gc_constant(f, "labels", nerve_shape_1d(BATCH), 1);
    nerve_real *y = nerve_node_value(f->g, labels);
    for (int i = 0; i < BATCH; i++) y[i] = (nerve_real)(i % 5);
    nerve_node loss = nerve_softmax_cross_entropy(f->g, logits, labels, NULL, &f->err);
    assert_true(loss >= 0);
    assert_int_equal(nerve_graph_plan(f->g, 1, &f->err), NERVE_OK);
    double worst;
    assert_int_equal(nerve_gradcheck(f->g, loss, GC_EPS, &worst, &f->err), NERVE_OK);
    assert_true(worst < GC_TOLERANCE);
}

static void test_mse(void **state)
{
    gc_fixture *f = *state;
    nerve_node pred = gc_random_param(f, "pred", nerve_shape_2d(BATCH, 3), 2, 0);
    assert_true(gc_check_through_mse(f, pred) < GC_TOLERANCE);
}

/* A whole dense stack, so that gradients flowing through several ops, and
 * a node used twice, are checked too. */
static void test_two_layer_network_with_fan_out(void **state)
{
    gc_fixture *f = *state;
    nerve_node x = nerve_input(f->g, "x", nerve_shape_1d(4), &f->err);
    nerve_node w1 = gc_random_param(f, "w1", nerve_shape_2d(5, 4), 1, 0);
    nerve_node b1 = gc_random_param(f, "b1", nerve_shape_1d(5), 1, 0);
    nerve_node w2 = gc_random_param(f, "w2", nerve_shape_2d(5, 5), 1, 0);
    nerve_node h = nerve_activate(f->g, nerve_linear(f->g, x, w1, b1, &f->err), NERVE_ACT_TANH,
                                  NULL, &f->err);
    nerve_node h2 = nerve_linear(f->g, h, w2, -1, &f->err);
    nerve_node s = nerve_softmax(f->g, nerve_activate(f->g, h2, NERVE_ACT_SIGMOID, NULL, &f->err),
                                 &f->err);
    nerve_node y = nerve_linear(f->g, s, w2, b1, &f->err); /* w2 and b1 used twice */
    assert_true(y >= 0);
    nerve_node target = nerve_input(f->g, "target", nerve_shape_1d(5), &f->err);
    nerve_node loss = nerve_mse(f->g, y, target, NULL, &f->err);
    assert_int_equal(nerve_graph_plan(f->g, BATCH, &f->err), NERVE_OK);
    gc_fill_input(f, x, 1);
    gc_fill_input(f, target, 1);
    double worst;
    assert_int_equal(nerve_gradcheck(f->g, loss, GC_EPS, &worst, &f->err), NERVE_OK);
    assert_true(worst < GC_TOLERANCE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_linear_with_bias, gc_setup, gc_teardown),
        cmocka_unit_test_setup_teardown(test_linear_without_bias, gc_setup, gc_teardown),
        cmocka_unit_test_setup_teardown(test_identity, gc_setup, gc_teardown),
        cmocka_unit_test_setup_teardown(test_sigmoid, gc_setup, gc_teardown),
        cmocka_unit_test_setup_teardown(test_tanh, gc_setup, gc_teardown),
        cmocka_unit_test_setup_teardown(test_relu, gc_setup, gc_teardown),
        cmocka_unit_test_setup_teardown(test_leaky_relu, gc_setup, gc_teardown),
        cmocka_unit_test_setup_teardown(test_softmax, gc_setup, gc_teardown),
        cmocka_unit_test_setup_teardown(test_flatten, gc_setup, gc_teardown),
        cmocka_unit_test_setup_teardown(test_softmax_cross_entropy, gc_setup, gc_teardown),
        cmocka_unit_test_setup_teardown(test_mse, gc_setup, gc_teardown),
        cmocka_unit_test_setup_teardown(test_two_layer_network_with_fan_out, gc_setup, gc_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
