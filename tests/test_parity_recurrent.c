/* The recurrent layers against PyTorch (tests/fixtures/recurrent.safetensors,
 * tests/reference/fixtures_recurrent.py): nn.RNN, nn.LSTM and nn.GRU with
 * batch_first=True and the same weights, loaded under their state_dict
 * names, give the same outputs, final states (h_n, c_n), input gradients and
 * gradients of every parameter; return=last gives h_n of the last layer; a
 * batch that starts from the previous batch's carried state matches PyTorch
 * fed that state, detached. Last, a batch split between threads computes
 * what one thread computes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_internal.h"
#include "ops/recurrent.h"
#include "parity_support.h"

typedef struct recurrent_case {
    const char *name;
    nerve_recurrent_cell cell;
    int64_t layers;
    bool bidirectional, bias;
} recurrent_case;

#define HIDDEN 6

/* The layer <c> over the fixture's x, its parameters loaded from the
 * fixture's <c>.<state_dict name>. Returns the output; *first and *end
 * bound the layer's nodes. */
static nerve_node build_layer(parity *p, recurrent_case c, bool last, nerve_node x,
                              nerve_node *first, nerve_node *end)
{
    nerve_recurrent_options o = nerve_recurrent_options_default(c.cell, HIDDEN);
    o.layers = c.layers;
    o.bidirectional = c.bidirectional;
    o.no_bias = !c.bias;
    o.last = last;
    nerve_rng rng;
    nerve_rng_seed(&rng, 1);
    *first = nerve_graph_node_count(p->g);
    nerve_node y = test_require_node(nerve_recurrent_layer(p->g, c.name, x, &o, &rng, &p->err),
                                     &p->err);
    *end = nerve_graph_node_count(p->g);
    for (nerve_node n = *first; n < *end; n++) {
        if (!nerve_node_is_param(p->g, n)) continue;
        nerve_shape shape, mine = nerve_node_shape(p->g, n);
        const float *values = fixture_tensor(p, nerve_node_name(p->g, n), &shape);
        if (!nerve_shape_equal(&shape, &mine))
            fail_msg("%s: shapes differ", nerve_node_name(p->g, n));
        test_write_floats(p->g, n, values, nerve_shape_numel(&shape));
    }
    return y;
}

/* Every parameter's gradient against <c>.grad.<state_dict name>. */
static void expect_parameter_gradients(parity *p, const char *prefix, nerve_node first,
                                       nerve_node end)
{
    char name[128];
    size_t skip = strlen(prefix) + 1;
    for (nerve_node n = first; n < end; n++) {
        if (!nerve_node_is_param(p->g, n)) continue;
        snprintf(name, sizeof name, "%s.grad.%s", prefix, nerve_node_name(p->g, n) + skip);
        expect_tensor(p, name, n, true);
    }
}

/* Each op's carried state against h_n (and c_n) [layers * directions, N, H]. */
static void expect_final_states(parity *p, recurrent_case c, const char *h_name,
                                const char *c_name)
{
    char op[96];
    nerve_shape shape;
    const float *h_n = fixture_tensor(p, h_name, &shape);
    const float *c_n = c_name ? fixture_tensor(p, c_name, &shape) : NULL;
    int64_t directions = c.bidirectional ? 2 : 1, block = shape.dim[1] * shape.dim[2];
    for (int64_t k = 0; k < c.layers; k++) {
        for (int64_t d = 0; d < directions; d++) {
            snprintf(op, sizeof op, "%s_l%lld%s", c.name, (long long)k, d ? "_reverse" : "");
            nerve_real *cell_state;
            nerve_real *h = nerve_recurrent_state(p->g, nerve_graph_find(p->g, op), &cell_state);
            if (!h) fail_msg("no recurrent op '%s'", op);
            /* the states are device memory: copied to the host to compare */
            nerve_real *host = malloc((size_t)block * sizeof *host);
            assert_non_null(host);
            int64_t at = (k * directions + d) * block;
            assert_int_equal(nerve_graph_download(p->g, host, h, block), NERVE_OK);
            test_assert_close(h_name, host, h_n + at, block, PARITY_TOLERANCE);
            if (c_n) {
                assert_int_equal(nerve_graph_download(p->g, host, cell_state, block), NERVE_OK);
                test_assert_close(c_name, host, c_n + at, block, PARITY_TOLERANCE);
            }
            free(host);
        }
    }
}

