/* Every op's forward values and gradients agree with PyTorch's: linear (with
 * and without bias), each activation, softmax, softmax cross-entropy and MSE,
 * against the fixtures that tests/reference/make_fixtures.py wrote from
 * torch (tensor names: tests/reference/README.md).
 *
 * The op's inputs are parameters, so that their gradients (dx in the fixtures)
 * land in nerve_node_grad; fixed data that takes no gradient is a frozen
 * parameter. */
#include <stdio.h>

#include "test_support.h"

/* |nerve - torch| <= TOLERANCE * max(1, |torch|): relative, with an absolute
 * floor because some expected values underflow to exactly 0 (sigmoid at -30). */
#define TOLERANCE 1e-5

typedef struct parity {
    nerve_graph *g;
    nerve_safetensors *st;
    nerve_error err;
    /* the nodes that inject a fixture's upstream gradient (see inject_upstream) */
    nerve_node upstream, upstream_target;
} parity;

static int setup(void **state)
{
    static parity p;
    p.g = nerve_graph_new();
    p.st = NULL;
    assert_non_null(p.g);
    *state = &p;
    return 0;
}

static int teardown(void **state)
{
    parity *p = *state;
    nerve_graph_free(p->g);
    nerve_safetensors_close(p->st);
    return 0;
}

static void open_fixture(parity *p, const char *file) { p->st = test_open_fixture(file); }

/* Compares a node's value (or gradient) with the fixture tensor of the same shape. */
static void expect_tensor(parity *p, const char *name, nerve_node n, bool gradient)
{
    test_expect_fixture(p->g, p->st, name, n, gradient, TOLERANCE);
}

static nerve_node fixture_param(parity *p, const char *name, bool frozen)
{
    return test_fixture_param(p->g, p->st, name, frozen);
}

/* Makes the gradient reaching y [N, C] equal the fixture's upstream gradient
 * dy [N, C], as y.backward(dy) does, using only public ops:
 *   z = linear(dy, y) = dy y^T is [N, N], with z[n][n] = sum_c dy[n][c] y[n][c];
 *   loss = mse(z, t) with t = z - (N*N/2) I (set by run_with_upstream from z)
 * has dloss/dz = 2/(N*N) (z - t) = I, hence dloss/dy = I^T dy = dy, exactly
 * but for the rounding of 2/(N*N). The simpler mse(y, y_torch - dy*numel/2)
 * puts y's own values in a float target: at y = 1e4 (relu of 1e4) rounding
 * that target shifts the injected dy by up to 4e-5 (3e-5 on these fixtures),
 * more than TOLERANCE. Here z - t = N*N/2 is exact for any |z| < 2^22. */
static nerve_node inject_upstream(parity *p, nerve_node y, const char *dy_name)
{
    nerve_node dy = fixture_param(p, dy_name, true);
    p->upstream = test_require_node(nerve_linear(p->g, dy, y, -1, &p->err), &p->err);
    nerve_shape z_shape = nerve_node_shape(p->g, p->upstream);
    p->upstream_target =
        test_require_node(nerve_param(p->g, "upstream_target", z_shape, &p->err), &p->err);
    nerve_node_set_frozen(p->g, p->upstream_target, true);
    return test_require_node(nerve_mse(p->g, p->upstream, p->upstream_target, NULL, &p->err),
                             &p->err);
}

static void forward_backward(parity *p, nerve_node loss)
{
    nerve_graph_zero_grad(p->g);
    nerve_graph_forward(p->g, loss);
    nerve_graph_backward(p->g, loss);
}

static void run_with_upstream(parity *p, nerve_node loss)
{
    test_require_ok(nerve_graph_plan(p->g, 1, &p->err), &p->err);
    nerve_graph_forward(p->g, p->upstream);
    int64_t n = nerve_node_shape(p->g, p->upstream).dim[0];
    const nerve_real *z = nerve_node_value(p->g, p->upstream);
    nerve_real *t = nerve_node_value(p->g, p->upstream_target);
    for (int64_t i = 0; i < n * n; i++) t[i] = z[i];
    for (int64_t i = 0; i < n; i++) t[i * n + i] -= (nerve_real)(n * n) / 2;
    forward_backward(p, loss);
}

static void name_in(char *buf, size_t size, const char *prefix, const char *name)
{
    snprintf(buf, size, "%s%s", prefix, name);
}

static void check_linear(parity *p, const char *prefix, bool with_bias)
{
    char x_name[64], w_name[64], b_name[64], name[64];
    open_fixture(p, "linear");
    name_in(x_name, sizeof x_name, prefix, "x");
    name_in(w_name, sizeof w_name, prefix, "weight");
    name_in(b_name, sizeof b_name, prefix, "bias");
    nerve_node x = fixture_param(p, x_name, false);
    nerve_node w = fixture_param(p, w_name, false);
    nerve_node b = with_bias ? fixture_param(p, b_name, false) : -1;
    nerve_node y = test_require_node(nerve_linear(p->g, x, w, b, &p->err), &p->err);
    name_in(name, sizeof name, prefix, "dy");
    run_with_upstream(p, inject_upstream(p, y, name));

    name_in(name, sizeof name, prefix, "y");
    expect_tensor(p, name, y, false);
    name_in(name, sizeof name, prefix, "dx");
    expect_tensor(p, name, x, true);
    name_in(name, sizeof name, prefix, "dweight");
    expect_tensor(p, name, w, true);
    name_in(name, sizeof name, prefix, "dbias");
    if (with_bias) expect_tensor(p, name, b, true);
}

