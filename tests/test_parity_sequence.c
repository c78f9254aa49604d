/* The sequence plumbing agrees with PyTorch in value and gradient
 * (tests/fixtures/sequence.safetensors, tests/reference/fixtures_sequence.py):
 * nn.Embedding (with padding_idx), F.one_hot, nn.Linear over every step, the
 * class-label losses over [N, T, C] (torch's on the permuted [N, C, T]) and
 * mse over [N, T, F], and a per-step classifier read from a cfg whose loss,
 * gradients and predicted probabilities match torch's. */
#include <stdio.h>
#include <stdlib.h>

#include "parity_support.h"

#define N 3
#define T 5
#define CLASSES 6

static void test_embedding(void **state)
{
    parity *p = *state;
    open_fixture(p, "sequence");
    nerve_node ids = fixture_param(p, "embedding.ids", true);
    nerve_node w = fixture_param(p, "embedding.weight", false);
    nerve_node y = test_require_node(nerve_embedding(p->g, ids, w, -1, &p->err), &p->err);
    run_with_upstream(p, inject_upstream(p, y, "embedding.dy"));
    expect_tensor(p, "embedding.y", y, false);
    expect_tensor(p, "embedding.dweight", w, true);
}

/* Row 2 is zero and keeps a zero gradient, though ids hold 2. */
static void test_embedding_padding_idx(void **state)
{
    parity *p = *state;
    open_fixture(p, "sequence");
    nerve_node ids = fixture_param(p, "padding.ids", true);
    nerve_node w = fixture_param(p, "padding.weight", false);
    nerve_node y = test_require_node(nerve_embedding(p->g, ids, w, 2, &p->err), &p->err);
    run_with_upstream(p, inject_upstream(p, y, "padding.dy"));
    expect_tensor(p, "padding.y", y, false);
    expect_tensor(p, "padding.dweight", w, true);
}

static void test_one_hot(void **state)
{
    parity *p = *state;
    open_fixture(p, "sequence");
    nerve_node ids = fixture_param(p, "one_hot.ids", true);
    nerve_node y = test_require_node(nerve_one_hot(p->g, ids, 7, &p->err), &p->err);
    test_require_ok(nerve_graph_plan(p->g, 1, &p->err), &p->err);
    assert_int_equal(nerve_graph_forward(p->g, y, NULL), NERVE_OK);
    expect_tensor(p, "one_hot.y", y, false);
}

static void test_linear_over_steps(void **state)
{
    parity *p = *state;
    open_fixture(p, "sequence");
    nerve_node x = fixture_param(p, "linear.x", false);
    nerve_node w = fixture_param(p, "linear.weight", false);
    nerve_node b = fixture_param(p, "linear.bias", false);
    nerve_node y = test_require_node(nerve_linear(p->g, x, w, b, &p->err), &p->err);
    run_with_upstream(p, inject_upstream(p, y, "linear.dy"));
    expect_tensor(p, "linear.y", y, false);
    expect_tensor(p, "linear.dx", x, true);
    expect_tensor(p, "linear.dweight", w, true);
    expect_tensor(p, "linear.dbias", b, true);
}

typedef nerve_node (*loss_builder)(nerve_graph *g, nerve_node scores, nerve_node target,
                                   const nerve_loss_options *options, nerve_error *err);

/* <case>.loss and <case>.d<scores> of build(<case>.<scores>, <case>.<target>),
 * weighted by <case>.weights when `weighted`. */
static void check_loss(parity *p, const char *case_name, const char *scores, const char *target,
                       loss_builder build, bool weighted, double smoothing,
                       nerve_reduction reduction)
{
    char name[64];
    nerve_loss_options o = nerve_loss_options_default();
    o.label_smoothing = smoothing;
    o.reduction = reduction;
    open_fixture(p, "sequence");
    if (weighted) {
        nerve_shape shape;
        snprintf(name, sizeof name, "%s.weights", case_name);
        o.weights = fixture_tensor(p, name, &shape);
        o.weight_count = nerve_shape_numel(&shape);
    }
    snprintf(name, sizeof name, "%s.%s", case_name, scores);
    nerve_node x = fixture_param(p, name, false);
    snprintf(name, sizeof name, "%s.%s", case_name, target);
    nerve_node t = fixture_param(p, name, true);
    nerve_node loss = test_require_node(build(p->g, x, t, &o, &p->err), &p->err);
    test_require_ok(nerve_graph_plan(p->g, 1, &p->err), &p->err);
    forward_backward(p, loss);
    snprintf(name, sizeof name, "%s.loss", case_name);
    expect_tensor(p, name, loss, false);
    snprintf(name, sizeof name, "%s.d%s", case_name, scores);
    expect_tensor(p, name, x, true);
}

static void test_cross_entropy(void **state)
{
    check_loss(*state, "ce", "logits", "labels", nerve_softmax_cross_entropy, false, 0,
               NERVE_REDUCTION_MEAN);
}

/* The weighted mean divides by the sum of the steps' label weights. */
static void test_cross_entropy_weights_smoothing(void **state)
{
    check_loss(*state, "ce_weights_smoothing", "logits", "labels", nerve_softmax_cross_entropy,
               true, 0.2, NERVE_REDUCTION_MEAN);
}

static void test_cross_entropy_weights_smoothing_sum(void **state)
{
    check_loss(*state, "ce_weights_smoothing_sum", "logits", "labels",
               nerve_softmax_cross_entropy, true, 0.2, NERVE_REDUCTION_SUM);
}

