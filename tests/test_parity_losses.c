/* Every loss, with each of its options, agrees with PyTorch in value and
 * gradient: the fixtures tests/reference/fixtures_losses.py wrote (case names
 * and tensors are listed there). Each family includes inputs of magnitude
 * 1e4, where only the stable forms stay finite, and exact zeros.
 *
 * A case's scored input is a parameter, so its gradient lands in
 * nerve_node_grad; targets and labels are frozen parameters. */
#include <stdio.h>

#include "parity_support.h"

typedef nerve_node (*loss_builder)(nerve_graph *g, nerve_node scores, nerve_node target,
                                   const nerve_loss_options *options, nerve_error *err);

/* "<case>.<tensor>"; the buffer is reused by the next call. */
static const char *tensor_name(parity *p, const char *case_name, const char *tensor)
{
    static char name[96];
    snprintf(name, sizeof name, "%s.%s", case_name, tensor);
    return name;
}

static nerve_node case_param(parity *p, const char *case_name, const char *tensor, bool frozen)
{
    return fixture_param(p, tensor_name(p, case_name, tensor), frozen);
}

static void expect(parity *p, const char *case_name, const char *tensor, nerve_node n,
                   bool gradient)
{
    expect_tensor(p, tensor_name(p, case_name, tensor), n, gradient);
}

/* The options a case was made with: reduction, and the fixture's list
 * tensor (weights, alpha or pos_weight) when list is not NULL. */
static nerve_loss_options case_options(parity *p, const char *case_name, nerve_reduction reduction,
                                       const char *list)
{
    nerve_loss_options o = nerve_loss_options_default();
    o.reduction = reduction;
    if (list) {
        nerve_shape shape;
        o.weights = fixture_tensor(p, tensor_name(p, case_name, list), &shape);
        o.weight_count = nerve_shape_numel(&shape);
    }
    return o;
}

static void run(parity *p, nerve_node loss)
{
    test_require_ok(nerve_graph_plan(p->g, 1, &p->err), &p->err);
    nerve_graph_zero_grad(p->g);
    assert_int_equal(nerve_graph_forward(p->g, loss, NULL), NERVE_OK);
    assert_int_equal(nerve_graph_backward(p->g, loss, NULL), NERVE_OK);
}

/* loss = build(<case>.<scores>, <case>.<target>) in a fresh graph; compares
 * <case>.loss and <case>.d<scores>. */
static void check_case(parity *p, const char *case_name, const char *scores, const char *target,
                       loss_builder build, const nerve_loss_options *o)
{
    char gradient[32];
    nerve_graph_free(p->g);
    p->g = nerve_graph_new();
    nerve_graph_set_keep_gradients(p->g, true); /* ops' gradients are compared */
    nerve_node x = case_param(p, case_name, scores, false);
    nerve_node t = case_param(p, case_name, target, true);
    nerve_node loss = test_require_node(build(p->g, x, t, o, &p->err), &p->err);
    run(p, loss);
    expect(p, case_name, "loss", loss, false);
    snprintf(gradient, sizeof gradient, "d%s", scores);
    expect(p, case_name, gradient, x, true);
}

/* A regression case and its _large twin (pred and target of +-1e4). */
static void check_regression(parity *p, const char *case_name, loss_builder build,
                             nerve_loss_options o)
{
    char large[64];
    open_fixture(p, "losses_regression");
    check_case(p, case_name, "pred", "target", build, &o);
    snprintf(large, sizeof large, "%s_large", case_name);
    check_case(p, large, "pred", "target", build, &o);
}

static nerve_loss_options with_reduction(nerve_reduction reduction)
{
    nerve_loss_options o = nerve_loss_options_default();
    o.reduction = reduction;
    return o;
}

static void test_mse(void **state)
{
    check_regression(*state, "mse", nerve_mse, with_reduction(NERVE_REDUCTION_MEAN));
}

static void test_mse_sum(void **state)
{
    check_regression(*state, "mse_sum", nerve_mse, with_reduction(NERVE_REDUCTION_SUM));
}

/* Where pred == target the gradient is 0, as torch's sign(). */
static void test_l1(void **state)
{
    check_regression(*state, "l1", nerve_l1, with_reduction(NERVE_REDUCTION_MEAN));
}

