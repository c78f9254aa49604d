/* The public API's growth habits (docs/api.md, "Compatibility"): a model's
 * settings by key (nerve_model_set, nerve_model_get), the version, and the
 * size field of the option structs as the library reads it. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/options.h"
#include "test_support.h"

static const char *const cfg_text =
    "[net]\n"
    "input = 4\n"
    "batch = 8\n"
    "\n"
    "[optimizer]\n"
    "type = sgd\n"
    "lr = 0.5\n"
    "\n"
    "[dense]\n"
    "name = hidden\n"
    "units = 3\n";

static nerve_model *load(void)
{
    const char *path = test_tmppath("settings.cfg");
    test_write_file(path, cfg_text, strlen(cfg_text));
    nerve_model *m = NULL;
    nerve_error err = {0};
    test_require_ok(nerve_model_load(path, NULL, &m, &err), &err);
    return m;
}

static void test_get_gives_the_cfg_value_or_nothing(void **state)
{
    (void)state;
    nerve_model *m = load();
    nerve_error err = {0};
    char value[64];
    test_require_ok(nerve_model_get(m, "optimizer.lr", value, sizeof value, &err), &err);
    assert_string_equal(value, "0.5");
    test_require_ok(nerve_model_get(m, "hidden.units", value, sizeof value, &err), &err);
    assert_string_equal(value, "3");
    test_require_ok(nerve_model_get(m, "net.epochs", value, sizeof value, &err), &err);
    assert_string_equal(value, ""); /* not written: the default applies */
    assert_int_equal(nerve_model_get(m, "nosuch.key", value, sizeof value, &err),
                     NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "no section or layer named 'nosuch'");
    assert_int_equal(nerve_model_get(m, "optimizer.lr", value, 3, &err), NERVE_ERR_INVALID);
    nerve_model_free(m);
}

static void test_set_changes_the_settings_in_force(void **state)
{
    (void)state;
    nerve_model *m = load();
    nerve_error err = {0};
    test_require_ok(nerve_model_set(m, "optimizer.lr", "0.125", &err), &err);
    assert_true(nerve_model_optimizer_options(m).lr == 0.125);
    test_require_ok(nerve_model_set(m, "net.epochs", "7", &err), &err);
    test_require_ok(nerve_model_set(m, "net.batch", "full", &err), &err);
    nerve_train_options run = nerve_train_options_from(m);
    assert_int_equal(run.epochs, 7);
    assert_int_equal(run.batch, 0);
    char value[64];
    test_require_ok(nerve_model_get(m, "net.epochs", value, sizeof value, &err), &err);
    assert_string_equal(value, "7");
    /* A default that depends on the value follows it: Adam's lr 0.001. */
    nerve_model_free(m);
    const char *path = test_tmppath("adam.cfg");
    const char *text = "[net]\ninput = 4\n[dense]\nunits = 3\n";
    test_write_file(path, text, strlen(text));
    test_require_ok(nerve_model_load(path, NULL, &m, &err), &err);
    test_require_ok(nerve_model_set(m, "optimizer.type", "adam", &err), &err);
    nerve_optimizer_options adam = nerve_model_optimizer_options(m);
    assert_int_equal(adam.kind, NERVE_OPTIMIZER_ADAM);
    assert_true(adam.lr == 0.001);
    nerve_model_free(m);
}

