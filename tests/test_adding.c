/* The adding problem: every sample has exactly two markers, one in each
 * half, and its target is the sum of the two marked values; the same seed
 * gives the same samples; predicting 1 always scores about 1/6; a model's
 * [data] format = adding generates train, validation and test sets from
 * [net] seed, and its settings are checked where they are written. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "test_support.h"

static void test_two_markers_one_per_half_and_the_target_is_their_sum(void **state)
{
    const int64_t length = 9, count = 500;
    nerve_dataset ds;
    nerve_error err = {0};
    test_require_ok(nerve_adding_generate(length, count, 7, &ds, &err), &err);
    assert_int_equal(ds.count, count);
    assert_int_equal(ds.sample_shape.ndim, 2);
    assert_int_equal(ds.sample_shape.dim[0], length);
    assert_int_equal(ds.sample_shape.dim[1], 2);
    assert_int_equal(ds.sample_size, 2 * length);
    assert_int_equal(ds.target_size, 1);
    assert_int_equal(ds.num_classes, 0);
    int64_t first_seen[9] = {0}, second_seen[9] = {0};
    for (int64_t s = 0; s < count; s++) {
        const float *x = ds.inputs + s * 2 * length;
        int64_t marked[2], markers = 0;
        for (int64_t t = 0; t < length; t++) {
            assert_true(x[2 * t] >= 0 && x[2 * t] < 1);
            assert_true(x[2 * t + 1] == 0 || x[2 * t + 1] == 1);
            if (x[2 * t + 1] == 1 && markers < 2) marked[markers] = t;
            markers += x[2 * t + 1] == 1;
        }
        assert_int_equal(markers, 2);
        assert_true(marked[0] < length / 2 && marked[1] >= length / 2);
        first_seen[marked[0]]++;
        second_seen[marked[1]]++;
        assert_true(ds.targets[s] == x[2 * marked[0]] + x[2 * marked[1]]);
    }
    /* Every step of each half is marked at some point. */
    for (int64_t t = 0; t < length; t++)
        assert_true(t < length / 2 ? first_seen[t] : second_seen[t]);
    nerve_dataset_free(&ds);
}

static void test_the_seed_fixes_the_samples(void **state)
{
    nerve_dataset a, b, c;
    nerve_error err = {0};
    test_require_ok(nerve_adding_generate(20, 50, 3, &a, &err), &err);
    test_require_ok(nerve_adding_generate(20, 50, 3, &b, &err), &err);
    test_require_ok(nerve_adding_generate(20, 50, 4, &c, &err), &err);
    assert_memory_equal(a.inputs, b.inputs, 50 * 40 * sizeof(float));
    assert_memory_equal(a.targets, b.targets, 50 * sizeof(float));
    assert_memory_not_equal(a.inputs, c.inputs, 50 * 40 * sizeof(float));
    nerve_dataset_free(&a);
    nerve_dataset_free(&b);
    nerve_dataset_free(&c);
    assert_int_equal(nerve_adding_generate(1, 5, 1, &a, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "length of at least 2");
}

/* The sum of two U(0, 1) has mean 1 and variance 2 / 12. */
static void test_predicting_one_always_scores_about_a_sixth(void **state)
{
    nerve_dataset ds;
    nerve_error err = {0};
    test_require_ok(nerve_adding_generate(10, 20000, 5, &ds, &err), &err);
    assert_float_equal(nerve_adding_baseline(&ds), 1.0 / 6, 0.005);
    nerve_dataset_free(&ds);
}

static nerve_model *load(const char *cfg, nerve_error *err, nerve_status expected)
{
    const char *path = test_tmppath("adding.cfg");
    test_write_file(path, cfg, strlen(cfg));
    nerve_model *m = NULL;
    assert_int_equal(nerve_model_load(path, NULL, &m, err), expected);
    return m;
}

static void test_a_model_generates_its_sets_from_the_seed(void **state)
{
    const char *cfg = "[net]\ninput = 6x2\nseed = 9\n"
                      "[data]\nformat = adding\nlength = 6\ntrain_samples = 100\n"
                      "test_samples = 30\nvalidation = 20\n"
                      "[loss]\ntype = mse\n[flatten]\n[dense]\nunits = 1\n";
    nerve_error err = {0};
    nerve_model *m = load(cfg, &err, NERVE_OK);
    assert_true(nerve_model_has_test_data(m));
    nerve_dataset train, val, test, again;
    test_require_ok(nerve_model_load_data(m, &train, &val, &test, &err), &err);
    assert_int_equal(train.count, 80);
    assert_int_equal(val.count, 20);
    assert_int_equal(test.count, 30);
    /* the test set is drawn apart from the training set */
    assert_memory_not_equal(train.inputs, test.inputs, 30 * 12 * sizeof(float));
    test_require_ok(nerve_model_load_data(m, &again, NULL, NULL, &err), &err);
    assert_memory_equal(train.inputs, again.inputs, 80 * 12 * sizeof(float));
    nerve_dataset_free(&train);
    nerve_dataset_free(&val);
    nerve_dataset_free(&test);
    nerve_dataset_free(&again);
    nerve_model_free(m);

    /* input = 12 would take the samples flat (an MLP); 7 values do not fit. */
    m = load("[net]\ninput = 7\n[data]\nformat = adding\nlength = 6\n"
             "[loss]\ntype = mse\n[flatten]\n[dense]\nunits = 1\n", &err, NERVE_OK);
    assert_int_equal(nerve_model_load_data(m, &train, NULL, NULL, &err), NERVE_ERR_SHAPE);
    test_assert_message_contains(&err, "samples have 12 values (6x2), the network input 7");
    nerve_model_free(m);
}

static void test_adding_settings_are_checked_where_they_are_written(void **state)
{
    nerve_error err = {0};
    load("[net]\ninput = 4\n[data]\nformat = adding\n[dense]\nunits = 1\n", &err,
         NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "adding.cfg:3: [data] requires the key 'length'");
    load("[net]\ninput = 4\n[data]\nformat = adding\nlength = 1\n[dense]\nunits = 1\n", &err,
         NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "adding.cfg:5: [data] length: 1 is out of range");
    load("[net]\ninput = 4\n[data]\nformat = adding\nlength = 2\ntrain = x.csv\n"
         "[dense]\nunits = 1\n", &err, NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "adding.cfg:6: [data] train: only applies to [data] format "
                                       "idx, csv, text and folder");
    load("[net]\ninput = 4\n[data]\nformat = csv\nlength = 2\n[dense]\nunits = 1\n", &err,
         NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "adding.cfg:5: [data] length: only applies to [data] "
                                       "format adding");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_markers_one_per_half_and_the_target_is_their_sum),
        cmocka_unit_test(test_the_seed_fixes_the_samples),
        cmocka_unit_test(test_predicting_one_always_scores_about_a_sixth),
        cmocka_unit_test(test_a_model_generates_its_sets_from_the_seed),
        cmocka_unit_test(test_adding_settings_are_checked_where_they_are_written),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
