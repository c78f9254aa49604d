/* Every activation name parses as an [activation] layer and as activation=
 * of a [dense] layer, builds a network that runs, names its parameters as
 * docs/config.md says (<name>.weight, <name>.beta; L_act.* inline on dense
 * L), and every setting that does not belong, or is out of range, is an error
 * naming file:line. [maxout] likewise. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "test_support.h"

static const char *const activation_names[] = {
    "none",     "identity", "sigmoid", "tanh",      "relu",        "leaky_relu", "prelu",
    "rrelu",    "elu",      "selu",    "softplus",  "swish",       "silu",       "gelu",
    "hardtanh", "binary_step", "crelu", "softmax",  "log_softmax",
};
#define ACTIVATION_COUNT (int)(sizeof activation_names / sizeof activation_names[0])

static const char *const net_prefix = "[net]\n"     /* 1 */
                                      "input = 4\n" /* 2 */
                                      "batch = 3\n" /* 3 */
                                      "\n";         /* 4 */

static nerve_status load_text(const char *text, nerve_model **m, nerve_error *err)
{
    const char *path = test_tmppath("model.cfg");
    test_write_file(path, text, strlen(text));
    return nerve_model_load(path, NULL, m, err);
}

/* Loads net_prefix + layers, which must succeed. */
static nerve_model *load_layers(const char *layers)
{
    char text[4096];
    snprintf(text, sizeof text, "%s%s", net_prefix, layers);
    nerve_model *m = NULL;
    nerve_error err = {0};
    test_require_ok(load_text(text, &m, &err), &err);
    return m;
}

/* Loads net_prefix + layers and expects an error containing needle. */
static void expect_error(const char *layers, const char *needle)
{
    char text[4096];
    snprintf(text, sizeof text, "%s%s", net_prefix, layers);
    nerve_model *m = NULL;
    nerve_error err = {0};
    assert_int_not_equal(load_text(text, &m, &err), NERVE_OK);
    assert_null(m);
    test_assert_message_contains(&err, needle);
}

/* One training step's forward and backward at the planned batch: every
 * output and the loss finite. */
static void expect_runs(nerve_model *m)
{
    nerve_graph *g = nerve_model_graph(m);
    nerve_error err = {0};
    test_require_ok(nerve_graph_plan(g, 3, &err), &err);
    nerve_real *x = nerve_node_value(g, nerve_model_input(m));
    for (int i = 0; i < 3 * 4; i++) x[i] = (nerve_real)(i % 5) - 2;
    nerve_real *labels = nerve_node_value(g, nerve_model_target(m));
    for (int i = 0; i < 3; i++) labels[i] = (nerve_real)i;
    nerve_graph_zero_grad(g);
    assert_int_equal(nerve_graph_forward(g, nerve_model_loss(m), NULL), NERVE_OK);
    assert_int_equal(nerve_graph_backward(g, nerve_model_loss(m), NULL), NERVE_OK);
    assert_true(isfinite(nerve_node_value(g, nerve_model_loss(m))[0]));
}

static void expect_param(nerve_model *m, const char *name, int64_t count, double value)
{
    nerve_graph *g = nerve_model_graph(m);
    nerve_node n = nerve_graph_find(g, name);
    if (n < 0 || !nerve_node_is_param(g, n)) fail_msg("no parameter '%s'", name);
    nerve_shape shape = nerve_node_shape(g, n);
    assert_int_equal(shape.ndim, 1);
    assert_int_equal(shape.dim[0], count);
    for (int64_t i = 0; i < count; i++) assert_true(nerve_node_value(g, n)[i] == (nerve_real)value);
}

static void test_every_name_is_an_activation_layer(void **state)
{
    for (int i = 0; i < ACTIVATION_COUNT; i++) {
        char layers[512];
        snprintf(layers, sizeof layers,
                 "[dense]\nunits = 5\n[activation]\nname = act\ntype = %s\n[dense]\nunits = 3\n",
                 activation_names[i]);
        nerve_model *m = load_layers(layers);
        assert_string_equal(nerve_model_layer_type(m, 1), "activation");
        bool adds_a_node = strcmp(activation_names[i], "none") != 0 &&
                           strcmp(activation_names[i], "identity") != 0;
        if (adds_a_node)
            assert_int_equal(nerve_model_layer_node(m, 1),
                             nerve_graph_find(nerve_model_graph(m), "act"));
        expect_runs(m);
        nerve_model_free(m);
    }
}

