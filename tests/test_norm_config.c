/* The [batchnorm], [dropout] and [dropout2d] sections: what they build
 * (PyTorch's state_dict names, an optional activation) and every mistake in
 * them as an error naming file:line and the key. */
#include <stdio.h>
#include <string.h>

#include "test_support.h"

static nerve_status load_text(const char *text, nerve_model **m, nerve_error *err)
{
    const char *path = test_tmppath("norm.cfg");
    test_write_file(path, text, strlen(text));
    return nerve_model_load(path, NULL, m, err);
}

/* [net] on lines 1-3, then `layers` from line 4, then an output layer. */
static nerve_status load_layers(const char *input, const char *layers, nerve_model **m,
                                nerve_error *err)
{
    char text[2048];
    snprintf(text, sizeof text, "[net]\ninput = %s\nbatch = 4\n%s[flatten]\n[dense]\nunits = 3\n",
             input, layers);
    return load_text(text, m, err);
}

static void expect_error(const char *input, const char *layers, const char *needle)
{
    nerve_model *m = NULL;
    nerve_error err = {0};
    assert_int_not_equal(load_layers(input, layers, &m, &err), NERVE_OK);
    test_assert_message_contains(&err, needle);
    assert_null(m);
}

static void test_sections_build_pytorch_names(void **state)
{
    nerve_model *m;
    nerve_error err = {0};
    test_require_ok(load_layers("3x4x4",
                                "[batchnorm]\nname = bn\nmomentum = 0.2\neps = 1e-3\n"
                                "activation = relu\n"
                                "[dropout2d]\nname = drop2d\np = 0.2\n"
                                "[batchnorm]\nname = plain\naffine = 0\ntrack_running_stats = 0\n"
                                "[dropout]\nname = drop\n",
                                &m, &err),
                    &err);
    nerve_graph *g = nerve_model_graph(m);
    const char *const names[] = {"bn.weight", "bn.bias", "bn.running_mean", "bn.running_var",
                                 "bn.num_batches_tracked", "bn", "bn_act", "drop2d", "plain",
                                 "drop"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (nerve_graph_find(g, names[i]) < 0) fail_msg("no node '%s'", names[i]);
    assert_true(nerve_graph_find(g, "plain.weight") < 0);
    assert_true(nerve_graph_find(g, "plain.running_mean") < 0);
    assert_true(nerve_node_value(g, nerve_graph_find(g, "bn.weight"))[2] == 1);
    assert_true(nerve_node_value(g, nerve_graph_find(g, "bn.running_var"))[2] == 1);
    assert_string_equal(nerve_node_op_name(g, nerve_graph_find(g, "drop")), "dropout");
    assert_string_equal(nerve_model_layer_type(m, 0), "batchnorm");
    nerve_model_free(m);
}

static void test_bad_drop_probabilities(void **state)
{
    expect_error("8", "[dropout]\np = 1\n", "norm.cfg:5: [dropout] p: must be below 1");
    expect_error("8", "[dropout]\np = -0.1\n", "norm.cfg:5: [dropout] p: -0.1 is out of range");
    expect_error("2x4x4", "[dropout2d]\np = 1.5\n", "[dropout2d] p: 1.5 is out of range");
    expect_error("8", "[dropout]\nrate = 0.5\n", "norm.cfg:5: unknown key 'rate' in [dropout]");
}

static void test_bad_batchnorm_keys(void **state)
{
    expect_error("8", "[batchnorm]\nmomentum = 1.5\n",
                 "norm.cfg:5: [batchnorm] momentum: 1.5 is out of range [0, 1]");
    expect_error("8", "[batchnorm]\nmomentum = fast\n", "momentum: 'fast' is not a finite number");
    expect_error("8", "[batchnorm]\neps = 0\n", "norm.cfg:5: [batchnorm] eps: must be above 0");
    expect_error("8", "[batchnorm]\naffine = 2\n", "[batchnorm] affine");
    expect_error("8", "[batchnorm]\nmomentun = 0.1\n", "unknown key 'momentun' in [batchnorm]");
    expect_error("8", "[batchnorm]\nactivation = wiggle\n", "wiggle");
}

/* Running statistics are buffers, not parameters to regularise. */
static void test_weight_decay_needs_learned_parameters(void **state)
{
    expect_error("8", "[batchnorm]\naffine = 0\nweight_decay = 0.1\n",
                 "weight_decay: the layer has no parameters to regularise");
    nerve_model *m;
    nerve_error err = {0};
    test_require_ok(load_layers("8", "[batchnorm]\nweight_decay = 0.1\n", &m, &err), &err);
    nerve_model_free(m);
}

static void test_dropout2d_needs_channels(void **state)
{
    expect_error("8", "[dropout2d]\n", "neither [N, C, H, W] nor [N, C, L]");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sections_build_pytorch_names),
        cmocka_unit_test(test_bad_drop_probabilities),
        cmocka_unit_test(test_bad_batchnorm_keys),
        cmocka_unit_test(test_weight_decay_needs_learned_parameters),
        cmocka_unit_test(test_dropout2d_needs_channels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