static void test_l1_sum(void **state)
{
    check_regression(*state, "l1_sum", nerve_l1, with_reduction(NERVE_REDUCTION_SUM));
}

static void test_huber(void **state)
{
    check_regression(*state, "huber", nerve_huber, with_reduction(NERVE_REDUCTION_MEAN));
}

static void test_huber_delta_0_5_sum(void **state)
{
    nerve_loss_options o = with_reduction(NERVE_REDUCTION_SUM);
    o.delta = 0.5;
    check_regression(*state, "huber_delta_0.5_sum", nerve_huber, o);
}

static void test_smooth_l1(void **state)
{
    check_regression(*state, "smooth_l1", nerve_smooth_l1, with_reduction(NERVE_REDUCTION_MEAN));
}

/* beta = 0 is L1 in value, but torch's gradient at pred == target is -1. */
static void test_smooth_l1_beta_0(void **state)
{
    nerve_loss_options o = with_reduction(NERVE_REDUCTION_MEAN);
    o.beta = 0;
    check_regression(*state, "smooth_l1_beta_0", nerve_smooth_l1, o);
}

static void test_smooth_l1_beta_2_5_sum(void **state)
{
    nerve_loss_options o = with_reduction(NERVE_REDUCTION_SUM);
    o.beta = 2.5;
    check_regression(*state, "smooth_l1_beta_2.5_sum", nerve_smooth_l1, o);
}

/* Probabilities of exactly 0 and 1: logs clamped at -100, gradients
 * (p - y) / max(p (1 - p), 1e-12), large but finite. */
static void check_bce(parity *p, const char *case_name, nerve_reduction reduction)
{
    nerve_loss_options o = with_reduction(reduction);
    open_fixture(p, "losses_binary");
    check_case(p, case_name, "probs", "target", nerve_binary_cross_entropy, &o);
}

static void test_bce(void **state) { check_bce(*state, "bce", NERVE_REDUCTION_MEAN); }
static void test_bce_sum(void **state) { check_bce(*state, "bce_sum", NERVE_REDUCTION_SUM); }
static void test_bce_one_output(void **state)
{
    check_bce(*state, "bce_one_output", NERVE_REDUCTION_MEAN);
}

/* Logits of +-1e4 and 0; pos_weight per output, or one for all. */
static void check_bce_with_logits(parity *p, const char *case_name, nerve_reduction reduction,
                                  const char *pos_weight)
{
    open_fixture(p, "losses_binary");
    nerve_loss_options o = case_options(p, case_name, reduction, pos_weight);
    check_case(p, case_name, "logits", "target", nerve_bce_with_logits, &o);
}

static void test_bce_with_logits(void **state)
{
    check_bce_with_logits(*state, "bce_logits", NERVE_REDUCTION_MEAN, NULL);
}

static void test_bce_with_logits_sum(void **state)
{
    check_bce_with_logits(*state, "bce_logits_sum", NERVE_REDUCTION_SUM, NULL);
}

static void test_bce_with_logits_pos_weight(void **state)
{
    check_bce_with_logits(*state, "bce_logits_pos_weight", NERVE_REDUCTION_MEAN, "pos_weight");
}

static void test_bce_with_logits_one_pos_weight(void **state)
{
    check_bce_with_logits(*state, "bce_logits_pos_weight_one", NERVE_REDUCTION_MEAN,
                          "pos_weight");
}

/* A class-label case and its _large twin (logits of +-1e4). `list` names
 * the fixture's per-class tensor, if any. */
static void check_classification(parity *p, const char *case_name, const char *scores,
                                 loss_builder build, nerve_loss_options o, const char *list,
                                 bool with_large)
{
    open_fixture(p, "losses_classification");
    nerve_loss_options listed = case_options(p, case_name, o.reduction, list);
    o.weights = listed.weights;
    o.weight_count = listed.weight_count;
    check_case(p, case_name, scores, "labels", build, &o);
    if (!with_large) return;
    char large[64];
    snprintf(large, sizeof large, "%s_large", case_name);
    check_case(p, large, scores, "labels", build, &o);
}

