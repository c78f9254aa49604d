/* The numeric CSV reader: layouts (header, label column, regression targets)
 * load as written, and every malformed input names file:line[:column]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

static const char *write_csv(const char *name, const char *text)
{
    const char *path = test_tmppath(name);
    test_write_file(path, text, strlen(text));
    return path;
}

static nerve_csv_options classification(int label_column)
{
    return (nerve_csv_options){.header = false, .label_column = label_column, .targets = 0};
}

static void assert_floats(const float *actual, const float *expected, int count)
{
    for (int i = 0; i < count; i++) assert_true(actual[i] == expected[i]);
}

/* Loads text and expects status with a message containing both the file's
 * path followed by location ("path:line:column") and phrase. */
static void assert_rejected(const char *text, const nerve_csv_options *options,
                            nerve_status status, const char *location, const char *phrase)
{
    const char *path = write_csv("rejected.csv", text);
    nerve_dataset ds;
    nerve_error err = {0};
    assert_int_equal(nerve_csv_load(path, options, &ds, &err), status);
    char where[600];
    snprintf(where, sizeof where, "%s%s", path, location);
    test_assert_message_contains(&err, where);
    test_assert_message_contains(&err, phrase);
    assert_null(ds.inputs);
    assert_null(ds.targets);
}

static void test_label_in_last_column_round_trips(void **state)
{
    const char *path = write_csv("last.csv", "0.5,1,2\n-3,4e2,0\n7,8.25,1\n");
    nerve_csv_options options = classification(-1);
    nerve_dataset ds;
    nerve_error err = {0};
    assert_int_equal(nerve_csv_load(path, &options, &ds, &err), NERVE_OK);
    assert_int_equal(ds.count, 3);
    assert_int_equal(ds.sample_shape.ndim, 1);
    assert_int_equal(ds.sample_shape.dim[0], 2);
    assert_int_equal(ds.sample_size, 2);
    assert_int_equal(ds.target_size, 1);
    assert_int_equal(ds.num_classes, 3);
    assert_floats(ds.inputs, (const float[]){0.5f, 1, -3, 400, 7, 8.25f}, 6);
    assert_floats(ds.targets, (const float[]){2, 0, 1}, 3);
    nerve_dataset_free(&ds);
}

static void test_label_in_first_column_with_header(void **state)
{
    const char *path = write_csv("first.csv", "label,x,y\n4,1,2\n0,3,4\n");
    nerve_csv_options options = {.header = true, .label_column = 0};
    nerve_dataset ds;
    nerve_error err = {0};
    assert_int_equal(nerve_csv_load(path, &options, &ds, &err), NERVE_OK);
    assert_int_equal(ds.count, 2);
    assert_int_equal(ds.sample_size, 2);
    assert_int_equal(ds.num_classes, 5);
    assert_floats(ds.inputs, (const float[]){1, 2, 3, 4}, 4);
    assert_floats(ds.targets, (const float[]){4, 0}, 2);
    nerve_dataset_free(&ds);
}

static void test_label_in_a_middle_column(void **state)
{
    const char *path = write_csv("middle.csv", "1,9,2\n3,8,4\n");
    nerve_csv_options options = classification(1);
    nerve_dataset ds;
    nerve_error err = {0};
    assert_int_equal(nerve_csv_load(path, &options, &ds, &err), NERVE_OK);
    assert_floats(ds.inputs, (const float[]){1, 2, 3, 4}, 4);
    assert_floats(ds.targets, (const float[]){9, 8}, 2);
    assert_int_equal(ds.num_classes, 10);
    nerve_dataset_free(&ds);
}

static void test_regression_targets_are_the_last_columns(void **state)
{
    const char *path = write_csv("regression.csv", "x,y,t1,t2\n1,2,0.5,-1.5\n3,4,2.5,3.5\n");
    nerve_csv_options options = {.header = true, .label_column = -1, .targets = 2};
    nerve_dataset ds;
    nerve_error err = {0};
    assert_int_equal(nerve_csv_load(path, &options, &ds, &err), NERVE_OK);
    assert_int_equal(ds.count, 2);
    assert_int_equal(ds.sample_size, 2);
    assert_int_equal(ds.target_size, 2);
    assert_int_equal(ds.num_classes, 0);
    assert_floats(ds.inputs, (const float[]){1, 2, 3, 4}, 4);
    assert_floats(ds.targets, (const float[]){0.5f, -1.5f, 2.5f, 3.5f}, 4);
    nerve_dataset_free(&ds);
}

static void test_features_only_rows_have_no_targets(void **state)
{
    const char *path = write_csv("features.csv", "1,2,3\n4,5,6\n");
    nerve_csv_options options = classification(NERVE_CSV_NO_LABEL);
    nerve_dataset ds;
    nerve_error err = {0};
    assert_int_equal(nerve_csv_load(path, &options, &ds, &err), NERVE_OK);
    assert_int_equal(ds.count, 2);
    assert_int_equal(ds.sample_size, 3);
    assert_int_equal(ds.target_size, 0);
    assert_null(ds.targets);
    assert_int_equal(ds.num_classes, 0);
    assert_floats(ds.inputs, (const float[]){1, 2, 3, 4, 5, 6}, 6);
    nerve_dataset_free(&ds);
}

