/* Data augmentation: each transform's semantics on small hand-made images,
 * the seeded streams (reproducible, independent of the thread count), the
 * trainer applying it to training batches only, and the [augment] section. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/augment_internal.h"
#include "model/model_settings.h"
#include "test_support.h"

static nerve_shape image_shape(int64_t c, int64_t h, int64_t w)
{
    int64_t dim[3] = {c, h, w};
    return nerve_shape_make(3, dim);
}

static nerve_augment *make(const nerve_augment_options *o, nerve_shape shape, double gain,
                           double offset, uint64_t seed)
{
    nerve_error err = {0};
    nerve_augment *a = nerve_augment_new(o, shape, gain, offset, seed, &err);
    if (!a) fail_msg("%s", err.message);
    return a;
}

/* count images of size values, value 1 + index (all distinct and above 0). */
static nerve_real *numbered_images(int64_t count, int64_t size)
{
    nerve_real *x = malloc((size_t)(count * size) * sizeof *x);
    for (int64_t i = 0; i < count * size; i++) x[i] = (nerve_real)(1 + i % size);
    return x;
}

static augment_draw identity_draw(const nerve_augment *a)
{
    augment_draw d = {0};
    d.crop_y = d.crop_x = a->options.crop_padding;
    d.brightness = d.contrast = 1;
    return d;
}

static void test_defaults_are_off_and_erasing_is_torchvisions(void **state)
{
    (void)state;
    nerve_augment_options o = nerve_augment_defaults();
    assert_false(nerve_augment_enabled(&o));
    assert_true(o.erase_scale[0] == 0.02 && o.erase_scale[1] == 0.33);
    assert_true(o.erase_ratio[0] == 0.3 && o.erase_ratio[1] == 3.3);
    assert_true(o.erase_value == 0);
    o.flip = 0.5;
    assert_true(nerve_augment_enabled(&o));
}

static void test_flip_mirrors_exactly(void **state)
{
    (void)state;
    nerve_augment_options o = nerve_augment_defaults();
    o.flip = 1;
    const int64_t n = 3, c = 2, h = 3, w = 5, size = c * h * w;
    nerve_augment *a = make(&o, image_shape(c, h, w), 1, 0, 1);
    nerve_real *x = numbered_images(n, size), *original = numbered_images(n, size);
    nerve_augment_apply(a, x, n, 0, 0);
    for (int64_t i = 0; i < n * size; i++) {
        int64_t col = i % w;
        assert_true(x[i] == original[i - col + (w - 1 - col)]);
    }
    /* Flipping twice is the identity. */
    nerve_augment_apply(a, x, n, 0, 0);
    assert_memory_equal(x, original, (size_t)(n * size) * sizeof *x);
    free(x);
    free(original);
    nerve_augment_free(a);
}

/* Whether out is in shifted by (dy, dx), black where that reads outside. */
static bool is_shift(const nerve_real *out, const nerve_real *in, int64_t h, int64_t w,
                     int64_t dy, int64_t dx, nerve_real black)
{
    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 0; x < w; x++) {
            int64_t sy = y + dy, sx = x + dx;
            nerve_real want = sy >= 0 && sy < h && sx >= 0 && sx < w ? in[sy * w + sx] : black;
            if (out[y * w + x] != want) return false;
        }
    return true;
}

