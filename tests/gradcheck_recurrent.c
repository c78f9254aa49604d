/* Recurrent ops and layers against central finite differences, in double
 * precision (this program links the NERVE_F64 engine): every cell over
 * several steps, both directions, the whole sequence or the final state,
 * with and without biases; stacked and bidirectional layers with dropout
 * between them; and truncated BPTT, where a batch starts from the state the
 * previous one carried over and no gradient may cross that border. The
 * input sequences are parameters, so that dx is checked too. */
#include <string.h>

#include "gradcheck_support.h"
#include "ops/recurrent.h"

#define GC_TEST(f) cmocka_unit_test_setup_teardown(f, gc_setup, gc_teardown)

typedef struct op_case {
    nerve_recurrent_cell cell;
    bool bias, reverse, last;
} op_case;

/* N = 2 sequences of T = 4 steps, 3 features, H = 3; weights large enough
 * that the gates leave their linear range. */
static nerve_node build_op(gc_fixture *f, op_case c)
{
    const int64_t N = 2, T = 4, F = 3, H = 3, GH = nerve_recurrent_gate_count(c.cell) * H;
    int64_t dims[3] = {N, T, F};
    nerve_node x = gc_random_param(f, "x", nerve_shape_make(3, dims), 1.5, 0.05);
    nerve_node w_ih = gc_random_param(f, "weight_ih", nerve_shape_2d(GH, F), 0.9, 0.05);
    nerve_node w_hh = gc_random_param(f, "weight_hh", nerve_shape_2d(GH, H), 0.9, 0.05);
    nerve_node b_ih = -1, b_hh = -1;
    if (c.bias) {
        b_ih = gc_random_param(f, "bias_ih", nerve_shape_1d(GH), 0.5, 0.05);
        b_hh = gc_random_param(f, "bias_hh", nerve_shape_1d(GH), 0.5, 0.05);
    }
    return nerve_recurrent(f->g, c.cell, x, w_ih, w_hh, b_ih, b_hh, c.reverse, c.last, &f->err);
}

static void check_op(gc_fixture *f, op_case c)
{
    nerve_node y = build_op(f, c);
    if (y < 0) fail_msg("%s", f->err.message);
    double worst = gc_check_through_mse(f, y);
    if (worst >= GC_TOLERANCE)
        print_error("cell %d bias %d reverse %d last %d: error %g\n", c.cell, c.bias, c.reverse,
                    c.last, worst);
    assert_true(worst < GC_TOLERANCE);
}

static void test_rnn_tanh(void **state)
{
    check_op(*state, (op_case){NERVE_CELL_RNN_TANH, true, false, false});
}

static void test_rnn_relu(void **state)
{
    check_op(*state, (op_case){NERVE_CELL_RNN_RELU, true, false, false});
}

static void test_rnn_reverse_without_bias(void **state)
{
    check_op(*state, (op_case){NERVE_CELL_RNN_TANH, false, true, false});
}

static void test_lstm(void **state)
{
    check_op(*state, (op_case){NERVE_CELL_LSTM, true, false, false});
}

static void test_lstm_reverse(void **state)
{
    check_op(*state, (op_case){NERVE_CELL_LSTM, true, true, false});
}

static void test_lstm_last_without_bias(void **state)
{
    check_op(*state, (op_case){NERVE_CELL_LSTM, false, false, true});
}

static void test_lstm_reverse_last(void **state)
{
    check_op(*state, (op_case){NERVE_CELL_LSTM, true, true, true});
}

static void test_gru(void **state)
{
    check_op(*state, (op_case){NERVE_CELL_GRU, true, false, false});
}

static void test_gru_reverse_last(void **state)
{
    check_op(*state, (op_case){NERVE_CELL_GRU, true, true, true});
}

static void test_gru_without_bias(void **state)
{
    check_op(*state, (op_case){NERVE_CELL_GRU, false, false, false});
}

/* Stacked layers as nerve_recurrent_layer composes them (that builder is
 * not in the float64 engine): each layer's directions side by side
 * (concat on the last axis), dropout between layers, the top layer's final
 * states. */
static nerve_node direction(gc_fixture *f, nerve_recurrent_cell cell, nerve_node x, int64_t H,
                            bool reverse, bool last)
{
    int64_t GH = nerve_recurrent_gate_count(cell) * H, in = nerve_node_shape(f->g, x).dim[2];
    nerve_node w_ih = gc_random_param(f, NULL, nerve_shape_2d(GH, in), 0.9, 0.05);
    nerve_node w_hh = gc_random_param(f, NULL, nerve_shape_2d(GH, H), 0.9, 0.05);
    nerve_node b_ih = gc_random_param(f, NULL, nerve_shape_1d(GH), 0.5, 0.05);
    nerve_node b_hh = gc_random_param(f, NULL, nerve_shape_1d(GH), 0.5, 0.05);
    nerve_node y = nerve_recurrent(f->g, cell, x, w_ih, w_hh, b_ih, b_hh, reverse, last, &f->err);
    if (y < 0) fail_msg("%s", f->err.message);
    return y;
}

static void check_stack(gc_fixture *f, nerve_recurrent_cell cell, int layers, bool bidirectional,
                        bool last, double dropout)
{
    int64_t dims[3] = {2, 3, 3};
    nerve_node y = gc_random_param(f, "x", nerve_shape_make(3, dims), 1.5, 0.05);
    for (int k = 0; k < layers; k++) {
        bool top = k == layers - 1;
        nerve_node out[2] = {direction(f, cell, y, 2, false, top && last), -1};
        if (bidirectional) out[1] = direction(f, cell, y, 2, true, top && last);
        y = bidirectional ? nerve_concat_axis(f->g, NULL, out, 2, -1, &f->err) : out[0];
        if (!top && dropout > 0) y = nerve_dropout(f->g, y, dropout, &f->err);
        if (y < 0) fail_msg("%s", f->err.message);
    }
    double worst = gc_check_through_mse(f, y);
    if (worst >= GC_TOLERANCE) print_error("stack: error %g\n", worst);
    assert_true(worst < GC_TOLERANCE);
}