static void test_bom_crlf_blank_lines_and_padding_are_accepted(void **state)
{
    /* A byte-order mark, CRLF, blank lines, padded fields, no final newline. */
    const char *path = write_csv("loose.csv", "\xEF\xBB\xBF a , b ,c\r\n\r\n 1 ,\t2, 0 \r\n"
                                              "  \n3,4,1");
    nerve_csv_options options = {.header = true, .label_column = -1};
    nerve_dataset ds;
    nerve_error err = {0};
    assert_int_equal(nerve_csv_load(path, &options, &ds, &err), NERVE_OK);
    assert_int_equal(ds.count, 2);
    assert_floats(ds.inputs, (const float[]){1, 2, 3, 4}, 4);
    assert_floats(ds.targets, (const float[]){0, 1}, 2);
    nerve_dataset_free(&ds);
}

static void test_many_rows_grow_the_buffers(void **state)
{
    enum { ROWS = 5000 };
    static char text[ROWS * 16];
    size_t used = 0;
    for (int i = 0; i < ROWS; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, "%d,%d,%d\n", i, -i, i % 7);
    const char *path = write_csv("many.csv", text);
    nerve_csv_options options = classification(-1);
    nerve_dataset ds;
    nerve_error err = {0};
    assert_int_equal(nerve_csv_load(path, &options, &ds, &err), NERVE_OK);
    assert_int_equal(ds.count, ROWS);
    assert_int_equal(ds.num_classes, 7);
    assert_true(ds.inputs[2 * (ROWS - 1)] == ROWS - 1);
    assert_true(ds.inputs[2 * (ROWS - 1) + 1] == -(ROWS - 1));
    assert_true(ds.targets[ROWS - 1] == (ROWS - 1) % 7);
    nerve_dataset_free(&ds);
}

static void test_bad_number_names_line_and_column(void **state)
{
    nerve_csv_options options = {.header = true, .label_column = -1};
    assert_rejected("a,b,c\n1,2,0\n1,abc,0\n", &options, NERVE_ERR_FORMAT, ":3:2:",
                    "'abc' is not a number");
    assert_rejected("h\n1,2 3,0\n", &options, NERVE_ERR_FORMAT, ":2:2:", "'2 3' is not a number");
    assert_rejected("h\n1,,0\n", &options, NERVE_ERR_FORMAT, ":2:2:", "empty value");
    assert_rejected("h\n1,2,0,\n", &options, NERVE_ERR_FORMAT, ":2:4:", "empty value");
    assert_rejected("h\n1,nan,0\n", &options, NERVE_ERR_FORMAT, ":2:2:", "not a finite");
    assert_rejected("h\n1e39,1,0\n", &options, NERVE_ERR_FORMAT, ":2:1:", "not a finite");
}

static void test_ragged_row_is_an_error(void **state)
{
    nerve_csv_options options = classification(-1);
    assert_rejected("1,2,3,0\n\n4,5,6,1\n7,8,1\n", &options, NERVE_ERR_FORMAT, ":4:",
                    "expected 4 columns, found 3");
}

static void test_labels_must_be_non_negative_integers(void **state)
{
    nerve_csv_options last = classification(-1);
    assert_rejected("1,2,0\n1,2,-1\n", &last, NERVE_ERR_FORMAT, ":2:3:",
                    "label -1 is not a non-negative integer");
    assert_rejected("1,2,1.5\n", &last, NERVE_ERR_FORMAT, ":1:3:",
                    "label 1.5 is not a non-negative integer");
    nerve_csv_options first = classification(0);
    assert_rejected("1e9,2,3\n", &first, NERVE_ERR_FORMAT, ":1:1:", "not a non-negative integer");
}

/* Labels that are names: the distinct names, sorted, are the classes,
 * whatever order the rows meet them in (issue 19 item 8). */
static void test_string_labels_become_sorted_classes(void **state)
{
    const char *path = write_csv("names.csv", "1,2,virginica\n3,4, setosa \n5,6,versicolor\n"
                                              "7,8,setosa\n");
    nerve_csv_options options = classification(-1);
    nerve_dataset ds;
    nerve_error err = {0};
    test_require_ok(nerve_csv_load(path, &options, &ds, &err), &err);
    assert_int_equal(ds.num_classes, 3);
    assert_non_null(ds.class_names);
    assert_string_equal(ds.class_names[0], "setosa");
    assert_string_equal(ds.class_names[1], "versicolor");
    assert_string_equal(ds.class_names[2], "virginica");
    const float labels[] = {2, 0, 1, 0};
    assert_floats(ds.targets, labels, 4);
    const float inputs[] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_floats(ds.inputs, inputs, 8);

    /* Mapped onto a model's list: a file that lacks a class, or a class
     * the list lacks. */
    const char *const model[] = {"rose", "setosa", "versicolor", "virginica"};
    test_require_ok(nerve_dataset_map_classes(&ds, model, 4, path, &err), &err);
    assert_int_equal(ds.num_classes, 4);
    const float mapped[] = {3, 1, 2, 1};
    assert_floats(ds.targets, mapped, 4);
    assert_string_equal(ds.class_names[0], "rose");
    const char *const small[] = {"setosa"};
    assert_int_equal(nerve_dataset_map_classes(&ds, small, 1, "names.csv", &err),
                     NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "names.csv: class 'rose' is not one of the model's 1 "
                                       "classes (setosa)");
    nerve_dataset_free(&ds);

    assert_rejected("1,2,cat\n3,4,\n", &options, NERVE_ERR_FORMAT, ":2:3:", "empty label");
    /* Numbered labels stay numbered: a later name is not a number. */
    assert_rejected("1,2,0\n3,4,cat\n", &options, NERVE_ERR_FORMAT, ":2:3:",
                    "'cat' is not a number");
}

