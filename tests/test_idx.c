/* The IDX reader: small files written here round-trip, plain and gzip, and
 * every kind of corruption is a clear error naming the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "test_support.h"

#define IMAGES 3
#define HEIGHT 2
#define WIDTH 4
#define PIXELS (IMAGES * HEIGHT * WIDTH)
#define FASHION_DIR "/usr/share/datasets/fashion-mnist/"

static const unsigned char labels[IMAGES] = {2, 0, 5};

/* An IDX file in memory: header, then data_size bytes of data. */
typedef struct idx_bytes {
    unsigned char bytes[4096];
    size_t size;
} idx_bytes;

static idx_bytes make_idx(int type, int ndim, const uint32_t *dims, const unsigned char *data,
                          size_t data_size)
{
    idx_bytes f = {.bytes = {0, 0, (unsigned char)type, (unsigned char)ndim}, .size = 4};
    for (int i = 0; i < ndim; i++) {
        for (int b = 0; b < 4; b++) f.bytes[f.size++] = (unsigned char)(dims[i] >> (24 - 8 * b));
    }
    assert_true(f.size + data_size <= sizeof f.bytes);
    if (data_size) memcpy(f.bytes + f.size, data, data_size);
    f.size += data_size;
    return f;
}

static idx_bytes make_images(void)
{
    unsigned char pixels[PIXELS];
    for (int i = 0; i < PIXELS; i++) pixels[i] = (unsigned char)(i * 11);
    uint32_t dims[3] = {IMAGES, HEIGHT, WIDTH};
    return make_idx(0x08, 3, dims, pixels, PIXELS);
}

static idx_bytes make_labels(void)
{
    uint32_t dims[1] = {IMAGES};
    return make_idx(0x08, 1, dims, labels, IMAGES);
}

static void write_gzip(const char *path, const void *data, size_t size)
{
    gzFile f = gzopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(gzwrite(f, data, (unsigned)size), (int)size);
    assert_int_equal(gzclose(f), Z_OK);
}

static const char *write_plain_file(const char *name, const idx_bytes *f)
{
    const char *path = test_tmppath(name);
    test_write_file(path, f->bytes, f->size);
    return path;
}

static const char *write_gzip_file(const char *name, const idx_bytes *f)
{
    const char *path = test_tmppath(name);
    write_gzip(path, f->bytes, f->size);
    return path;
}

/* Loads images_path with a valid labels file and expects a FORMAT error
 * whose message names images_path and contains phrase. */
static void assert_images_rejected(const char *images_path, const char *phrase)
{
    idx_bytes label_file = make_labels();
    const char *labels_path = write_plain_file("labels-for-bad-images", &label_file);
    nerve_dataset ds;
    nerve_error err = {0};
    assert_int_equal(nerve_idx_load(images_path, labels_path, &ds, &err), NERVE_ERR_FORMAT);
    test_assert_message_contains(&err, images_path);
    test_assert_message_contains(&err, phrase);
    assert_null(ds.inputs);
    assert_null(ds.pixels);
    assert_null(ds.targets);
}

static void assert_matches_written_data(const nerve_dataset *ds)
{
    assert_int_equal(ds->count, IMAGES);
    assert_int_equal(ds->sample_shape.ndim, 3);
    assert_int_equal(ds->sample_shape.dim[0], 1);
    assert_int_equal(ds->sample_shape.dim[1], HEIGHT);
    assert_int_equal(ds->sample_shape.dim[2], WIDTH);
    assert_int_equal(ds->sample_size, HEIGHT * WIDTH);
    assert_int_equal(ds->target_size, 1);
    assert_int_equal(ds->num_classes, 6);
    /* The pixels stay bytes, worth their unscaled values. */
    assert_null(ds->inputs);
    for (int i = 0; i < PIXELS; i++) assert_int_equal(ds->pixels[i], (unsigned char)(i * 11));
    for (int v = 0; v < 256; v++) assert_true(ds->pixel_values[v] == (float)v);
    for (int i = 0; i < IMAGES; i++) assert_true(ds->targets[i] == labels[i]);
    nerve_dataset copy = *ds;
    copy.pixels = malloc(PIXELS);
    assert_non_null(copy.pixels);
    memcpy(copy.pixels, ds->pixels, PIXELS);
    copy.targets = NULL;
    nerve_error err = {0};
    test_require_ok(nerve_dataset_to_float(&copy, &err), &err);
    assert_null(copy.pixels);
    for (int i = 0; i < PIXELS; i++) assert_true(copy.inputs[i] == (float)(unsigned char)(i * 11));
    nerve_dataset_free(&copy);
}