static void test_every_name_is_a_dense_activation(void **state)
{
    for (int i = 0; i < ACTIVATION_COUNT; i++) {
        char layers[512];
        snprintf(layers, sizeof layers,
                 "[dense]\nname = hidden\nunits = 5\nactivation = %s\n[dense]\nunits = 3\n",
                 activation_names[i]);
        nerve_model *m = load_layers(layers);
        bool adds_a_node = strcmp(activation_names[i], "none") != 0 &&
                           strcmp(activation_names[i], "identity") != 0;
        nerve_graph *g = nerve_model_graph(m);
        assert_int_equal(nerve_model_layer_node(m, 0),
                         adds_a_node ? nerve_graph_find(g, "hidden_act")
                                     : nerve_graph_find(g, "hidden"));
        expect_runs(m);
        nerve_model_free(m);
    }
}

static void test_prelu_parameters_are_named_and_start_at_0_25(void **state)
{
    nerve_model *m = load_layers("[dense]\nname = fc1\nunits = 5\nactivation = prelu\n"
                                 "[dense]\nname = fc2\nunits = 6\nactivation = prelu\n"
                                 "channels = per_channel\n"
                                 "[activation]\nname = act\ntype = prelu\nchannels = per_channel\n"
                                 "[dense]\nunits = 3\n");
    expect_param(m, "fc1_act.weight", 1, 0.25);
    expect_param(m, "fc2_act.weight", 6, 0.25);
    expect_param(m, "act.weight", 6, 0.25);
    expect_runs(m);
    nerve_model_free(m);
}

static void test_learnable_swish_beta_starts_at_beta(void **state)
{
    nerve_model *m = load_layers("[dense]\nname = fc1\nunits = 5\nactivation = swish\n"
                                 "learn_beta = 1\nbeta = 1.5\n"
                                 "[activation]\nname = act\ntype = swish\nlearn_beta = 1\n"
                                 "[dense]\nunits = 3\n");
    expect_param(m, "fc1_act.beta", 1, 1.5);
    expect_param(m, "act.beta", 1, 1.0);
    nerve_model_free(m);
}

static void test_crelu_doubles_the_width(void **state)
{
    nerve_model *m = load_layers("[dense]\nunits = 5\nactivation = crelu\n[dense]\nunits = 3\n");
    nerve_graph *g = nerve_model_graph(m);
    assert_int_equal(nerve_node_shape(g, nerve_model_layer_node(m, 0)).dim[1], 10);
    assert_int_equal(nerve_node_shape(g, nerve_graph_find(g, "dense1.weight")).dim[1], 10);
    nerve_model_free(m);
}

static void test_maxout_section(void **state)
{
    nerve_model *m = load_layers("[maxout]\nname = mx\nunits = 5\npieces = 4\n"
                                 "[dense]\nunits = 3\n");
    nerve_graph *g = nerve_model_graph(m);
    nerve_shape w = nerve_node_shape(g, nerve_graph_find(g, "mx.weight"));
    assert_int_equal(w.dim[0], 20); /* units * pieces, PyTorch Linear's [out, in] */
    assert_int_equal(w.dim[1], 4);
    assert_int_equal(nerve_node_shape(g, nerve_graph_find(g, "mx.bias")).dim[0], 20);
    assert_string_equal(nerve_model_layer_type(m, 0), "maxout");
    assert_int_equal(nerve_node_shape(g, nerve_model_layer_node(m, 0)).dim[1], 5);
    assert_int_equal(nerve_graph_param_count(g), 20 * 4 + 20 + 3 * 5 + 3);
    expect_runs(m);
    nerve_model_free(m);
}