static nerve_loss_options smoothing(double label_smoothing, nerve_reduction reduction)
{
    nerve_loss_options o = with_reduction(reduction);
    o.label_smoothing = label_smoothing;
    return o;
}

/* torch's weighted mean: sum(w_y l) / sum(w_y); one class weighs 0. */
static void test_cross_entropy_weights(void **state)
{
    check_classification(*state, "ce_weights", "logits", nerve_softmax_cross_entropy,
                         smoothing(0, NERVE_REDUCTION_MEAN), "weights", true);
}

static void test_cross_entropy_label_smoothing(void **state)
{
    check_classification(*state, "ce_smoothing", "logits", nerve_softmax_cross_entropy,
                         smoothing(0.1, NERVE_REDUCTION_MEAN), NULL, true);
}

/* torch 1.13 weighs the smoothing term's classes by their own weights and
 * still divides by sum(w_y). */
static void test_cross_entropy_weights_and_smoothing(void **state)
{
    check_classification(*state, "ce_weights_smoothing", "logits", nerve_softmax_cross_entropy,
                         smoothing(0.2, NERVE_REDUCTION_MEAN), "weights", true);
}

static void test_cross_entropy_weights_and_smoothing_sum(void **state)
{
    check_classification(*state, "ce_weights_smoothing_sum", "logits",
                         nerve_softmax_cross_entropy, smoothing(0.2, NERVE_REDUCTION_SUM),
                         "weights", true);
}

static void test_cross_entropy_sum(void **state)
{
    check_classification(*state, "ce_sum", "logits", nerve_softmax_cross_entropy,
                         smoothing(0, NERVE_REDUCTION_SUM), NULL, true);
}

static void test_nll(void **state)
{
    check_classification(*state, "nll", "log_probs", nerve_nll,
                         with_reduction(NERVE_REDUCTION_MEAN), NULL, true);
}

static void test_nll_weights(void **state)
{
    check_classification(*state, "nll_weights", "log_probs", nerve_nll,
                         with_reduction(NERVE_REDUCTION_MEAN), "weights", true);
}

static void test_nll_weights_sum(void **state)
{
    check_classification(*state, "nll_weights_sum", "log_probs", nerve_nll,
                         with_reduction(NERVE_REDUCTION_SUM), "weights", true);
}

/* log_softmax's values, and its gradient under a weighted NLL (the
 * unfused cross-entropy), on inputs with zeros, +-30 and +-1e4. */
static void test_log_softmax_then_nll(void **state)
{
    parity *p = *state;
    const char *case_name = "log_softmax_nll";
    open_fixture(p, "losses_classification");
    nerve_loss_options o = case_options(p, case_name, NERVE_REDUCTION_MEAN, "weights");
    nerve_node x = case_param(p, case_name, "x", false);
    nerve_node labels = case_param(p, case_name, "labels", true);
    nerve_node y = test_require_node(nerve_log_softmax(p->g, x, -1, &p->err), &p->err);
    nerve_node loss = test_require_node(nerve_nll(p->g, y, labels, &o, &p->err), &p->err);
    run(p, loss);
    expect(p, case_name, "y", y, false);
    expect(p, case_name, "loss", loss, false);
    expect(p, case_name, "dx", x, true);
}

static nerve_loss_options focusing(double gamma, nerve_reduction reduction)
{
    nerve_loss_options o = with_reduction(reduction);
    o.gamma = gamma;
    return o;
}

static void test_focal(void **state)
{
    check_classification(*state, "focal", "logits", nerve_focal,
                         focusing(2, NERVE_REDUCTION_MEAN), NULL, false);
}

/* gamma = 0 without alpha is cross-entropy. */
static void test_focal_gamma_0(void **state)
{
    check_classification(*state, "focal_gamma_0", "logits", nerve_focal,
                         focusing(0, NERVE_REDUCTION_MEAN), NULL, false);
}

static void test_focal_gamma_0_5(void **state)
{
    check_classification(*state, "focal_gamma_0.5", "logits", nerve_focal,
                         focusing(0.5, NERVE_REDUCTION_MEAN), NULL, false);
}