static void test_set_refuses_without_changing_anything(void **state)
{
    (void)state;
    nerve_model *m = load();
    nerve_error err = {0};
    assert_int_equal(nerve_model_set(m, "optimizer.lr", "-1", &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "lr");
    assert_true(nerve_model_optimizer_options(m).lr == 0.5);
    char value[64];
    test_require_ok(nerve_model_get(m, "optimizer.lr", value, sizeof value, &err), &err);
    assert_string_equal(value, "0.5");
    assert_int_equal(nerve_model_set(m, "optimizer.lrr", "0.1", &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "did you mean 'lr'");
    assert_int_equal(nerve_model_set(m, "hidden.units", "4", &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "not a settings section");
    assert_int_equal(nerve_model_set(m, "net.input", "5", &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "shapes the network");
    assert_int_equal(nerve_model_set(m, "loss.type", "mse", &err), NERVE_ERR_INVALID);
    assert_int_equal(nerve_model_set(m, "optimizer", "0.1", &err), NERVE_ERR_INVALID);
    nerve_shape input = nerve_model_input_shape(m);
    assert_int_equal(nerve_shape_numel(&input), 4);
    nerve_model_free(m);
}

static void test_version(void **state)
{
    (void)state;
    assert_string_equal(nerve_version(), NERVE_VERSION);
    assert_int_equal(nerve_version_number(), NERVE_VERSION_NUMBER);
    char text[32];
    snprintf(text, sizeof text, "%d.%d.%d", NERVE_VERSION_NUMBER / 1000000,
             NERVE_VERSION_NUMBER / 1000 % 1000, NERVE_VERSION_NUMBER % 1000);
    assert_string_equal(text, NERVE_VERSION);
}

/* A caller's struct as an older header declared it: the first fields only. */
typedef struct older_options {
    size_t size;
    int a;
} older_options;
typedef struct library_options {
    size_t size;
    int a;
    double added; /* a later field: zero is its default */
} library_options;

static void test_options_read_takes_what_the_size_covers(void **state)
{
    (void)state;
    nerve_error err = {0};
    library_options out;
    older_options old = {sizeof old, 7};
    assert_true(nerve_options_read(&out, sizeof out, &old, NERVE_OPTIONS_BASE(library_options, a),
                                   "f", &err));
    assert_int_equal(out.a, 7);
    assert_true(out.added == 0);
    assert_int_equal(out.size, sizeof out);
    older_options zeroed = {.a = 3}; /* size 0: the base layout */
    assert_true(nerve_options_read(&out, sizeof out, &zeroed,
                                   NERVE_OPTIONS_BASE(library_options, a), "f", &err));
    assert_int_equal(out.a, 3);
    struct {
        library_options o;
        double future;
    } newer = {{sizeof newer, 1, 2}, 3};
    assert_false(nerve_options_read(&out, sizeof out, &newer,
                                    NERVE_OPTIONS_BASE(library_options, a), "nerve_f", &err));
    test_assert_message_contains(&err, "nerve_f: options of");
    test_assert_message_contains(&err, "newer nerve.h");
    older_options tiny = {1, 0};
    assert_false(nerve_options_read(&out, sizeof out, &tiny,
                                    NERVE_OPTIONS_BASE(library_options, a), "nerve_f", &err));
    /* The library's defaults written into an older caller's struct. */
    library_options full = {sizeof full, 5, 9};
    older_options small = {0, 0};
    nerve_options_write(&small, sizeof small, &full, sizeof full);
    assert_int_equal(small.size, sizeof small);
    assert_int_equal(small.a, 5);
}

static void test_public_functions_check_the_size(void **state)
{
    (void)state;
    nerve_error err = {0};
    nerve_graph *g = nerve_graph_new();
    nerve_rng rng;
    nerve_rng_seed(&rng, 1);
    nerve_node x = test_require_node(nerve_input(g, "x", nerve_shape_1d(4), &err), &err);
    nerve_dense_options zeroed = {.units = 3};
    test_require_node(nerve_dense(g, "a", x, &zeroed, &rng, &err), &err);
    nerve_dense_options sized = {NERVE_SIZED(nerve_dense_options), .units = 3};
    test_require_node(nerve_dense(g, "b", x, &sized, &rng, &err), &err);
    nerve_dense_options wrong = {.size = 1, .units = 3};
    assert_int_equal(nerve_dense(g, "c", x, &wrong, &rng, &err), -1);
    test_assert_message_contains(&err, "nerve_dense: options of 1 bytes");
    nerve_graph_free(g);
    nerve_optimizer_options o = nerve_optimizer_defaults(NERVE_OPTIMIZER_SGD);
    assert_int_equal(o.size, sizeof o);
    nerve_schedule s = nerve_schedule_defaults(NERVE_SCHEDULE_STEP);
    assert_int_equal(s.size, sizeof s);
    assert_true(s.gamma == 0.1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_gives_the_cfg_value_or_nothing),
        cmocka_unit_test(test_set_changes_the_settings_in_force),
        cmocka_unit_test(test_set_refuses_without_changing_anything),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_options_read_takes_what_the_size_covers),
        cmocka_unit_test(test_public_functions_check_the_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
