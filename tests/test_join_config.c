/* The cfg's structural layers: joins (input = a,b,...) wire the layers they
 * name, pooling and reshape sections build the shapes PyTorch would, every
 * wiring or shape mistake is an error naming file:line, and a residual MLP
 * (dense + add) built from a cfg trains. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

static const char *const head =
    "[net]\ninput = 4\nbatch = 8\nseed = 2\n"          /* lines 1-4 */
    "[dense]\nname = a\nunits = 3\n"                    /* 5-7 */
    "[dense]\nname = b\ninput = input\nunits = 3\n";   /* 8-11 */

static nerve_status load_text(const char *text, nerve_model **m, nerve_error *err)
{
    const char *path = test_tmppath("join.cfg");
    test_write_file(path, text, strlen(text));
    *m = NULL;
    return nerve_model_load(path, NULL, m, err);
}

static nerve_model *load_ok(const char *text)
{
    nerve_model *m;
    nerve_error err = {0};
    test_require_ok(load_text(text, &m, &err), &err);
    return m;
}

static void expect_error(const char *text, const char *needle)
{
    nerve_model *m;
    nerve_error err = {0};
    assert_int_not_equal(load_text(text, &m, &err), NERVE_OK);
    assert_null(m);
    test_assert_message_contains(&err, "join.cfg:");
    test_assert_message_contains(&err, needle);
}

/* Runs the network on one sample of ones. */
static nerve_graph *forward_ones(nerve_model *m)
{
    nerve_graph *g = nerve_model_graph(m);
    nerve_error err = {0};
    test_require_ok(nerve_graph_plan(g, 1, &err), &err);
    nerve_node in = nerve_model_input(m);
    nerve_shape s = nerve_node_shape(g, in);
    for (int64_t i = 0; i < nerve_shape_numel(&s); i++) nerve_node_value(g, in)[i] = 1;
    assert_int_equal(nerve_graph_forward(g, nerve_model_output(m), NULL), NERVE_OK);
    return g;
}

static const nerve_real *layer_value(nerve_model *m, const char *name)
{
    nerve_graph *g = nerve_model_graph(m);
    nerve_node n = nerve_graph_find(g, name);
    assert_true(n >= 0);
    return nerve_node_value(g, n);
}

static void test_add_sums_the_layers_it_names(void **state)
{
    char text[1024];
    snprintf(text, sizeof text, "%s[add]\nname = sum\ninput = a, b\n[dense]\nunits = 2\n", head);
    nerve_model *m = load_ok(text);
    assert_string_equal(nerve_model_layer_type(m, 2), "add");
    nerve_graph *g = forward_ones(m);
    nerve_shape s = nerve_node_shape(g, nerve_model_layer_node(m, 2));
    assert_int_equal(s.ndim, 2);
    assert_int_equal(s.dim[1], 3);
    const nerve_real *a = layer_value(m, "a"), *b = layer_value(m, "b"), *sum = layer_value(m, "sum");
    for (int i = 0; i < 3; i++) assert_float_equal(sum[i], a[i] + b[i], 1e-6);
    /* the next layer's input is the join */
    assert_int_equal(nerve_node_shape(g, nerve_graph_find(g, "dense2.weight")).dim[1], 3);
    nerve_model_free(m);
}

static void test_concat_joins_features_in_input_order(void **state)
{
    char text[1024];
    snprintf(text, sizeof text, "%s[concat]\nname = cat\ninput = b,input,a\n[dense]\nunits = 2\n",
             head);
    nerve_model *m = load_ok(text);
    nerve_graph *g = forward_ones(m);
    assert_int_equal(nerve_node_shape(g, nerve_graph_find(g, "cat")).dim[1], 3 + 4 + 3);
    const nerve_real *a = layer_value(m, "a"), *b = layer_value(m, "b"), *cat = layer_value(m, "cat");
    for (int i = 0; i < 3; i++) {
        assert_float_equal(cat[i], b[i], 0);
        assert_float_equal(cat[7 + i], a[i], 0);
    }
    for (int i = 3; i < 7; i++) assert_float_equal(cat[i], 1, 0);
    nerve_model_free(m);
}

/* 2x7x7 images: max 3x3 stride 2 with ceil_mode gives 3x3; avg 2x2 with
 * padding 1 gives 2x2 (2.5 rounded down); reshape and identity keep the
 * elements; a dilated 2x2 window spans 3x3; the global average gives one
 * value per channel. */
