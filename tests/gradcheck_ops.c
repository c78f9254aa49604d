/* Every op's backward pass against central finite differences, in double
 * precision (this program links the NERVE_F64 engine). Each op's inputs are
 * made parameters so that gradients reach them; an MSE against a random
 * target turns the output into a scalar with a non-trivial upstream gradient. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "nerve.h"

#define BATCH 4
#define TOLERANCE 1e-7
#define EPS 1e-6

typedef struct fixture {
    nerve_graph *g;
    nerve_rng rng;
    nerve_error err;
} fixture;

static int setup(void **state)
{
    static fixture f;
    f.g = nerve_graph_new();
    nerve_rng_seed(&f.rng, 42);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    nerve_graph_free(f->g);
    return 0;
}

/* A parameter filled with values in (-scale, scale) that stay at least
 * `margin` away from 0, so that no finite difference straddles a kink. */
static nerve_node random_param(fixture *f, const char *name, nerve_shape shape, double scale,
                               double margin)
{
    nerve_node n = nerve_param(f->g, name, shape, &f->err);
    assert_true(n >= 0);
    nerve_real *v = nerve_node_value(f->g, n);
    for (int64_t i = 0; i < nerve_shape_numel(&shape); i++) {
        double u = 2 * nerve_rng_uniform(&f->rng) - 1;
        v[i] = u >= 0 ? margin + u * (scale - margin) : -margin + u * (scale - margin);
    }
    return n;
}

static void fill_input(fixture *f, nerve_node n, double scale)
{
    nerve_shape s = nerve_node_shape(f->g, n);
    nerve_real *v = nerve_node_value(f->g, n);
    for (int64_t i = 0; i < nerve_shape_numel(&s); i++)
        v[i] = (2 * nerve_rng_uniform(&f->rng) - 1) * scale;
}

/* A frozen parameter: data of a fixed shape that takes no gradient. */
static nerve_node constant(fixture *f, const char *name, nerve_shape shape, double scale)
{
    nerve_node n = random_param(f, name, shape, scale, 0);
    nerve_node_set_frozen(f->g, n, true);
    return n;
}

/* loss = mse(y, random target); plans, checks, returns the worst error. */
static double check_through_mse(fixture *f, nerve_node y)
{
    assert_true(y >= 0);
    nerve_node target = constant(f, "target", nerve_node_shape(f->g, y), 1.0);
    nerve_node loss = nerve_mse(f->g, y, target, &f->err);
    assert_true(loss >= 0);
    assert_int_equal(nerve_graph_plan(f->g, 1, &f->err), NERVE_OK);
    double worst;
    assert_int_equal(nerve_gradcheck(f->g, loss, EPS, &worst, &f->err), NERVE_OK);
    return worst;
}

static void test_linear_with_bias(void **state)
{
    fixture *f = *state;
    nerve_node x = random_param(f, "x", nerve_shape_2d(BATCH, 7), 1, 0);
    nerve_node w = random_param(f, "w", nerve_shape_2d(3, 7), 1, 0);
    nerve_node b = random_param(f, "b", nerve_shape_1d(3), 1, 0);
    assert_true(check_through_mse(f, nerve_linear(f->g, x, w, b, &f->err)) < TOLERANCE);
}

static void test_linear_without_bias(void **state)
{
    fixture *f = *state;
    nerve_node x = random_param(f, "x", nerve_shape_2d(BATCH, 5), 1, 0);
    nerve_node w = random_param(f, "w", nerve_shape_2d(6, 5), 1, 0);
    assert_true(check_through_mse(f, nerve_linear(f->g, x, w, -1, &f->err)) < TOLERANCE);
}

static void check_activation(fixture *f, nerve_activation kind, float param, double scale)
{
    nerve_node x = random_param(f, "x", nerve_shape_2d(BATCH, 9), scale, 1e-3);
    double worst = check_through_mse(f, nerve_activate(f->g, x, kind, param, &f->err));
    if (worst >= TOLERANCE) print_error("%s: error %g\n", nerve_activation_name(kind), worst);
    assert_true(worst < TOLERANCE);
}