static void test_crop_with_padding_shifts_by_at_most_the_padding_with_black(void **state)
{
    (void)state;
    nerve_augment_options o = nerve_augment_defaults();
    o.crop_padding = 2;
    const int64_t n = 40, h = 6, w = 7, size = h * w;
    /* Standardised data: a black pixel is -0.5 in the batch. */
    nerve_augment *a = make(&o, image_shape(1, h, w), 1, -0.5, 3);
    nerve_real *x = numbered_images(n, size), *original = numbered_images(n, size);
    nerve_augment_apply(a, x, n, 0, 0);
    int shifted = 0;
    for (int64_t i = 0; i < n; i++) {
        bool found = false;
        for (int64_t dy = -2; dy <= 2 && !found; dy++)
            for (int64_t dx = -2; dx <= 2 && !found; dx++)
                if (is_shift(x + i * size, original + i * size, h, w, dy, dx, -0.5f)) {
                    found = true;
                    shifted += dy != 0 || dx != 0;
                }
        assert_true(found);
    }
    assert_true(shifted > n / 2);

    /* The window's corner at (0, 4) of the padded image: content moves down
     * 2 and left 2. */
    augment_draw d = identity_draw(a);
    d.crop_y = 0;
    d.crop_x = 4;
    nerve_real scratch[(6 + 2) * (7 + 2)];
    memcpy(x, original, (size_t)size * sizeof *x);
    augment_sample(a, &d, x, scratch);
    assert_true(is_shift(x, original, h, w, -2, 2, -0.5f));
    free(x);
    free(original);
    nerve_augment_free(a);
}

static void test_rotation_and_translation(void **state)
{
    (void)state;
    nerve_augment_options o = nerve_augment_defaults();
    o.rotation = 10;
    o.translate = 0.2;
    const int64_t h = 5, w = 5, size = h * w;
    nerve_augment *a = make(&o, image_shape(1, h, w), 1, 0, 1);
    nerve_real *x = numbered_images(1, size), *original = numbered_images(1, size);
    nerve_real scratch[7 * 7];

    augment_draw d = identity_draw(a);
    augment_sample(a, &d, x, scratch);
    assert_memory_equal(x, original, (size_t)size * sizeof *x);

    /* A full turn goes through the bilinear sampling and lands back. */
    d.angle = 360;
    augment_sample(a, &d, x, scratch);
    for (int64_t i = 0; i < size; i++) assert_true(fabs(x[i] - original[i]) < 1e-4);

    /* 90 degrees counter-clockwise: the right edge goes to the top,
     * out[y][x] = in[x][W - 1 - y]. */
    memcpy(x, original, (size_t)size * sizeof *x);
    d.angle = 90;
    augment_sample(a, &d, x, scratch);
    for (int64_t y = 0; y < h; y++)
        for (int64_t col = 0; col < w; col++)
            assert_true(fabs(x[y * w + col] - original[col * w + (w - 1 - y)]) < 1e-4);

    /* A shift right 2 and down 1, black (0) coming in. */
    memcpy(x, original, (size_t)size * sizeof *x);
    d = identity_draw(a);
    d.shift_x = 2;
    d.shift_y = 1;
    augment_sample(a, &d, x, scratch);
    assert_true(is_shift(x, original, h, w, -1, -2, 0));

    /* Drawn shifts are whole pixels within translate * size: 0.2 * 5 = 1. */
    nerve_rng rng;
    nerve_rng_seed(&rng, 5);
    for (int i = 0; i < 200; i++) {
        augment_draw_sample(a, &rng, &d);
        assert_true(d.angle >= -10 && d.angle <= 10);
        assert_true(llabs(d.shift_x) <= 1 && llabs(d.shift_y) <= 1);
    }
    free(x);
    free(original);
    nerve_augment_free(a);
}

