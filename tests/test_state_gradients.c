/* Per-time-step state gradients ||dL/dh_t|| of recurrent ops
 * (nerve_recurrent_state_gradient_norms), on every host backend, against
 * hand computations on tiny networks:
 * - a relu RNN with W_ih = I (F = H) and every unit active: dL/dx_t =
 *   W_ih^T (dL/dh_t * relu') = dL/dh_t, so the norms are those of dx, the
 *   input gradient the finite-difference checks already prove;
 * - the same with W_hh = a I, the loss on the final state only: the gradient
 *   is multiplied by a at every step back, ||dL/dh_t|| = a^(T-1-t) ||dy||;
 * - an LSTM (forward and reverse) on its final state: the last step run
 *   receives exactly the output's gradient dy. */
#include <math.h>
#include <string.h>

#include "test_support.h"
#include "core/graph_internal.h"
#include "ops/recurrent.h"

#define N 2
#define T 5
#define H 3

typedef struct tiny {
    nerve_graph *g;
    nerve_node x, y, target, loss;
} tiny;

static void fill(nerve_graph *g, nerve_node n, double (*value)(int64_t i), nerve_error *err)
{
    nerve_shape s = nerve_node_shape(g, n);
    int64_t count = nerve_shape_numel(&s);
    nerve_real v[256];
    assert_true(count <= 256);
    for (int64_t i = 0; i < count; i++) v[i] = (nerve_real)value(i);
    test_require_ok(nerve_node_write(g, n, v, count, err), err);
}

static double positive(int64_t i) { return 0.2 + 0.1 * (double)(i % 7); }
static double zero(int64_t i) { (void)i; return 0; }
static double identity3(int64_t i) { return i / H == i % H ? 1 : 0; }
static double scaled_identity3(int64_t i) { return i / H == i % H ? 0.5 : 0; }
static double small_positive(int64_t i) { return 0.05 + 0.01 * (double)(i % 5); }
static double wavy(int64_t i) { return 0.6 * sin(1.3 * (double)i + 0.4); }

/* x [N, T, H] -> recurrent -> mse against zeros; the graph records its
 * state gradients and keeps every gradient (dy is read back). */
static tiny build(const char *backend, nerve_recurrent_cell cell, bool reverse, bool last,
                  double (*w_ih)(int64_t), double (*w_hh)(int64_t), nerve_error *err)
{
    tiny t = {.g = nerve_graph_new()};
    test_require_ok(nerve_graph_set_backend(t.g, backend, err), err);
    int64_t G = nerve_recurrent_gate_count(cell);
    int64_t dims[2] = {T, H};
    t.x = test_require_node(nerve_input(t.g, "x", nerve_shape_make(2, dims), err), err);
    test_require_ok(nerve_graph_set_input_grad(t.g, t.x, true, err), err);
    nerve_node wi = test_require_node(nerve_param(t.g, "w_ih", nerve_shape_2d(G * H, H), err), err);
    nerve_node wh = test_require_node(nerve_param(t.g, "w_hh", nerve_shape_2d(G * H, H), err), err);
    t.y = test_require_node(nerve_recurrent(t.g, cell, t.x, wi, wh, -1, -1, reverse, last, err),
                            err);
    t.target = test_require_node(
        nerve_input(t.g, "target", last ? nerve_shape_1d(H) : nerve_shape_make(2, dims), err),
        err);
    t.loss = test_require_node(nerve_mse(t.g, t.y, t.target, NULL, err), err);
    nerve_graph_set_keep_gradients(t.g, true);
    nerve_graph_set_record_state_gradients(t.g, true);
    test_require_ok(nerve_graph_plan(t.g, N, err), err);
    fill(t.g, wi, w_ih, err);
    fill(t.g, wh, w_hh, err);
    fill(t.g, t.x, positive, err);
    fill(t.g, t.target, zero, err);
    nerve_graph_zero_grad(t.g);
    test_require_ok(nerve_graph_forward(t.g, t.loss, err), err);
    test_require_ok(nerve_graph_backward(t.g, t.loss, err), err);
    return t;
}

/* The 2-norm of a host copy of node n's gradient, over rows of `step`
 * values each `stride` apart starting at `first` (all N samples). */
