/* The [loss] section: every type builds its loss with the keys it takes,
 * a key or value that does not fit the type is an error naming
 * file:line, the last layer must give the loss what it takes (logits,
 * probabilities, log-probabilities, a bias-free dense), and data must fit
 * the loss's targets (docs/config.md, [loss]). */
#include <stdio.h>
#include <string.h>

#include "model/model_settings.h"
#include "test_support.h"

/* A 4-input network whose last layer, "out", is `last` (keys after its
 * name), followed by a [loss] section holding `loss`, and [data] when
 * `data` is not empty. */
static const char *cfg_text(const char *last, const char *loss, const char *data)
{
    static char text[2048];
    snprintf(text, sizeof text,
             "[net]\ninput = 4\nbatch = 8\n%s\n"
             "[dense]\nname = hidden\nunits = 5\nactivation = relu\n"
             "[dense]\nname = out\n%s"
             "[loss]\n%s",
             data, last, loss);
    return text;
}

static nerve_status load(const char *text, nerve_model **m, nerve_error *err)
{
    const char *path = test_tmppath("model.cfg");
    test_write_file(path, text, strlen(text));
    *m = NULL;
    return nerve_model_load(path, NULL, m, err);
}

static nerve_model *load_ok(const char *last, const char *loss)
{
    nerve_model *m;
    nerve_error err = {0};
    test_require_ok(load(cfg_text(last, loss, ""), &m, &err), &err);
    return m;
}

/* The 1-based line of text on which `needle` starts. */
static int line_of(const char *text, const char *needle)
{
    const char *at = strstr(text, needle);
    assert_non_null(at);
    int line = 1;
    for (const char *p = text; p < at; p++) line += *p == '\n';
    return line;
}

/* Expects loading to fail with "model.cfg:LINE: [loss] KEY: ..." (LINE where
 * `key =` is written) and `phrase`. */
static void expect_key_error(const char *last, const char *loss, const char *key,
                             const char *phrase)
{
    const char *text = cfg_text(last, loss, "");
    char location[64], key_line[64];
    snprintf(key_line, sizeof key_line, "%s =", key);
    snprintf(location, sizeof location, "model.cfg:%d: [loss] %s: ", line_of(text, key_line), key);
    nerve_model *m;
    nerve_error err = {0};
    assert_int_not_equal(load(text, &m, &err), NERVE_OK);
    assert_null(m);
    test_assert_message_contains(&err, location);
    test_assert_message_contains(&err, phrase);
}

static const char *loss_op(nerve_model *m)
{
    return nerve_node_op_name(nerve_model_graph(m), nerve_model_loss(m));
}

static const char *prediction_op(nerve_model *m)
{
    return nerve_node_op_name(nerve_model_graph(m), nerve_model_prediction(m));
}

/* ---------------------------------------------------------------- each type */

static void test_default_is_softmax_cross_entropy_mean(void **state)
{
    nerve_model *m = load_ok("units = 3\n", "");
    const nerve_model_settings *s = nerve_model_settings_of(m);
    assert_int_equal(s->loss, NERVE_LOSS_SOFTMAX_CROSS_ENTROPY);
    assert_int_equal(s->loss_options.reduction, NERVE_REDUCTION_MEAN);
    assert_null(s->loss_options.weights);
    assert_string_equal(loss_op(m), "softmax_cross_entropy");
    assert_string_equal(prediction_op(m), "softmax");
    assert_int_equal(nerve_model_classes(m), 3);
    nerve_model_free(m);
}

static void test_cross_entropy_with_weights_and_smoothing(void **state)
{
    nerve_model *m = load_ok("units = 3\n", "type = softmax_cross_entropy\nreduction = sum\n"
                                            "weights = 1, 2.5,0\nlabel_smoothing = 0.1\n");
    const nerve_loss_options *o = &nerve_model_settings_of(m)->loss_options;
    assert_int_equal(o->reduction, NERVE_REDUCTION_SUM);
    assert_int_equal(o->weight_count, 3);
    assert_true(o->weights[0] == 1 && o->weights[1] == 2.5f && o->weights[2] == 0);
    assert_true(o->label_smoothing == 0.1);
    nerve_model_free(m);
}

