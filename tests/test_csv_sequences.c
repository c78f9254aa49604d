/* Sequences from CSV: one per row (T x F values, then the label, read with
 * [net] input = TxF), or (time, feature) blocks, the rows of one sequence
 * sharing an id in sequence_column, the label or targets those of the
 * block's last row; blocks of unequal length, an id that comes back and an
 * id column that is also the label are errors naming the line. */
#include <stdio.h>
#include <string.h>

#include "test_support.h"

static const char *write_csv(const char *name, const char *text)
{
    const char *path = test_tmppath(name);
    test_write_file(path, text, strlen(text));
    return path;
}

static nerve_csv_options blocks(int sequence_column)
{
    return (nerve_csv_options){.label_column = -1, .sequences = true,
                               .sequence_column = sequence_column};
}

static void assert_floats(const float *actual, const float *expected, int count)
{
    for (int i = 0; i < count; i++) assert_true(actual[i] == expected[i]);
}

static void test_blocks_of_rows_become_sequences_labelled_by_their_last_row(void **state)
{
    const char *path = write_csv("blocks.csv", "id,x,y,label\n"
                                               "7,0.1,0.2,0\n7,0.3,0.4,1\n7,0.5,0.6,1\n"
                                               "3,1.1,1.2,1\n3,1.3,1.4,0\n3,1.5,1.6,2\n");
    nerve_csv_options options = blocks(0);
    options.header = true;
    nerve_dataset ds;
    nerve_error err = {0};
    test_require_ok(nerve_csv_load(path, &options, &ds, &err), &err);
    assert_int_equal(ds.count, 2);
    assert_int_equal(ds.sample_shape.ndim, 2);
    assert_int_equal(ds.sample_shape.dim[0], 3);
    assert_int_equal(ds.sample_shape.dim[1], 2);
    assert_int_equal(ds.sample_size, 6);
    assert_int_equal(ds.target_size, 1);
    assert_int_equal(ds.num_classes, 3);
    assert_floats(ds.inputs, (const float[]){0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f,
                                             1.1f, 1.2f, 1.3f, 1.4f, 1.5f, 1.6f}, 12);
    assert_floats(ds.targets, (const float[]){1, 2}, 2);
    nerve_dataset_free(&ds);
}

static void test_block_targets_are_the_last_rows_and_the_id_may_sit_anywhere(void **state)
{
    const char *path = write_csv("regression.csv", "1,100,5,6\n2,100,7,8\n"
                                                   "1,200,9,10\n2,200,11,12\n");
    nerve_csv_options options = {.targets = 2, .sequences = true, .sequence_column = 1};
    nerve_dataset ds;
    nerve_error err = {0};
    test_require_ok(nerve_csv_load(path, &options, &ds, &err), &err);
    assert_int_equal(ds.count, 2);
    assert_int_equal(ds.sample_size, 2);
    assert_int_equal(ds.num_classes, 0);
    assert_floats(ds.inputs, (const float[]){1, 2, 1, 2}, 4);
    assert_floats(ds.targets, (const float[]){7, 8, 11, 12}, 4);
    nerve_dataset_free(&ds);
}

static void assert_rejected(const char *text, nerve_csv_options options, const char *location,
                            const char *phrase)
{
    const char *path = write_csv("rejected.csv", text);
    nerve_dataset ds;
    nerve_error err = {0};
    assert_int_not_equal(nerve_csv_load(path, &options, &ds, &err), NERVE_OK);
    char where[600];
    snprintf(where, sizeof where, "%s%s", path, location);
    test_assert_message_contains(&err, where);
    test_assert_message_contains(&err, phrase);
    assert_null(ds.inputs);
}

static void test_malformed_blocks_are_errors_naming_the_line(void **state)
{
    assert_rejected("1,0.5,0\n1,0.6,1\n2,0.7,0\n3,0.8,1\n3,0.9,0\n", blocks(0), ":3:",
                    "sequence 2 has 1 rows, the first (line 1) has 2: every sequence must have "
                    "the same length");
    assert_rejected("1,0.5,0\n1,0.6,1\n2,0.7,0\n2,0.8,1\n1,0.9,0\n1,1.0,0\n", blocks(0), ":5:",
                    "sequence 1 appears again (its rows begin at line 1)");
    assert_rejected("1,0.5,0\n", blocks(2), ":1:", "sequence column 2 is also the label");
    assert_rejected("1,0.5,0\n", blocks(3), ":1:", "sequence column 3 is out of range");
    assert_rejected("1,0\n", blocks(0), ":1:", "leave no feature");
}

/* One sequence per row needs nothing new: [net] input = TxF reads the row's
 * T * F features as T steps of F. */
static void test_a_row_of_t_times_f_values_is_a_sequence_for_input_txf(void **state)
{
    const char *data = write_csv("rows.csv", "1,2,3,4,5,6,0\n6,5,4,3,2,1,1\n");
    char cfg[1024];
    snprintf(cfg, sizeof cfg, "[net]\ninput = 3x2\n[data]\nformat = csv\ntrain = %s\n"
                              "[flatten]\n[dense]\nunits = 2\n", data);
    const char *cfg_path = write_csv("rows.cfg", cfg);
    nerve_model *m;
    nerve_error err = {0};
    test_require_ok(nerve_model_load(cfg_path, NULL, &m, &err), &err);
    nerve_dataset ds;
    test_require_ok(nerve_model_load_data(m, &ds, NULL, NULL, &err), &err);
    assert_int_equal(ds.count, 2);
    assert_int_equal(ds.sample_shape.ndim, 2);
    assert_int_equal(ds.sample_shape.dim[0], 3);
    assert_int_equal(ds.sample_shape.dim[1], 2);
    nerve_dataset_free(&ds);
    nerve_model_free(m);

    /* The blocks through a cfg: sequence_column. */
    data = write_csv("blocks.csv", "0,1,2,1\n0,3,4,1\n0,5,6,0\n1,6,5,0\n1,4,3,0\n1,2,1,1\n");
    snprintf(cfg, sizeof cfg, "[net]\ninput = 3x2\n[data]\nformat = csv\ntrain = %s\n"
                              "sequence_column = 0\n[flatten]\n[dense]\nunits = 2\n", data);
    cfg_path = write_csv("blocks.cfg", cfg);
    test_require_ok(nerve_model_load(cfg_path, NULL, &m, &err), &err);
    test_require_ok(nerve_model_load_data(m, &ds, NULL, NULL, &err), &err);
    assert_int_equal(ds.count, 2);
    assert_floats(ds.inputs, (const float[]){1, 2, 3, 4, 5, 6, 6, 5, 4, 3, 2, 1}, 12);
    assert_floats(ds.targets, (const float[]){0, 1}, 2);
    nerve_dataset_free(&ds);
    nerve_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocks_of_rows_become_sequences_labelled_by_their_last_row),
        cmocka_unit_test(test_block_targets_are_the_last_rows_and_the_id_may_sit_anywhere),
        cmocka_unit_test(test_malformed_blocks_are_errors_naming_the_line),
        cmocka_unit_test(test_a_row_of_t_times_f_values_is_a_sequence_for_input_txf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