static void test_pooling_and_reshape_sections_build_torch_shapes(void **state)
{
    nerve_model *m = load_ok("[net]\ninput = 2x7x7\n"
                             "[maxpool2d]\nname = max\nkernel = 3\nstride = 2\nceil_mode = true\n"
                             "[avgpool2d]\nname = avg\nkernel = 2,2\npadding = 1\n"
                             "count_include_pad = false\n"
                             "[identity]\nname = same\n"
                             "[reshape]\nname = flat\nshape = 2, -1\n"
                             "[reshape]\nname = back\nshape = 2,2,2\n"
                             "[maxpool2d]\nname = dilated\nkernel = 2\nstride = 1\npadding = 1\n"
                             "dilation = 2\n"
                             "[global_avgpool]\nname = gap\n"
                             "[dense]\nunits = 2\n");
    nerve_graph *g = nerve_model_graph(m);
    static const struct { const char *name; int ndim; int64_t dim[3]; } expected[] = {
        {"max", 3, {2, 3, 3}}, {"avg", 3, {2, 2, 2}}, {"same", 3, {2, 2, 2}},
        {"flat", 2, {2, 4}},   {"back", 3, {2, 2, 2}}, {"dilated", 3, {2, 2, 2}},
        {"gap", 1, {2}},
    };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        nerve_shape s = nerve_node_shape(g, nerve_graph_find(g, expected[i].name));
        assert_int_equal(s.ndim, expected[i].ndim + 1);
        for (int d = 0; d < expected[i].ndim; d++)
            assert_int_equal(s.dim[d + 1], expected[i].dim[d]);
    }
    nerve_model_free(m);
}

static void test_a_join_needs_two_inputs(void **state)
{
    char text[1024];
    snprintf(text, sizeof text, "%s[add]\ninput = a\n", head);
    expect_error(text, "join.cfg:13: [add] input: [add] joins two or more layers");
    snprintf(text, sizeof text, "%s[concat]\n", head);
    expect_error(text, "join.cfg:12: [concat] input: [concat] joins two or more layers");
}

static void test_a_single_input_layer_refuses_two(void **state)
{
    char text[1024];
    snprintf(text, sizeof text, "%s[dense]\ninput = a,b\nunits = 2\n", head);
    expect_error(text, "join.cfg:13: [dense] input: [dense] takes one input");
}

static void test_unknown_layer_in_input(void **state)
{
    char text[1024];
    snprintf(text, sizeof text, "%s[add]\ninput = a,c\n", head);
    expect_error(text, "join.cfg:13: [add] input: no earlier layer is named 'c'");
}

static void test_add_of_different_shapes(void **state)
{
    char text[1024];
    snprintf(text, sizeof text, "%s[dense]\nname = wide\ninput = input\nunits = 5\n"
                                "[add]\nname = sum\ninput = a,wide\n", head);
    expect_error(text, "join.cfg:16: [add] add 'sum': input 1 'wide' is 1x5 but input 0 'a' is 1x3");
}

static void test_concat_of_different_spatial_sizes(void **state)
{
    expect_error("[net]\ninput = 2x6x6\n[maxpool2d]\nname = half\nkernel = 2\n"
                 "[concat]\nname = cat\ninput = input,half\n",
                 "join.cfg:6: [concat] concat 'cat': input 1 'half' is 1x2x3x3 but input 0 "
                 "'input' is 1x2x6x6; all dims but 1 must agree");
}

static void test_reshape_with_the_wrong_element_count(void **state)
{
    char text[1024];
    snprintf(text, sizeof text, "%s[reshape]\nshape = 2,2\n", head);
    expect_error(text, "join.cfg:12: [reshape] reshape: input 1x3 has 3 elements per sample, "
                       "which shape 2x2 cannot hold");
    snprintf(text, sizeof text, "%s[reshape]\nshape = -1,-1\n", head);
    expect_error(text, "each dimension is at least 1, and one may be -1");
    snprintf(text, sizeof text, "%s[reshape]\nshape = 1.5\n", head);
    expect_error(text, "join.cfg:13: [reshape] shape: not a shape");
    snprintf(text, sizeof text, "%s[reshape]\n", head);
    expect_error(text, "join.cfg:12: [reshape] requires the key 'shape'");
}