static void test_brightness_and_contrast_factors(void **state)
{
    (void)state;
    nerve_augment_options o = nerve_augment_defaults();
    o.brightness = 0.3;
    const int64_t n = 200, size = 4;
    /* Standardised: pixel p is p / 100 - 1 in the batch, black is -1. */
    nerve_augment *a = make(&o, image_shape(1, 2, 2), 0.01, -1, 7);
    nerve_real x[200 * 4];
    for (int64_t i = 0; i < n * size; i++) x[i] = (nerve_real)(0.01 * (double)(50 + i % size) - 1);
    nerve_augment_apply(a, x, n, 0, 0);
    double low = INFINITY, high = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        /* Each pixel of a sample is scaled by the same factor. */
        double f = (x[i * size] + 1) / 0.5;
        for (int64_t k = 1; k < size; k++)
            assert_true(fabs((x[i * size + k] + 1) / (0.01 * (double)(50 + k)) - f) < 1e-4);
        assert_true(f >= 0.7 - 1e-5 && f <= 1.3 + 1e-5);
        low = fmin(low, f);
        high = fmax(high, f);
    }
    assert_true(low < 0.75 && high > 1.25);
    nerve_augment_free(a);

    o = nerve_augment_defaults();
    o.contrast = 0.5;
    a = make(&o, image_shape(1, 2, 2), 1, 0, 7);
    const nerve_real pixels[4] = {1, 2, 3, 6}; /* mean 3 */
    for (int64_t i = 0; i < n * size; i++) x[i] = pixels[i % size];
    nerve_augment_apply(a, x, n, 0, 0);
    for (int64_t i = 0; i < n; i++) {
        double f = (x[i * size] - 3) / (1 - 3.0);
        assert_true(f >= 0.5 - 1e-5 && f <= 1.5 + 1e-5);
        for (int64_t k = 0; k < size; k++)
            assert_true(fabs(x[i * size + k] - (3 + f * (pixels[k] - 3))) < 1e-4);
    }
    nerve_augment_free(a);
}

/* Gaussian noise of `noise` pixel units: gain times that in batch units,
 * independent per pixel, a function of (seed, step, sample). */
static void test_noise_is_gaussian_in_pixel_units(void **state)
{
    (void)state;
    nerve_augment_options o = nerve_augment_defaults();
    o.noise = 20;
    assert_true(nerve_augment_enabled(&o));
    const int64_t n = 500, size = 16;
    nerve_augment *a = make(&o, image_shape(1, 4, 4), 0.01, -1, 3);
    nerve_real *x = numbered_images(n, size), *again = numbered_images(n, size);
    nerve_augment_apply(a, x, n, 4, 0);
    nerve_augment_apply(a, again, n, 4, 0);
    double sum = 0, squares = 0;
    for (int64_t i = 0; i < n * size; i++) {
        double d = x[i] - (nerve_real)(1 + i % size);
        sum += d;
        squares += d * d;
        assert_true(x[i] == again[i]);
    }
    double mean = sum / (double)(n * size), std = sqrt(squares / (double)(n * size) - mean * mean);
    if (!(fabs(mean) < 0.01 && fabs(std - 0.2) < 0.01)) fail_msg("mean %g std %g", mean, std);
    assert_true(x[0] != x[size]); /* samples 0 and 1 draw apart */
    nerve_real *later = numbered_images(1, size); /* sample 0 at another step */
    nerve_augment_apply(a, later, 1, 5, 0);
    assert_true(later[0] != x[0]);
    nerve_augment_free(a);
    free(x);
    free(again);
    free(later);
}

static void test_erasing_fills_a_rectangle_within_the_scale_bounds(void **state)
{
    (void)state;
    nerve_augment_options o = nerve_augment_defaults();
    o.erase = 1;
    o.erase_value = 51;
    const int64_t n = 300, h = 20, w = 20, size = h * w;
    const nerve_real fill = (nerve_real)(51.0 / 255 - 0.5);
    nerve_augment *a = make(&o, image_shape(1, h, w), 1.0 / 255, -0.5, 9);
    nerve_real *x = malloc((size_t)(n * size) * sizeof *x);
    for (int64_t i = 0; i < n * size; i++) x[i] = 7;
    nerve_augment_apply(a, x, n, 0, 0);
    int erased_samples = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t count = 0, top = h, bottom = -1, left = w, right = -1;
        for (int64_t y = 0; y < h; y++)
            for (int64_t col = 0; col < w; col++) {
                nerve_real v = x[i * size + y * w + col];
                assert_true(v == 7 || v == fill);
                if (v != fill) continue;
                count++;
                top = y < top ? y : top;
                bottom = y > bottom ? y : bottom;
                left = col < left ? col : left;
                right = col > right ? col : right;
            }
        if (count == 0) continue;
        erased_samples++;
        int64_t rect_h = bottom - top + 1, rect_w = right - left + 1;
        assert_int_equal(count, rect_h * rect_w);
        /* h and w are rounded from sqrt(area * ratio) and sqrt(area / ratio). */
        double slack = 0.5 * (double)(rect_h + rect_w) + 0.25;
        assert_true((double)count >= 0.02 * (double)size - slack);
        assert_true((double)count <= 0.33 * (double)size + slack);
        assert_true(rect_h < h && rect_w < w);
    }
    /* p = 1: every sample whose rectangle fitted within ten tries. */
    assert_true(erased_samples > n * 9 / 10);
    free(x);
    nerve_augment_free(a);
}

