/* The [rnn], [lstm] and [gru] sections: every key builds what
 * torch.nn.RNN/LSTM/GRU would (state_dict names and shapes, stacking,
 * directions, the returned sequence or final state, biases, initialisers,
 * relu), and every mistake is an error naming file:line and key. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "test_support.h"

/* Sequences of 6 steps of 3 features; layer sections start at line 5. */
static const char *const base_cfg =
    "[net]\n"
    "input = 6x3\n"
    "[optimizer]\n"
    "lr = 0.1\n";

static nerve_status load(const char *layers, nerve_model **m, nerve_error *err)
{
    char text[4096];
    snprintf(text, sizeof text, "%s%s", base_cfg, layers);
    const char *path = test_tmppath("rec.cfg");
    test_write_file(path, text, strlen(text));
    *m = NULL;
    return nerve_model_load(path, NULL, m, err);
}

static nerve_model *load_ok(const char *layers)
{
    nerve_model *m;
    nerve_error err = {0};
    if (load(layers, &m, &err) != NERVE_OK) fail_msg("%s", err.message);
    return m;
}

static void expect_error(const char *layers, const char *needle)
{
    nerve_model *m;
    nerve_error err = {0};
    assert_int_not_equal(load(layers, &m, &err), NERVE_OK);
    assert_null(m);
    test_assert_message_contains(&err, needle);
}

static nerve_node node_of(nerve_model *m, const char *name)
{
    nerve_node n = nerve_graph_find(nerve_model_graph(m), name);
    if (n < 0) fail_msg("no node '%s'", name);
    return n;
}

static void expect_shape(nerve_model *m, const char *name, int ndim, int64_t d0, int64_t d1,
                         int64_t d2)
{
    nerve_shape s = nerve_node_shape(nerve_model_graph(m), node_of(m, name));
    int64_t expected[3] = {d0, d1, d2};
    assert_int_equal(s.ndim, ndim);
    for (int d = 0; d < ndim; d++)
        if (s.dim[d] != expected[d]) fail_msg("%s: dim %d is %lld, not %lld", name, d,
                                              (long long)s.dim[d], (long long)expected[d]);
}

static void test_every_key_builds_pytorch_parameters(void **state)
{
    nerve_model *m = load_ok("[lstm]\nname = enc\nhidden = 5\nlayers = 2\nbidirectional = 1\n"
                             "return = last\ndropout = 0.25\nbias = 1\ninit = orthogonal\n"
                             "[dense]\nunits = 2\n");
    expect_shape(m, "enc.weight_ih_l0", 2, 20, 3, 0);
    expect_shape(m, "enc.weight_hh_l0", 2, 20, 5, 0);
    expect_shape(m, "enc.bias_ih_l0", 1, 20, 0, 0);
    expect_shape(m, "enc.bias_hh_l0", 1, 20, 0, 0);
    expect_shape(m, "enc.weight_ih_l0_reverse", 2, 20, 3, 0);
    expect_shape(m, "enc.bias_hh_l0_reverse", 1, 20, 0, 0);
    expect_shape(m, "enc.weight_ih_l1", 2, 20, 10, 0); /* both directions of layer 0 */
    expect_shape(m, "enc.weight_hh_l1_reverse", 2, 20, 5, 0);
    expect_shape(m, "enc_l0_out", 3, 1, 6, 10);
    expect_shape(m, "enc_l0_dropout", 3, 1, 6, 10);
    expect_shape(m, "enc", 2, 1, 10, 0); /* h_n of the top layer, forward then reverse */
    assert_string_equal(nerve_node_op_name(nerve_model_graph(m), node_of(m, "enc_l1")),
                        "recurrent");
    assert_string_equal(nerve_model_layer_type(m, 0), "lstm");
    /* orthogonal: W_hh [20, 5] has orthonormal columns. */
    const nerve_real *w = nerve_node_value(nerve_model_graph(m), node_of(m, "enc.weight_hh_l1"));
    for (int a = 0; a < 5; a++)
        for (int b = 0; b < 5; b++) {
            double dot = 0;
            for (int r = 0; r < 20; r++) dot += w[r * 5 + a] * w[r * 5 + b];
            assert_true(fabs(dot - (a == b)) < 1e-5);
        }
    nerve_model_free(m);
}