static void test_bad_pooling_keys(void **state)
{
    expect_error("[net]\ninput = 1x4x4\n[maxpool2d]\nstride = 2\n",
                 "join.cfg:3: [maxpool2d] requires the key 'kernel'");
    expect_error("[net]\ninput = 1x4x4\n[maxpool2d]\nkernel = 2,2,2\n",
                 "join.cfg:4: [maxpool2d] kernel: '2,2,2' is not N or H,W");
    expect_error("[net]\ninput = 1x4x4\n[avgpool2d]\nkernel = 3\npadding = 2\n",
                 "join.cfg:5: [avgpool2d] padding: 2 is more than half the kernel (3)");
    expect_error("[net]\ninput = 1x4x4\n[avgpool2d]\nkernel = 2\ndilation = 2\n",
                 "join.cfg:5: unknown key 'dilation' in [avgpool2d]");
    expect_error("[net]\ninput = 1x4x4\n[maxpool2d]\nkernel = 5\n",
                 "join.cfg:3: [maxpool2d] max_pool2d: input 'input' 1x1x4x4 is too small");
    expect_error("[net]\ninput = 16\n[maxpool2d]\nkernel = 2\n",
                 "is not [N, C, H, W]");
}

static void record_loss(const nerve_epoch_report *r, void *user)
{
    ((double *)user)[r->epoch - 1] = r->train_loss;
}

/* y = x0 + x1 > 0 on points of the plane, learnt through a residual block:
 * h = tanh(dense(x)), r = tanh(dense(h)) + h, out = dense(r). */
static void test_residual_mlp_trains(void **state)
{
    nerve_model *m = load_ok("[net]\ninput = 2\nbatch = 16\nepochs = 15\nseed = 5\n"
                             "[optimizer]\nlr = 0.05\nmomentum = 0.9\n"
                             "[dense]\nname = h\nunits = 8\nactivation = tanh\n"
                             "[dense]\nname = r\nunits = 8\nactivation = tanh\n"
                             "[add]\nname = shortcut\ninput = r,h\n"
                             "[dense]\nname = out\nunits = 2\n");
    enum { SAMPLES = 128 };
    nerve_rng rng;
    nerve_rng_seed(&rng, 9);
    nerve_dataset ds = {.count = SAMPLES, .sample_shape = nerve_shape_1d(2), .sample_size = 2,
                        .target_size = 1, .num_classes = 2};
    ds.inputs = malloc(SAMPLES * 2 * sizeof(float));
    ds.targets = malloc(SAMPLES * sizeof(float));
    for (int i = 0; i < SAMPLES; i++) {
        ds.inputs[2 * i] = (float)nerve_rng_normal(&rng);
        ds.inputs[2 * i + 1] = (float)nerve_rng_normal(&rng);
        ds.targets[i] = ds.inputs[2 * i] + ds.inputs[2 * i + 1] > 0;
    }
    double loss[15];
    nerve_train_options o = nerve_train_options_from(m);
    o.on_epoch = record_loss;
    o.user = loss;
    nerve_error err = {0};
    test_require_ok(nerve_train(m, &ds, NULL, &o, &err), &err);
    assert_true(loss[14] < 0.5 * loss[0]);
    nerve_evaluation e;
    test_require_ok(nerve_evaluate(m, &ds, 0, &e, &err), &err);
    assert_true(e.accuracy > 0.9);
    nerve_evaluation_free(&e);
    nerve_dataset_free(&ds);
    nerve_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_sums_the_layers_it_names),
        cmocka_unit_test(test_concat_joins_features_in_input_order),
        cmocka_unit_test(test_pooling_and_reshape_sections_build_torch_shapes),
        cmocka_unit_test(test_a_join_needs_two_inputs),
        cmocka_unit_test(test_a_single_input_layer_refuses_two),
        cmocka_unit_test(test_unknown_layer_in_input),
        cmocka_unit_test(test_add_of_different_shapes),
        cmocka_unit_test(test_concat_of_different_spatial_sizes),
        cmocka_unit_test(test_reshape_with_the_wrong_element_count),
        cmocka_unit_test(test_bad_pooling_keys),
        cmocka_unit_test(test_residual_mlp_trains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
