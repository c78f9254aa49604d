/* Every activation of the catalogue agrees with PyTorch forward and backward,
 * at exact zeros, at its other kinks and at +-1e4, and so do the gradients of
 * the learned ones' parameters: the fixtures that
 * tests/reference/fixtures_activations.py wrote from torch (tensor names
 * there). Sigmoid, tanh, relu, leaky_relu and last-axis softmax are in
 * test_parity_ops.c. */
#include <stdio.h>

#include "parity_support.h"

/* ---------------------------------------------------------------- element-wise */

static void check_kind(parity *p, const char *act, nerve_activation kind,
                       const nerve_activation_params *params)
{
    char name[64];
    open_fixture(p, "activations_elementwise");
    name_in(name, sizeof name, act, ".x");
    nerve_node x = fixture_param(p, name, false);
    check_activation(p, act, x, nerve_activate(p->g, x, kind, params, &p->err));
}

static void test_elu(void **state) { check_kind(*state, "elu", NERVE_ACT_ELU, NULL); }

static void test_elu_alpha_0_5(void **state)
{
    nerve_activation_params params = nerve_activation_defaults();
    params.alpha = 0.5;
    check_kind(*state, "elu_0.5", NERVE_ACT_ELU, &params);
}

static void test_selu(void **state) { check_kind(*state, "selu", NERVE_ACT_SELU, NULL); }
static void test_softplus(void **state)
{
    check_kind(*state, "softplus", NERVE_ACT_SOFTPLUS, NULL);
}

static void test_softplus_beta_2_threshold_5(void **state)
{
    nerve_activation_params params = nerve_activation_defaults();
    params.beta = 2;
    params.threshold = 5;
    check_kind(*state, "softplus_2_5", NERVE_ACT_SOFTPLUS, &params);
}

static void test_silu(void **state) { check_kind(*state, "silu", NERVE_ACT_SWISH, NULL); }

static void test_swish_beta_1_5(void **state)
{
    nerve_activation_params params = nerve_activation_defaults();
    params.beta = 1.5;
    check_kind(*state, "swish_1.5", NERVE_ACT_SWISH, &params);
}

static void test_gelu(void **state) { check_kind(*state, "gelu", NERVE_ACT_GELU, NULL); }

static void test_gelu_tanh(void **state)
{
    check_kind(*state, "gelu_tanh", NERVE_ACT_GELU_TANH, NULL);
}

static void test_hardtanh(void **state)
{
    check_kind(*state, "hardtanh", NERVE_ACT_HARDTANH, NULL);
}

static void test_hardtanh_min_minus_2_max_0_5(void **state)
{
    nerve_activation_params params = nerve_activation_defaults();
    params.min_val = -2;
    params.max_val = 0.5;
    check_kind(*state, "hardtanh_wide", NERVE_ACT_HARDTANH, &params);
}

static void test_binary_step(void **state)
{
    check_kind(*state, "binary_step", NERVE_ACT_BINARY_STEP, NULL);
}

static void test_binary_step_straight_through(void **state)
{
    check_kind(*state, "binary_step_ste", NERVE_ACT_BINARY_STEP_STE, NULL);
}

/* ---------------------------------------------------------------- ops */

/* RReLU in eval mode: the mean slope, deterministic as torch's. */
static void check_rrelu_eval(parity *p, const char *act, float lower, float upper)
{
    char name[64];
    open_fixture(p, "activations_elementwise");
    name_in(name, sizeof name, act, ".x");
    nerve_node x = fixture_param(p, name, false);
    nerve_graph_set_training(p->g, false);
    check_activation(p, act, x, nerve_rrelu(p->g, x, lower, upper, &p->err));
}

static void test_rrelu_eval(void **state) { check_rrelu_eval(*state, "rrelu", 1.0f / 8, 1.0f / 3); }

static void test_rrelu_eval_0_1_0_3(void **state)
{
    check_rrelu_eval(*state, "rrelu_0.1_0.3", 0.1f, 0.3f);
}

/* y = op(x, <act>.<param>) with the parameter trainable; also compares its gradient. */
static void check_with_parameter(parity *p, const char *act, const char *param_suffix,
                                 nerve_node (*op)(nerve_graph *, nerve_node, nerve_node,
                                                  nerve_error *))
{
    char name[64];
    open_fixture(p, "activations_layers");
    name_in(name, sizeof name, act, ".x");
    nerve_node x = fixture_param(p, name, false);
    snprintf(name, sizeof name, "%s.%s", act, param_suffix);
    nerve_node param = fixture_param(p, name, false);
    check_activation(p, act, x, op(p->g, x, param, &p->err));
    snprintf(name, sizeof name, "%s.d%s", act, param_suffix);
    expect_tensor(p, name, param, true);
}