static void test_empty_and_header_only_files_are_errors(void **state)
{
    nerve_csv_options options = {.header = true, .label_column = -1};
    assert_rejected("", &options, NERVE_ERR_FORMAT, ":", "no data rows");
    assert_rejected("a,b,label\n\n", &options, NERVE_ERR_FORMAT, ":", "no data rows");
}

static void test_options_that_do_not_fit_the_columns_are_errors(void **state)
{
    nerve_csv_options beyond = classification(3);
    assert_rejected("1,2,3\n", &beyond, NERVE_ERR_INVALID, ":1:",
                    "label column 3 is out of range for 3 columns");
    nerve_csv_options all_targets = {.targets = 3};
    assert_rejected("1,2,3\n", &all_targets, NERVE_ERR_FORMAT, ":1:", "no feature beside");
    nerve_csv_options only_label = classification(-1);
    assert_rejected("1\n", &only_label, NERVE_ERR_FORMAT, ":1:", "need 2 columns");
    nerve_csv_options negative = {.targets = -1};
    assert_rejected("1,2\n", &negative, NERVE_ERR_INVALID, ":", "targets must be >= 0");
}

static void test_missing_file_error_names_the_file(void **state)
{
    const char *path = test_tmppath("absent.csv");
    nerve_csv_options options = classification(-1);
    nerve_dataset ds;
    nerve_error err = {0};
    assert_int_equal(nerve_csv_load(path, &options, &ds, &err), NERVE_ERR_IO);
    test_assert_message_contains(&err, path);
    test_assert_message_contains(&err, "cannot open");
}

/* The row buffers grow with what is read: one row wider than the first
 * buffer, and more rows than it holds, both load whole. */
static void test_wide_rows_and_many_rows_load_whole(void **state)
{
    enum { WIDE = 20000, ROWS = 5000 };
    char *text = malloc(4 * WIDE + 16);
    assert_non_null(text);
    char *p = text;
    for (int c = 0; c < WIDE; c++) p += sprintf(p, c ? ",%d" : "%d", c % 7);
    strcpy(p, "\n");
    nerve_csv_options options = classification(-1);
    nerve_dataset ds;
    nerve_error err = {0};
    assert_int_equal(nerve_csv_load(write_csv("wide.csv", text), &options, &ds, &err), NERVE_OK);
    assert_int_equal(ds.count, 1);
    assert_int_equal(ds.sample_size, WIDE - 1);
    assert_float_equal(ds.inputs[WIDE - 2], ((WIDE - 2) % 7), 0);
    nerve_dataset_free(&ds);
    free(text);

    text = malloc(16 * ROWS + 1);
    assert_non_null(text);
    p = text;
    for (int r = 0; r < ROWS; r++) p += sprintf(p, "%d,%d,%d\n", r, -r, r % 3);
    assert_int_equal(nerve_csv_load(write_csv("long.csv", text), &options, &ds, &err), NERVE_OK);
    assert_int_equal(ds.count, ROWS);
    assert_float_equal(ds.inputs[2 * (ROWS - 1) + 1], -(ROWS - 1), 0);
    assert_float_equal(ds.targets[ROWS - 1], ((ROWS - 1) % 3), 0);
    nerve_dataset_free(&ds);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_label_in_last_column_round_trips),
        cmocka_unit_test(test_wide_rows_and_many_rows_load_whole),
        cmocka_unit_test(test_label_in_first_column_with_header),
        cmocka_unit_test(test_label_in_a_middle_column),
        cmocka_unit_test(test_regression_targets_are_the_last_columns),
        cmocka_unit_test(test_features_only_rows_have_no_targets),
        cmocka_unit_test(test_bom_crlf_blank_lines_and_padding_are_accepted),
        cmocka_unit_test(test_many_rows_grow_the_buffers),
        cmocka_unit_test(test_bad_number_names_line_and_column),
        cmocka_unit_test(test_ragged_row_is_an_error),
        cmocka_unit_test(test_labels_must_be_non_negative_integers),
        cmocka_unit_test(test_string_labels_become_sorted_classes),
        cmocka_unit_test(test_empty_and_header_only_files_are_errors),
        cmocka_unit_test(test_options_that_do_not_fit_the_columns_are_errors),
        cmocka_unit_test(test_missing_file_error_names_the_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