/* The regression losses: targets of the output's shape, no classes. */
static void test_regression_types(void **state)
{
    static const struct {
        const char *loss, *op;
    } types[] = {{"type = mse\n", "mse"},
                 {"type = l1\nreduction = sum\n", "l1"},
                 {"type = huber\ndelta = 0.5\n", "huber"},
                 {"type = smooth_l1\nbeta = 0\n", "smooth_l1"}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        nerve_model *m = load_ok("units = 2\n", types[i].loss);
        assert_string_equal(loss_op(m), types[i].op);
        assert_int_equal(nerve_model_classes(m), 0);
        assert_int_equal(nerve_model_prediction(m), nerve_model_output(m));
        assert_int_equal(nerve_node_shape(nerve_model_graph(m), nerve_model_target(m)).dim[1], 2);
        nerve_model_free(m);
    }
    nerve_model *m = load_ok("units = 2\n", "type = huber\ndelta = 0.5\n");
    assert_true(nerve_model_settings_of(m)->loss_options.delta == 0.5);
    nerve_model_free(m);
}

/* One output: a binary classifier (two classes); several: multi-label. */
static void test_bce_on_a_sigmoid(void **state)
{
    nerve_model *m = load_ok("units = 1\nactivation = sigmoid\n", "type = bce\n");
    assert_string_equal(loss_op(m), "bce");
    assert_int_equal(nerve_model_classes(m), 2);
    assert_int_equal(nerve_model_prediction(m), nerve_model_output(m));
    nerve_model_free(m);
    m = load_ok("units = 3\nactivation = sigmoid\n", "type = bce\n");
    assert_int_equal(nerve_model_classes(m), 0);
    nerve_model_free(m);
}

static void test_bce_with_logits_and_pos_weight(void **state)
{
    nerve_model *m = load_ok("units = 3\n", "type = bce_with_logits\npos_weight = 2, 1, 0.5\n");
    assert_string_equal(loss_op(m), "bce_with_logits");
    assert_string_equal(nerve_node_name(nerve_model_graph(m), nerve_model_prediction(m)),
                        "probabilities");
    assert_string_equal(prediction_op(m), "activation"); /* the sigmoid */
    assert_int_equal(nerve_model_settings_of(m)->loss_options.weight_count, 3);
    nerve_model_free(m);
    m = load_ok("units = 3\n", "type = bce_with_logits\npos_weight = 4\n");
    nerve_model_free(m);
}

static void test_nll_after_log_softmax(void **state)
{
    nerve_model *m =
        load_ok("units = 3\nactivation = log_softmax\n", "type = nll\nweights = 1,1,2\n");
    assert_string_equal(loss_op(m), "nll");
    assert_int_equal(nerve_model_classes(m), 3);
    nerve_model_free(m);
}

static void test_focal_gamma_and_alpha(void **state)
{
    nerve_model *m = load_ok("units = 3\n", "type = focal\ngamma = 0.5\nalpha = 0.25, 1, 1\n");
    const nerve_loss_options *o = &nerve_model_settings_of(m)->loss_options;
    assert_string_equal(loss_op(m), "focal");
    assert_true(o->gamma == 0.5 && o->weight_count == 3 && o->weights[0] == 0.25f);
    nerve_model_free(m);
    m = load_ok("units = 3\n", "type = focal\n");
    assert_true(nerve_model_settings_of(m)->loss_options.gamma == 2);
    nerve_model_free(m);
}

/* The teacher's logits are the targets: [C] per sample; no classes. */
static void test_distillation_temperature(void **state)
{
    nerve_model *m = load_ok("units = 3\n", "type = distillation\ntemperature = 4\n");
    assert_string_equal(loss_op(m), "distillation");
    assert_true(nerve_model_settings_of(m)->loss_options.temperature == 4);
    assert_int_equal(nerve_model_classes(m), 0);
    assert_int_equal(nerve_node_shape(nerve_model_graph(m), nerve_model_target(m)).dim[1], 3);
    nerve_model_free(m);
}

static void test_large_margin_softmax_on_a_bias_free_dense(void **state)
{
    nerve_model *m = load_ok("units = 3\nbias = 0\n",
                             "type = large_margin_softmax\nmargin = 4\nlambda = 1.5\n");
    const nerve_loss_options *o = &nerve_model_settings_of(m)->loss_options;
    assert_string_equal(loss_op(m), "large_margin_softmax");
    assert_true(o->margin == 4 && o->lambda == 1.5);
    assert_int_equal(nerve_model_classes(m), 3);
    nerve_model_free(m);
}

/* ---------------------------------------------------------------- key errors */

