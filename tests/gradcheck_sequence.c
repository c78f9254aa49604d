/* The sequence ops' backward passes against central finite differences in
 * double precision (this program links the NERVE_F64 engine): embedding
 * (repeated ids add up in one row), one_hot feeding a linear map, linear over
 * [N, T, C], and every loss on sequences, [N, T, C] scores with [N, T]
 * labels or [N, T, F] targets. Token ids and labels are frozen parameters. */
#include "gradcheck_support.h"

#define N 2
#define T 3
#define VOCAB 5
#define DIM 4
#define CLASSES 5

typedef nerve_node (*loss_builder)(nerve_graph *g, nerve_node scores, nerve_node target,
                                   const nerve_loss_options *options, nerve_error *err);

static const float class_weights[CLASSES] = {1.0f, 2.0f, 0.5f, 0.0f, 3.0f};

static void expect_close(double worst, const char *what)
{
    if (worst >= GC_TOLERANCE) print_error("%s: error %g\n", what, worst);
    assert_true(worst < GC_TOLERANCE);
}

/* Frozen ids of the given shape, taken from `values` in turn. */
static nerve_node ids(gc_fixture *f, const char *name, nerve_shape shape, const int *values)
{
    nerve_node n = gc_constant(f, name, shape, 1);
    nerve_real *v = nerve_node_value(f->g, n);
    for (int64_t i = 0; i < nerve_shape_numel(&shape); i++) v[i] = (nerve_real)values[i];
    return n;
}

static nerve_shape sequence_shape(int64_t last)
{
    int64_t dims[3] = {N, T, last};
    return nerve_shape_make(3, dims);
}

/* Id 1 three times and id 3 twice: their rows sum several positions' gradients. */
static const int repeated_ids[N * T] = {1, 3, 1, 0, 1, 3};
/* [N, T] labels, every class but the zero-weight one at least once. */
static const int step_labels[N * T] = {0, 4, 2, 1, 4, 2};

/* ---------------------------------------------------------------- token ids */

static void test_embedding_repeated_ids(void **state)
{
    gc_fixture *f = *state;
    nerve_node x = ids(f, "ids", nerve_shape_2d(N, T), repeated_ids);
    nerve_node w = gc_random_param(f, "weight", nerve_shape_2d(VOCAB, DIM), 1, 0);
    expect_close(gc_check_through_mse(f, nerve_embedding(f->g, x, w, -1, &f->err)),
                 "embedding");
}

/* [N] ids give [N, DIM]. */
static void test_embedding_one_id_per_sample(void **state)
{
    gc_fixture *f = *state;
    static const int one_each[4] = {2, 0, 2, 4};
    nerve_node x = ids(f, "ids", nerve_shape_1d(4), one_each);
    nerve_node w = gc_random_param(f, "weight", nerve_shape_2d(VOCAB, DIM), 1, 0);
    expect_close(gc_check_through_mse(f, nerve_embedding(f->g, x, w, -1, &f->err)),
                 "embedding of [N]");
}

/* one_hot has no gradient of its own; what flows through it reaches the
 * linear map's weight and bias. */
static void test_one_hot_into_linear(void **state)
{
    gc_fixture *f = *state;
    nerve_node x = ids(f, "ids", nerve_shape_2d(N, T), repeated_ids);
    nerve_node encoded = nerve_one_hot(f->g, x, VOCAB, &f->err);
    nerve_node w = gc_random_param(f, "weight", nerve_shape_2d(DIM, VOCAB), 1, 0);
    nerve_node b = gc_random_param(f, "bias", nerve_shape_1d(DIM), 1, 0);
    expect_close(gc_check_through_mse(f, nerve_linear(f->g, encoded, w, b, &f->err)),
                 "one_hot -> linear");
}

/* ---------------------------------------------------------------- linear */

static void check_linear_over_steps(gc_fixture *f, bool bias)
{
    nerve_node x = gc_random_param(f, "x", sequence_shape(DIM), 1, 0);
    nerve_node w = gc_random_param(f, "weight", nerve_shape_2d(3, DIM), 1, 0);
    nerve_node b = bias ? gc_random_param(f, "bias", nerve_shape_1d(3), 1, 0) : -1;
    expect_close(gc_check_through_mse(f, nerve_linear(f->g, x, w, b, &f->err)),
                 "linear over [N, T, C]");
}

static void test_linear_over_steps(void **state) { check_linear_over_steps(*state, true); }
static void test_linear_over_steps_without_bias(void **state)
{
    check_linear_over_steps(*state, false);
}

/* ---------------------------------------------------------------- class labels */

static nerve_loss_options options(bool weighted, double smoothing, nerve_reduction reduction)
{
    nerve_loss_options o = nerve_loss_options_default();
    o.reduction = reduction;
    o.label_smoothing = smoothing;
    if (weighted) {
        o.weights = class_weights;
        o.weight_count = CLASSES;
    }
    return o;
}

/* build(logits [N, T, CLASSES] in (-4, 4), labels [N, T]). */
static void check_labels(gc_fixture *f, loss_builder build, nerve_loss_options o,
                         const char *what)
{
    nerve_node logits = gc_random_param(f, "logits", sequence_shape(CLASSES), 4, 0);
    nerve_node labels = ids(f, "labels", nerve_shape_2d(N, T), step_labels);
    expect_close(gc_check_loss(f, build(f->g, logits, labels, &o, &f->err)), what);
}

