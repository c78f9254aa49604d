/* The notes' boolean-function example: one hidden layer is enough for an
 * MLP to represent XOR, which no single neuron can. Built with the C API
 * (no cfg), trained by full-batch gradient descent with momentum. */
#include "test_support.h"

static const nerve_real xor_inputs[4][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
static const nerve_real xor_labels[4] = {0, 1, 1, 0};

static void test_mlp_learns_xor_exactly(void **state)
{
    nerve_error err = {0};
    nerve_graph *g = nerve_graph_new();
    nerve_rng rng;
    nerve_rng_seed(&rng, 7);
    nerve_node x = nerve_input(g, "x", nerve_shape_1d(2), &err);
    nerve_node labels = nerve_input(g, "labels", nerve_shape_make(0, NULL), &err);
    nerve_dense_options hidden = {.units = 4, .bias = true, .init = NERVE_INIT_XAVIER_UNIFORM,
                                  .activation = NERVE_ACT_TANH};
    nerve_dense_options output = {.units = 2, .bias = true, .init = NERVE_INIT_XAVIER_UNIFORM};
    nerve_node h = nerve_dense(g, "hidden", x, &hidden, &rng, &err);
    nerve_node logits = nerve_dense(g, "out", h, &output, &rng, &err);
    nerve_node loss = nerve_softmax_cross_entropy(g, logits, labels, &err);
    assert_true(loss >= 0);
    assert_int_equal(nerve_graph_plan(g, 4, &err), NERVE_OK);
    nerve_sgd_options sgd = {.lr = 0.1, .momentum = 0.9};
    nerve_optimizer *opt = nerve_sgd_new(g, &sgd, &err);
    assert_non_null(opt);

    nerve_real *xv = nerve_node_value(g, x), *yv = nerve_node_value(g, labels);
    for (int i = 0; i < 4; i++) {
        xv[2 * i] = xor_inputs[i][0];
        xv[2 * i + 1] = xor_inputs[i][1];
        yv[i] = xor_labels[i];
    }
    for (int step = 0; step < 2000; step++) {
        nerve_graph_zero_grad(g);
        nerve_graph_forward(g, loss);
        nerve_graph_backward(g, loss);
        nerve_optimizer_step(opt);
    }
    nerve_graph_forward(g, loss);
    assert_true(nerve_node_value(g, loss)[0] < 0.01);
    const nerve_real *out = nerve_node_value(g, logits);
    for (int i = 0; i < 4; i++) {
        int predicted = out[2 * i + 1] > out[2 * i] ? 1 : 0;
        assert_int_equal(predicted, (int)xor_labels[i]);
    }
    nerve_optimizer_free(opt);
    nerve_graph_free(g);
}

/* The symmetry the notes warn about: with every weight equal (zeros), all
 * hidden units receive the same gradient and stay equal, so XOR is not learnt. */
static void test_zero_initialisation_cannot_break_symmetry(void **state)
{
    nerve_error err = {0};
    nerve_graph *g = nerve_graph_new();
    nerve_rng rng;
    nerve_rng_seed(&rng, 7);
    nerve_node x = nerve_input(g, "x", nerve_shape_1d(2), &err);
    nerve_node labels = nerve_input(g, "labels", nerve_shape_make(0, NULL), &err);
    nerve_dense_options zeros = {.units = 4, .bias = true, .init = NERVE_INIT_ZEROS,
                                 .activation = NERVE_ACT_TANH};
    nerve_node h = nerve_dense(g, "hidden", x, &zeros, &rng, &err);
    zeros.units = 2;
    zeros.activation = NERVE_ACT_IDENTITY;
    nerve_node logits = nerve_dense(g, "out", h, &zeros, &rng, &err);
    nerve_node loss = nerve_softmax_cross_entropy(g, logits, labels, &err);
    assert_int_equal(nerve_graph_plan(g, 4, &err), NERVE_OK);
    nerve_sgd_options sgd = {.lr = 0.1, .momentum = 0.9};
    nerve_optimizer *opt = nerve_sgd_new(g, &sgd, &err);
    nerve_real *xv = nerve_node_value(g, x), *yv = nerve_node_value(g, labels);
    for (int i = 0; i < 4; i++) {
        xv[2 * i] = xor_inputs[i][0];
        xv[2 * i + 1] = xor_inputs[i][1];
        yv[i] = xor_labels[i];
    }
    for (int step = 0; step < 500; step++) {
        nerve_graph_zero_grad(g);
        nerve_graph_forward(g, loss);
        nerve_graph_backward(g, loss);
        nerve_optimizer_step(opt);
    }
    const nerve_real *w = nerve_node_value(g, nerve_graph_find(g, "hidden.weight"));
    for (int unit = 1; unit < 4; unit++) {
        assert_float_equal(w[2 * unit], w[0], 1e-6);
        assert_float_equal(w[2 * unit + 1], w[1], 1e-6);
    }
    nerve_graph_forward(g, loss);
    assert_true(nerve_node_value(g, loss)[0] > 0.6); /* stuck near log 2 */
    nerve_optimizer_free(opt);
    nerve_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mlp_learns_xor_exactly),
        cmocka_unit_test(test_zero_initialisation_cannot_break_symmetry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
