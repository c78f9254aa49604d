/* Data-set operations: the validation split, normalisation and gathering
 * of mini-batches. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

/* count samples of sample_size inputs valued 100 * sample + element, and
 * target_size targets valued sample. */
static nerve_dataset make_dataset(int64_t count, int64_t sample_size, int64_t target_size)
{
    nerve_dataset ds = {.count = count,
                        .sample_shape = nerve_shape_1d(sample_size),
                        .sample_size = sample_size,
                        .target_size = target_size,
                        .num_classes = target_size == 1 ? 7 : 0};
    ds.inputs = malloc((size_t)(count * sample_size) * sizeof(float));
    assert_non_null(ds.inputs);
    for (int64_t i = 0; i < count; i++)
        for (int64_t j = 0; j < sample_size; j++)
            ds.inputs[i * sample_size + j] = (float)(100 * i + j);
    if (target_size) {
        ds.targets = malloc((size_t)(count * target_size) * sizeof(float));
        assert_non_null(ds.targets);
        for (int64_t i = 0; i < count * target_size; i++) ds.targets[i] = (float)(i / target_size);
    }
    return ds;
}

static nerve_dataset make_values(const float *values, int64_t count)
{
    nerve_dataset ds = make_dataset(count, 1, 0);
    memcpy(ds.inputs, values, (size_t)count * sizeof(float));
    return ds;
}

static void test_split_moves_the_last_samples_into_validation(void **state)
{
    nerve_dataset ds = make_dataset(5, 3, 1), val;
    nerve_error err = {0};
    assert_int_equal(nerve_dataset_split(&ds, 2, &val, &err), NERVE_OK);
    assert_int_equal(ds.count, 3);
    assert_int_equal(val.count, 2);
    assert_true(nerve_shape_equal(&val.sample_shape, &ds.sample_shape));
    assert_int_equal(val.sample_size, 3);
    assert_int_equal(val.target_size, 1);
    assert_int_equal(val.num_classes, 7);
    assert_true(val.inputs != ds.inputs);
    assert_true(val.inputs[0] == 300 && val.inputs[5] == 402);
    assert_true(val.targets[0] == 3 && val.targets[1] == 4);
    assert_true(ds.inputs[8] == 202 && ds.targets[2] == 2);
    nerve_dataset_free(&val);
    nerve_dataset_free(&ds);
    assert_null(ds.inputs);
    assert_int_equal(ds.count, 0);
}

