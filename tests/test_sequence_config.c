/* The sequence sections of a cfg: [embedding] and [one_hot] (what they
 * build, PyTorch's names and initialisation), [dense] and the losses on
 * [N, T, C], the target's per-step shape, and every mistake as an error
 * naming file:line and the key; token ids checked in the data, naming the
 * file and the sample. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "test_support.h"

static nerve_status load_text(const char *text, nerve_model **m, nerve_error *err)
{
    const char *path = test_tmppath("seq.cfg");
    test_write_file(path, text, strlen(text));
    return nerve_model_load(path, NULL, m, err);
}

static nerve_model *load(const char *text)
{
    nerve_model *m = NULL;
    nerve_error err = {0};
    test_require_ok(load_text(text, &m, &err), &err);
    return m;
}

static void expect_error(const char *text, const char *needle)
{
    nerve_model *m = NULL;
    nerve_error err = {0};
    assert_int_not_equal(load_text(text, &m, &err), NERVE_OK);
    test_assert_message_contains(&err, needle);
    assert_null(m);
}

static void expect_shape(nerve_shape s, int ndim, int64_t d0, int64_t d1, int64_t d2)
{
    const int64_t dims[3] = {d0, d1, d2};
    assert_int_equal(s.ndim, ndim);
    for (int i = 0; i < ndim; i++) assert_int_equal(s.dim[i], dims[i]);
}

static nerve_shape shape_of(nerve_model *m, const char *name)
{
    nerve_graph *g = nerve_model_graph(m);
    nerve_node n = nerve_graph_find(g, name);
    if (n < 0) fail_msg("no node '%s'", name);
    return nerve_node_shape(g, n);
}

/* [net] on lines 1-3 (8 tokens a sample), then [loss] on lines 4-5. */
#define NET "[net]\ninput = 8\nbatch = 4\n[loss]\ntype = softmax_cross_entropy\n"

/* A per-step classifier: ids [N, 8] -> [N, 8, 16] -> [N, 8, 10]. */
static void test_embedding_then_dense_per_step(void **state)
{
    nerve_model *m = load(NET "[embedding]\nname = emb\nvocab = 10\ndim = 16\n"
                              "[dense]\nname = out\nunits = 10\n");
    expect_shape(shape_of(m, "emb.weight"), 2, 10, 16, 0);
    expect_shape(shape_of(m, "emb"), 3, 1, 8, 16);
    expect_shape(shape_of(m, "out.weight"), 2, 10, 16, 0);
    expect_shape(shape_of(m, "out"), 3, 1, 8, 10);
    expect_shape(shape_of(m, "target"), 2, 1, 8, 0); /* a label per step */
    assert_string_equal(nerve_model_layer_type(m, 0), "embedding");
    assert_int_equal(nerve_model_classes(m), 10);
    assert_int_equal(nerve_model_label_steps(m), 8);
    assert_int_equal(nerve_model_output_size(m), 80);
    nerve_model_free(m);
}

/* nn.Embedding draws N(0, 1); padding_idx's row is zero, negative from the end. */
static void test_embedding_initialisation_and_padding(void **state)
{
    nerve_model *m = load(NET "[embedding]\nname = emb\nvocab = 100\ndim = 50\npadding_idx = -1\n"
                              "[dense]\nunits = 3\n");
    nerve_graph *g = nerve_model_graph(m);
    const nerve_real *w = nerve_node_value(g, nerve_graph_find(g, "emb.weight"));
    double sum = 0, squares = 0;
    for (int i = 0; i < 99 * 50; i++) {
        sum += w[i];
        squares += (double)w[i] * w[i];
    }
    double mean = sum / (99 * 50), std = sqrt(squares / (99 * 50) - mean * mean);
    assert_true(fabs(mean) < 0.05 && fabs(std - 1) < 0.05);
    for (int c = 0; c < 50; c++) assert_true(w[99 * 50 + c] == 0);
    nerve_model_free(m);

    m = load(NET "[embedding]\nname = emb\nvocab = 10\ndim = 4\ninit = uniform(-0.1, 0.1)\n"
                 "padding_idx = 3\n[dense]\nunits = 3\n");
    g = nerve_model_graph(m);
    w = nerve_node_value(g, nerve_graph_find(g, "emb.weight"));
    for (int i = 0; i < 40; i++) assert_true(i / 4 == 3 ? w[i] == 0 : fabs(w[i]) <= 0.1);
    nerve_model_free(m);
}

