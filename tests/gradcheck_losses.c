/* Every loss's backward pass, with each of its options, against central
 * finite differences in double precision (this program links the NERVE_F64
 * engine). The scored inputs are parameters; targets, labels and teacher
 * logits are frozen parameters. Values stay clear of each loss's kinks
 * (L1 at 0, smooth L1 and Huber at +-beta) so no difference straddles one. */
#include "gradcheck_support.h"

#define BATCH 4
#define CLASSES 5

typedef nerve_node (*loss_builder)(nerve_graph *g, nerve_node scores, nerve_node target,
                                   const nerve_loss_options *options, nerve_error *err);

static const float class_weights[CLASSES] = {1.0f, 2.0f, 0.5f, 0.0f, 3.0f};

static nerve_loss_options with_reduction(nerve_reduction reduction)
{
    nerve_loss_options o = nerve_loss_options_default();
    o.reduction = reduction;
    return o;
}

static void expect_close(double worst, const char *what)
{
    if (worst >= GC_TOLERANCE) print_error("%s: error %g\n", what, worst);
    assert_true(worst < GC_TOLERANCE);
}

/* Overwrites n's values with uniform ones in (low, high). */
static void fill_uniform(gc_fixture *f, nerve_node n, double low, double high)
{
    nerve_shape s = nerve_node_shape(f->g, n);
    nerve_real *v = nerve_node_value(f->g, n);
    for (int64_t i = 0; i < nerve_shape_numel(&s); i++)
        v[i] = (nerve_real)(low + (high - low) * nerve_rng_uniform(&f->rng));
}

/* Frozen labels 0, 1, ..., cycling through the classes. */
static nerve_node labels(gc_fixture *f, int classes)
{
    nerve_node n = gc_constant(f, "labels", nerve_shape_1d(BATCH), 1);
    nerve_real *y = nerve_node_value(f->g, n);
    for (int i = 0; i < BATCH; i++) y[i] = (nerve_real)((2 * i + 1) % classes);
    return n;
}

/* ---------------------------------------------------------------- regression */

/* pred in (-3, 3) at least 0.05 from 0, target 0: |pred - target| is
 * clear of L1's kink, and almost surely of smooth L1's at +-beta. */
static void check_regression(gc_fixture *f, loss_builder build, nerve_loss_options o,
                             const char *what)
{
    nerve_node pred = gc_random_param(f, "pred", nerve_shape_2d(BATCH, 3), 3, 0.05);
    nerve_node target = gc_constant(f, "target", nerve_shape_2d(BATCH, 3), 1);
    fill_uniform(f, target, 0, 0);
    expect_close(gc_check_loss(f, build(f->g, pred, target, &o, &f->err)), what);
}

static void test_mse_sum(void **state)
{
    check_regression(*state, nerve_mse, with_reduction(NERVE_REDUCTION_SUM), "mse sum");
}

static void test_l1(void **state)
{
    check_regression(*state, nerve_l1, with_reduction(NERVE_REDUCTION_MEAN), "l1");
}

static void test_l1_sum(void **state)
{
    check_regression(*state, nerve_l1, with_reduction(NERVE_REDUCTION_SUM), "l1 sum");
}

static void test_huber(void **state)
{
    check_regression(*state, nerve_huber, with_reduction(NERVE_REDUCTION_MEAN), "huber");
}

static void test_huber_delta_0_5_sum(void **state)
{
    nerve_loss_options o = with_reduction(NERVE_REDUCTION_SUM);
    o.delta = 0.5;
    check_regression(*state, nerve_huber, o, "huber delta 0.5 sum");
}

static void test_smooth_l1(void **state)
{
    check_regression(*state, nerve_smooth_l1, with_reduction(NERVE_REDUCTION_MEAN), "smooth_l1");
}

static void test_smooth_l1_beta_0(void **state)
{
    nerve_loss_options o = with_reduction(NERVE_REDUCTION_MEAN);
    o.beta = 0;
    check_regression(*state, nerve_smooth_l1, o, "smooth_l1 beta 0");
}

static void test_smooth_l1_beta_2_5_sum(void **state)
{
    nerve_loss_options o = with_reduction(NERVE_REDUCTION_SUM);
    o.beta = 2.5;
    check_regression(*state, nerve_smooth_l1, o, "smooth_l1 beta 2.5 sum");
}

