/* Two optimizers over one graph, taking turns: nerve_graph_freeze_prefix
 * decides which part ("a." or "b.") a step trains. Each step changes only its
 * own part's parameters, and an optimizer's state (Adam's moments and step
 * count) is advanced only where it updates, so each optimizer behaves as
 * torch.optim.Adam over its own part alone: its first step moves every
 * parameter by lr (m / sqrt(v) = sign(g) at t = 1). A single optimizer
 * alternated the same way keeps the frozen part's moments too, but counts
 * every step in its bias correction, which the last test shows. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#include "optim/optimizer.h"

#define LR 0.01

typedef struct two_part_net {
    nerve_graph *g;
    nerve_node x, target, loss;
    nerve_node a_weight, b_weight;
    size_t a_begin, a_end, b_begin, b_end; /* each part's run of the flat buffer */
} two_part_net;

/* x [4] -> a.fc (3) -> tanh -> b.fc (2) -> MSE against a target. */
static void build_net(two_part_net *net)
{
    nerve_error err = {0};
    nerve_rng rng;
    nerve_rng_seed(&rng, 5);
    net->g = nerve_graph_new();
    net->x = test_require_node(nerve_input(net->g, "x", nerve_shape_1d(4), &err), &err);
    net->target = test_require_node(nerve_input(net->g, "target", nerve_shape_1d(2), &err), &err);
    nerve_dense_options a = {.units = 3, .activation = NERVE_ACT_TANH};
    nerve_dense_options b = {.units = 2};
    nerve_node h = test_require_node(nerve_dense(net->g, "a.fc", net->x, &a, &rng, &err), &err);
    nerve_node y = test_require_node(nerve_dense(net->g, "b.fc", h, &b, &rng, &err), &err);
    net->loss = test_require_node(nerve_mse(net->g, y, net->target, NULL, &err), &err);
    test_require_ok(nerve_graph_plan(net->g, 8, &err), &err);
    net->a_weight = nerve_graph_find(net->g, "a.fc.weight");
    net->b_weight = nerve_graph_find(net->g, "b.fc.weight");
    nerve_real *params = nerve_graph_params(net->g);
    /* Parameters lie in creation order: a.fc's weight and bias, then b.fc's. */
    net->a_begin = (size_t)(nerve_node_value(net->g, net->a_weight) - params);
    net->a_end = net->b_begin = (size_t)(nerve_node_value(net->g, net->b_weight) - params);
    net->b_end = nerve_graph_param_count(net->g);
    nerve_real *x = nerve_node_value(net->g, net->x), *t = nerve_node_value(net->g, net->target);
    for (int i = 0; i < 8 * 4; i++) x[i] = (nerve_real)sin(0.7 * i + 0.2);
    for (int i = 0; i < 8 * 2; i++) t[i] = (nerve_real)cos(1.1 * i);
}

static nerve_optimizer *new_adam(nerve_graph *g)
{
    nerve_error err = {0};
    nerve_optimizer_options o = nerve_optimizer_defaults(NERVE_OPTIMIZER_ADAM);
    o.lr = LR;
    nerve_optimizer *opt = nerve_optimizer_new(g, &o, &err);
    test_require_ok(opt ? NERVE_OK : err.status, &err);
    return opt;
}

/* One step of `opt` on the part named by prefix, the other part frozen. */
static void step_part(two_part_net *net, nerve_optimizer *opt, const char *prefix)
{
    bool a = strcmp(prefix, "a.") == 0;
    assert_true(nerve_graph_freeze_prefix(net->g, a ? "b." : "a.", true) == 2);
    assert_true(nerve_graph_freeze_prefix(net->g, prefix, false) == 2);
    nerve_graph_zero_grad(net->g);
    assert_int_equal(nerve_graph_forward(net->g, net->loss, NULL), NERVE_OK);
    assert_int_equal(nerve_graph_backward(net->g, net->loss, NULL), NERVE_OK);
    nerve_optimizer_step(opt);
}

static bool all_zero(const nerve_real *v, size_t begin, size_t end)
{
    for (size_t i = begin; i < end; i++)
        if (v[i] != 0) return false;
    return true;
}

/* Every element of [begin, end) moved by lr (Adam's first step), to within
 * eps's effect; elements outside kept their value. */
static void assert_first_adam_step(const nerve_real *before, const nerve_real *after,
                                   size_t count, size_t begin, size_t end)
{
    for (size_t i = 0; i < count; i++) {
        double moved = fabs((double)after[i] - (double)before[i]);
        if (i >= begin && i < end)
            assert_true(fabs(moved - LR) < 1e-5);
        else
            assert_true(after[i] == before[i]);
    }
}

