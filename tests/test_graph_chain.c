/* Two separate graphs chained through a gradient-taking input and
 * nerve_graph_backward_from give the gradients of one combined graph, and
 * nerve_graph_freeze_prefix freezes a whole network by its name prefix.
 * Values and gradients go between the graphs and the test through host
 * buffers (nerve_node_read, _write, _read_grad), so it runs on every
 * backend. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#define BATCH 3
#define NOISE 3
#define SAMPLE 5

static nerve_node dense_tanh(nerve_graph *g, const char *name, nerve_node x, int64_t in,
                             int64_t out, bool activate, nerve_error *err)
{
    char weight[64], bias[64];
    snprintf(weight, sizeof weight, "%s.weight", name);
    snprintf(bias, sizeof bias, "%s.bias", name);
    nerve_node w = test_require_node(nerve_param(g, weight, nerve_shape_2d(out, in), err), err);
    nerve_node b = test_require_node(nerve_param(g, bias, nerve_shape_1d(out), err), err);
    nerve_node y = test_require_node(nerve_linear(g, x, w, b, err), err);
    if (!activate) return y;
    return test_require_node(nerve_activate(g, y, NERVE_ACT_TANH, NULL, err), err);
}

/* Generator: noise [3] -> gen.fc1 (4) -> tanh -> gen.fc2 (5). */
static nerve_node add_generator(nerve_graph *g, nerve_node z, nerve_error *err)
{
    nerve_node h = dense_tanh(g, "gen.fc1", z, NOISE, 4, true, err);
    return dense_tanh(g, "gen.fc2", h, 4, SAMPLE, false, err);
}

/* Discriminator: sample [5] -> disc.fc1 (4) -> tanh -> disc.fc2 (1), MSE
 * against a target. */
static nerve_node add_discriminator(nerve_graph *g, nerve_node x, nerve_node target,
                                    nerve_error *err)
{
    nerve_node h = dense_tanh(g, "disc.fc1", x, SAMPLE, 4, true, err);
    nerve_node score = dense_tanh(g, "disc.fc2", h, 4, 1, false, err);
    return test_require_node(nerve_mse(g, score, target, NULL, err), err);
}

/* Deterministic values that depend on the node's name, so that the same
 * parameter gets the same weights in every graph. */
static void fill_by_name(nerve_graph *g, nerve_node n)
{
    unsigned seed = 0;
    for (const char *c = nerve_node_name(g, n); *c; c++) seed = seed * 31 + (unsigned char)*c;
    nerve_shape shape = nerve_node_shape(g, n);
    nerve_real v[64];
    assert_true(nerve_shape_numel(&shape) <= 64);
    for (int64_t i = 0; i < nerve_shape_numel(&shape); i++)
        v[i] = (nerve_real)(0.8 * sin(0.37 * (double)(seed % 1000) + 1.3 * (double)i));
    test_write_value(g, n, v);
}

static void fill_all(nerve_graph *g)
{
    for (nerve_node n = 0; n < nerve_graph_node_count(g); n++)
        if (nerve_node_is_param(g, n) || strcmp(nerve_node_op_name(g, n), "input") == 0)
            fill_by_name(g, n);
}

static void assert_grads_match(nerve_graph *combined, nerve_graph *part)
{
    nerve_error err = {0};
    int compared = 0;
    for (nerve_node n = 0; n < nerve_graph_node_count(part); n++) {
        if (!nerve_node_is_param(part, n)) continue;
        nerve_node m = nerve_graph_find(combined, nerve_node_name(part, n));
        assert_true(m >= 0);
        nerve_shape shape = nerve_node_shape(part, n);
        int64_t count = nerve_shape_numel(&shape);
        float expected[64];
        assert_true(count <= 64);
        nerve_real *want = test_read_grad(combined, m), *got = test_read_grad(part, n);
        for (int64_t i = 0; i < count; i++) expected[i] = (float)want[i];
        test_assert_close(nerve_node_name(part, n), got, expected, count, 1e-5);
        free(want);
        free(got);
        compared++;
    }
    assert_true(compared == 4);
    (void)err;
}