/* ---------------------------------------------------------------- binary */

/* Probabilities in (0.05, 0.95) against soft targets in [0, 1]. */
static void check_bce(gc_fixture *f, int64_t outputs, nerve_reduction reduction)
{
    nerve_loss_options o = with_reduction(reduction);
    nerve_node p = gc_random_param(f, "p", nerve_shape_2d(BATCH, outputs), 1, 0);
    fill_uniform(f, p, 0.05, 0.95);
    nerve_node y = gc_constant(f, "y", nerve_shape_2d(BATCH, outputs), 1);
    fill_uniform(f, y, 0, 1);
    expect_close(gc_check_loss(f, nerve_binary_cross_entropy(f->g, p, y, &o, &f->err)), "bce");
}

static void test_bce(void **state) { check_bce(*state, 3, NERVE_REDUCTION_MEAN); }
static void test_bce_sum(void **state) { check_bce(*state, 3, NERVE_REDUCTION_SUM); }
static void test_bce_one_output(void **state) { check_bce(*state, 1, NERVE_REDUCTION_MEAN); }

static void check_bce_with_logits(gc_fixture *f, nerve_reduction reduction,
                                  const float *pos_weight, int64_t pos_weight_count)
{
    nerve_loss_options o = with_reduction(reduction);
    o.weights = pos_weight;
    o.weight_count = pos_weight_count;
    nerve_node x = gc_random_param(f, "x", nerve_shape_2d(BATCH, 3), 5, 0);
    nerve_node y = gc_constant(f, "y", nerve_shape_2d(BATCH, 3), 1);
    fill_uniform(f, y, 0, 1);
    expect_close(gc_check_loss(f, nerve_bce_with_logits(f->g, x, y, &o, &f->err)),
                 "bce_with_logits");
}

static void test_bce_with_logits(void **state)
{
    check_bce_with_logits(*state, NERVE_REDUCTION_MEAN, NULL, 0);
}

static void test_bce_with_logits_sum(void **state)
{
    check_bce_with_logits(*state, NERVE_REDUCTION_SUM, NULL, 0);
}

static void test_bce_with_logits_pos_weight(void **state)
{
    static const float pos_weight[3] = {2.0f, 0.5f, 0.0f};
    check_bce_with_logits(*state, NERVE_REDUCTION_MEAN, pos_weight, 3);
}

static void test_bce_with_logits_one_pos_weight(void **state)
{
    static const float pos_weight[1] = {3.0f};
    check_bce_with_logits(*state, NERVE_REDUCTION_SUM, pos_weight, 1);
}

/* ---------------------------------------------------------------- classification */

/* build(logits [BATCH, CLASSES] in (-4, 4), labels). */
static void check_classification(gc_fixture *f, loss_builder build, nerve_loss_options o,
                                 const char *what)
{
    nerve_node logits = gc_random_param(f, "logits", nerve_shape_2d(BATCH, CLASSES), 4, 0);
    expect_close(gc_check_loss(f, build(f->g, logits, labels(f, CLASSES), &o, &f->err)), what);
}

static nerve_loss_options cross_entropy_options(bool weighted, double smoothing,
                                                nerve_reduction reduction)
{
    nerve_loss_options o = with_reduction(reduction);
    o.label_smoothing = smoothing;
    if (weighted) {
        o.weights = class_weights;
        o.weight_count = CLASSES;
    }
    return o;
}

static void test_cross_entropy_weights(void **state)
{
    check_classification(*state, nerve_softmax_cross_entropy,
                         cross_entropy_options(true, 0, NERVE_REDUCTION_MEAN), "ce weights");
}

static void test_cross_entropy_label_smoothing(void **state)
{
    check_classification(*state, nerve_softmax_cross_entropy,
                         cross_entropy_options(false, 0.1, NERVE_REDUCTION_MEAN),
                         "ce label smoothing");
}

static void test_cross_entropy_weights_and_smoothing(void **state)
{
    check_classification(*state, nerve_softmax_cross_entropy,
                         cross_entropy_options(true, 0.2, NERVE_REDUCTION_MEAN),
                         "ce weights and smoothing");
}