static void test_stacked_bidirectional_lstm_with_dropout(void **state)
{
    check_stack(*state, NERVE_CELL_LSTM, 2, true, false, 0.3);
}

static void test_stacked_bidirectional_gru_last(void **state)
{
    check_stack(*state, NERVE_CELL_GRU, 2, true, true, 0);
}

static void test_stacked_relu_rnn_last(void **state)
{
    check_stack(*state, NERVE_CELL_RNN_RELU, 3, false, true, 0);
}

/* ------------------------------------------------------------ truncated BPTT */

typedef struct carried {
    nerve_real *h, *c;
    nerve_real saved_h[16], saved_c[16];
    int64_t size;
} carried;

static void hold(carried *s) /* the state the next forward starts from */
{
    memcpy(s->saved_h, s->h, (size_t)s->size * sizeof *s->h);
    if (s->c) memcpy(s->saved_c, s->c, (size_t)s->size * sizeof *s->c);
}

static void restore(carried *s)
{
    memcpy(s->h, s->saved_h, (size_t)s->size * sizeof *s->h);
    if (s->c) memcpy(s->c, s->saved_c, (size_t)s->size * sizeof *s->c);
}

static double loss_from_held_state(nerve_graph *g, nerve_node loss, carried *s)
{
    restore(s);
    assert_int_equal(nerve_graph_forward(g, loss, NULL), NERVE_OK);
    return nerve_node_value(g, loss)[0];
}

/* A second batch starts from the first one's final state: its loss's
 * finite differences, each forward starting from that same state, must be
 * the gradient backward computes, which therefore stops at the border. The
 * state must also matter: the loss differs from a start at zero. */
static void check_carried_state(gc_fixture *f, nerve_recurrent_cell cell, bool reverse)
{
    nerve_graph *g = f->g;
    nerve_node y = build_op(f, (op_case){cell, true, reverse, false});
    nerve_node x = nerve_graph_find(g, "x");
    if (y < 0) fail_msg("%s", f->err.message);
    nerve_node target = gc_constant(f, "target", nerve_node_shape(g, y), 1.0);
    nerve_node loss = nerve_mse(g, y, target, NULL, &f->err);
    assert_int_equal(nerve_graph_plan(g, 1, &f->err), NERVE_OK);
    nerve_graph_set_carry_state(g, true);

    assert_int_equal(nerve_graph_forward(g, loss, NULL), NERVE_OK); /* the first batch */
    carried s = {.size = 2 * 3};
    s.h = nerve_recurrent_state(g, y, &s.c);
    assert_non_null(s.h);
    assert_true(s.h[0] != 0);
    assert_true((cell == NERVE_CELL_LSTM) == (s.c != NULL));
    hold(&s);
    gc_fill_input(f, x, 1.5); /* the second batch */

    nerve_graph_zero_grad(g);
    double carried_loss = loss_from_held_state(g, loss, &s);
    assert_int_equal(nerve_graph_backward(g, loss, NULL), NERVE_OK);
    nerve_real *params = nerve_graph_params(g), *grads = nerve_graph_grads(g);
    const unsigned char *trainable = nerve_graph_trainable_mask(g);
    double worst = 0;
    for (size_t i = 0; i < nerve_graph_param_count(g); i++) {
        if (!trainable[i]) continue;
        nerve_real saved = params[i];
        params[i] = saved + GC_EPS;
        double up = loss_from_held_state(g, loss, &s);
        params[i] = saved - GC_EPS;
        double down = loss_from_held_state(g, loss, &s);
        params[i] = saved;
        double numeric = (up - down) / (2 * GC_EPS);
        double error = fabs(numeric - grads[i]) / fmax(1.0, fabs(numeric) + fabs(grads[i]));
        if (error > worst) worst = error;
    }
    if (worst >= GC_TOLERANCE) print_error("carried state: error %g\n", worst);
    assert_true(worst < GC_TOLERANCE);

    nerve_graph_reset_state(g);
    assert_int_equal(nerve_graph_forward(g, loss, NULL), NERVE_OK);
    assert_true(fabs(nerve_node_value(g, loss)[0] - carried_loss) > 1e-6);
}

static void test_lstm_carried_state(void **state)
{
    check_carried_state(*state, NERVE_CELL_LSTM, false);
}

static void test_gru_carried_state_reverse(void **state)
{
    check_carried_state(*state, NERVE_CELL_GRU, true);
}

static void test_rnn_carried_state(void **state)
{
    check_carried_state(*state, NERVE_CELL_RNN_TANH, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        GC_TEST(test_rnn_tanh),
        GC_TEST(test_rnn_relu),
        GC_TEST(test_rnn_reverse_without_bias),
        GC_TEST(test_lstm),
        GC_TEST(test_lstm_reverse),
        GC_TEST(test_lstm_last_without_bias),
        GC_TEST(test_lstm_reverse_last),
        GC_TEST(test_gru),
        GC_TEST(test_gru_reverse_last),
        GC_TEST(test_gru_without_bias),
        GC_TEST(test_stacked_bidirectional_lstm_with_dropout),
        GC_TEST(test_stacked_bidirectional_gru_last),
        GC_TEST(test_stacked_relu_rnn_last),
        GC_TEST(test_lstm_carried_state),
        GC_TEST(test_gru_carried_state_reverse),
        GC_TEST(test_rnn_carried_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