static void test_linear_with_bias(void **state) { check_linear(*state, "", true); }
static void test_linear_without_bias(void **state) { check_linear(*state, "nobias.", false); }

/* The shared input of the activation fixtures, stored under <act>.x. */
static nerve_node activation_input(parity *p, const char *act)
{
    char name[64];
    open_fixture(p, "activations");
    name_in(name, sizeof name, act, ".x");
    return fixture_param(p, name, false);
}

/* y = act(x), built by the caller from activation_input; compares y and dx. */
static void check_activation(parity *p, const char *act, nerve_node x, nerve_node y)
{
    char name[64];
    test_require_node(y, &p->err);
    name_in(name, sizeof name, act, ".dy");
    run_with_upstream(p, inject_upstream(p, y, name));

    name_in(name, sizeof name, act, ".y");
    expect_tensor(p, name, y, false);
    name_in(name, sizeof name, act, ".dx");
    expect_tensor(p, name, x, true);
}

static void check_activation_kind(parity *p, const char *act, nerve_activation kind, float slope)
{
    nerve_node x = activation_input(p, act);
    check_activation(p, act, x, nerve_activate(p->g, x, kind, slope, &p->err));
}

static void test_sigmoid(void **state)
{
    check_activation_kind(*state, "sigmoid", NERVE_ACT_SIGMOID, 0);
}

static void test_tanh(void **state) { check_activation_kind(*state, "tanh", NERVE_ACT_TANH, 0); }
static void test_relu(void **state) { check_activation_kind(*state, "relu", NERVE_ACT_RELU, 0); }

/* PyTorch's default negative slope. */
static void test_leaky_relu(void **state)
{
    check_activation_kind(*state, "leaky_relu", NERVE_ACT_LEAKY_RELU, 0.01f);
}

static void test_leaky_relu_slope_0_2(void **state)
{
    check_activation_kind(*state, "leaky_relu_0.2", NERVE_ACT_LEAKY_RELU, 0.2f);
}

static void test_softmax(void **state)
{
    parity *p = *state;
    nerve_node x = activation_input(p, "softmax");
    check_activation(p, "softmax", x, nerve_softmax(p->g, x, &p->err));
}

/* The logits are a parameter of the full [N, C] shape, so the labels cannot be
 * an input (its batch is 1 when the op checks shapes at build time): they are
 * a frozen parameter [N] of class indices. */
static void check_cross_entropy(parity *p, const char *prefix)
{
    char name[64];
    open_fixture(p, "losses");
    name_in(name, sizeof name, prefix, "logits");
    nerve_node logits = fixture_param(p, name, false);
    name_in(name, sizeof name, prefix, "labels");
    nerve_node labels = fixture_param(p, name, true);
    nerve_node loss =
        test_require_node(nerve_softmax_cross_entropy(p->g, logits, labels, NULL, &p->err),
                          &p->err);
    test_require_ok(nerve_graph_plan(p->g, 1, &p->err), &p->err);
    forward_backward(p, loss);

    name_in(name, sizeof name, prefix, "loss");
    expect_tensor(p, name, loss, false);
    name_in(name, sizeof name, prefix, "dlogits");
    expect_tensor(p, name, logits, true);
}

static void test_cross_entropy(void **state) { check_cross_entropy(*state, "ce."); }

/* Logits of +-1e4: exp overflows float32 unless the row maximum is subtracted;
 * assert_close also rejects any non-finite value. */
static void test_cross_entropy_large_logits(void **state)
{
    check_cross_entropy(*state, "ce_large.");
}

static void test_mse(void **state)
{
    parity *p = *state;
    open_fixture(p, "losses");
    nerve_node pred = fixture_param(p, "mse.pred", false);
    nerve_node target = fixture_param(p, "mse.target", true);
    nerve_node loss = test_require_node(nerve_mse(p->g, pred, target, NULL, &p->err), &p->err);
    test_require_ok(nerve_graph_plan(p->g, 1, &p->err), &p->err);
    forward_backward(p, loss);
    expect_tensor(p, "mse.loss", loss, false);
    expect_tensor(p, "mse.dpred", pred, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_linear_with_bias, setup, teardown),
        cmocka_unit_test_setup_teardown(test_linear_without_bias, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sigmoid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tanh, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leaky_relu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leaky_relu_slope_0_2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_softmax, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cross_entropy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cross_entropy_large_logits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mse, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