static void test_focal_gamma_5_alpha(void **state)
{
    check_classification(*state, "focal_gamma_5_alpha", "logits", nerve_focal,
                         focusing(5, NERVE_REDUCTION_MEAN), "alpha", false);
}

static void test_focal_alpha_sum(void **state)
{
    check_classification(*state, "focal_alpha_sum", "logits", nerve_focal,
                         focusing(2, NERVE_REDUCTION_SUM), "alpha", false);
}

/* Logits of +-1e4: p_t is exactly 0 or 1 in float, log p_t stays finite. */
static void test_focal_large_logits(void **state)
{
    check_classification(*state, "focal_large", "logits", nerve_focal,
                         focusing(2, NERVE_REDUCTION_MEAN), "alpha", false);
}

static void check_distillation(parity *p, const char *case_name, double temperature,
                               nerve_reduction reduction)
{
    nerve_loss_options o = with_reduction(reduction);
    o.temperature = temperature;
    open_fixture(p, "losses_classification");
    check_case(p, case_name, "student", "teacher", nerve_distillation,
               &o);
}

static void test_distillation(void **state)
{
    check_distillation(*state, "distillation", 1, NERVE_REDUCTION_MEAN);
}

static void test_distillation_temperature_4(void **state)
{
    check_distillation(*state, "distillation_t4", 4, NERVE_REDUCTION_MEAN);
}

static void test_distillation_temperature_2_sum(void **state)
{
    check_distillation(*state, "distillation_t2_sum", 2, NERVE_REDUCTION_SUM);
}

/* Student and teacher logits of +-1e4: most teacher probabilities are 0,
 * and 0 log 0 counts as 0 (torch's kl_div uses xlogy). */
static void test_distillation_large_logits(void **state)
{
    check_distillation(*state, "distillation_large", 2, NERVE_REDUCTION_MEAN);
}

/* The soft loss mixed with the hard labels' cross-entropy: student, teacher
 * and labels from the fixture; compares the loss and dstudent. */
static void check_distillation_with_labels(parity *p, const char *case_name, double temperature,
                                           double alpha, nerve_reduction reduction)
{
    nerve_loss_options o = with_reduction(reduction);
    o.temperature = temperature;
    o.soft_weight = alpha;
    open_fixture(p, "losses_classification");
    nerve_graph_free(p->g);
    p->g = nerve_graph_new();
    nerve_graph_set_keep_gradients(p->g, true); /* ops' gradients are compared */
    nerve_node student = case_param(p, case_name, "student", false);
    nerve_node teacher = case_param(p, case_name, "teacher", true);
    nerve_node labels = case_param(p, case_name, "labels", true);
    nerve_node loss = test_require_node(
        nerve_distillation_with_labels(p->g, student, teacher, labels, &o, &p->err), &p->err);
    run(p, loss);
    expect(p, case_name, "loss", loss, false);
    expect(p, case_name, "dstudent", student, true);
}

static void test_distillation_with_labels(void **state)
{
    check_distillation_with_labels(*state, "distillation_labels", 4, 0.9, NERVE_REDUCTION_MEAN);
}

static void test_distillation_with_labels_alpha_0_3_sum(void **state)
{
    check_distillation_with_labels(*state, "distillation_labels_a0.3_sum", 2, 0.3,
                                   NERVE_REDUCTION_SUM);
}

static void test_distillation_with_labels_large_logits(void **state)
{
    check_distillation_with_labels(*state, "distillation_labels_large", 2, 0.5,
                                   NERVE_REDUCTION_MEAN);
}

/* logits = linear(x, W) without bias; compares the loss, dx and dW. */
static void check_large_margin(parity *p, const char *case_name, int margin, double lambda,
                               nerve_reduction reduction)
{
    nerve_loss_options o = with_reduction(reduction);
    o.margin = margin;
    o.lambda = lambda;
    open_fixture(p, "losses_large_margin");
    nerve_node x = case_param(p, case_name, "x", false);
    nerve_node w = case_param(p, case_name, "weight", false);
    nerve_node labels = case_param(p, case_name, "labels", true);
    nerve_node logits = test_require_node(nerve_linear(p->g, x, w, -1, &p->err), &p->err);
    nerve_node loss = test_require_node(
        nerve_large_margin_softmax(p->g, logits, labels, &o, &p->err), &p->err);
    run(p, loss);
    expect(p, case_name, "loss", loss, false);
    expect(p, case_name, "dx", x, true);
    expect(p, case_name, "dweight", w, true);
}