static void check_case(parity *p, recurrent_case c, bool last)
{
    char name[128];
    open_fixture(p, "recurrent");
    snprintf(name, sizeof name, "%s.x", c.name);
    nerve_node x = fixture_param(p, name, false), first, end;
    nerve_node y = build_layer(p, c, last, x, &first, &end);
    snprintf(name, sizeof name, "%s.dy", c.name);
    run_with_upstream(p, inject_upstream(p, y, name));

    snprintf(name, sizeof name, "%s.y", c.name);
    expect_tensor(p, name, y, false);
    snprintf(name, sizeof name, "%s.dx", c.name);
    expect_tensor(p, name, x, true);
    expect_parameter_gradients(p, c.name, first, end);
    if (last) return;
    char h_name[64], c_name[64];
    snprintf(h_name, sizeof h_name, "%s.h_n", c.name);
    snprintf(c_name, sizeof c_name, "%s.c_n", c.name);
    expect_final_states(p, c, h_name, c.cell == NERVE_CELL_LSTM ? c_name : NULL);
}

static void test_rnn_tanh(void **state)
{
    check_case(*state, (recurrent_case){"rnn_tanh", NERVE_CELL_RNN_TANH, 1, false, true}, false);
}

static void test_rnn_relu(void **state)
{
    check_case(*state, (recurrent_case){"rnn_relu", NERVE_CELL_RNN_RELU, 1, false, true}, false);
}

static void test_rnn_without_bias(void **state)
{
    check_case(*state, (recurrent_case){"rnn_nobias", NERVE_CELL_RNN_TANH, 1, false, false},
               false);
}

static void test_lstm(void **state)
{
    check_case(*state, (recurrent_case){"lstm", NERVE_CELL_LSTM, 1, false, true}, false);
}

static void test_lstm_without_bias(void **state)
{
    check_case(*state, (recurrent_case){"lstm_nobias", NERVE_CELL_LSTM, 1, false, false}, false);
}

static void test_lstm_two_layers(void **state)
{
    check_case(*state, (recurrent_case){"lstm_2layer", NERVE_CELL_LSTM, 2, false, true}, false);
}

static void test_lstm_bidirectional(void **state)
{
    check_case(*state, (recurrent_case){"lstm_bidirectional", NERVE_CELL_LSTM, 1, true, true},
               false);
}

static void test_lstm_two_layers_bidirectional(void **state)
{
    check_case(*state,
               (recurrent_case){"lstm_2layer_bidirectional", NERVE_CELL_LSTM, 2, true, true},
               false);
}

static void test_gru(void **state)
{
    check_case(*state, (recurrent_case){"gru", NERVE_CELL_GRU, 1, false, true}, false);
}

static void test_gru_two_layers_bidirectional(void **state)
{
    check_case(*state,
               (recurrent_case){"gru_2layer_bidirectional", NERVE_CELL_GRU, 2, true, true},
               false);
}

static void test_lstm_last_is_h_n(void **state)
{
    check_case(*state, (recurrent_case){"lstm_last", NERVE_CELL_LSTM, 1, false, true}, true);
}

static void test_gru_two_layers_bidirectional_last_is_h_n(void **state)
{
    check_case(*state,
               (recurrent_case){"gru_2layer_bidirectional_last", NERVE_CELL_GRU, 2, true, true},
               true);
}

static void test_relu_rnn_two_layers_last_is_h_n(void **state)
{
    check_case(*state, (recurrent_case){"rnn_relu_last", NERVE_CELL_RNN_RELU, 2, false, true},
               true);
}

static void set_values(parity *p, nerve_node n, const char *fixture)
{
    nerve_shape shape;
    const float *values = fixture_tensor(p, fixture, &shape); /* sets shape */
    test_write_floats(p->g, n, values, nerve_shape_numel(&shape));
}

/* Truncated BPTT: batch 2 starts from batch 1's final state and takes no
 * gradient through it. The upstream's own forward moves the state on, so
 * the state is held and put back before the measured forward. */
static void test_lstm_carried_state_matches_a_detached_initial_state(void **state)
{
    parity *p = *state;
    recurrent_case c = {"lstm_carried", NERVE_CELL_LSTM, 2, false, true};
    open_fixture(p, "recurrent");
    nerve_node x = fixture_param(p, "lstm_carried.x2", false), first, end;
    nerve_node y = build_layer(p, c, false, x, &first, &end);
    nerve_node loss = inject_upstream(p, y, "lstm_carried.dy2");
    test_require_ok(nerve_graph_plan(p->g, 1, &p->err), &p->err);
    nerve_graph_set_carry_state(p->g, true);
    set_values(p, x, "lstm_carried.x");
    assert_int_equal(nerve_graph_forward(p->g, y, NULL), NERVE_OK);

    enum { STATE = 3 * HIDDEN };
    nerve_real held[2][2][STATE], *h[2], *cell[2];
    for (int k = 0; k < 2; k++) {
        char op[32];
        snprintf(op, sizeof op, "lstm_carried_l%d", k);
        h[k] = nerve_recurrent_state(p->g, nerve_graph_find(p->g, op), &cell[k]);
        /* device memory: held on the host and put back through the device */
        assert_int_equal(nerve_graph_download(p->g, held[k][0], h[k], STATE), NERVE_OK);
        assert_int_equal(nerve_graph_download(p->g, held[k][1], cell[k], STATE), NERVE_OK);
    }
    set_values(p, x, "lstm_carried.x2");
    prepare_upstream(p);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(nerve_graph_upload(p->g, h[k], held[k][0], STATE), NERVE_OK);
        assert_int_equal(nerve_graph_upload(p->g, cell[k], held[k][1], STATE), NERVE_OK);
    }
    forward_backward(p, loss);

    expect_tensor(p, "lstm_carried.y2", y, false);
    expect_tensor(p, "lstm_carried.dx2", x, true);
    expect_parameter_gradients(p, "lstm_carried", first, end);
    expect_final_states(p, c, "lstm_carried.h_n2", "lstm_carried.c_n2");
}