static nerve_augment_options everything(void)
{
    nerve_augment_options o = nerve_augment_defaults();
    o.crop_padding = 3;
    o.flip = 0.5;
    o.rotation = 15;
    o.translate = 0.1;
    o.brightness = 0.2;
    o.contrast = 0.2;
    o.erase = 0.5;
    return o;
}

static nerve_real *augmented_batch(uint64_t seed, int threads, int64_t n, int64_t batches)
{
    int saved = nerve_get_threads();
    nerve_set_threads(threads);
    nerve_augment_options o = everything();
    nerve_augment *a = make(&o, image_shape(3, 16, 16), 1.0 / 255, -0.5, seed);
    nerve_set_threads(saved);
    const int64_t size = 3 * 16 * 16;
    nerve_real *x = numbered_images(n, size);
    for (int64_t b = 0; b < batches; b++) nerve_augment_apply(a, x, n, b, 0);
    nerve_augment_free(a);
    return x;
}

static void test_the_seed_decides_the_result(void **state)
{
    (void)state;
    const size_t bytes = 8 * 3 * 16 * 16 * sizeof(nerve_real);
    nerve_real *first = augmented_batch(1, 1, 8, 2), *again = augmented_batch(1, 1, 8, 2);
    nerve_real *other = augmented_batch(2, 1, 8, 2), *one_batch = augmented_batch(1, 1, 8, 1);
    assert_memory_equal(first, again, bytes);
    assert_memory_not_equal(first, other, bytes);
    /* Each batch draws anew. */
    assert_memory_not_equal(first, one_batch, bytes);
    free(first);
    free(again);
    free(other);
    free(one_batch);
}

static void test_the_thread_count_does_not_change_the_result(void **state)
{
    (void)state;
    /* Big enough a batch for the samples to be spread over the threads. */
    const int64_t n = 64;
    nerve_real *serial = augmented_batch(4, 1, n, 3), *parallel = augmented_batch(4, 2, n, 3);
    assert_memory_equal(serial, parallel, (size_t)(n * 3 * 16 * 16) * sizeof(nerve_real));
    free(serial);
    free(parallel);
}

/* A sample's transforms are a function of (seed, step, global sample index):
 * sample 13 alone (a batch of 1 starting at 13) comes out as row 5 of a
 * batch of 8 starting at 8, however the batch is split; another step or
 * another index transforms it differently. */
static void test_a_sample_is_augmented_alike_in_any_batch(void **state)
{
    (void)state;
    nerve_augment_options o = everything();
    nerve_augment *a = make(&o, image_shape(3, 16, 16), 1.0 / 255, -0.5, 5);
    const int64_t size = 3 * 16 * 16;
    nerve_real *batch = numbered_images(8, size), *alone = numbered_images(1, size);
    nerve_real *later = numbered_images(1, size), *elsewhere = numbered_images(1, size);
    nerve_augment_apply(a, batch, 8, 42, 8);
    nerve_augment_apply(a, alone, 1, 42, 13);
    nerve_augment_apply(a, later, 1, 43, 13);
    nerve_augment_apply(a, elsewhere, 1, 42, 14);
    assert_memory_equal(alone, batch + 5 * size, (size_t)size * sizeof *alone);
    assert_memory_not_equal(alone, later, (size_t)size * sizeof *alone);
    assert_memory_not_equal(alone, elsewhere, (size_t)size * sizeof *alone);
    free(batch);
    free(alone);
    free(later);
    free(elsewhere);
    nerve_augment_free(a);
}

