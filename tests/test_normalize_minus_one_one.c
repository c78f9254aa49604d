/* [data] normalize = minus_one_one maps [0, scale] to [-1, 1] (a tanh
 * generator's range), for the training and the test set alike, and
 * nerve_model_input_transform gives the same map as pixel * gain + offset. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "test_support.h"

static void test_pixels_map_to_minus_one_one(void **state)
{
    (void)state;
    const char *csv = "0,255,1\n51,127.5,0\n255,0,1\n";
    const char *train = test_tmppath("train.csv");
    test_write_file(train, csv, strlen(csv));
    char cfg[1024];
    snprintf(cfg, sizeof cfg,
             "[net]\ninput = 2\n[data]\nformat = csv\ntrain = %s\ntest = %s\nscale = 255\n"
             "normalize = minus_one_one\n[dense]\nunits = 2\n",
             train, train);
    const char *path = test_tmppath("m.cfg");
    test_write_file(path, cfg, strlen(cfg));
    nerve_error err = {0};
    nerve_model *m = NULL;
    test_require_ok(nerve_model_load(path, NULL, &m, &err), &err);
    nerve_dataset tr = {0}, te = {0};
    test_require_ok(nerve_model_load_data(m, &tr, NULL, &te, &err), &err);
    const float expected[] = {-1, 1, -0.6f, 0, 1, -1};
    test_assert_close("train", tr.inputs, expected, 6, 1e-6);
    test_assert_close("test", te.inputs, expected, 6, 1e-6);
    double gain, offset;
    nerve_model_input_transform(m, &gain, &offset);
    assert_true(fabs(gain - 2.0 / 255) < 1e-12 && fabs(offset + 1) < 1e-12);
    nerve_dataset_free(&tr);
    nerve_dataset_free(&te);
    nerve_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pixels_map_to_minus_one_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