static void test_defaults_return_the_whole_sequence_with_pytorch_init(void **state)
{
    nerve_model *m = load_ok("[gru]\nhidden = 4\n[flatten]\n[dense]\nunits = 2\n");
    expect_shape(m, "gru0", 3, 1, 6, 4);
    expect_shape(m, "gru0.weight_ih_l0", 2, 12, 3, 0);
    assert_int_equal(nerve_graph_find(nerve_model_graph(m), "gru0.weight_ih_l1"), -1);
    assert_int_equal(nerve_graph_find(nerve_model_graph(m), "gru0.weight_ih_l0_reverse"), -1);
    /* U(-1/sqrt(H), 1/sqrt(H)) = U(-0.5, 0.5) for every tensor. */
    nerve_graph *g = nerve_model_graph(m);
    const char *names[4] = {"gru0.weight_ih_l0", "gru0.weight_hh_l0", "gru0.bias_ih_l0",
                            "gru0.bias_hh_l0"};
    for (int k = 0; k < 4; k++) {
        nerve_node n = node_of(m, names[k]);
        nerve_shape s = nerve_node_shape(g, n);
        const nerve_real *v = nerve_node_value(g, n);
        double largest = 0;
        for (int64_t i = 0; i < nerve_shape_numel(&s); i++)
            largest = fmax(largest, fabs(v[i]));
        assert_true(largest <= 0.5 && largest > 0.3);
    }
    nerve_model_free(m);
}

static void test_bias_0_drops_both_biases_and_init_leaves_them(void **state)
{
    nerve_model *m = load_ok("[lstm]\nname = l\nhidden = 4\ninit = zeros\n"
                             "[rnn]\nhidden = 4\nbias = 0\nreturn = last\n[dense]\nunits = 2\n");
    nerve_graph *g = nerve_model_graph(m);
    assert_int_equal(nerve_graph_find(g, "rnn0.bias_ih_l0"), -1);
    assert_int_equal(nerve_graph_find(g, "rnn0.bias_hh_l0"), -1);
    expect_shape(m, "rnn0.weight_ih_l0", 2, 4, 4, 0);
    expect_shape(m, "rnn0", 2, 1, 4, 0);
    /* init = zeros sets the weights; the biases keep PyTorch's law. */
    const nerve_real *w = nerve_node_value(g, node_of(m, "l.weight_hh_l0"));
    const nerve_real *b = nerve_node_value(g, node_of(m, "l.bias_ih_l0"));
    double weights = 0, biases = 0;
    for (int i = 0; i < 16; i++) weights += fabs(w[i]), biases += fabs(b[i]);
    assert_true(weights == 0 && biases > 0);
    nerve_model_free(m);
}

/* An IRNN (Le et al. 2015): init_hh = eye gives weight_hh the identity while
 * init sets weight_ih, bias_init = zeros zeroes both biases; an LSTM's
 * [4H, H] weight_hh gets eye_'s ones on its first H rows. A bias_init
 * without a bias, or an eye on a vector, is an error naming the key. */
static void test_init_hh_and_bias_init_make_an_irnn(void **state)
{
    nerve_model *m = load_ok("[rnn]\nname = r\nhidden = 4\nnonlinearity = relu\n"
                             "init = normal(0, 0.001)\ninit_hh = eye\nbias_init = zeros\n"
                             "[lstm]\nname = l\nhidden = 2\ninit_hh = eye\n");
    nerve_graph *g = nerve_model_graph(m);
    const nerve_real *hh = nerve_node_value(g, node_of(m, "r.weight_hh_l0"));
    const nerve_real *ih = nerve_node_value(g, node_of(m, "r.weight_ih_l0"));
    const nerve_real *b_ih = nerve_node_value(g, node_of(m, "r.bias_ih_l0"));
    const nerve_real *b_hh = nerve_node_value(g, node_of(m, "r.bias_hh_l0"));
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 4; j++) assert_true(hh[i * 4 + j] == (i == j ? 1 : 0));
        assert_true(b_ih[i] == 0 && b_hh[i] == 0);
    }
    double spread = 0;
    for (int i = 0; i < 12; i++) spread += fabs(ih[i]);
    assert_true(spread > 0 && spread < 0.1); /* normal(0, 0.001), not eye */
    const nerve_real *lstm_hh = nerve_node_value(g, node_of(m, "l.weight_hh_l0"));
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 2; j++) assert_true(lstm_hh[i * 2 + j] == (i == j ? 1 : 0));
    nerve_model_free(m);
    expect_error("[rnn]\nhidden = 4\nbias = 0\nbias_init = zeros\n", "rec.cfg:8");
    expect_error("[rnn]\nhidden = 4\nbias = 0\nbias_init = zeros\n", "no bias");
    expect_error("[rnn]\nhidden = 4\nbias_init = eye\n", "eye needs a matrix");
}

/* The output of one forward over input values in [-1, 1]. */
static void forward_values(nerve_model *m, const char *node, double *min, double *max)
{
    nerve_graph *g = nerve_model_graph(m);
    nerve_error err = {0};
    test_require_ok(nerve_graph_plan(g, 2, &err), &err);
    test_require_ok(nerve_graph_set_batch(g, 2, &err), &err);
    nerve_node x = nerve_model_input(m), y = node_of(m, node);
    nerve_shape xs = nerve_node_shape(g, x), ys = nerve_node_shape(g, y);
    nerve_real *v = nerve_node_value(g, x);
    for (int64_t i = 0; i < nerve_shape_numel(&xs); i++) v[i] = (nerve_real)sin(1.7 * i);
    assert_int_equal(nerve_graph_forward(g, y, NULL), NERVE_OK);
    *min = INFINITY, *max = -INFINITY;
    for (int64_t i = 0; i < nerve_shape_numel(&ys); i++) {
        *min = fmin(*min, nerve_node_value(g, y)[i]);
        *max = fmax(*max, nerve_node_value(g, y)[i]);
    }
}