static void test_bad_options_and_shapes_are_refused(void **state)
{
    (void)state;
    nerve_error err = {0};
    nerve_augment_options o = nerve_augment_defaults();
    o.flip = 1.5;
    assert_null(nerve_augment_new(&o, image_shape(1, 4, 4), 1, 0, 1, &err));
    test_assert_message_contains(&err, "flip");
    o = nerve_augment_defaults();
    o.erase_ratio[0] = 0;
    assert_null(nerve_augment_new(&o, image_shape(1, 4, 4), 1, 0, 1, &err));
    test_assert_message_contains(&err, "erase_ratio");
    o = everything();
    assert_null(nerve_augment_new(&o, nerve_shape_1d(16), 1, 0, 1, &err));
    test_assert_message_contains(&err, "C x H x W");
}

/* ------------------------------------------------ the model and the trainer */

static nerve_status load_cfg(const char *augment, nerve_model **m, nerve_error *err)
{
    char text[1024];
    snprintf(text, sizeof text,
             "[net]\ninput = 1x4x4\nbatch = 8\nepochs = 2\nseed = 5\n"
             "[optimizer]\nlr = 0.1\n[loss]\ntype = softmax_cross_entropy\n"
             "[dense]\nunits = 6\nactivation = tanh\n[dense]\nunits = 2\n%s",
             augment);
    const char *path = test_tmppath("augment.cfg");
    test_write_file(path, text, strlen(text));
    return nerve_model_load(path, NULL, m, err);
}

/* 4x4 images whose left or right half is bright: the class. */
static nerve_dataset halves(int64_t count, uint64_t seed)
{
    nerve_rng rng;
    nerve_rng_seed(&rng, seed);
    nerve_dataset ds = {0};
    ds.count = count;
    ds.sample_shape = image_shape(1, 4, 4);
    ds.sample_size = 16;
    ds.target_size = 1;
    ds.num_classes = 2;
    ds.inputs = malloc((size_t)count * 16 * sizeof(float));
    ds.targets = malloc((size_t)count * sizeof(float));
    for (int64_t i = 0; i < count; i++) {
        int label = (int)(i % 2);
        for (int k = 0; k < 16; k++)
            ds.inputs[i * 16 + k] =
                (float)(((k % 4 < 2) == (label == 0) ? 0.8 : 0.1) + 0.1 * nerve_rng_uniform(&rng));
        ds.targets[i] = (float)label;
    }
    return ds;
}

static void remember_val_loss(const nerve_epoch_report *r, void *user) { *(double *)user = r->val_loss; }

static double train_and_evaluate(const char *augment, const nerve_dataset *train,
                                 const nerve_dataset *val, double *reported_val_loss,
                                 double *params_sum)
{
    nerve_model *m;
    nerve_error err = {0};
    test_require_ok(load_cfg(augment, &m, &err), &err);
    nerve_train_options o = nerve_train_options_from(m);
    o.on_epoch = remember_val_loss;
    o.user = reported_val_loss;
    test_require_ok(nerve_train(m, train, val, &o, &err), &err);
    nerve_evaluation e;
    test_require_ok(nerve_evaluate(m, val, 8, &e, &err), &err);
    double loss = e.loss;
    nerve_evaluation_free(&e);
    nerve_graph *g = nerve_model_graph(m);
    *params_sum = 0;
    for (size_t i = 0; i < nerve_graph_param_count(g); i++)
        *params_sum += nerve_graph_params(g)[i];
    nerve_model_free(m);
    return loss;
}

static void test_training_batches_only_are_augmented(void **state)
{
    (void)state;
    nerve_dataset train = halves(64, 1), val = halves(16, 2);
    const char *augment = "[augment]\nflip = 0.5\ncrop_padding = 1\nerase = 0.5\n";
    double reported, plain_reported, again_reported, sum, plain_sum, again_sum;
    double loss = train_and_evaluate(augment, &train, &val, &reported, &sum);
    double again = train_and_evaluate(augment, &train, &val, &again_reported, &again_sum);
    double plain = train_and_evaluate("", &train, &val, &plain_reported, &plain_sum);
    /* The validation loss the trainer reports is that of the data as they
     * are: what nerve_evaluate gives the same weights. */
    assert_true(reported == loss);
    assert_true(plain_reported == plain);
    /* Seeded: the same run twice trains the same weights; augmentation
     * changes them. */
    assert_true(sum == again_sum && loss == again);
    assert_true(sum != plain_sum);
    nerve_dataset_free(&train);
    nerve_dataset_free(&val);
}