static void test_cross_entropy_weights_and_smoothing_sum(void **state)
{
    check_classification(*state, nerve_softmax_cross_entropy,
                         cross_entropy_options(true, 0.2, NERVE_REDUCTION_SUM),
                         "ce weights and smoothing, sum");
}

/* nll(log_softmax(x)): log_softmax's backward as well as nll's. */
static void check_nll(gc_fixture *f, nerve_loss_options o)
{
    nerve_node x = gc_random_param(f, "x", nerve_shape_2d(BATCH, CLASSES), 4, 0);
    nerve_node log_probs = nerve_log_softmax(f->g, x, -1, &f->err);
    expect_close(gc_check_loss(f, nerve_nll(f->g, log_probs, labels(f, CLASSES), &o, &f->err)),
                 "nll");
}

static void test_nll(void **state)
{
    check_nll(*state, cross_entropy_options(false, 0, NERVE_REDUCTION_MEAN));
}

static void test_nll_weights(void **state)
{
    check_nll(*state, cross_entropy_options(true, 0, NERVE_REDUCTION_MEAN));
}

static void test_nll_weights_sum(void **state)
{
    check_nll(*state, cross_entropy_options(true, 0, NERVE_REDUCTION_SUM));
}

static void test_log_softmax(void **state)
{
    gc_fixture *f = *state;
    nerve_node x = gc_random_param(f, "x", nerve_shape_2d(BATCH, 6), 3, 0);
    expect_close(gc_check_through_mse(f, nerve_log_softmax(f->g, x, -1, &f->err)), "log_softmax");
}

static void check_focal(gc_fixture *f, double gamma, bool with_alpha, nerve_reduction reduction)
{
    static const float alpha[CLASSES] = {0.25f, 1.0f, 0.5f, 2.0f, 0.75f};
    nerve_loss_options o = with_reduction(reduction);
    o.gamma = gamma;
    if (with_alpha) {
        o.weights = alpha;
        o.weight_count = CLASSES;
    }
    check_classification(f, nerve_focal, o, "focal");
}

static void test_focal(void **state) { check_focal(*state, 2, false, NERVE_REDUCTION_MEAN); }
static void test_focal_gamma_0(void **state)
{
    check_focal(*state, 0, false, NERVE_REDUCTION_MEAN);
}
static void test_focal_gamma_0_5(void **state)
{
    check_focal(*state, 0.5, false, NERVE_REDUCTION_MEAN);
}
static void test_focal_gamma_5_alpha(void **state)
{
    check_focal(*state, 5, true, NERVE_REDUCTION_MEAN);
}
static void test_focal_alpha_sum(void **state)
{
    check_focal(*state, 2, true, NERVE_REDUCTION_SUM);
}

static void check_distillation(gc_fixture *f, double temperature, nerve_reduction reduction)
{
    nerve_loss_options o = with_reduction(reduction);
    o.temperature = temperature;
    nerve_node student = gc_random_param(f, "student", nerve_shape_2d(BATCH, CLASSES), 4, 0);
    nerve_node teacher = gc_constant(f, "teacher", nerve_shape_2d(BATCH, CLASSES), 6);
    expect_close(gc_check_loss(f, nerve_distillation(f->g, student, teacher, &o, &f->err)),
                 "distillation");
}

static void test_distillation(void **state) { check_distillation(*state, 1, NERVE_REDUCTION_MEAN); }
static void test_distillation_temperature_4(void **state)
{
    check_distillation(*state, 4, NERVE_REDUCTION_MEAN);
}
static void test_distillation_temperature_0_5_sum(void **state)
{
    check_distillation(*state, 0.5, NERVE_REDUCTION_SUM);
}

static void check_distillation_with_labels(gc_fixture *f, double temperature, double alpha,
                                           nerve_reduction reduction)
{
    nerve_loss_options o = with_reduction(reduction);
    o.temperature = temperature;
    o.soft_weight = alpha;
    nerve_node student = gc_random_param(f, "student", nerve_shape_2d(BATCH, CLASSES), 4, 0);
    nerve_node teacher = gc_constant(f, "teacher", nerve_shape_2d(BATCH, CLASSES), 6);
    nerve_node y = labels(f, CLASSES);
    expect_close(gc_check_loss(f, nerve_distillation_with_labels(f->g, student, teacher, y, &o,
                                                                 &f->err)),
                 "distillation with labels");
}