static void test_nll_weights(void **state)
{
    check_loss(*state, "nll_weights", "log_probs", "labels", nerve_nll, true, 0,
               NERVE_REDUCTION_MEAN);
}

static void test_mse(void **state)
{
    check_loss(*state, "mse", "pred", "target", nerve_mse, false, 0, NERVE_REDUCTION_MEAN);
}

static const char per_step_cfg[] =
    "[net]\ninput = 5\nbatch = 3\n"
    "[loss]\ntype = softmax_cross_entropy\nlabel_smoothing = 0.1\n"
    "weights = 1, 2, 0.5, 0, 3, 1.5\n"
    "[embedding]\nname = emb\nvocab = 6\ndim = 4\n"
    "[dense]\nname = out\nunits = 6\n";

/* The fixture's tensor into node n of g through the device (the test runs
 * on every backend); returns the fixture's values. */
static const float *copy_fixture(parity *p, const char *name, nerve_graph *g, nerve_node n,
                                 int64_t count)
{
    nerve_shape shape;
    const float *src = fixture_tensor(p, name, &shape);
    assert_int_equal(nerve_shape_numel(&shape), count);
    test_write_floats(g, n, src, count);
    return src;
}

/* Embedding -> dense over the steps -> cross-entropy with class weights and
 * label smoothing, from a cfg: targets [N, T], the per-step logits, loss
 * and every gradient as torch's; nerve_predict gives the softmax over each
 * step's classes. */
static void test_per_step_classifier(void **state)
{
    parity *p = *state;
    open_fixture(p, "sequence");
    const char *path = test_tmppath("per_step.cfg");
    test_write_file(path, per_step_cfg, sizeof per_step_cfg - 1);
    nerve_model *m;
    test_require_ok(nerve_model_load(path, NULL, &m, &p->err), &p->err);
    nerve_graph *g = nerve_model_graph(m);
    nerve_shape target = nerve_node_shape(g, nerve_model_target(m));
    assert_int_equal(target.ndim, 2); /* [1, T] planned at batch 1 */
    assert_int_equal(target.dim[1], T);
    assert_int_equal(nerve_model_classes(m), CLASSES);
    assert_int_equal(nerve_model_label_steps(m), T);
    assert_int_equal(nerve_model_output_size(m), T * CLASSES);

    static const char *const params[] = {"emb.weight", "out.weight", "out.bias"};
    test_require_ok(nerve_graph_plan(g, N, &p->err), &p->err);
    for (int i = 0; i < 3; i++) {
        char name[64];
        nerve_node n = nerve_graph_find(g, params[i]);
        nerve_shape shape = nerve_node_shape(g, n);
        snprintf(name, sizeof name, "model.%s", params[i]);
        copy_fixture(p, name, g, n, nerve_shape_numel(&shape));
    }
    const float *ids = copy_fixture(p, "model.ids", g, nerve_model_input(m), N * T);
    copy_fixture(p, "model.labels", g, nerve_model_target(m), N * T);
    nerve_graph_zero_grad(g);
    assert_int_equal(nerve_graph_forward(g, nerve_model_loss(m), NULL), NERVE_OK);
    assert_int_equal(nerve_graph_backward(g, nerve_model_loss(m), NULL), NERVE_OK);

    nerve_shape shape;
    const float *expected = fixture_tensor(p, "model.loss", &shape);
    nerve_real *actual = test_read_value(g, nerve_model_loss(m));
    test_assert_close("model.loss", actual, expected, 1, PARITY_TOLERANCE);
    free(actual);
    expected = fixture_tensor(p, "model.logits", &shape);
    actual = test_read_value(g, nerve_model_output(m));
    test_assert_close("model.logits", actual, expected, N * T * CLASSES, PARITY_TOLERANCE);
    free(actual);
    for (int i = 0; i < 3; i++) {
        char name[64];
        nerve_node n = nerve_graph_find(g, params[i]);
        nerve_shape param_shape = nerve_node_shape(g, n);
        snprintf(name, sizeof name, "model.grad.%s", params[i]);
        expected = fixture_tensor(p, name, &shape);
        actual = test_read_grad(g, n);
        test_assert_close(name, actual, expected, nerve_shape_numel(&param_shape),
                          PARITY_TOLERANCE);
        free(actual);
    }

    float inputs[N * T], probabilities[N * T * CLASSES];
    for (int i = 0; i < N * T; i++) inputs[i] = ids[i];
    test_require_ok(nerve_predict(m, inputs, N, probabilities, &p->err), &p->err);
    nerve_real predicted[N * T * CLASSES];
    for (int i = 0; i < N * T * CLASSES; i++) predicted[i] = probabilities[i];
    expected = fixture_tensor(p, "model.probabilities", &shape);
    test_assert_close("model.probabilities", predicted, expected, N * T * CLASSES,
                      PARITY_TOLERANCE);
    nerve_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        PARITY_TEST(test_embedding),
        PARITY_TEST(test_embedding_padding_idx),
        PARITY_TEST(test_one_hot),
        PARITY_TEST(test_linear_over_steps),
        PARITY_TEST(test_cross_entropy),
        PARITY_TEST(test_cross_entropy_weights_smoothing),
        PARITY_TEST(test_cross_entropy_weights_smoothing_sum),
        PARITY_TEST(test_nll_weights),
        PARITY_TEST(test_mse),
        PARITY_TEST(test_per_step_classifier),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