static void each_step_trains_its_own_part(void **state)
{
    (void)state;
    two_part_net net;
    build_net(&net);
    nerve_optimizer *opt_a = new_adam(net.g), *opt_b = new_adam(net.g);
    size_t count = nerve_graph_param_count(net.g);
    nerve_real *params = nerve_graph_params(net.g);
    nerve_real *before = malloc(count * sizeof *before);

    memcpy(before, params, count * sizeof *before);
    step_part(&net, opt_a, "a.");
    assert_first_adam_step(before, params, count, net.a_begin, net.a_end);
    /* A's moments cover a. only; B has not moved at all. */
    assert_false(all_zero(opt_a->state[0], net.a_begin, net.a_end));
    assert_true(all_zero(opt_a->state[0], net.b_begin, net.b_end));
    assert_true(all_zero(opt_a->state[1], net.b_begin, net.b_end));
    assert_true(all_zero(opt_b->state[0], 0, count) && all_zero(opt_b->state[1], 0, count));
    assert_int_equal(nerve_optimizer_steps(opt_a), 1);
    assert_int_equal(nerve_optimizer_steps(opt_b), 0);

    nerve_real *a_moments = malloc(count * sizeof *a_moments);
    memcpy(a_moments, opt_a->state[0], count * sizeof *a_moments);
    memcpy(before, params, count * sizeof *before);
    step_part(&net, opt_b, "b.");
    /* B's first step is a first step (t = 1) although the graph has taken one. */
    assert_first_adam_step(before, params, count, net.b_begin, net.b_end);
    assert_true(all_zero(opt_b->state[0], net.a_begin, net.a_end));
    assert_false(all_zero(opt_b->state[0], net.b_begin, net.b_end));
    assert_memory_equal(a_moments, opt_a->state[0], count * sizeof *a_moments);
    assert_int_equal(nerve_optimizer_steps(opt_b), 1);

    /* Turns continue: A's second step changes a. only. */
    memcpy(before, params, count * sizeof *before);
    step_part(&net, opt_a, "a.");
    assert_memory_equal(before + net.b_begin, params + net.b_begin,
                        (net.b_end - net.b_begin) * sizeof *before);
    assert_false(memcmp(before + net.a_begin, params + net.a_begin,
                        (net.a_end - net.a_begin) * sizeof *before) == 0);
    assert_int_equal(nerve_optimizer_steps(opt_a), 2);

    free(a_moments);
    free(before);
    nerve_optimizer_free(opt_a);
    nerve_optimizer_free(opt_b);
    nerve_graph_free(net.g);
}

/* One optimizer alternated over both parts: the frozen part's moments stay
 * as they were, but the step count is the optimizer's, so b.'s first update
 * is bias-corrected as a second step and moves by less than lr. */
static void one_optimizer_counts_every_step(void **state)
{
    (void)state;
    two_part_net net;
    build_net(&net);
    nerve_optimizer *opt = new_adam(net.g);
    size_t count = nerve_graph_param_count(net.g);
    nerve_real *params = nerve_graph_params(net.g);
    nerve_real *before = malloc(count * sizeof *before);

    step_part(&net, opt, "a.");
    assert_true(all_zero(opt->state[0], net.b_begin, net.b_end));
    nerve_real *moments = malloc(count * sizeof *moments);
    memcpy(moments, opt->state[0], count * sizeof *moments);
    memcpy(before, params, count * sizeof *before);
    step_part(&net, opt, "b.");
    assert_memory_equal(moments + net.a_begin, opt->state[0] + net.a_begin,
                        (net.a_end - net.a_begin) * sizeof *moments);
    assert_int_equal(nerve_optimizer_steps(opt), 2);
    /* t = 2 with m = (1 - beta1) g, v = (1 - beta2) g^2: the step is
     * lr * (1 - beta1) / (1 - beta1^2) * sqrt(1 - beta2^2) / sqrt(1 - beta2). */
    double expected = LR * 0.1 / (1 - 0.81) * sqrt(1 - 0.999 * 0.999) / sqrt(0.001);
    for (size_t i = net.b_begin; i < net.b_end; i++)
        assert_true(fabs(fabs((double)params[i] - (double)before[i]) - expected) < 1e-5);
    assert_true(expected < 0.8 * LR);

    free(moments);
    free(before);
    nerve_optimizer_free(opt);
    nerve_graph_free(net.g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_step_trains_its_own_part),
        cmocka_unit_test(one_optimizer_counts_every_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