static void test_chained_graphs_match_one_graph(void **state)
{
    (void)state;
    nerve_error err = {0};

    nerve_graph *combined = nerve_graph_new();
    nerve_node z = nerve_input(combined, "z", nerve_shape_1d(NOISE), &err);
    nerve_node t = nerve_input(combined, "t", nerve_shape_1d(1), &err);
    nerve_node loss = add_discriminator(combined, add_generator(combined, z, &err), t, &err);
    test_require_ok(nerve_graph_plan(combined, BATCH, &err), &err);
    fill_all(combined);
    nerve_graph_zero_grad(combined);
    assert_int_equal(nerve_graph_forward(combined, loss, NULL), NERVE_OK);
    assert_int_equal(nerve_graph_backward(combined, loss, NULL), NERVE_OK);

    nerve_graph *gen = nerve_graph_new();
    nerve_node gen_out = add_generator(gen, nerve_input(gen, "z", nerve_shape_1d(NOISE), &err),
                                       &err);
    test_require_ok(nerve_graph_plan(gen, BATCH, &err), &err);

    nerve_graph *disc = nerve_graph_new();
    nerve_node x = nerve_input(disc, "x", nerve_shape_1d(SAMPLE), &err);
    test_require_ok(nerve_graph_set_input_grad(disc, x, true, &err), &err);
    nerve_node disc_loss =
        add_discriminator(disc, x, nerve_input(disc, "t", nerve_shape_1d(1), &err), &err);
    test_require_ok(nerve_graph_plan(disc, BATCH, &err), &err);
    fill_all(gen);
    fill_all(disc);

    /* Several passes: each backward must recompute the input's gradient,
     * not add to the previous one. */
    for (int pass = 0; pass < 3; pass++) {
        /* The last pass freezes the discriminator, as a GAN's generator step
         * does: its input gradient must still flow. */
        if (pass == 2) assert_int_equal(nerve_graph_freeze_prefix(disc, "disc.", true), 4);
        nerve_graph_zero_grad(gen);
        nerve_graph_zero_grad(disc);
        assert_int_equal(nerve_graph_forward(gen, gen_out, NULL), NERVE_OK);
        nerve_real *fakes = test_read_value(gen, gen_out);
        test_write_value(disc, x, fakes);
        free(fakes);
        assert_int_equal(nerve_graph_forward(disc, disc_loss, NULL), NERVE_OK);
        assert_int_equal(nerve_graph_backward(disc, disc_loss, NULL), NERVE_OK);
        nerve_real *upstream = test_read_grad(disc, x);
        test_require_ok(nerve_graph_backward_from(gen, gen_out, upstream, &err), &err);
        free(upstream);
    }
    assert_grads_match(combined, gen);
    nerve_graph_freeze_prefix(disc, "disc.", false);
    nerve_graph_zero_grad(disc);
    assert_int_equal(nerve_graph_forward(disc, disc_loss, NULL), NERVE_OK);
    assert_int_equal(nerve_graph_backward(disc, disc_loss, NULL), NERVE_OK);
    assert_grads_match(combined, disc);

    nerve_graph_free(combined);
    nerve_graph_free(gen);
    nerve_graph_free(disc);
}

