/* A .cfg becomes a model, and every mistake in one is an error naming
 * file:line: unknown sections and keys, bad or out-of-range values, missing
 * required keys, duplicate names, dangling input=. */
#include <stdio.h>
#include <string.h>

#include "core/graph_internal.h"
#include "model/model_settings.h"
#include "test_support.h"

static const char *const base_cfg =
    "[net]\n"            /* 1 */
    "input = 4\n"        /* 2 */
    "batch = 8\n"        /* 3 */
    "\n"                 /* 4 */
    "[optimizer]\n"      /* 5 */
    "lr = 0.1\n"         /* 6 */
    "momentum = 0.9\n"   /* 7 */
    "\n"                 /* 8 */
    "[dense]\n"          /* 9 */
    "name = hidden\n"    /* 10 */
    "units = 5\n"        /* 11 */
    "activation = relu\n" /* 12 */
    "\n"                 /* 13 */
    "[dense]\n"          /* 14 */
    "units = 3\n";       /* 15 */

static nerve_status load_text(const char *text, const char *const *overrides, nerve_model **m,
                              nerve_error *err)
{
    const char *path = test_tmppath("model.cfg");
    test_write_file(path, text, strlen(text));
    return nerve_model_load(path, overrides, m, err);
}

/* Loads base_cfg with `extra` appended and expects failure with `needle`. */
static void expect_error(const char *extra, const char *needle)
{
    char text[4096];
    snprintf(text, sizeof text, "%s%s", base_cfg, extra);
    nerve_model *m = NULL;
    nerve_error err = {0};
    assert_int_not_equal(load_text(text, NULL, &m, &err), NERVE_OK);
    assert_null(m);
    test_assert_message_contains(&err, "model.cfg");
    test_assert_message_contains(&err, needle);
}

static void test_valid_config_builds_the_network(void **state)
{
    nerve_model *m;
    nerve_error err = {0};
    assert_int_equal(load_text(base_cfg, NULL, &m, &err), NERVE_OK);
    const nerve_model_settings *s = nerve_model_settings_of(m);
    assert_int_equal(s->batch, 8);
    assert_int_equal(s->epochs, 10);
    assert_true(s->optimizer.lr == 0.1 && s->optimizer.momentum == 0.9);
    assert_int_equal(nerve_model_layer_count(m), 2);
    assert_string_equal(nerve_model_layer_name(m, 0), "hidden");
    assert_string_equal(nerve_model_layer_name(m, 1), "dense1"); /* type plus index */
    assert_int_equal(nerve_model_classes(m), 3);
    nerve_graph *g = nerve_model_graph(m);
    nerve_shape w = nerve_node_shape(g, nerve_graph_find(g, "hidden.weight"));
    assert_int_equal(w.dim[0], 5); /* PyTorch layout: [out, in] */
    assert_int_equal(w.dim[1], 4);
    assert_true(nerve_graph_find(g, "dense1.bias") >= 0);
    assert_int_equal(nerve_graph_param_count(g), 5 * 4 + 5 + 3 * 5 + 3);
    nerve_model_free(m);
}

static void test_overrides_apply_by_section_and_by_layer_name(void **state)
{
    const char *const overrides[] = {"net.batch=16", "hidden.units=7", "optimizer.lr=0.5", NULL};
    nerve_model *m;
    nerve_error err = {0};
    assert_int_equal(load_text(base_cfg, overrides, &m, &err), NERVE_OK);
    assert_int_equal(nerve_model_settings_of(m)->batch, 16);
    assert_true(nerve_model_settings_of(m)->optimizer.lr == 0.5);
    nerve_graph *g = nerve_model_graph(m);
    assert_int_equal(nerve_node_shape(g, nerve_graph_find(g, "hidden.weight")).dim[0], 7);
    nerve_model_free(m);
}

static void test_overrides_reach_default_names_and_absent_sections(void **state)
{
    /* The second [dense] is dense1 (type plus index among [dense] sections);
     * base_cfg has no [loss] section. */
    const char *const overrides[] = {"dense1.units=6", "loss.type=mse", NULL};
    nerve_model *m;
    nerve_error err = {0};
    assert_int_equal(load_text(base_cfg, overrides, &m, &err), NERVE_OK);
    nerve_graph *g = nerve_model_graph(m);
    assert_int_equal(nerve_node_shape(g, nerve_graph_find(g, "dense1.weight")).dim[0], 6);
    assert_int_equal(nerve_model_settings_of(m)->loss, NERVE_LOSS_MSE);
    nerve_model_free(m);
}