static void test_prelu_shared(void **state)
{
    check_with_parameter(*state, "prelu", "weight", nerve_prelu);
}

static void test_prelu_per_feature(void **state)
{
    check_with_parameter(*state, "prelu_channel", "weight", nerve_prelu);
}

static void test_prelu_per_nchw_channel(void **state)
{
    check_with_parameter(*state, "prelu_nchw", "weight", nerve_prelu);
}

static void test_swish_learnable_beta(void **state)
{
    check_with_parameter(*state, "swish_beta", "beta", nerve_swish_learnable);
}

static void check_crelu(parity *p, const char *act)
{
    char name[64];
    open_fixture(p, "activations_layers");
    name_in(name, sizeof name, act, ".x");
    nerve_node x = fixture_param(p, name, false);
    check_activation(p, act, x, nerve_crelu(p->g, x, &p->err));
}

static void test_crelu(void **state) { check_crelu(*state, "crelu"); }
static void test_crelu_nchw(void **state) { check_crelu(*state, "crelu_nchw"); }

/* torch's Linear + view(N, units, pieces) + max(dim=2) is nerve's linear + maxout_reduce. */
static void test_maxout(void **state)
{
    parity *p = *state;
    open_fixture(p, "activations_layers");
    nerve_node x = fixture_param(p, "maxout.x", false);
    nerve_node w = fixture_param(p, "maxout.weight", false);
    nerve_node b = fixture_param(p, "maxout.bias", false);
    nerve_node affine = test_require_node(nerve_linear(p->g, x, w, b, &p->err), &p->err);
    check_activation(p, "maxout", x, nerve_maxout_reduce(p->g, affine, 4, &p->err));
    expect_tensor(p, "maxout.dweight", w, true);
    expect_tensor(p, "maxout.dbias", b, true);
}

static void check_softmax(parity *p, const char *act, nerve_node (*op)(nerve_graph *, nerve_node,
                                                                        int, nerve_error *),
                          int axis)
{
    char name[64];
    open_fixture(p, "activations_layers");
    name_in(name, sizeof name, act, ".x");
    nerve_node x = fixture_param(p, name, false);
    check_activation(p, act, x, op(p->g, x, axis, &p->err));
}

static void test_softmax_axis_1(void **state)
{
    check_softmax(*state, "softmax_axis1", nerve_softmax_axis, 1);
}

static void test_softmax_last_axis(void **state)
{
    check_softmax(*state, "softmax_last", nerve_softmax_axis, -1);
}

static void test_log_softmax_axis_1(void **state)
{
    check_softmax(*state, "log_softmax_axis1", nerve_log_softmax, 1);
}

static void test_log_softmax_last_axis(void **state)
{
    check_softmax(*state, "log_softmax_last", nerve_log_softmax, -1);
}

/* Entries of +-1e4: finite, and exact to float precision, only when the
 * maximum is subtracted before exp and before log(sum) is taken off. */
static void test_log_softmax_large_inputs(void **state)
{
    check_softmax(*state, "log_softmax_large", nerve_log_softmax, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        PARITY_TEST(test_elu),
        PARITY_TEST(test_elu_alpha_0_5),
        PARITY_TEST(test_selu),
        PARITY_TEST(test_softplus),
        PARITY_TEST(test_softplus_beta_2_threshold_5),
        PARITY_TEST(test_silu),
        PARITY_TEST(test_swish_beta_1_5),
        PARITY_TEST(test_gelu),
        PARITY_TEST(test_gelu_tanh),
        PARITY_TEST(test_hardtanh),
        PARITY_TEST(test_hardtanh_min_minus_2_max_0_5),
        PARITY_TEST(test_binary_step),
        PARITY_TEST(test_binary_step_straight_through),
        PARITY_TEST(test_rrelu_eval),
        PARITY_TEST(test_rrelu_eval_0_1_0_3),
        PARITY_TEST(test_prelu_shared),
        PARITY_TEST(test_prelu_per_feature),
        PARITY_TEST(test_prelu_per_nchw_channel),
        PARITY_TEST(test_swish_learnable_beta),
        PARITY_TEST(test_crelu),
        PARITY_TEST(test_crelu_nchw),
        PARITY_TEST(test_maxout),
        PARITY_TEST(test_softmax_axis_1),
        PARITY_TEST(test_softmax_last_axis),
        PARITY_TEST(test_log_softmax_axis_1),
        PARITY_TEST(test_log_softmax_last_axis),
        PARITY_TEST(test_log_softmax_large_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