static void test_distillation_with_labels(void **state)
{
    check_distillation_with_labels(*state, 4, 0.9, NERVE_REDUCTION_MEAN);
}
static void test_distillation_with_labels_alpha_0_3_sum(void **state)
{
    check_distillation_with_labels(*state, 2, 0.3, NERVE_REDUCTION_SUM);
}

/* L-Softmax on linear(x, W): x and W both take the gradient. */
static void check_large_margin(gc_fixture *f, int margin, double lambda, nerve_reduction reduction)
{
    nerve_loss_options o = with_reduction(reduction);
    o.margin = margin;
    o.lambda = lambda;
    nerve_node x = gc_random_param(f, "x", nerve_shape_2d(BATCH, 6), 1, 0);
    nerve_node w = gc_random_param(f, "w", nerve_shape_2d(CLASSES, 6), 1, 0);
    nerve_node logits = nerve_linear(f->g, x, w, -1, &f->err);
    expect_close(gc_check_loss(f, nerve_large_margin_softmax(f->g, logits, labels(f, CLASSES), &o,
                                                             &f->err)),
                 "large_margin_softmax");
}

static void test_large_margin_m1(void **state)
{
    check_large_margin(*state, 1, 0, NERVE_REDUCTION_MEAN);
}
static void test_large_margin_m2(void **state)
{
    check_large_margin(*state, 2, 0, NERVE_REDUCTION_MEAN);
}
static void test_large_margin_m3(void **state)
{
    check_large_margin(*state, 3, 0, NERVE_REDUCTION_MEAN);
}
static void test_large_margin_m4(void **state)
{
    check_large_margin(*state, 4, 0, NERVE_REDUCTION_MEAN);
}
static void test_large_margin_m3_lambda_2(void **state)
{
    check_large_margin(*state, 3, 2, NERVE_REDUCTION_MEAN);
}
static void test_large_margin_m4_sum(void **state)
{
    check_large_margin(*state, 4, 0, NERVE_REDUCTION_SUM);
}

#define GC_TEST(f) cmocka_unit_test_setup_teardown(f, gc_setup, gc_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        GC_TEST(test_mse_sum),
        GC_TEST(test_l1),
        GC_TEST(test_l1_sum),
        GC_TEST(test_huber),
        GC_TEST(test_huber_delta_0_5_sum),
        GC_TEST(test_smooth_l1),
        GC_TEST(test_smooth_l1_beta_0),
        GC_TEST(test_smooth_l1_beta_2_5_sum),
        GC_TEST(test_bce),
        GC_TEST(test_bce_sum),
        GC_TEST(test_bce_one_output),
        GC_TEST(test_bce_with_logits),
        GC_TEST(test_bce_with_logits_sum),
        GC_TEST(test_bce_with_logits_pos_weight),
        GC_TEST(test_bce_with_logits_one_pos_weight),
        GC_TEST(test_cross_entropy_weights),
        GC_TEST(test_cross_entropy_label_smoothing),
        GC_TEST(test_cross_entropy_weights_and_smoothing),
        GC_TEST(test_cross_entropy_weights_and_smoothing_sum),
        GC_TEST(test_nll),
        GC_TEST(test_nll_weights),
        GC_TEST(test_nll_weights_sum),
        GC_TEST(test_log_softmax),
        GC_TEST(test_focal),
        GC_TEST(test_focal_gamma_0),
        GC_TEST(test_focal_gamma_0_5),
        GC_TEST(test_focal_gamma_5_alpha),
        GC_TEST(test_focal_alpha_sum),
        GC_TEST(test_distillation),
        GC_TEST(test_distillation_temperature_4),
        GC_TEST(test_distillation_temperature_0_5_sum),
        GC_TEST(test_distillation_with_labels),
        GC_TEST(test_distillation_with_labels_alpha_0_3_sum),
        GC_TEST(test_large_margin_m1),
        GC_TEST(test_large_margin_m2),
        GC_TEST(test_large_margin_m3),
        GC_TEST(test_large_margin_m4),
        GC_TEST(test_large_margin_m3_lambda_2),
        GC_TEST(test_large_margin_m4_sum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