static void test_default_names_count_per_type(void **state)
{
    char text[4096];
    snprintf(text, sizeof text, "%s[activation]\ntype = tanh\n[dense]\nunits = 2\n", base_cfg);
    nerve_model *m;
    nerve_error err = {0};
    assert_int_equal(load_text(text, NULL, &m, &err), NERVE_OK);
    assert_string_equal(nerve_model_layer_name(m, 2), "activation0");
    assert_string_equal(nerve_model_layer_name(m, 3), "dense2");
    nerve_model_free(m);
}

static void test_override_with_a_bad_value_is_rejected(void **state)
{
    const char *const overrides[] = {"hidden.units=zero", NULL};
    nerve_model *m = NULL;
    nerve_error err = {0};
    assert_int_not_equal(load_text(base_cfg, overrides, &m, &err), NERVE_OK);
    test_assert_message_contains(&err, "--set");
    test_assert_message_contains(&err, "units");
}

static void test_unknown_key_names_its_line(void **state)
{
    expect_error("activaton = tanh\n", "model.cfg:16: unknown key 'activaton'");
}

/* A misspelt required key is the unknown key on its own line, with the key
 * it was meant to be, not the missing key at the section's line. */
static void test_a_misspelt_required_key_is_the_unknown_key(void **state)
{
    expect_error("[dense]\nname = x\nunit = 3\n",
                 "model.cfg:18: unknown key 'unit' in [dense], did you mean 'units'?");
    expect_error("[dense]\nunits = 3\nactivaton = tanh\n",
                 "model.cfg:18: unknown key 'activaton' in [dense], did you mean 'activation'?");
    expect_error("[dense]\nunits = 3\nzebra = 1\n", "unknown key 'zebra' in [dense] (see");
    expect_error("[dens]\nunits = 3\n", "model.cfg:16: unknown section [dens], did you mean [dense]?");
}

static void test_closest_name_allows_a_few_edits_only(void **state)
{
    const char *const names[] = {"units", "activation", "name", "l1", NULL};
    assert_string_equal(nerve_closest_name("unit", names, -1), "units");
    assert_string_equal(nerve_closest_name("unist", names, -1), "units");
    assert_string_equal(nerve_closest_name("actvation", names, 4), "activation");
    assert_null(nerve_closest_name("lr", names, -1));
    assert_null(nerve_closest_name("units", names, -1));
    assert_null(nerve_closest_name("banana", names, -1));
}

static void test_unknown_section_names_its_line(void **state)
{
    expect_error("[denes]\nunits = 3\n", "model.cfg:16: unknown section [denes]");
}

static void test_bad_number_names_its_line(void **state)
{
    expect_error("[dense]\nunits = three\n", "model.cfg:17: [dense] units: 'three' is not an integer");
}

static void test_out_of_range_value(void **state)
{
    expect_error("[dense]\nunits = 0\n", "model.cfg:17: [dense] units: 0 is out of range");
}

/* Absurd sizes are errors before anything is allocated: a value out of its
 * key's range, a parameter beyond the limit (NERVE_PARAM_LIMIT, 2^30), and
 * parameters that pass it together, however each fits alone (shown under a
 * lowered limit, so that the test allocates little). */