static void test_cross_entropy(void **state)
{
    check_labels(*state, nerve_softmax_cross_entropy, options(false, 0, NERVE_REDUCTION_MEAN),
                 "ce");
}

static void test_cross_entropy_weights(void **state)
{
    check_labels(*state, nerve_softmax_cross_entropy, options(true, 0, NERVE_REDUCTION_MEAN),
                 "ce weights");
}

static void test_cross_entropy_label_smoothing(void **state)
{
    check_labels(*state, nerve_softmax_cross_entropy, options(false, 0.1, NERVE_REDUCTION_MEAN),
                 "ce label smoothing");
}

static void test_cross_entropy_weights_and_smoothing_sum(void **state)
{
    check_labels(*state, nerve_softmax_cross_entropy, options(true, 0.2, NERVE_REDUCTION_SUM),
                 "ce weights and smoothing, sum");
}

static void test_focal(void **state)
{
    nerve_loss_options o = options(true, 0, NERVE_REDUCTION_MEAN);
    o.gamma = 2;
    check_labels(*state, nerve_focal, o, "focal");
}

/* nll(log_softmax(x, -1)): the class axis is the last one. */
static void test_nll_weights(void **state)
{
    gc_fixture *f = *state;
    nerve_loss_options o = options(true, 0, NERVE_REDUCTION_MEAN);
    nerve_node x = gc_random_param(f, "x", sequence_shape(CLASSES), 4, 0);
    nerve_node log_probs = nerve_log_softmax(f->g, x, -1, &f->err);
    nerve_node labels = ids(f, "labels", nerve_shape_2d(N, T), step_labels);
    expect_close(gc_check_loss(f, nerve_nll(f->g, log_probs, labels, &o, &f->err)), "nll");
}

/* The margin needs the features of each step: linear(x [N, T, DIM], W). */
static void test_large_margin_softmax(void **state)
{
    gc_fixture *f = *state;
    nerve_loss_options o = nerve_loss_options_default();
    o.margin = 2;
    o.lambda = 0.5;
    nerve_node x = gc_random_param(f, "x", sequence_shape(DIM), 1, 0.1);
    nerve_node w = gc_random_param(f, "weight", nerve_shape_2d(CLASSES, DIM), 1, 0.1);
    nerve_node logits = nerve_linear(f->g, x, w, -1, &f->err);
    nerve_node labels = ids(f, "labels", nerve_shape_2d(N, T), step_labels);
    expect_close(gc_check_loss(f, nerve_large_margin_softmax(f->g, logits, labels, &o, &f->err)),
                 "large_margin_softmax");
}

/* ---------------------------------------------------------------- per-element targets */

/* pred [N, T, 3] in (-3, 3) at least 0.05 from 0 against target 0: clear of
 * L1's kink and of smooth L1's at +-beta. */
static void check_values(gc_fixture *f, loss_builder build, const char *what)
{
    nerve_node pred = gc_random_param(f, "pred", sequence_shape(3), 3, 0.05);
    nerve_node target = gc_constant(f, "target", sequence_shape(3), 1);
    nerve_real *zero = nerve_node_value(f->g, target);
    for (int i = 0; i < N * T * 3; i++) zero[i] = 0;
    expect_close(gc_check_loss(f, build(f->g, pred, target, NULL, &f->err)), what);
}

static void test_mse(void **state) { check_values(*state, nerve_mse, "mse"); }
static void test_l1(void **state) { check_values(*state, nerve_l1, "l1"); }
static void test_huber(void **state) { check_values(*state, nerve_huber, "huber"); }
static void test_smooth_l1(void **state) { check_values(*state, nerve_smooth_l1, "smooth_l1"); }

/* pos_weight goes along the last dimension, as torch broadcasts it. */
static void test_bce_with_logits_pos_weight(void **state)
{
    gc_fixture *f = *state;
    static const float pos_weight[3] = {2.0f, 0.5f, 0.0f};
    nerve_loss_options o = nerve_loss_options_default();
    o.weights = pos_weight;
    o.weight_count = 3;
    nerve_node x = gc_random_param(f, "x", sequence_shape(3), 5, 0);
    nerve_node y = gc_constant(f, "y", sequence_shape(3), 1);
    nerve_real *v = nerve_node_value(f->g, y);
    for (int i = 0; i < N * T * 3; i++) v[i] = (nerve_real)(i % 3) / 2;
    expect_close(gc_check_loss(f, nerve_bce_with_logits(f->g, x, y, &o, &f->err)),
                 "bce_with_logits");
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, gc_setup, gc_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_embedding_repeated_ids),
        TEST(test_embedding_one_id_per_sample),
        TEST(test_one_hot_into_linear),
        TEST(test_linear_over_steps),
        TEST(test_linear_over_steps_without_bias),
        TEST(test_cross_entropy),
        TEST(test_cross_entropy_weights),
        TEST(test_cross_entropy_label_smoothing),
        TEST(test_cross_entropy_weights_and_smoothing_sum),
        TEST(test_focal),
        TEST(test_nll_weights),
        TEST(test_large_margin_softmax),
        TEST(test_mse),
        TEST(test_l1),
        TEST(test_huber),
        TEST(test_smooth_l1),
        TEST(test_bce_with_logits_pos_weight),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