static void test_plain_files_round_trip_unscaled_pixels_and_labels(void **state)
{
    idx_bytes images = make_images(), label_file = make_labels();
    nerve_dataset ds;
    nerve_error err = {0};
    assert_int_equal(nerve_idx_load(write_plain_file("images", &images),
                                     write_plain_file("labels", &label_file), &ds, &err),
                     NERVE_OK);
    assert_matches_written_data(&ds);
    nerve_dataset_free(&ds);
}

static void test_gzip_is_detected_by_content_not_name(void **state)
{
    idx_bytes images = make_images(), label_file = make_labels();
    nerve_dataset ds;
    nerve_error err = {0};
    /* gzip images under a plain name, plain labels under a .gz name. */
    assert_int_equal(nerve_idx_load(write_gzip_file("images-idx3-ubyte", &images),
                                     write_plain_file("labels.gz", &label_file), &ds, &err),
                     NERVE_OK);
    assert_matches_written_data(&ds);
    nerve_dataset_free(&ds);
}

static void test_images_alone_load_without_targets(void **state)
{
    idx_bytes images = make_images();
    nerve_dataset ds;
    nerve_error err = {0};
    assert_int_equal(nerve_idx_load_images(write_gzip_file("images-only.gz", &images), &ds, &err),
                     NERVE_OK);
    assert_int_equal(ds.count, IMAGES);
    assert_int_equal(ds.sample_size, HEIGHT * WIDTH);
    assert_int_equal(ds.target_size, 0);
    assert_null(ds.targets);
    assert_int_equal(ds.pixels[PIXELS - 1], (unsigned char)((PIXELS - 1) * 11));
    nerve_dataset_free(&ds);
}

static void test_missing_file_error_names_the_file(void **state)
{
    idx_bytes images = make_images();
    const char *images_path = write_plain_file("present-images", &images);
    const char *missing = test_tmppath("no-such-labels.gz");
    nerve_dataset ds;
    nerve_error err = {0};
    assert_int_equal(nerve_idx_load(images_path, missing, &ds, &err), NERVE_ERR_IO);
    test_assert_message_contains(&err, missing);
    test_assert_message_contains(&err, "cannot open");
    assert_null(ds.inputs);

    missing = test_tmppath("no-such-images.gz");
    assert_int_equal(nerve_idx_load_images(missing, &ds, &err), NERVE_ERR_IO);
    test_assert_message_contains(&err, missing);
}

static void test_truncated_header_is_an_error(void **state)
{
    idx_bytes images = make_images();
    images.size = 3;
    assert_images_rejected(write_plain_file("short-magic", &images), "truncated header");
    images.size = 9; /* magic and 5 of the 12 dimension bytes */
    assert_images_rejected(write_plain_file("short-dims", &images), "truncated header");
    assert_images_rejected(write_gzip_file("short-dims.gz", &images), "truncated header");
}

static void test_truncated_data_is_an_error(void **state)
{
    idx_bytes images = make_images();
    images.size -= 1;
    assert_images_rejected(write_plain_file("short-data", &images), "truncated data");
    assert_images_rejected(write_gzip_file("short-data.gz", &images), "truncated data");
}

static void test_trailing_bytes_are_an_error(void **state)
{
    idx_bytes images = make_images();
    images.bytes[images.size++] = 0;
    assert_images_rejected(write_plain_file("long-data", &images), "trailing bytes");
    assert_images_rejected(write_gzip_file("long-data.gz", &images), "trailing bytes");
}

