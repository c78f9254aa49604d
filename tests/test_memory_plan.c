/* The liveness memory plan (src/core/plan.c): op gradients share memory, a
 * forward-only plan is a fraction of a training one (its activations
 * written over their inputs), and neither changes a single number. A chain of dense layers trains one step with shared
 * gradients and once with every gradient kept apart: the parameter
 * gradients, the input's gradient and the loss agree bit for bit. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#define LAYERS 6
#define WIDTH 64
#define BATCH 16

typedef struct chain {
    nerve_graph *g;
    nerve_node x, labels, logits, loss;
} chain;

/* x [WIDTH] -> LAYERS dense layers with ReLU -> 4 logits -> cross-entropy;
 * x takes a gradient. */
static chain build(bool keep)
{
    chain c;
    nerve_error err = {0};
    nerve_rng rng;
    nerve_rng_seed(&rng, 7);
    c.g = nerve_graph_new();
    assert_non_null(c.g);
    nerve_graph_set_keep_gradients(c.g, keep);
    c.x = test_require_node(nerve_input(c.g, "x", nerve_shape_1d(WIDTH), &err), &err);
    test_require_ok(nerve_graph_set_input_grad(c.g, c.x, true, &err), &err);
    c.labels = test_require_node(nerve_input(c.g, "labels", nerve_shape_1d(1), &err), &err);
    nerve_node h = c.x;
    for (int k = 0; k < LAYERS; k++) {
        char name[16];
        snprintf(name, sizeof name, "fc%d", k);
        nerve_dense_options o = {.units = k == LAYERS - 1 ? 4 : WIDTH,
                                 .activation = k == LAYERS - 1 ? NERVE_ACT_IDENTITY
                                                               : NERVE_ACT_RELU};
        h = test_require_node(nerve_dense(c.g, name, h, &o, &rng, &err), &err);
    }
    c.logits = h;
    c.loss = test_require_node(nerve_softmax_cross_entropy(c.g, c.logits, c.labels, NULL, &err),
                               &err);
    return c;
}

static void fill(chain *c)
{
    nerve_real *x = nerve_node_value(c->g, c->x), *y = nerve_node_value(c->g, c->labels);
    for (int i = 0; i < BATCH * WIDTH; i++) x[i] = (nerve_real)sin(0.37 * i);
    for (int i = 0; i < BATCH; i++) y[i] = (nerve_real)(i % 4);
}

/* One forward and backward pass; returns the loss. */
static nerve_real step(chain *c)
{
    nerve_error err = {0};
    fill(c);
    nerve_graph_zero_grad(c->g);
    test_require_ok(nerve_graph_forward(c->g, c->loss, &err), &err);
    test_require_ok(nerve_graph_backward(c->g, c->loss, &err), &err);
    return nerve_node_value(c->g, c->loss)[0];
}

static void test_shared_gradients_change_no_number(void **state)
{
    nerve_error err = {0};
    chain shared = build(false), kept = build(true);
    test_require_ok(nerve_graph_plan(shared.g, BATCH, &err), &err);
    test_require_ok(nerve_graph_plan(kept.g, BATCH, &err), &err);
    /* Two passes: the second runs over memory the first left behind. */
    for (int pass = 0; pass < 2; pass++) {
        nerve_real a = step(&shared), b = step(&kept);
        assert_memory_equal(&a, &b, sizeof a);
        size_t count = nerve_graph_param_count(shared.g);
        assert_int_equal(count, nerve_graph_param_count(kept.g));
        assert_memory_equal(nerve_graph_grads(shared.g), nerve_graph_grads(kept.g),
                            count * sizeof(nerve_real));
        assert_memory_equal(nerve_node_grad(shared.g, shared.x), nerve_node_grad(kept.g, kept.x),
                            BATCH * WIDTH * sizeof(nerve_real));
    }
    nerve_graph_free(shared.g);
    nerve_graph_free(kept.g);
}