static void test_evaluation_data_are_left_as_they_are(void **state)
{
    (void)state;
    nerve_dataset val = halves(16, 2);
    float *before = malloc(16 * 16 * sizeof(float));
    memcpy(before, val.inputs, 16 * 16 * sizeof(float));
    nerve_model *with, *without;
    nerve_error err = {0};
    test_require_ok(load_cfg("[augment]\nflip = 1\nbrightness = 0.5\n", &with, &err), &err);
    test_require_ok(load_cfg("", &without, &err), &err);
    nerve_evaluation a, b;
    test_require_ok(nerve_evaluate(with, &val, 8, &a, &err), &err);
    test_require_ok(nerve_evaluate(without, &val, 8, &b, &err), &err);
    /* The same seed gives the same weights, with or without [augment]. */
    assert_true(a.loss == b.loss);
    assert_memory_equal(before, val.inputs, 16 * 16 * sizeof(float));
    nerve_evaluation_free(&a);
    nerve_evaluation_free(&b);
    nerve_model_free(with);
    nerve_model_free(without);
    nerve_dataset_free(&val);
    free(before);
}

/* ------------------------------------------------ the [augment] section */

static void test_every_augment_key_reaches_the_options(void **state)
{
    (void)state;
    nerve_model *m;
    nerve_error err = {0};
    test_require_ok(load_cfg("[augment]\ncrop_padding = 4\nflip = 0.5\nrotation = 10\n"
                             "translate = 0.1\nbrightness = 0.2\ncontrast = 0.3\nerase = 0.25\n"
                             "erase_scale = 0.05, 0.2\nerase_ratio = 0.5, 2\nerase_value = 128\n"
                             "noise = 12.5\n",
                             &m, &err),
                    &err);
    const nerve_augment_options *o = &nerve_model_settings_of(m)->augment;
    assert_int_equal(o->crop_padding, 4);
    assert_true(o->flip == 0.5 && o->rotation == 10 && o->translate == 0.1);
    assert_true(o->brightness == 0.2 && o->contrast == 0.3 && o->erase == 0.25);
    assert_true(fabs(o->erase_scale[0] - 0.05) < 1e-7 && fabs(o->erase_scale[1] - 0.2) < 1e-7);
    assert_true(o->erase_ratio[0] == 0.5 && o->erase_ratio[1] == 2);
    assert_true(o->erase_value == 128 && o->noise == 12.5);
    nerve_model_free(m);
    /* Without the section everything is off. */
    test_require_ok(load_cfg("", &m, &err), &err);
    assert_false(nerve_augment_enabled(&nerve_model_settings_of(m)->augment));
    assert_null(nerve_model_augment_new(m, 1, &err));
    test_assert_message_contains(&err, "enables no transform");
    nerve_model_free(m);
}

static void expect_cfg_error(const char *augment, const char *needle)
{
    nerve_model *m = NULL;
    nerve_error err = {0};
    assert_int_not_equal(load_cfg(augment, &m, &err), NERVE_OK);
    assert_null(m);
    test_assert_message_contains(&err, needle);
}