static void test_a_key_of_another_type_is_refused(void **state)
{
    expect_key_error("units = 3\n", "type = softmax_cross_entropy\ndelta = 2\n", "delta",
                     "only applies to [loss] type huber");
    expect_key_error("units = 3\n", "type = focal\nweights = 1,1,1\n", "weights",
                     "only applies to [loss] type softmax_cross_entropy and nll");
    expect_key_error("units = 3\n", "type = mse\nmargin = 2\n", "margin",
                     "only applies to [loss] type large_margin_softmax");
}

static void test_bad_values_name_their_line(void **state)
{
    expect_key_error("units = 3\n", "type = mse\nreduction = avg\n", "reduction",
                     "'avg' is not one of: mean, sum");
    expect_key_error("units = 3\n", "type = gauss\n", "type", "'gauss' is not one of:");
    expect_key_error("units = 3\n", "label_smoothing = 1.5\n", "label_smoothing",
                     "1.5 is out of range [0, 1]");
    expect_key_error("units = 3\n", "type = huber\ndelta = 0\n", "delta", "out of range");
    expect_key_error("units = 3\n", "type = smooth_l1\nbeta = -1\n", "beta", "out of range");
    expect_key_error("units = 3\n", "type = focal\ngamma = -1\n", "gamma", "out of range");
    expect_key_error("units = 3\n", "type = distillation\ntemperature = 0\n", "temperature",
                     "out of range");
    expect_key_error("units = 3\nbias = 0\n", "type = large_margin_softmax\nmargin = 5\n",
                     "margin", "5 is out of range [1, 4]");
    expect_key_error("units = 3\nbias = 0\n", "type = large_margin_softmax\nlambda = -1\n",
                     "lambda", "out of range");
}

static void test_bad_lists_name_their_line(void **state)
{
    expect_key_error("units = 3\n", "weights = 1, x, 2\n", "weights",
                     "'1, x, 2' is not a comma-separated list of numbers");
    expect_key_error("units = 3\n", "weights = 1,,2\n", "weights", "is not a comma-separated");
    expect_key_error("units = 3\n", "weights = 1, -2, 2\n", "weights",
                     "value 2, -2, is out of range");
    expect_key_error("units = 3\n", "weights = 1, 2\n", "weights",
                     "2 values for the last layer's width 3 (one per class)");
    expect_key_error("units = 3\n", "type = focal\nalpha = 1, 2, 3, 4\n", "alpha",
                     "4 values for the last layer's width 3 (one per class)");
    expect_key_error("units = 3\n", "type = bce_with_logits\npos_weight = 1, 2\n", "pos_weight",
                     "2 values for the last layer's width 3 (one per output, or one for all)");
}

/* ---------------------------------------------------------------- the last layer */

static void test_the_last_layer_must_fit_the_loss(void **state)
{
    expect_key_error("units = 1\n", "type = softmax_cross_entropy\n", "type",
                     "needs a last layer with at least 2 outputs");
    expect_key_error("units = 3\nactivation = softmax\n", "type = focal\n", "type",
                     "remove its softmax");
    expect_key_error("units = 3\n", "type = nll\n", "type",
                     "nll takes log-probabilities: end the network with activation = "
                     "log_softmax");
    expect_key_error("units = 1\n", "type = bce\n", "type",
                     "bce takes probabilities: end the network with a sigmoid");
    expect_key_error("units = 3\n", "type = large_margin_softmax\n", "type",
                     "needs the last layer to be a [dense] with bias = 0 and no activation");
    expect_key_error("units = 3\nbias = 0\nactivation = tanh\n", "type = large_margin_softmax\n",
                     "type", "needs the last layer to be a [dense] with bias = 0");
}

/* Without a [loss] type line, the default's error names the file. */
static void test_the_default_loss_error_names_the_file(void **state)
{
    nerve_model *m;
    nerve_error err = {0};
    assert_int_not_equal(load(cfg_text("units = 1\n", "", ""), &m, &err), NERVE_OK);
    test_assert_message_contains(&err, "model.cfg: [loss] softmax_cross_entropy needs a last "
                                       "layer with at least 2 outputs");
}

/* ---------------------------------------------------------------- data */

/* Loads the model (with [data] train = the CSV `csv`, `targets` columns of
 * targets) and its training data; returns the status. */
static nerve_status load_data(const char *last, const char *loss, const char *csv, int targets,
                              nerve_error *err)
{
    const char *csv_path = test_tmppath("data.csv");
    test_write_file(csv_path, csv, strlen(csv));
    char data[1200];
    snprintf(data, sizeof data, "[data]\nformat = csv\ntrain = %s\ntargets = %d\n", csv_path,
             targets);
    nerve_model *m;
    test_require_ok(load(cfg_text(last, loss, data), &m, err), err);
    nerve_dataset train;
    nerve_status st = nerve_model_load_data(m, &train, NULL, NULL, err);
    if (st == NERVE_OK) nerve_dataset_free(&train);
    nerve_model_free(m);
    return st;
}