/* m = 1 is softmax cross-entropy. */
static void test_large_margin_m1(void **state)
{
    check_large_margin(*state, "lsoftmax_m1", 1, 0, NERVE_REDUCTION_MEAN);
}

static void test_large_margin_m2(void **state)
{
    check_large_margin(*state, "lsoftmax_m2", 2, 0, NERVE_REDUCTION_MEAN);
}

static void test_large_margin_m3(void **state)
{
    check_large_margin(*state, "lsoftmax_m3", 3, 0, NERVE_REDUCTION_MEAN);
}

static void test_large_margin_m4(void **state)
{
    check_large_margin(*state, "lsoftmax_m4", 4, 0, NERVE_REDUCTION_MEAN);
}

static void test_large_margin_m3_lambda_2(void **state)
{
    check_large_margin(*state, "lsoftmax_m3_lambda2", 3, 2, NERVE_REDUCTION_MEAN);
}

static void test_large_margin_m2_sum(void **state)
{
    check_large_margin(*state, "lsoftmax_m2_sum", 2, 0, NERVE_REDUCTION_SUM);
}

/* |x| and |W| of about 100: logits of about 1e4. */
static void test_large_margin_large_logits(void **state)
{
    check_large_margin(*state, "lsoftmax_m4_large", 4, 0, NERVE_REDUCTION_MEAN);
}


int main(void)
{
    const struct CMUnitTest tests[] = {
        PARITY_TEST(test_mse),
        PARITY_TEST(test_mse_sum),
        PARITY_TEST(test_l1),
        PARITY_TEST(test_l1_sum),
        PARITY_TEST(test_huber),
        PARITY_TEST(test_huber_delta_0_5_sum),
        PARITY_TEST(test_smooth_l1),
        PARITY_TEST(test_smooth_l1_beta_0),
        PARITY_TEST(test_smooth_l1_beta_2_5_sum),
        PARITY_TEST(test_bce),
        PARITY_TEST(test_bce_sum),
        PARITY_TEST(test_bce_one_output),
        PARITY_TEST(test_bce_with_logits),
        PARITY_TEST(test_bce_with_logits_sum),
        PARITY_TEST(test_bce_with_logits_pos_weight),
        PARITY_TEST(test_bce_with_logits_one_pos_weight),
        PARITY_TEST(test_cross_entropy_weights),
        PARITY_TEST(test_cross_entropy_label_smoothing),
        PARITY_TEST(test_cross_entropy_weights_and_smoothing),
        PARITY_TEST(test_cross_entropy_weights_and_smoothing_sum),
        PARITY_TEST(test_cross_entropy_sum),
        PARITY_TEST(test_nll),
        PARITY_TEST(test_nll_weights),
        PARITY_TEST(test_nll_weights_sum),
        PARITY_TEST(test_log_softmax_then_nll),
        PARITY_TEST(test_focal),
        PARITY_TEST(test_focal_gamma_0),
        PARITY_TEST(test_focal_gamma_0_5),
        PARITY_TEST(test_focal_gamma_5_alpha),
        PARITY_TEST(test_focal_alpha_sum),
        PARITY_TEST(test_focal_large_logits),
        PARITY_TEST(test_distillation),
        PARITY_TEST(test_distillation_temperature_4),
        PARITY_TEST(test_distillation_temperature_2_sum),
        PARITY_TEST(test_distillation_large_logits),
        PARITY_TEST(test_distillation_with_labels),
        PARITY_TEST(test_distillation_with_labels_alpha_0_3_sum),
        PARITY_TEST(test_distillation_with_labels_large_logits),
        PARITY_TEST(test_large_margin_m1),
        PARITY_TEST(test_large_margin_m2),
        PARITY_TEST(test_large_margin_m3),
        PARITY_TEST(test_large_margin_m4),
        PARITY_TEST(test_large_margin_m3_lambda_2),
        PARITY_TEST(test_large_margin_m2_sum),
        PARITY_TEST(test_large_margin_large_logits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