/* one_hot has no parameters; mse over [N, T, F] takes [T, F] targets. */
static void test_one_hot_and_per_step_regression(void **state)
{
    nerve_model *m = load("[net]\ninput = 6\n[loss]\ntype = mse\n"
                          "[one_hot]\nname = onehot\nclasses = 4\n"
                          "[dense]\nname = out\nunits = 2\n");
    expect_shape(shape_of(m, "onehot"), 3, 1, 6, 4);
    expect_shape(shape_of(m, "target"), 3, 1, 6, 2);
    assert_string_equal(nerve_node_op_name(nerve_model_graph(m), nerve_graph_find(
                            nerve_model_graph(m), "onehot")), "one_hot");
    assert_int_equal(nerve_model_classes(m), 0);
    assert_int_equal(nerve_model_label_steps(m), 0);
    nerve_model_free(m);
}

/* A sequence of features [N, T, C] keeps its steps through dense; an image
 * is flattened first, as before; maxout flattens a sequence. */
static void test_dense_keeps_steps_and_flattens_images(void **state)
{
    nerve_model *m = load("[net]\ninput = 7x3\n[loss]\ntype = mse\n"
                          "[dense]\nname = step\nunits = 5\nactivation = tanh\n"
                          "[dense]\nname = out\nunits = 1\n");
    expect_shape(shape_of(m, "step"), 3, 1, 7, 5);
    expect_shape(shape_of(m, "out"), 3, 1, 7, 1);
    nerve_model_free(m);
    m = load("[net]\ninput = 2x3x3\n[dense]\nname = fc\nunits = 4\n");
    expect_shape(shape_of(m, "fc"), 2, 1, 4, 0);
    expect_shape(shape_of(m, "fc.weight"), 2, 4, 18, 0);
    nerve_model_free(m);
    m = load("[net]\ninput = 7x3\n[maxout]\nname = mo\nunits = 4\npieces = 2\n");
    expect_shape(shape_of(m, "mo.weight"), 2, 8, 21, 0);
    expect_shape(shape_of(m, "mo"), 2, 1, 4, 0);
    nerve_model_free(m);
}

static void test_bad_embedding_keys(void **state)
{
    expect_error(NET "[embedding]\ndim = 4\n", "seq.cfg:6: [embedding] requires the key 'vocab'");
    expect_error(NET "[embedding]\nvocab = 4\n", "seq.cfg:6: [embedding] requires the key 'dim'");
    expect_error(NET "[embedding]\nvocab = 0\ndim = 4\n",
                 "seq.cfg:7: [embedding] vocab: 0 is out of range [1, 16777216]");
    expect_error(NET "[embedding]\nvocab = 5\ndim = 4\npadding_idx = 5\n",
                 "seq.cfg:9: [embedding] padding_idx: 5 is out of range [-5, 4]");
    expect_error(NET "[embedding]\nvocab = 5\ndim = 4\npadding_idx = -6\n",
                 "seq.cfg:9: [embedding] padding_idx: -6 is out of range [-5, 4]");
    expect_error(NET "[embedding]\nvocab = 5\ndim = 4\ninit = wobbly\n",
                 "seq.cfg:9: [embedding] init:");
    expect_error(NET "[embedding]\nvocab = 5\ndim = 4\nsparse = 1\n",
                 "seq.cfg:9: unknown key 'sparse' in [embedding]");
}

static void test_bad_one_hot_keys(void **state)
{
    expect_error(NET "[one_hot]\n", "seq.cfg:6: [one_hot] requires the key 'classes'");
    expect_error(NET "[one_hot]\nclasses = 0\n",
                 "seq.cfg:7: [one_hot] classes: 0 is out of range");
    expect_error(NET "[one_hot]\nclasses = 3\nvocab = 3\n",
                 "seq.cfg:8: unknown key 'vocab' in [one_hot]");
}