static void test_chain_errors(void **state)
{
    (void)state;
    nerve_error err = {0};
    nerve_graph *g = nerve_graph_new();
    nerve_node x = nerve_input(g, "x", nerve_shape_1d(2), &err);
    nerve_node w = nerve_param(g, "w", nerve_shape_2d(2, 2), &err);
    assert_int_equal(nerve_graph_set_input_grad(g, w, true, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "not an input");
    nerve_node y = nerve_linear(g, x, w, -1, &err);
    nerve_node_set_frozen(g, w, true);
    test_require_ok(nerve_graph_plan(g, 2, &err), &err);
    assert_int_equal(nerve_graph_set_input_grad(g, x, true, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "already planned");
    nerve_real upstream[4] = {1, 1, 1, 1};
    assert_int_equal(nerve_graph_forward(g, y, NULL), NERVE_OK);
    assert_int_equal(nerve_graph_backward_from(g, y, upstream, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "no trainable parameter");
    assert_int_equal(nerve_graph_backward_from(g, x, upstream, &err), NERVE_ERR_INVALID);
    nerve_graph_free(g);
}

static void test_freeze_prefix(void **state)
{
    (void)state;
    nerve_error err = {0};
    nerve_graph *g = nerve_graph_new();
    nerve_node z = nerve_input(g, "z", nerve_shape_1d(NOISE), &err);
    nerve_node t = nerve_input(g, "t", nerve_shape_1d(1), &err);
    nerve_node loss = add_discriminator(g, add_generator(g, z, &err), t, &err);
    nerve_node stats = test_require_node(nerve_buffer(g, "disc.stats", nerve_shape_1d(2), &err),
                                         &err);
    test_require_ok(nerve_graph_plan(g, BATCH, &err), &err);
    fill_all(g);

    assert_int_equal(nerve_graph_freeze_prefix(g, "disc.", true), 4);
    assert_int_equal(nerve_graph_freeze_prefix(g, "nothing.", true), 0);
    assert_true(nerve_node_frozen(g, nerve_graph_find(g, "disc.fc1.weight")));
    assert_false(nerve_node_frozen(g, nerve_graph_find(g, "gen.fc1.weight")));

    nerve_real *before[64] = {NULL};
    assert_true(nerve_graph_node_count(g) <= 64);
    for (nerve_node n = 0; n < nerve_graph_node_count(g); n++)
        if (nerve_node_is_param(g, n)) before[n] = test_read_value(g, n);
    nerve_optimizer *opt = nerve_sgd_new(g, &(nerve_sgd_options){.lr = 0.5}, &err);
    assert_non_null(opt);
    nerve_graph_zero_grad(g);
    assert_int_equal(nerve_graph_forward(g, loss, NULL), NERVE_OK);
    assert_int_equal(nerve_graph_backward(g, loss, NULL), NERVE_OK);
    nerve_optimizer_step(opt);
    for (nerve_node n = 0; n < nerve_graph_node_count(g); n++) {
        if (!nerve_node_is_param(g, n)) continue;
        nerve_real *value = test_read_value(g, n);
        nerve_shape shape = nerve_node_shape(g, n);
        bool changed = memcmp(value, before[n],
                              (size_t)nerve_shape_numel(&shape) * sizeof *value) != 0;
        bool is_disc = strncmp(nerve_node_name(g, n), "disc.", 5) == 0;
        if (!nerve_node_is_buffer(g, n)) assert_true(changed == !is_disc);
        free(value);
        free(before[n]);
    }

    /* Unfreezing gives the discriminator back its gradients; the buffer stays frozen. */
    assert_int_equal(nerve_graph_freeze_prefix(g, "disc.", false), 4);
    assert_true(nerve_node_frozen(g, stats));
    nerve_graph_zero_grad(g);
    assert_int_equal(nerve_graph_forward(g, loss, NULL), NERVE_OK);
    assert_int_equal(nerve_graph_backward(g, loss, NULL), NERVE_OK);
    nerve_real *grad = test_read_grad(g, nerve_graph_find(g, "disc.fc2.weight"));
    double total = 0;
    for (int i = 0; i < 4; i++) total += fabs((double)grad[i]);
    assert_true(total > 0);
    free(grad);

    nerve_optimizer_free(opt);
    nerve_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chained_graphs_match_one_graph),
        cmocka_unit_test(test_chain_errors),
        cmocka_unit_test(test_freeze_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