static void test_wrong_magic_is_an_error(void **state)
{
    idx_bytes images = make_images();
    images.bytes[0] = 0x50; /* "PK": a zip archive, not gzip */
    images.bytes[1] = 0x4b;
    assert_images_rejected(write_plain_file("zip-images", &images), "not an IDX file");
}

static void test_element_types_other_than_unsigned_byte_are_errors(void **state)
{
    idx_bytes images = make_images();
    images.bytes[2] = 0x0D;
    assert_images_rejected(write_plain_file("float-images", &images),
                           "unsupported element type 0x0d (float32)");
    images.bytes[2] = 0x42;
    assert_images_rejected(write_plain_file("odd-images", &images), "unknown IDX element type");
}

static void test_images_need_three_dimensions_and_labels_one(void **state)
{
    idx_bytes label_file = make_labels();
    assert_images_rejected(write_plain_file("labels-as-images", &label_file),
                           "expected 3 dimensions for images");

    idx_bytes images = make_images();
    const char *images_path = write_plain_file("images-twice", &images);
    nerve_dataset ds;
    nerve_error err = {0};
    assert_int_equal(nerve_idx_load(images_path, images_path, &ds, &err), NERVE_ERR_FORMAT);
    test_assert_message_contains(&err, "expected 1 dimensions for labels");
    assert_null(ds.inputs);
}

static void test_image_and_label_counts_must_agree(void **state)
{
    idx_bytes images = make_images();
    uint32_t dims[1] = {IMAGES - 1};
    idx_bytes label_file = make_idx(0x08, 1, dims, labels, IMAGES - 1);
    const char *images_path = write_plain_file("three-images", &images);
    const char *labels_path = write_plain_file("two-labels", &label_file);
    nerve_dataset ds;
    nerve_error err = {0};
    assert_int_equal(nerve_idx_load(images_path, labels_path, &ds, &err), NERVE_ERR_FORMAT);
    test_assert_message_contains(&err, "holds 3 images but");
    test_assert_message_contains(&err, "holds 2 labels");
    test_assert_message_contains(&err, labels_path);
    assert_null(ds.inputs);
}

/* A header claiming 2^31 x 2^31 images must be refused from the header and
 * the file's size, never by attempting the allocation (ASan would report a
 * huge malloc). */
static void test_absurd_dimensions_are_refused_before_allocating(void **state)
{
    uint32_t overflowing[3] = {1u << 31, 1u << 31, 28};
    idx_bytes images = make_idx(0x08, 3, overflowing, (const unsigned char *)"\1\2\3", 3);
    assert_images_rejected(write_plain_file("overflow", &images), "overflow");

    uint32_t huge[3] = {1u << 31, 1u << 31, 1};
    images = make_idx(0x08, 3, huge, (const unsigned char *)"\1\2\3", 3);
    assert_images_rejected(write_plain_file("huge", &images), "truncated data");
    /* A gzip file's uncompressed size is unknown: the limit refuses it. */
    assert_images_rejected(write_gzip_file("huge.gz", &images), "limit");

    /* Under the limit, but more than a gzip file of this size can expand to
     * (1032 bytes per byte): refused from the header and the file size. */
    uint32_t large[3] = {1000000, 28, 28};
    images = make_idx(0x08, 3, large, (const unsigned char *)"\1\2\3", 3);
    assert_images_rejected(write_gzip_file("large.gz", &images), "more than a gzip file of");

    /* Possible for the file's size, but backed by fewer bytes: the buffer
     * grows only as data arrives. 4000 bytes that do not compress make a
     * gzip file big enough to hold the 784,000 the header announces. */
    uint32_t possible[3] = {1000, 28, 28};
    static unsigned char noise[4000];
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < sizeof noise; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        noise[i] = (unsigned char)x;
    }
    images = make_idx(0x08, 3, possible, noise, sizeof noise);
    assert_images_rejected(write_gzip_file("noise.gz", &images), "truncated data");
}