static void test_augment_mistakes_name_their_line(void **state)
{
    (void)state;
    /* The [augment] section starts at line 15 of load_cfg's file. */
    expect_cfg_error("[augment]\nflips = 0.5\n", "augment.cfg:16: unknown key 'flips'");
    expect_cfg_error("[augment]\nflip = 1.5\n", "augment.cfg:16: [augment] flip: is a probability");
    expect_cfg_error("[augment]\nflip = yes\n", "[augment] flip: 'yes'");
    expect_cfg_error("[augment]\nrotation = 200\n", "[augment] rotation: must be in [0, 180]");
    expect_cfg_error("[augment]\ncrop_padding = -1\n", "[augment] crop_padding");
    expect_cfg_error("[augment]\ntranslate = 2\n", "[augment] translate");
    expect_cfg_error("[augment]\nbrightness = -0.1\n", "[augment] brightness");
    expect_cfg_error("[augment]\nnoise = -1\n", "[augment] noise: is a standard deviation");
    expect_cfg_error("[augment]\nerase = 0.5\nerase_scale = 0.1\n",
                     "[augment] erase_scale: takes two values, min, max (1 given)");
    expect_cfg_error("[augment]\nerase = 0.5\nerase_scale = 0.3, 0.1\n",
                     "[augment] erase_scale: takes two fractions");
    expect_cfg_error("[augment]\nerase = 0.5\nerase_ratio = 0, 1\n", "[augment] erase_ratio");
    expect_cfg_error("[augment]\nflip = 0.5\nerase_value = 3\n",
                     "augment.cfg:17: [augment] erase_value: only applies with erase > 0");
    expect_cfg_error("[augment]\nflip = 0.5\n[augment]\nflip = 0.5\n", "second [augment]");
}

static void test_augment_needs_an_image_input(void **state)
{
    (void)state;
    const char *text = "[augment]\nflip = 0.5\n[net]\ninput = 16\n[loss]\n[dense]\nunits = 2\n";
    const char *path = test_tmppath("flat.cfg");
    test_write_file(path, text, strlen(text));
    nerve_model *m = NULL;
    nerve_error err = {0};
    assert_int_equal(nerve_model_load(path, NULL, &m, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "flat.cfg:2: [augment] flip: augmentation takes images");
    test_assert_message_contains(&err, "CxHxW");
    /* A section that turns nothing on asks nothing of the input. */
    text = "[augment]\nflip = 0\n[net]\ninput = 16\n[loss]\n[dense]\nunits = 2\n";
    test_write_file(path, text, strlen(text));
    test_require_ok(nerve_model_load(path, NULL, &m, &err), &err);
    nerve_model_free(m);
}

/* examples/fashion_augment.cfg: the main job's network on augmented images. */
static void test_the_augment_example_loads(void **state)
{
    (void)state;
    nerve_model *m = NULL;
    nerve_error err = {0};
    test_require_ok(
        nerve_model_load(test_source_path("examples/fashion_augment.cfg"), NULL, &m, &err), &err);
    const nerve_augment_options *o = &nerve_model_settings_of(m)->augment;
    assert_true(o->crop_padding == 2 && o->flip == 0.5 && o->rotation == 10 && o->erase == 0.25);
    nerve_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_are_off_and_erasing_is_torchvisions),
        cmocka_unit_test(test_flip_mirrors_exactly),
        cmocka_unit_test(test_a_sample_is_augmented_alike_in_any_batch),
        cmocka_unit_test(test_crop_with_padding_shifts_by_at_most_the_padding_with_black),
        cmocka_unit_test(test_rotation_and_translation),
        cmocka_unit_test(test_brightness_and_contrast_factors),
        cmocka_unit_test(test_noise_is_gaussian_in_pixel_units),
        cmocka_unit_test(test_erasing_fills_a_rectangle_within_the_scale_bounds),
        cmocka_unit_test(test_the_seed_decides_the_result),
        cmocka_unit_test(test_the_thread_count_does_not_change_the_result),
        cmocka_unit_test(test_bad_options_and_shapes_are_refused),
        cmocka_unit_test(test_training_batches_only_are_augmented),
        cmocka_unit_test(test_evaluation_data_are_left_as_they_are),
        cmocka_unit_test(test_every_augment_key_reaches_the_options),
        cmocka_unit_test(test_augment_mistakes_name_their_line),
        cmocka_unit_test(test_augment_needs_an_image_input),
        cmocka_unit_test(test_the_augment_example_loads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
