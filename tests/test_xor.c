/* The notes' boolean-function example: one hidden layer is enough for an
 * MLP to represent XOR, which no single neuron can. Built with the C API
 * (no cfg), trained by full-batch gradient descent with momentum. Values go
 * in and out through the device (nerve_node_write, nerve_node_read), so
 * that it runs on every backend (ref and sealed too, tests/CMakeLists.txt). */
#include <math.h>
#include <stdlib.h>

#include "test_support.h"

static const nerve_real xor_inputs[4][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
static const nerve_real xor_labels[4] = {0, 1, 1, 0};

typedef struct xor_net {
    nerve_graph *g;
    nerve_node logits, loss;
    nerve_optimizer *opt;
} xor_net;

/* 2 -> 4 (hidden activation) -> 2 logits, all four XOR cases as one batch;
 * both layers initialised with the cfg spellings init and bias_init. */
static xor_net build_xor_net(const char *init, const char *bias_init,
                             nerve_activation hidden_activation)
{
    nerve_error err = {0};
    xor_net net = {nerve_graph_new(), -1, -1, NULL};
    nerve_rng rng;
    nerve_rng_seed(&rng, 7);
    nerve_node x = nerve_input(net.g, "x", nerve_shape_1d(2), &err);
    nerve_node labels = nerve_input(net.g, "labels", nerve_shape_make(0, NULL), &err);
    nerve_dense_options hidden = {.units = 4, .init = test_parse_init(init),
                                  .bias_init = test_parse_init(bias_init),
                                  .activation = hidden_activation};
    nerve_dense_options output = {.units = 2, .init = test_parse_init(init),
                                  .bias_init = test_parse_init(bias_init)};
    nerve_node h = nerve_dense(net.g, "hidden", x, &hidden, &rng, &err);
    net.logits = test_require_node(nerve_dense(net.g, "out", h, &output, &rng, &err), &err);
    net.loss = test_require_node(
        nerve_softmax_cross_entropy(net.g, net.logits, labels, NULL, &err), &err);
    test_require_ok(nerve_graph_plan(net.g, 4, &err), &err);
    nerve_sgd_options sgd = {.lr = 0.1, .momentum = 0.9};
    net.opt = nerve_sgd_new(net.g, &sgd, &err);
    assert_non_null(net.opt);
    test_write_value(net.g, x, &xor_inputs[0][0]);
    test_write_value(net.g, labels, xor_labels);
    return net;
}

static double train_xor(xor_net *net, int steps)
{
    for (int step = 0; step < steps; step++) {
        nerve_graph_zero_grad(net->g);
        assert_int_equal(nerve_graph_forward(net->g, net->loss, NULL), NERVE_OK);
        assert_int_equal(nerve_graph_backward(net->g, net->loss, NULL), NERVE_OK);
        nerve_optimizer_step(net->opt);
    }
    assert_int_equal(nerve_graph_forward(net->g, net->loss, NULL), NERVE_OK);
    nerve_real loss;
    nerve_error err = {0};
    test_require_ok(nerve_node_read(net->g, net->loss, &loss, 1, &err), &err);
    return loss;
}

static void free_xor_net(xor_net *net)
{
    nerve_optimizer_free(net->opt);
    nerve_graph_free(net->g);
}

static void test_mlp_learns_xor_exactly(void **state)
{
    xor_net net = build_xor_net("xavier_uniform", "default", NERVE_ACT_TANH);
    assert_true(train_xor(&net, 2000) < 0.01);
    nerve_real *out = test_read_value(net.g, net.logits);
    for (int i = 0; i < 4; i++) {
        int predicted = out[2 * i + 1] > out[2 * i] ? 1 : 0;
        assert_int_equal(predicted, (int)xor_labels[i]);
    }
    free(out);
    free_xor_net(&net);
}

/* Whether the four hidden units have identical incoming weights. */
static bool hidden_units_identical(xor_net *net)
{
    nerve_real *w = test_read_value(net->g, nerve_graph_find(net->g, "hidden.weight"));
    bool identical = true;
    for (int unit = 1; unit < 4; unit++)
        if (fabs(w[2 * unit] - w[0]) > 1e-6 || fabs(w[2 * unit + 1] - w[1]) > 1e-6)
            identical = false;
    free(w);
    return identical;
}

static double largest_hidden_weight(xor_net *net)
{
    nerve_real *w = test_read_value(net->g, nerve_graph_find(net->g, "hidden.weight"));
    double largest = 0;
    for (int i = 0; i < 8; i++) largest = fmax(largest, fabs(w[i]));
    free(w);
    return largest;
}

/* The symmetry the notes warn about: with every weight and bias equal
 * (zeros), all hidden units receive the same gradient and stay equal, so XOR
 * is not learnt. (Zero weights alone are not enough in PyTorch's convention:
 * the bias keeps its random default, which breaks the symmetry.) With tanh,
 * whose value at 0 is 0, the hidden weights never move at all, as note 001
 * says. */
static void test_zero_initialisation_cannot_break_symmetry(void **state)
{
    xor_net net = build_xor_net("zeros", "zeros", NERVE_ACT_TANH);
    assert_true(train_xor(&net, 500) > 0.6); /* stuck near log 2 */
    assert_true(hidden_units_identical(&net));
    assert_true(largest_hidden_weight(&net) == 0);
    free_xor_net(&net);
}

/* Note 001: any constant initialisation makes a layer's units equal, so the
 * layer acts as a single neuron. */
static void test_constant_initialisation_acts_as_one_neuron(void **state)
{
    xor_net net = build_xor_net("constant(0.3)", "constant(0.1)", NERVE_ACT_SIGMOID);
    train_xor(&net, 500);
    assert_true(fabs(largest_hidden_weight(&net) - 0.3) > 1e-3);
    assert_true(hidden_units_identical(&net));
    free_xor_net(&net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mlp_learns_xor_exactly),
        cmocka_unit_test(test_zero_initialisation_cannot_break_symmetry),
        cmocka_unit_test(test_constant_initialisation_acts_as_one_neuron),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