static void test_nonlinearity_chooses_tanh_or_relu(void **state)
{
    double min, max;
    nerve_model *m = load_ok("[rnn]\nhidden = 8\nnonlinearity = relu\n[flatten]\n"
                             "[dense]\nunits = 2\n");
    forward_values(m, "rnn0", &min, &max);
    assert_true(min == 0 && max > 0);
    nerve_model_free(m);
    m = load_ok("[rnn]\nhidden = 8\n[flatten]\n[dense]\nunits = 2\n");
    forward_values(m, "rnn0", &min, &max);
    assert_true(min < 0 && min > -1 && max < 1);
    nerve_model_free(m);
}

static void test_missing_hidden_is_an_error(void **state)
{
    expect_error("[lstm]\nlayers = 2\n", "rec.cfg:5: [lstm] requires the key 'hidden'");
}

static void test_hidden_and_layers_must_be_positive(void **state)
{
    expect_error("[lstm]\nhidden = 0\n", "rec.cfg:6: [lstm] hidden: 0 is out of range");
    expect_error("[gru]\nhidden = 4\nlayers = 0\n", "rec.cfg:7: [gru] layers: 0 is out of range");
    expect_error("[rnn]\nhidden = four\n", "rec.cfg:6: [rnn] hidden: 'four' is not an integer");
}

static void test_return_is_sequence_or_last(void **state)
{
    expect_error("[lstm]\nhidden = 4\nreturn = first\n",
                 "rec.cfg:7: [lstm] return: 'first' is not one of: sequence, last");
}

static void test_bidirectional_is_a_switch(void **state)
{
    expect_error("[gru]\nhidden = 4\nbidirectional = 2\n", "rec.cfg:7: [gru] bidirectional");
}

static void test_dropout_is_below_1_and_needs_stacked_layers(void **state)
{
    expect_error("[lstm]\nhidden = 4\nlayers = 2\ndropout = 1\n",
                 "rec.cfg:8: [lstm] dropout: must be below 1");
    expect_error("[lstm]\nhidden = 4\nlayers = 2\ndropout = -0.1\n",
                 "rec.cfg:8: [lstm] dropout: -0.1 is out of range");
    expect_error("[lstm]\nhidden = 4\ndropout = 0.5\n",
                 "rec.cfg:7: [lstm] dropout: applies between stacked layers");
}

static void test_nonlinearity_belongs_to_rnn(void **state)
{
    expect_error("[rnn]\nhidden = 4\nnonlinearity = sigmoid\n",
                 "rec.cfg:7: [rnn] nonlinearity: 'sigmoid' is not one of: tanh, relu");
    expect_error("[lstm]\nhidden = 4\nnonlinearity = relu\n",
                 "rec.cfg:7: unknown key 'nonlinearity' in [lstm]");
}

static void test_a_bad_initialiser_is_an_error(void **state)
{
    expect_error("[gru]\nhidden = 4\ninit = glorot\n",
                 "rec.cfg:7: [gru] init: unknown initialiser 'glorot'");
}

static void test_an_unknown_key_is_an_error(void **state)
{
    expect_error("[lstm]\nhidden = 4\nunits = 4\n", "rec.cfg:7: unknown key 'units' in [lstm]");
}

static void test_the_input_must_be_a_sequence(void **state)
{
    expect_error("[flatten]\n[lstm]\nhidden = 4\n",
                 "rec.cfg:6: [lstm] recurrent 'lstm0': input 1x18 is not a batch of "
                 "sequences [N, T, features]");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_key_builds_pytorch_parameters),
        cmocka_unit_test(test_defaults_return_the_whole_sequence_with_pytorch_init),
        cmocka_unit_test(test_bias_0_drops_both_biases_and_init_leaves_them),
        cmocka_unit_test(test_init_hh_and_bias_init_make_an_irnn),
        cmocka_unit_test(test_nonlinearity_chooses_tanh_or_relu),
        cmocka_unit_test(test_missing_hidden_is_an_error),
        cmocka_unit_test(test_hidden_and_layers_must_be_positive),
        cmocka_unit_test(test_return_is_sequence_or_last),
        cmocka_unit_test(test_bidirectional_is_a_switch),
        cmocka_unit_test(test_dropout_is_below_1_and_needs_stacked_layers),
        cmocka_unit_test(test_nonlinearity_belongs_to_rnn),
        cmocka_unit_test(test_a_bad_initialiser_is_an_error),
        cmocka_unit_test(test_an_unknown_key_is_an_error),
        cmocka_unit_test(test_the_input_must_be_a_sequence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