static void test_identity(void **state) { check_activation(*state, NERVE_ACT_IDENTITY, 0, 2); }
static void test_sigmoid(void **state) { check_activation(*state, NERVE_ACT_SIGMOID, 0, 6); }
static void test_tanh(void **state) { check_activation(*state, NERVE_ACT_TANH, 0, 3); }
static void test_relu(void **state) { check_activation(*state, NERVE_ACT_RELU, 0, 2); }
static void test_leaky_relu(void **state) { check_activation(*state, NERVE_ACT_LEAKY_RELU, 0.1f, 2); }

static void test_softmax(void **state)
{
    fixture *f = *state;
    nerve_node x = random_param(f, "x", nerve_shape_2d(BATCH, 6), 3, 0);
    assert_true(check_through_mse(f, nerve_softmax(f->g, x, &f->err)) < TOLERANCE);
}

static void test_flatten(void **state)
{
    fixture *f = *state;
    int64_t dims[4] = {BATCH, 2, 3, 2};
    nerve_node x = random_param(f, "x", nerve_shape_make(4, dims), 1, 0);
    nerve_node w = random_param(f, "w", nerve_shape_2d(3, 12), 1, 0);
    nerve_node flat = nerve_flatten(f->g, x, &f->err);
    assert_true(check_through_mse(f, nerve_linear(f->g, flat, w, -1, &f->err)) < TOLERANCE);
}

static void test_softmax_cross_entropy(void **state)
{
    fixture *f = *state;
    nerve_node logits = random_param(f, "logits", nerve_shape_2d(BATCH, 5), 4, 0);
    nerve_node labels = constant(f, "labels", nerve_shape_1d(BATCH), 1);
    nerve_real *y = nerve_node_value(f->g, labels);
    for (int i = 0; i < BATCH; i++) y[i] = (nerve_real)(i % 5);
    nerve_node loss = nerve_softmax_cross_entropy(f->g, logits, labels, &f->err);
    assert_true(loss >= 0);
    assert_int_equal(nerve_graph_plan(f->g, 1, &f->err), NERVE_OK);
    double worst;
    assert_int_equal(nerve_gradcheck(f->g, loss, EPS, &worst, &f->err), NERVE_OK);
    assert_true(worst < TOLERANCE);
}

static void test_mse(void **state)
{
    fixture *f = *state;
    nerve_node pred = random_param(f, "pred", nerve_shape_2d(BATCH, 3), 2, 0);
    assert_true(check_through_mse(f, pred) < TOLERANCE);
}

/* A whole dense stack, so that gradients flowing through several ops, and
 * a node used twice, are checked too. */
static void test_two_layer_network_with_fan_out(void **state)
{
    fixture *f = *state;
    nerve_node x = nerve_input(f->g, "x", nerve_shape_1d(4), &f->err);
    nerve_node w1 = random_param(f, "w1", nerve_shape_2d(5, 4), 1, 0);
    nerve_node b1 = random_param(f, "b1", nerve_shape_1d(5), 1, 0);
    nerve_node w2 = random_param(f, "w2", nerve_shape_2d(5, 5), 1, 0);
    nerve_node h = nerve_activate(f->g, nerve_linear(f->g, x, w1, b1, &f->err), NERVE_ACT_TANH, 0,
                                  &f->err);
    nerve_node h2 = nerve_linear(f->g, h, w2, -1, &f->err);
    nerve_node s = nerve_softmax(f->g, nerve_activate(f->g, h2, NERVE_ACT_SIGMOID, 0, &f->err),
                                 &f->err);
    nerve_node y = nerve_linear(f->g, s, w2, b1, &f->err); /* w2 and b1 used twice */
    assert_true(y >= 0);
    nerve_node target = nerve_input(f->g, "target", nerve_shape_1d(5), &f->err);
    nerve_node loss = nerve_mse(f->g, y, target, &f->err);
    assert_int_equal(nerve_graph_plan(f->g, BATCH, &f->err), NERVE_OK);
    fill_input(f, x, 1);
    fill_input(f, target, 1);
    double worst;
    assert_int_equal(nerve_gradcheck(f->g, loss, EPS, &worst, &f->err), NERVE_OK);
    assert_true(worst < TOLERANCE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_linear_with_bias, setup, teardown),
        cmocka_unit_test_setup_teardown(test_linear_without_bias, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sigmoid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tanh, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leaky_relu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_softmax, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flatten, setup, teardown),
        cmocka_unit_test_setup_teardown(test_softmax_cross_entropy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_layer_network_with_fan_out, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