static void expect_data_error(const char *last, const char *loss, const char *csv, int targets,
                              const char *phrase)
{
    nerve_error err = {0};
    assert_int_not_equal(load_data(last, loss, csv, targets, &err), NERVE_OK);
    test_assert_message_contains(&err, "data.csv: ");
    test_assert_message_contains(&err, phrase);
}

static const char labels_0_1[] = "1,2,3,4,0\n4,3,2,1,1\n0,0,0,0,1\n";
static const char labels_0_2[] = "1,2,3,4,0\n4,3,2,1,2\n";
static const char two_targets[] = "1,2,3,4,0.5,1\n4,3,2,1,0,0.25\n";

/* bce with one output takes a classification file's 0/1 labels as targets. */
static void test_bce_takes_labels_0_and_1_for_one_output(void **state)
{
    nerve_error err = {0};
    test_require_ok(load_data("units = 1\nactivation = sigmoid\n", "type = bce\n", labels_0_1, 0,
                              &err), &err);
    test_require_ok(load_data("units = 1\n", "type = bce_with_logits\n", labels_0_1, 0, &err),
                    &err);
    expect_data_error("units = 1\n", "type = bce_with_logits\n", labels_0_2, 0,
                      "labels go up to 2; bce_with_logits takes labels 0 and 1");
    expect_data_error("units = 2\n", "type = bce_with_logits\n", labels_0_1, 0,
                      "class labels fit bce_with_logits with one output; with 2 outputs it "
                      "takes 2 targets per sample (CSV [data] targets = 2)");
}

static void test_bce_multi_label_targets_lie_in_0_1(void **state)
{
    nerve_error err = {0};
    test_require_ok(load_data("units = 2\n", "type = bce_with_logits\n", two_targets, 2, &err),
                    &err);
    expect_data_error("units = 2\n", "type = bce_with_logits\n", "1,2,3,4,0.5,1.5\n", 2,
                      "sample 0 has the target 1.5; bce_with_logits takes targets in [0, 1]");
}

static void test_class_label_losses_need_labels(void **state)
{
    expect_data_error("units = 2\n", "type = focal\n", two_targets, 2,
                      "focal needs class labels, the file has regression targets");
    expect_data_error("units = 2\n", "type = focal\n", labels_0_2, 0,
                      "labels go up to 2 but the network has 2 outputs");
}

static void test_distillation_takes_teacher_logits(void **state)
{
    nerve_error err = {0};
    test_require_ok(load_data("units = 2\n", "type = distillation\n", two_targets, 2, &err), &err);
    expect_data_error("units = 2\n", "type = distillation\n", labels_0_1, 0,
                      "distillation takes the teacher's 2 logits per sample as targets "
                      "(CSV [data] targets = 2), the file has class labels");
    expect_data_error("units = 3\n", "type = distillation\n", two_targets, 2,
                      "2 targets per sample, the network outputs 3");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_is_softmax_cross_entropy_mean),
        cmocka_unit_test(test_cross_entropy_with_weights_and_smoothing),
        cmocka_unit_test(test_regression_types),
        cmocka_unit_test(test_bce_on_a_sigmoid),
        cmocka_unit_test(test_bce_with_logits_and_pos_weight),
        cmocka_unit_test(test_nll_after_log_softmax),
        cmocka_unit_test(test_focal_gamma_and_alpha),
        cmocka_unit_test(test_distillation_temperature),
        cmocka_unit_test(test_large_margin_softmax_on_a_bias_free_dense),
        cmocka_unit_test(test_a_key_of_another_type_is_refused),
        cmocka_unit_test(test_bad_values_name_their_line),
        cmocka_unit_test(test_bad_lists_name_their_line),
        cmocka_unit_test(test_the_last_layer_must_fit_the_loss),
        cmocka_unit_test(test_the_default_loss_error_names_the_file),
        cmocka_unit_test(test_bce_takes_labels_0_and_1_for_one_output),
        cmocka_unit_test(test_bce_multi_label_targets_lie_in_0_1),
        cmocka_unit_test(test_class_label_losses_need_labels),
        cmocka_unit_test(test_distillation_takes_teacher_logits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