static void test_the_example_loads(void **state)
{
    nerve_model *m = NULL;
    nerve_error err = {0};
    test_require_ok(nerve_model_load(test_source_path("examples/activations.cfg"), NULL, &m, &err),
                    &err);
    nerve_model_free(m);
}

static void test_setting_of_another_activation_names_its_owners(void **state)
{
    expect_error("[activation]\ntype = elu\nslope = 0.2\n",
                 "model.cfg:7: [activation] slope: only applies to activation leaky_relu");
    expect_error("[dense]\nunits = 3\nactivation = elu\nbeta = 2\n",
                 "model.cfg:8: [dense] beta: only applies to activation softplus, swish");
    expect_error("[dense]\nunits = 3\naxis = 1\n",
                 "model.cfg:7: [dense] axis: only applies to activation softmax, log_softmax");
}

static void test_bad_settings_name_their_line(void **state)
{
    expect_error("[activation]\ntype = elu\nalpha = -1\n",
                 "model.cfg:7: [activation] alpha: -1 is out of range");
    expect_error("[activation]\ntype = hardtanh\nmin_val = 1\nmax_val = 0\n",
                 "model.cfg:8: [activation] max_val: min_val 1 must be below max_val 0");
    expect_error("[activation]\ntype = rrelu\nlower = 0.5\nupper = 0.1\n",
                 "model.cfg:8: [activation] upper: lower 0.5 must not exceed upper 0.1");
    expect_error("[activation]\ntype = gelu\napproximate = sigmoid\n",
                 "model.cfg:7: [activation] approximate: 'sigmoid' is not one of: none, tanh");
    expect_error("[activation]\ntype = prelu\nchannels = per_pixel\n",
                 "model.cfg:7: [activation] channels: 'per_pixel' is not one of");
    expect_error("[activation]\ntype = swish\nlearn_beta = 2\n",
                 "model.cfg:7: [activation] learn_beta: 2 is out of range");
    expect_error("[activation]\ntype = softmax\naxis = 0\n",
                 "model.cfg:7: [activation] axis: axis 0 is the batch");
    expect_error("[activation]\ntype = binary_step\nstraight_through = yes\n",
                 "model.cfg:7: [activation] straight_through: 'yes' is not an integer");
}

static void test_unknown_activation_lists_every_name(void **state)
{
    expect_error("[activation]\ntype = rleu\n",
                 "model.cfg:6: [activation] type: 'rleu' is not one of: none, identity");
    expect_error("[dense]\nunits = 2\nactivation = maxout\n", "crelu, softmax, log_softmax");
}

/* Shape errors come from the op, at the section's line. */
static void test_axis_outside_the_input_names_the_section(void **state)
{
    expect_error("[dense]\nunits = 3\n[activation]\ntype = log_softmax\naxis = 2\n",
                 "model.cfg:7: [activation] log_softmax 'node");
}

static void test_maxout_requires_units_and_pieces(void **state)
{
    expect_error("[maxout]\nunits = 3\n", "model.cfg:5: [maxout] requires the key 'pieces'");
    expect_error("[maxout]\nunits = 3\npieces = 0\n",
                 "model.cfg:7: [maxout] pieces: 0 is out of range");
    expect_error("[maxout]\nunits = 3\npieces = 2\nactivation = relu\n",
                 "model.cfg:8: unknown key 'activation' in [maxout]");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_name_is_an_activation_layer),
        cmocka_unit_test(test_every_name_is_a_dense_activation),
        cmocka_unit_test(test_prelu_parameters_are_named_and_start_at_0_25),
        cmocka_unit_test(test_learnable_swish_beta_starts_at_beta),
        cmocka_unit_test(test_crelu_doubles_the_width),
        cmocka_unit_test(test_maxout_section),
        cmocka_unit_test(test_the_example_loads),
        cmocka_unit_test(test_setting_of_another_activation_names_its_owners),
        cmocka_unit_test(test_bad_settings_name_their_line),
        cmocka_unit_test(test_unknown_activation_lists_every_name),
        cmocka_unit_test(test_axis_outside_the_input_names_the_section),
        cmocka_unit_test(test_maxout_requires_units_and_pieces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