static double grad_norm(tiny *t, nerve_node n, int64_t first, int64_t stride, int64_t step)
{
    nerve_real g[N * T * H];
    nerve_shape s = nerve_node_shape(t->g, n);
    int64_t count = nerve_shape_numel(&s);
    nerve_real *device = nerve_node_grad(t->g, n);
    nerve_real *host = nerve_graph_host_view(t->g, device, count, true, NULL);
    assert_non_null(host);
    memcpy(g, host, (size_t)count * sizeof *g);
    nerve_graph_host_view_end(t->g, device, host, count, false, NULL);
    double squares = 0;
    for (int64_t i = 0; i < N; i++)
        for (int64_t j = 0; j < step; j++) {
            double d = g[first + i * stride + j];
            squares += d * d;
        }
    return sqrt(squares);
}

static void assert_relative(double actual, double expected, const char *what, int64_t t)
{
    if (!(fabs(actual - expected) <= 1e-5 * fabs(expected) + 1e-12))
        fail_msg("%s at t = %lld: %.9g, expected %.9g", what, (long long)t, actual, expected);
}

static void check_backend(const char *backend)
{
    nerve_error err = {0};
    double norms[T];

    /* W_ih = I, relu active everywhere: ||dh_t|| = ||dx_t||. */
    tiny a = build(backend, NERVE_CELL_RNN_RELU, false, false, identity3, small_positive, &err);
    test_require_ok(nerve_recurrent_state_gradient_norms(a.g, a.y, norms, &err), &err);
    for (int64_t t = 0; t < T; t++)
        assert_relative(norms[t], grad_norm(&a, a.x, t * H, T * H, H), "||dh_t|| against ||dx_t||", t);
    nerve_graph_free(a.g);

    /* W_hh = 0.5 I, loss on the final state: halved at every step back. */
    tiny b = build(backend, NERVE_CELL_RNN_RELU, false, true, identity3, scaled_identity3, &err);
    test_require_ok(nerve_recurrent_state_gradient_norms(b.g, b.y, norms, &err), &err);
    double dy = grad_norm(&b, b.y, 0, H, H);
    assert_true(dy > 0);
    for (int64_t t = 0; t < T; t++)
        assert_relative(norms[t], dy * pow(0.5, (double)(T - 1 - t)), "0.5^(T-1-t) ||dy||", t);
    nerve_graph_free(b.g);

    /* An LSTM on its final state, each direction: the last step run gets dy. */
    for (int reverse = 0; reverse <= 1; reverse++) {
        tiny c = build(backend, NERVE_CELL_LSTM, reverse, true, wavy, wavy, &err);
        test_require_ok(nerve_recurrent_state_gradient_norms(c.g, c.y, norms, &err), &err);
        int64_t last_run = reverse ? 0 : T - 1;
        assert_relative(norms[last_run], grad_norm(&c, c.y, 0, H, H), "the last step's ||dy||",
                        last_run);
        for (int64_t t = 0; t < T; t++) assert_true(isfinite(norms[t]) && norms[t] > 0);
        nerve_graph_free(c.g);
    }
}

static void test_cpu_backend(void **state)
{
    (void)state;
    check_backend("cpu");
}

static void test_ref_backend(void **state)
{
    (void)state;
    check_backend("ref");
}

/* Asking a graph that does not record them is an error, not garbage. */
static void test_unrecorded_graph_is_refused(void **state)
{
    (void)state;
    nerve_error err = {0};
    tiny a = build("cpu", NERVE_CELL_RNN_TANH, false, false, wavy, wavy, &err);
    nerve_graph_set_record_state_gradients(a.g, false);
    double norms[T];
    assert_int_equal(nerve_recurrent_state_gradient_norms(a.g, a.y, norms, &err),
                     NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "state gradients recorded");
    assert_int_equal(nerve_recurrent_state_gradient_norms(a.g, a.x, norms, &err),
                     NERVE_ERR_INVALID);
    nerve_graph_free(a.g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpu_backend),
        cmocka_unit_test(test_ref_backend),
        cmocka_unit_test(test_unrecorded_graph_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