/* Ids are the network's input, read as they are. */
static void test_token_layers_read_the_raw_input(void **state)
{
    expect_error(NET "[dense]\nunits = 4\n[embedding]\nvocab = 5\ndim = 4\n",
                 "seq.cfg:8: [embedding] input: reads token ids: its input must be the "
                 "network's input (input = input), not layer 'dense0'");
    expect_error(NET "[dense]\nname = d\nunits = 4\n[one_hot]\ninput = d\nclasses = 4\n",
                 "seq.cfg:10: [one_hot] input: reads token ids");
    expect_error("[net]\ninput = 8\n[data]\nformat = csv\nscale = 255\n"
                 "[embedding]\nvocab = 5\ndim = 4\n",
                 "seq.cfg:5: [data] scale: must be 1: the input is token ids");
    expect_error("[net]\ninput = 8\n[data]\nformat = csv\nnormalize = standardize\n"
                 "[one_hot]\nclasses = 4\n[dense]\nunits = 2\n",
                 "seq.cfg:5: [data] normalize: must be scale");
}

/* Class weights count the classes, the last dimension, not T x C. */
static void test_losses_on_steps(void **state)
{
    nerve_model *m = load(NET "weights = 1, 2, 3\nlabel_smoothing = 0.1\n"
                              "[embedding]\nvocab = 5\ndim = 4\n[dense]\nunits = 3\n");
    assert_int_equal(nerve_model_classes(m), 3);
    nerve_model_free(m);
    expect_error(NET "weights = 1, 2\n[embedding]\nvocab = 5\ndim = 4\n[dense]\nunits = 3\n",
                 "seq.cfg:6: [loss] weights: 2 values for the last layer's width 3");
    expect_error(NET "[embedding]\nvocab = 5\ndim = 4\n[dense]\nunits = 1\n",
                 "needs a last layer with at least 2 outputs");
    m = load("[net]\ninput = 8\n[loss]\ntype = focal\n[one_hot]\nclasses = 4\n"
             "[dense]\nunits = 3\n");
    nerve_model_free(m);
    m = load("[net]\ninput = 8\n[loss]\ntype = nll\n[one_hot]\nclasses = 4\n"
             "[dense]\nunits = 3\nactivation = log_softmax\n");
    expect_shape(shape_of(m, "target"), 2, 1, 8, 0);
    nerve_model_free(m);
    /* The teacher's logits are per sample: distillation takes [N, C] only. */
    expect_error("[net]\ninput = 8\n[loss]\ntype = distillation\n[one_hot]\nclasses = 4\n"
                 "[dense]\nunits = 3\n",
                 "distillation: student logits 1x8x3 and teacher logits");
}