/* ------------------------------------------------------------ threads */

/* A batch large enough for the backend to split the time loop between
 * threads: outputs and gradients as with one thread (up to the GEMMs'
 * summation order). */
static void run_threads(nerve_recurrent_cell cell, int threads, nerve_real *out, int64_t *count)
{
    nerve_error err = {0};
    nerve_set_threads(threads);
    nerve_graph *g = nerve_graph_new();
    int64_t dims[3] = {4, 64, 8};
    nerve_node x = test_require_node(nerve_param(g, "x", nerve_shape_make(3, dims), &err), &err);
    nerve_recurrent_options o = nerve_recurrent_options_default(cell, 96);
    o.bidirectional = true;
    nerve_rng rng;
    nerve_rng_seed(&rng, 3);
    nerve_node y = test_require_node(nerve_recurrent_layer(g, "layer", x, &o, &rng, &err), &err);
    nerve_node target = test_require_node(nerve_param(g, "target", nerve_node_shape(g, y), &err),
                                          &err);
    nerve_node_set_frozen(g, target, true);
    nerve_node loss = test_require_node(nerve_mse(g, y, target, NULL, &err), &err);
    test_require_ok(nerve_graph_plan(g, 1, &err), &err);
    static nerve_real xv[4 * 64 * 8];
    for (int64_t i = 0; i < 4 * 64 * 8; i++) xv[i] = (nerve_real)nerve_rng_normal(&rng);
    test_write_value(g, x, xv);
    nerve_graph_zero_grad(g);
    assert_int_equal(nerve_graph_forward(g, loss, NULL), NERVE_OK);
    assert_int_equal(nerve_graph_backward(g, loss, NULL), NERVE_OK);
    /* y, then every parameter's gradient, read through the device */
    nerve_shape shape = nerve_node_shape(g, y);
    int64_t n = nerve_shape_numel(&shape);
    test_require_ok(nerve_node_read(g, y, out, n, &err), &err);
    for (nerve_node k = 0; k < nerve_graph_node_count(g); k++) {
        if (!nerve_node_is_param(g, k)) continue;
        shape = nerve_node_shape(g, k);
        test_require_ok(nerve_node_read_grad(g, k, out + n, nerve_shape_numel(&shape), &err),
                        &err);
        n += nerve_shape_numel(&shape);
    }
    *count = n;
    nerve_graph_free(g);
}

static void test_a_batch_split_between_threads_computes_the_same(void **state)
{
    static nerve_real one[1 << 18], two[1 << 18];
    static float expected[1 << 18];
    int before = nerve_get_threads();
    nerve_recurrent_cell cells[3] = {NERVE_CELL_RNN_TANH, NERVE_CELL_LSTM, NERVE_CELL_GRU};
    for (int k = 0; k < 3; k++) {
        int64_t n1, n2;
        run_threads(cells[k], 1, one, &n1);
        run_threads(cells[k], 2, two, &n2);
        assert_int_equal(n1, n2);
        for (int64_t i = 0; i < n1; i++) expected[i] = (float)one[i];
        test_assert_close("threads", two, expected, n1, 1e-5);
    }
    nerve_set_threads(before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        PARITY_TEST(test_rnn_tanh),
        PARITY_TEST(test_rnn_relu),
        PARITY_TEST(test_rnn_without_bias),
        PARITY_TEST(test_lstm),
        PARITY_TEST(test_lstm_without_bias),
        PARITY_TEST(test_lstm_two_layers),
        PARITY_TEST(test_lstm_bidirectional),
        PARITY_TEST(test_lstm_two_layers_bidirectional),
        PARITY_TEST(test_gru),
        PARITY_TEST(test_gru_two_layers_bidirectional),
        PARITY_TEST(test_lstm_last_is_h_n),
        PARITY_TEST(test_gru_two_layers_bidirectional_last_is_h_n),
        PARITY_TEST(test_relu_rnn_two_layers_last_is_h_n),
        PARITY_TEST(test_lstm_carried_state_matches_a_detached_initial_state),
        cmocka_unit_test(test_a_batch_split_between_threads_computes_the_same),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