static void test_split_must_leave_training_samples(void **state)
{
    nerve_dataset ds = make_dataset(5, 3, 1), val;
    nerve_error err = {0};
    assert_int_equal(nerve_dataset_split(&ds, 5, &val, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "validation split of 5 samples");
    test_assert_message_contains(&err, "less than the 5 samples");
    assert_int_equal(nerve_dataset_split(&ds, -1, &val, &err), NERVE_ERR_INVALID);
    assert_int_equal(ds.count, 5);
    assert_null(val.inputs);
    nerve_dataset_free(&ds);
}

static void test_split_of_zero_gives_an_empty_validation_set(void **state)
{
    nerve_dataset ds = make_dataset(5, 3, 1), val;
    nerve_error err = {0};
    assert_int_equal(nerve_dataset_split(&ds, 0, &val, &err), NERVE_OK);
    assert_int_equal(ds.count, 5);
    assert_int_equal(val.count, 0);
    assert_null(val.inputs);
    assert_null(val.targets);
    nerve_dataset_free(&val);
    nerve_dataset_free(&ds);
}

static void test_split_of_images_without_targets(void **state)
{
    nerve_dataset ds = make_dataset(4, 2, 0), val;
    nerve_error err = {0};
    assert_int_equal(nerve_dataset_split(&ds, 1, &val, &err), NERVE_OK);
    assert_int_equal(val.count, 1);
    assert_true(val.inputs[1] == 301);
    assert_null(val.targets);
    nerve_dataset_free(&val);
    nerve_dataset_free(&ds);
}

/* 60 samples sorted by class (20 each of 0, 1, 2): the end holds class 2
 * only, and the trainer's check says so; a stratified split of 15 holds 5
 * of each class, and a random one is the same for the same seed. */
static void test_stratified_and_random_splits_of_a_sorted_file(void **state)
{
    nerve_dataset ds = make_dataset(60, 2, 1), val;
    for (int64_t i = 0; i < 60; i++) ds.targets[i] = (float)(i / 20);
    ds.num_classes = 3;
    nerve_error err = {0};
    test_require_ok(nerve_dataset_split_by(&ds, 20, NERVE_SPLIT_END, 1, &val, &err), &err);
    assert_int_equal(nerve_dataset_class_missing(&ds, &val), 2);
    nerve_dataset_free(&val);
    ds.count = 60;
    test_require_ok(nerve_dataset_split_by(&ds, 15, NERVE_SPLIT_STRATIFIED, 1, &val, &err), &err);
    assert_int_equal(ds.count, 45);
    int per_class[3] = {0};
    for (int64_t i = 0; i < val.count; i++) per_class[(int)val.targets[i]]++;
    assert_int_equal(per_class[0], 5);
    assert_int_equal(per_class[1], 5);
    assert_int_equal(per_class[2], 5);
    assert_int_equal(nerve_dataset_class_missing(&ds, &val), -1);
    /* Each sample went to one side whole, in file order. */
    for (int64_t i = 1; i < ds.count; i++) assert_true(ds.inputs[i * 2] > ds.inputs[(i - 1) * 2]);
    for (int64_t i = 0; i < ds.count; i++)
        assert_true(ds.inputs[i * 2 + 1] == ds.inputs[i * 2] + 1);
    nerve_dataset_free(&val);
    nerve_dataset_free(&ds);

    float first[10];
    for (int run = 0; run < 2; run++) {
        nerve_dataset r = make_dataset(40, 1, 1);
        r.num_classes = 40;
        test_require_ok(nerve_dataset_split_by(&r, 10, NERVE_SPLIT_RANDOM, 7, &val, &err), &err);
        if (run == 0) memcpy(first, val.inputs, sizeof first);
        else assert_memory_equal(first, val.inputs, sizeof first);
        nerve_dataset_free(&val);
        nerve_dataset_free(&r);
    }
}

static void test_scale_divides_as_torchvision_to_tensor(void **state)
{
    nerve_dataset ds = make_dataset(256, 1, 1);
    for (int i = 0; i < 256; i++) ds.inputs[i] = (float)i;
    nerve_dataset_scale(&ds, 255);
    for (int i = 0; i < 256; i++) assert_true(ds.inputs[i] == (float)i / 255.0f);
    nerve_dataset_free(&ds);
}

static void test_moments_are_population_mean_and_std(void **state)
{
    nerve_dataset ds = make_values((const float[]){1, 2, 3, 4}, 4);
    double mean, std;
    nerve_dataset_moments(&ds, &mean, &std);
    assert_true(mean == 2.5);
    assert_true(fabs(std - sqrt(1.25)) < 1e-15);
    nerve_dataset_free(&ds);
}

/* Sum and sum of squares would lose every digit here; two passes do not. */
static void test_moments_survive_a_large_offset(void **state)
{
    nerve_dataset ds = make_values((const float[]){1e6f, 1e6f + 1, 1e6f + 2, 1e6f + 3}, 4);
    double mean, std;
    nerve_dataset_moments(&ds, &mean, &std);
    assert_true(mean == 1e6 + 1.5);
    assert_true(fabs(std - sqrt(1.25)) < 1e-12);
    nerve_dataset_free(&ds);
}

static void test_moments_do_not_depend_on_the_thread_count(void **state)
{
    enum { COUNT = 300001 };
    nerve_dataset ds = make_dataset(COUNT, 1, 0);
    nerve_rng rng;
    nerve_rng_seed(&rng, 7);
    for (int i = 0; i < COUNT; i++) ds.inputs[i] = (float)(255 * nerve_rng_uniform(&rng));
    int threads = omp_get_max_threads();
    double mean_one, std_one, mean_many, std_many;
    omp_set_num_threads(1);
    nerve_dataset_moments(&ds, &mean_one, &std_one);
    omp_set_num_threads(4);
    nerve_dataset_moments(&ds, &mean_many, &std_many);
    omp_set_num_threads(threads);
    assert_memory_equal(&mean_one, &mean_many, sizeof mean_one);
    assert_memory_equal(&std_one, &std_many, sizeof std_one);
    assert_true(fabs(mean_one - 127.5) < 1);
    nerve_dataset_free(&ds);
}

static void test_standardize_gives_zero_mean_and_unit_std(void **state)
{
    nerve_dataset ds = make_dataset(50, 20, 1);
    double mean, std;
    nerve_dataset_moments(&ds, &mean, &std);
    nerve_dataset_standardize(&ds, mean, std);
    nerve_dataset_moments(&ds, &mean, &std);
    assert_true(fabs(mean) < 1e-6);
    assert_true(fabs(std - 1) < 1e-6);
    nerve_dataset_free(&ds);
}

static void test_standardize_of_a_constant_input_only_centres_it(void **state)
{
    nerve_dataset ds = make_values((const float[]){3, 3, 3}, 3);
    double mean, std;
    nerve_dataset_moments(&ds, &mean, &std);
    assert_true(mean == 3 && std == 0);
    nerve_dataset_standardize(&ds, mean, std);
    for (int i = 0; i < 3; i++) assert_true(ds.inputs[i] == 0);
    nerve_dataset_free(&ds);
}

static void test_gather_copies_the_indexed_samples_in_order(void **state)
{
    nerve_dataset ds = make_dataset(6, 3, 2);
    const int64_t index[3] = {4, 0, 4};
    nerve_real inputs[9], targets[6];
    nerve_dataset_gather(&ds, index, 3, inputs, targets);
    const nerve_real expected_inputs[9] = {400, 401, 402, 0, 1, 2, 400, 401, 402};
    const nerve_real expected_targets[6] = {4, 4, 0, 0, 4, 4};
    assert_memory_equal(inputs, expected_inputs, sizeof inputs);
    assert_memory_equal(targets, expected_targets, sizeof targets);

    nerve_real only_inputs[9] = {0};
    nerve_dataset_gather(&ds, index, 3, only_inputs, NULL);
    assert_memory_equal(only_inputs, expected_inputs, sizeof only_inputs);
    nerve_dataset_free(&ds);
}

/* Large enough to take the OpenMP path: every row must still land in place. */
static void test_gather_of_a_large_batch_matches_the_rows(void **state)
{
    enum { COUNT = 1000, SIZE = 784, BATCH = 256 };
    nerve_dataset ds = make_dataset(COUNT, SIZE, 1);
    int64_t index[BATCH];
    nerve_rng rng;
    nerve_rng_seed(&rng, 3);
    for (int i = 0; i < BATCH; i++) index[i] = (int64_t)nerve_rng_below(&rng, COUNT);
    nerve_real *inputs = malloc(sizeof(nerve_real) * BATCH * SIZE);
    nerve_real targets[BATCH];
    assert_non_null(inputs);
    nerve_dataset_gather(&ds, index, BATCH, inputs, targets);
    for (int i = 0; i < BATCH; i++) {
        assert_true(targets[i] == index[i]);
        for (int j = 0; j < SIZE; j++) assert_true(inputs[i * SIZE + j] == 100 * index[i] + j);
    }
    free(inputs);
    nerve_dataset_free(&ds);
}

/* A data set of stored pixels (as nerve_idx_load keeps IDX images) and its
 * float32 twin: the same bytes, pixel k's value k. */
static void make_pixel_twins(int64_t count, int64_t sample_size, nerve_dataset *pixels,
                             nerve_dataset *floats)
{
    *floats = make_dataset(count, sample_size, 1);
    *pixels = *floats;
    pixels->inputs = NULL;
    pixels->pixels = malloc((size_t)(count * sample_size));
    pixels->targets = malloc((size_t)count * sizeof(float));
    assert_non_null(pixels->pixels);
    assert_non_null(pixels->targets);
    memcpy(pixels->targets, floats->targets, (size_t)count * sizeof(float));
    for (int64_t k = 0; k < count * sample_size; k++) {
        pixels->pixels[k] = (unsigned char)((k * 37) % 256);
        floats->inputs[k] = (float)pixels->pixels[k];
    }
    for (int v = 0; v < 256; v++) pixels->pixel_values[v] = (float)v;
}

static void assert_same_bits(const nerve_real *a, const nerve_real *b, int64_t n)
{
    assert_memory_equal(a, b, (size_t)n * sizeof *a);
}

/* Kept as bytes, a data set gives the very floats its float32 copy gives
 * after scaling, standardising, splitting and gathering. */
static void test_stored_pixels_match_float_inputs_bit_for_bit(void **state)
{
    const int64_t count = 300, size = 50;
    nerve_dataset px, fl;
    make_pixel_twins(count, size, &px, &fl);
    nerve_dataset_scale(&px, 255);
    nerve_dataset_scale(&fl, 255);
    double pm, ps, fm, fs;
    nerve_dataset_moments(&px, &pm, &ps);
    nerve_dataset_moments(&fl, &fm, &fs);
    assert_true(pm == fm && ps == fs);
    nerve_dataset_standardize(&px, pm, ps);
    nerve_dataset_standardize(&fl, fm, fs);
    nerve_dataset pv, fv;
    nerve_error err = {0};
    test_require_ok(nerve_dataset_split_by(&px, 40, NERVE_SPLIT_RANDOM, 3, &pv, &err), &err);
    test_require_ok(nerve_dataset_split_by(&fl, 40, NERVE_SPLIT_RANDOM, 3, &fv, &err), &err);
    assert_non_null(pv.pixels);
    assert_null(pv.inputs);
    int64_t index[] = {5, 0, 259, 17, 17};
    nerve_real pin[5 * 50], fin[5 * 50], pt[5], ft[5];
    nerve_dataset_gather(&px, index, 5, pin, pt);
    nerve_dataset_gather(&fl, index, 5, fin, ft);
    assert_same_bits(pin, fin, 5 * size);
    assert_same_bits(pt, ft, 5);
    int64_t val_index[] = {39, 0, 7};
    nerve_dataset_gather(&pv, val_index, 3, pin, pt);
    nerve_dataset_gather(&fv, val_index, 3, fin, ft);
    assert_same_bits(pin, fin, 3 * size);
    test_require_ok(nerve_dataset_to_float(&px, &err), &err);
    assert_null(px.pixels);
    assert_memory_equal(px.inputs, fl.inputs, (size_t)(px.count * size) * sizeof(float));
    nerve_dataset_free(&px);
    nerve_dataset_free(&fl);
    nerve_dataset_free(&pv);
    nerve_dataset_free(&fv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_moves_the_last_samples_into_validation),
        cmocka_unit_test(test_split_must_leave_training_samples),
        cmocka_unit_test(test_split_of_zero_gives_an_empty_validation_set),
        cmocka_unit_test(test_split_of_images_without_targets),
        cmocka_unit_test(test_stratified_and_random_splits_of_a_sorted_file),
        cmocka_unit_test(test_scale_divides_as_torchvision_to_tensor),
        cmocka_unit_test(test_moments_are_population_mean_and_std),
        cmocka_unit_test(test_moments_survive_a_large_offset),
        cmocka_unit_test(test_moments_do_not_depend_on_the_thread_count),
        cmocka_unit_test(test_standardize_gives_zero_mean_and_unit_std),
        cmocka_unit_test(test_standardize_of_a_constant_input_only_centres_it),
        cmocka_unit_test(test_gather_copies_the_indexed_samples_in_order),
        cmocka_unit_test(test_gather_of_a_large_batch_matches_the_rows),
        cmocka_unit_test(test_stored_pixels_match_float_inputs_bit_for_bit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
