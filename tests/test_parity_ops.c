/* Every op's forward values and gradients agree with PyTorch's: linear (with
 * and without bias), each activation, softmax, softmax cross-entropy and MSE,
 * against the fixtures that tests/reference/make_fixtures.py wrote from
 * torch (tensor names: tests/reference/README.md). */
#include "parity_support.h"

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

static void check_activation_kind(parity *p, const char *act, nerve_activation kind,
                                  const nerve_activation_params *params)
{
    nerve_node x = activation_input(p, act);
    check_activation(p, act, x, nerve_activate(p->g, x, kind, params, &p->err));
}

static void test_sigmoid(void **state)
{
    check_activation_kind(*state, "sigmoid", NERVE_ACT_SIGMOID, NULL);
}

static void test_tanh(void **state)
{
    check_activation_kind(*state, "tanh", NERVE_ACT_TANH, NULL);
}

static void test_relu(void **state)
{
    check_activation_kind(*state, "relu", NERVE_ACT_RELU, NULL);
}

/* PyTorch's default negative slope. */
static void test_leaky_relu(void **state)
{
    check_activation_kind(*state, "leaky_relu", NERVE_ACT_LEAKY_RELU, NULL);
}

static void test_leaky_relu_slope_0_2(void **state)
{
    nerve_activation_params params = nerve_activation_defaults();
    params.negative_slope = 0.2;
    check_activation_kind(*state, "leaky_relu_0.2", NERVE_ACT_LEAKY_RELU, &params);
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
        PARITY_TEST(test_linear_with_bias),
        PARITY_TEST(test_linear_without_bias),
        PARITY_TEST(test_sigmoid),
        PARITY_TEST(test_tanh),
        PARITY_TEST(test_relu),
        PARITY_TEST(test_leaky_relu),
        PARITY_TEST(test_leaky_relu_slope_0_2),
        PARITY_TEST(test_softmax),
        PARITY_TEST(test_cross_entropy),
        PARITY_TEST(test_cross_entropy_large_logits),
        PARITY_TEST(test_mse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