static void test_token_ids_are_checked(void **state)
{
    nerve_model *m = load(NET "[embedding]\nvocab = 5\ndim = 4\n[dense]\nunits = 5\n");
    nerve_error err = {0};
    float ids[16] = {0, 1, 2, 3, 4, 4, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0};
    test_require_ok(nerve_model_check_tokens(m, ids, 2, "ids.csv", &err), &err);
    ids[10] = 5;
    assert_int_equal(nerve_model_check_tokens(m, ids, 2, "ids.csv", &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "ids.csv: sample 1, step 2: token id 5 is not an integer "
                                       "in [0, 5)");
    ids[10] = 2.5f;
    assert_int_not_equal(nerve_model_check_tokens(m, ids, 2, "ids.csv", &err), NERVE_OK);
    test_assert_message_contains(&err, "step 2: token id 2.5 is not an integer");
    ids[10] = -1;
    assert_int_not_equal(nerve_model_check_tokens(m, ids, 2, "ids.csv", &err), NERVE_OK);
    ids[10] = NAN;
    assert_int_not_equal(nerve_model_check_tokens(m, ids, 2, "ids.csv", &err), NERVE_OK);
    float probabilities[2 * 8 * 5];
    assert_int_not_equal(nerve_predict(m, ids, 2, probabilities, &err), NERVE_OK);
    test_assert_message_contains(&err, "prediction input: sample 1, step 2: token id nan");
    nerve_model_free(m);

    m = load("[net]\ninput = 8\n[loss]\ntype = mse\n[dense]\nunits = 1\n");
    test_require_ok(nerve_model_check_tokens(m, ids, 2, "ids.csv", &err), &err);
    nerve_model_free(m);
}

/* Loading a data set checks every id and names the file and the sample;
 * a per-step classifier needs a label per step. */
static void test_loaded_data_is_checked(void **state)
{
    const char *csv = test_tmppath("ids.csv");
    const char rows[] = "0,1,2,3,0\n3,3,2,1,1\n1,4,0,2,0\n";
    test_write_file(csv, rows, sizeof rows - 1);
    char text[512];
    snprintf(text, sizeof text,
             "[net]\ninput = 4\n[data]\nformat = csv\ntrain = %s\n"
             "[embedding]\nvocab = 4\ndim = 3\n[flatten]\n[dense]\nunits = 2\n",
             csv);
    nerve_model *m = load(text);
    nerve_dataset train;
    nerve_error err = {0};
    assert_int_equal(nerve_model_load_data(m, &train, NULL, NULL, &err), NERVE_ERR_INVALID);
    char expected[600];
    snprintf(expected, sizeof expected, "%s: sample 2, step 1: token id 4 is not an integer in "
                                        "[0, 4)", csv);
    test_assert_message_contains(&err, expected);
    nerve_model_free(m);

    snprintf(text, sizeof text,
             "[net]\ninput = 4\n[data]\nformat = csv\ntrain = %s\n"
             "[embedding]\nvocab = 5\ndim = 3\n[dense]\nunits = 2\n",
             csv);
    m = load(text);
    assert_int_equal(nerve_model_load_data(m, &train, NULL, NULL, &err), NERVE_ERR_SHAPE);
    test_assert_message_contains(&err, "1 labels per sample, the network predicts 4 (one per "
                                       "step)");
    nerve_model_free(m);
}

/* The limit is the smallest table reading the node, through views of it. */
static void test_token_limit_follows_views(void **state)
{
    nerve_graph *g = nerve_graph_new();
    nerve_error err = {0};
    nerve_node ids = test_require_node(nerve_input(g, "ids", nerve_shape_1d(6), &err), &err);
    nerve_node other = test_require_node(nerve_input(g, "other", nerve_shape_1d(6), &err), &err);
    assert_int_equal(nerve_graph_token_limit(g, ids), 0);
    nerve_node w = test_require_node(nerve_param(g, "w", nerve_shape_2d(7, 2), &err), &err);
    nerve_node view = test_require_node(nerve_reshape(g, ids, nerve_shape_2d(2, 3), &err), &err);
    test_require_node(nerve_embedding(g, view, w, -1, &err), &err);
    assert_int_equal(nerve_graph_token_limit(g, ids), 7);
    test_require_node(nerve_one_hot(g, ids, 5, &err), &err);
    assert_int_equal(nerve_graph_token_limit(g, ids), 5);
    assert_int_equal(nerve_graph_token_limit(g, other), 0);
    assert_int_equal(nerve_graph_token_limit(g, -1), 0);
    nerve_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embedding_then_dense_per_step),
        cmocka_unit_test(test_embedding_initialisation_and_padding),
        cmocka_unit_test(test_one_hot_and_per_step_regression),
        cmocka_unit_test(test_dense_keeps_steps_and_flattens_images),
        cmocka_unit_test(test_bad_embedding_keys),
        cmocka_unit_test(test_bad_one_hot_keys),
        cmocka_unit_test(test_token_layers_read_the_raw_input),
        cmocka_unit_test(test_losses_on_steps),
        cmocka_unit_test(test_token_ids_are_checked),
        cmocka_unit_test(test_loaded_data_is_checked),
        cmocka_unit_test(test_token_limit_follows_views),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