static void test_absurd_sizes_are_refused_before_allocating(void **state)
{
    expect_error("[dense]\nunits = 100000000000\n",
                 "model.cfg:17: [dense] units: 100000000000 is out of range");
    static const struct {
        int64_t limit;
        const char *text, *needle;
    } cases[] = {
        {0, "[net]\ninput = 65536\n[dense]\nunits = 16777216\n",
         "model.cfg:3: [dense] parameter 'dense0.weight': shape 16777216x65536 (1099511627776 "
         "elements) would take the network past the limit of 1073741824 parameters"},
        {1000, "[net]\ninput = 20\n[dense]\nunits = 20\n[dense]\nunits = 30\n",
         "model.cfg:5: [dense] parameter 'dense1.weight': shape 30x20 (600 elements) would take "
         "the network past the limit of 1000 parameters"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nerve_graph_set_param_limit(cases[i].limit);
        nerve_model *m = NULL;
        nerve_error err = {0};
        nerve_status status = load_text(cases[i].text, NULL, &m, &err);
        nerve_graph_set_param_limit(0);
        assert_int_equal(status, NERVE_ERR_SHAPE);
        assert_null(m);
        test_assert_message_contains(&err, cases[i].needle);
    }
}

static void test_bad_choice_lists_the_choices(void **state)
{
    expect_error("[dense]\nunits = 2\nactivation = rleu\n", "'rleu' is not one of");
}

static void test_missing_required_key(void **state)
{
    expect_error("[dense]\nname = x\n", "model.cfg:16: [dense] requires the key 'units'");
}

static void test_duplicate_layer_name(void **state)
{
    expect_error("[dense]\nname = hidden\nunits = 2\n", "model.cfg:17: [dense] name: 'hidden' is already");
}

static void test_dangling_input(void **state)
{
    expect_error("[dense]\ninput = nowhere\nunits = 2\n", "model.cfg:17: [dense] input: no earlier layer is named 'nowhere'");
    /* An inline activation's <name>_act is not a layer name: the message says what to write. */
    expect_error("[dense]\ninput = hidden_act\nunits = 2\n",
                 "model.cfg:17: [dense] input: 'hidden_act' is not a layer: 'input = hidden' is "
                 "already hidden's output after its activation");
    expect_error("[dense]\ninput = other_act\nunits = 2\n",
                 "model.cfg:17: [dense] input: no earlier layer is named 'other_act'");
}

static void test_slope_without_leaky_relu(void **state)
{
    expect_error("[activation]\ntype = relu\nslope = 0.2\n", "slope: only applies to activation leaky_relu");
}

static void test_second_net_section(void **state)
{
    expect_error("[net]\ninput = 3\n", "model.cfg:16: second [net] section (first at line 1)");
}

static void test_missing_net_section(void **state)
{
    nerve_model *m = NULL;
    nerve_error err = {0};
    assert_int_not_equal(load_text("[dense]\nunits = 2\n", NULL, &m, &err), NERVE_OK);
    test_assert_message_contains(&err, "missing the [net] section");
}

static void test_softmax_before_cross_entropy_is_refused(void **state)
{
    expect_error("[activation]\ntype = softmax\n", "remove its softmax");
}

static void test_input_selects_an_earlier_layer(void **state)
{
    char text[4096];
    snprintf(text, sizeof text, "%s[dense]\nname = side\ninput = hidden\nunits = 2\n", base_cfg);
    nerve_model *m;
    nerve_error err = {0};
    assert_int_equal(load_text(text, NULL, &m, &err), NERVE_OK);
    nerve_graph *g = nerve_model_graph(m);
    assert_int_equal(nerve_node_shape(g, nerve_graph_find(g, "side.weight")).dim[1], 5);
    nerve_model_free(m);
}

static void test_schedule_section(void **state)
{
    char text[4096];
    snprintf(text, sizeof text, "%s[schedule]\ntype = step\nstep_size = 4\ngamma = 0.5\n", base_cfg);
    nerve_model *m;
    nerve_error err = {0};
    assert_int_equal(load_text(text, NULL, &m, &err), NERVE_OK);
    const nerve_schedule *s = &nerve_model_settings_of(m)->schedule;
    assert_int_equal(s->kind, NERVE_SCHEDULE_STEP);
    assert_int_equal(s->step_size, 4);
    assert_true(s->gamma == 0.5);
    nerve_model_free(m);
}

static void test_step_schedule_requires_step_size(void **state)
{
    expect_error("[schedule]\ntype = step\n", "model.cfg:16: [schedule] requires the key 'step_size'");
}

static void test_missing_file_is_named(void **state)
{
    nerve_model *m = NULL;
    nerve_error err = {0};
    assert_int_not_equal(nerve_model_load("/nonexistent/dir/x.cfg", NULL, &m, &err), NERVE_OK);
    test_assert_message_contains(&err, "/nonexistent/dir/x.cfg");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_config_builds_the_network),
        cmocka_unit_test(test_a_misspelt_required_key_is_the_unknown_key),
        cmocka_unit_test(test_closest_name_allows_a_few_edits_only),
        cmocka_unit_test(test_overrides_apply_by_section_and_by_layer_name),
        cmocka_unit_test(test_overrides_reach_default_names_and_absent_sections),
        cmocka_unit_test(test_default_names_count_per_type),
        cmocka_unit_test(test_override_with_a_bad_value_is_rejected),
        cmocka_unit_test(test_unknown_key_names_its_line),
        cmocka_unit_test(test_unknown_section_names_its_line),
        cmocka_unit_test(test_bad_number_names_its_line),
        cmocka_unit_test(test_out_of_range_value),
        cmocka_unit_test(test_absurd_sizes_are_refused_before_allocating),
        cmocka_unit_test(test_bad_choice_lists_the_choices),
        cmocka_unit_test(test_missing_required_key),
        cmocka_unit_test(test_duplicate_layer_name),
        cmocka_unit_test(test_dangling_input),
        cmocka_unit_test(test_slope_without_leaky_relu),
        cmocka_unit_test(test_second_net_section),
        cmocka_unit_test(test_missing_net_section),
        cmocka_unit_test(test_softmax_before_cross_entropy_is_refused),
        cmocka_unit_test(test_input_selects_an_earlier_layer),
        cmocka_unit_test(test_schedule_section),
        cmocka_unit_test(test_step_schedule_requires_step_size),
        cmocka_unit_test(test_missing_file_is_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