static void test_plans_shrink(void **state)
{
    nerve_error err = {0};
    chain shared = build(false), kept = build(true);
    size_t training, kept_training, inference;
    test_require_ok(nerve_graph_plan_bytes(shared.g, BATCH, true, &training, &err), &err);
    test_require_ok(nerve_graph_plan_bytes(kept.g, BATCH, true, &kept_training, &err), &err);
    test_require_ok(nerve_graph_plan_bytes(shared.g, BATCH, false, &inference, &err), &err);
    /* Kept apart, every op's gradient is a slice of its own: the shared
     * plan holds a few of the chain's per-layer gradients at once. */
    const size_t layer = BATCH * WIDTH * sizeof(nerve_real);
    assert_true(kept_training >= training + (LAYERS - 2) * layer);
    /* Forward-only: the input, the two values alive around each op, the
     * logits and the loss. */
    assert_true(inference < training / 3);
    assert_true(inference <= 6 * layer);
    nerve_graph_free(shared.g);
    nerve_graph_free(kept.g);
}

/* A forward-only plan computes the same logits and refuses backward; a
 * training plan afterwards trains as a fresh one does. */
static void test_inference_plan(void **state)
{
    nerve_error err = {0};
    chain c = build(false), reference = build(false);
    test_require_ok(nerve_graph_plan(reference.g, BATCH, &err), &err);
    fill(&reference);
    test_require_ok(nerve_graph_forward(reference.g, reference.loss, &err), &err);
    test_require_ok(nerve_graph_plan_inference(c.g, BATCH, &err), &err);
    assert_false(nerve_graph_planned_for_training(c.g));
    fill(&c);
    test_require_ok(nerve_graph_forward(c.g, c.loss, &err), &err);
    /* The loss reads the logits: both are intact after the pass. */
    assert_memory_equal(nerve_node_value(c.g, c.logits), nerve_node_value(reference.g, reference.logits),
                        BATCH * 4 * sizeof(nerve_real));
    assert_memory_equal(nerve_node_value(c.g, c.loss), nerve_node_value(reference.g, reference.loss),
                        sizeof(nerve_real));
    assert_int_equal(nerve_graph_backward(c.g, c.loss, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "planned for inference only");
    /* A smaller batch keeps the plan; training plans again. */
    test_require_ok(nerve_graph_plan_inference(c.g, BATCH / 2, &err), &err);
    assert_false(nerve_graph_planned_for_training(c.g));
    test_require_ok(nerve_graph_plan(c.g, BATCH, &err), &err);
    assert_true(nerve_graph_planned_for_training(c.g));
    nerve_real a = step(&c), b = step(&reference);
    assert_memory_equal(&a, &b, sizeof a);
    nerve_graph_free(c.g);
    nerve_graph_free(reference.g);
}

/* In the forward-only plan each ReLU writes over the dense layer's output
 * it alone reads (forward_in_place); the training plan keeps the two apart,
 * since backward reads both. test_inference_plan shows that the logits and
 * the loss are unchanged by it. */
static void test_activations_run_in_place_for_inference_only(void **state)
{
    nerve_error err = {0};
    chain c = build(false);
    for (int training = 0; training < 2; training++) {
        if (training)
            test_require_ok(nerve_graph_plan(c.g, BATCH, &err), &err);
        else
            test_require_ok(nerve_graph_plan_inference(c.g, BATCH, &err), &err);
        int activations = 0;
        for (nerve_node n = 1; n < nerve_graph_node_count(c.g); n++) {
            if (strcmp(nerve_node_op_name(c.g, n), "activation") != 0) continue;
            /* nerve_dense adds its activation right after the product. */
            assert_string_equal(nerve_node_op_name(c.g, n - 1), "linear");
            bool shared = nerve_node_value(c.g, n) == nerve_node_value(c.g, n - 1);
            assert_true(shared == !training);
            activations++;
        }
        assert_int_equal(activations, LAYERS - 1);
    }
    nerve_graph_free(c.g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_gradients_change_no_number),
        cmocka_unit_test(test_plans_shrink),
        cmocka_unit_test(test_inference_plan),
        cmocka_unit_test(test_activations_run_in_place_for_inference_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