static void test_zero_dimension_is_an_error(void **state)
{
    uint32_t dims[3] = {0, HEIGHT, WIDTH};
    idx_bytes images = make_idx(0x08, 3, dims, NULL, 0);
    assert_images_rejected(write_plain_file("no-images", &images), "include a zero");
}

static void test_corrupt_gzip_streams_are_errors(void **state)
{
    idx_bytes images = make_images();
    const char *good = write_gzip_file("good.gz", &images);
    unsigned char compressed[4096];
    FILE *f = fopen(good, "rb");
    assert_non_null(f);
    size_t size = fread(compressed, 1, sizeof compressed, f);
    fclose(f);
    assert_true(size > 20);

    /* Cut inside the deflate stream: the data comes out short. */
    const char *cut = test_tmppath("cut.gz");
    test_write_file(cut, compressed, size - 12);
    assert_images_rejected(cut, "the gzip stream ends early");

    /* A damaged CRC-32 trailer: every byte decodes, the check fails. */
    compressed[size - 8] ^= 0xff;
    const char *damaged = test_tmppath("damaged.gz");
    test_write_file(damaged, compressed, size);
    assert_images_rejected(damaged, "corrupt gzip data");
}

static bool fashion_mnist_present(void)
{
    FILE *f = fopen(FASHION_DIR "t10k-images-idx3-ubyte.gz", "rb");
    if (f) fclose(f);
    return f != NULL;
}

static void test_fashion_mnist_test_set_loads(void **state)
{
    if (!fashion_mnist_present()) skip();
    nerve_dataset ds;
    nerve_error err = {0};
    assert_int_equal(nerve_idx_load(FASHION_DIR "t10k-images-idx3-ubyte.gz",
                                     FASHION_DIR "t10k-labels-idx1-ubyte.gz", &ds, &err),
                     NERVE_OK);
    assert_int_equal(ds.count, 10000);
    char shape[32];
    assert_string_equal(nerve_shape_format(&ds.sample_shape, shape, sizeof shape), "1x28x28");
    assert_int_equal(ds.sample_size, 784);
    assert_int_equal(ds.num_classes, 10);
    assert_true(ds.targets[0] == 9); /* the first test image is an ankle boot */
    int per_class[10] = {0};
    for (int64_t i = 0; i < ds.count; i++) per_class[(int)ds.targets[i]]++;
    for (int c = 0; c < 10; c++) assert_int_equal(per_class[c], 1000);
    float lowest = 255, highest = 0;
    for (int64_t i = 0; i < ds.count * ds.sample_size; i++) {
        float x = ds.pixel_values[ds.pixels[i]];
        if (x < lowest) lowest = x;
        if (x > highest) highest = x;
    }
    assert_true(lowest == 0 && highest == 255);
    nerve_dataset_free(&ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_files_round_trip_unscaled_pixels_and_labels),
        cmocka_unit_test(test_gzip_is_detected_by_content_not_name),
        cmocka_unit_test(test_images_alone_load_without_targets),
        cmocka_unit_test(test_missing_file_error_names_the_file),
        cmocka_unit_test(test_truncated_header_is_an_error),
        cmocka_unit_test(test_truncated_data_is_an_error),
        cmocka_unit_test(test_trailing_bytes_are_an_error),
        cmocka_unit_test(test_wrong_magic_is_an_error),
        cmocka_unit_test(test_element_types_other_than_unsigned_byte_are_errors),
        cmocka_unit_test(test_images_need_three_dimensions_and_labels_one),
        cmocka_unit_test(test_image_and_label_counts_must_agree),
        cmocka_unit_test(test_absurd_dimensions_are_refused_before_allocating),
        cmocka_unit_test(test_zero_dimension_is_an_error),
        cmocka_unit_test(test_corrupt_gzip_streams_are_errors),
        cmocka_unit_test(test_fashion_mnist_test_set_loads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
