/* safetensors: round trips, files laid out as the reference implementation
 * writes them, every kind of corruption rejected with a message naming the
 * file or tensor, and writes that never leave a torn file behind. */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_support.h"

/* ---------------------------------------------------------------- helpers */

static unsigned char *read_whole_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long length = ftell(f);
    assert_true(length >= 0);
    rewind(f);
    unsigned char *data = malloc((size_t)length + 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)length, f), (size_t)length);
    fclose(f);
    *size = (size_t)length;
    return data;
}

static void put_u64_le(unsigned char *b, uint64_t v)
{
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
}

/* A file of the given header (unpadded, as given) and data bytes. */
static void write_raw_file(const char *path, const char *header, const void *data, size_t data_size)
{
    size_t header_size = strlen(header);
    size_t size = 8 + header_size + data_size;
    unsigned char *bytes = malloc(size);
    assert_non_null(bytes);
    put_u64_le(bytes, header_size);
    memcpy(bytes + 8, header, header_size);
    if (data_size) memcpy(bytes + 8 + header_size, data, data_size);
    test_write_file(path, bytes, size);
    free(bytes);
}

static int count_directory_entries(const char *path)
{
    DIR *dir = opendir(path);
    assert_non_null(dir);
    int count = 0;
    for (struct dirent *e; (e = readdir(dir));)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) count++;
    closedir(dir);
    return count;
}

static const char *fresh_directory(const char *name)
{
    const char *path = test_tmppath(name);
    assert_int_equal(mkdir(path, 0755), 0);
    return path;
}

static void assert_shape(const nerve_shape *shape, int ndim, const int64_t *dims)
{
    assert_int_equal(shape->ndim, ndim);
    for (int i = 0; i < ndim; i++) assert_int_equal(shape->dim[i], dims[i]);
}

/* ---------------------------------------------------------------- round trip */

static void round_trip_keeps_names_shapes_values_and_metadata(void **state)
{
    (void)state;
    float weight[6] = {1.5f, -2.25f, 3.0f, 0.0f, -0.0f, 1e-30f};
    float bias[4] = {0.1f, 0.2f, 0.3f, 1e30f};
    float scale = 42.0f;
    int64_t weight_dims[2] = {2, 3}, empty_dims[2] = {0, 5}, bias_dims[1] = {4};
    nerve_named_tensor tensors[] = {
        {"fc1.weight", nerve_shape_make(2, weight_dims), weight, NERVE_DTYPE_F32},
        {"fc1.bias", nerve_shape_make(1, bias_dims), bias, NERVE_DTYPE_F32},
        {"scale", nerve_shape_make(0, NULL), &scale, NERVE_DTYPE_F32},
        {"empty", nerve_shape_make(2, empty_dims), NULL, NERVE_DTYPE_F32},
    };
    const char *metadata[] = {"format", "pt", "epoch", "3", NULL};
    const char *path = test_tmppath("round_trip.safetensors");
    nerve_error err = {0};
    assert_int_equal(nerve_safetensors_write(path, tensors, 4, metadata, &err), NERVE_OK);

    /* The layout the reference writes: header padded to 8, metadata first,
     * data contiguous in the order given. */
    size_t size;
    unsigned char *bytes = read_whole_file(path, &size);
    uint64_t header_size = 0;
    for (int i = 7; i >= 0; i--) header_size = header_size << 8 | bytes[i];
    assert_int_equal(header_size % 8, 0);
    assert_int_equal(size, 8 + header_size + (6 + 4 + 1) * 4);
    const char *prefix = "{\"__metadata__\":{\"format\":\"pt\",\"epoch\":\"3\"},\"fc1.weight\":"
                         "{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}";
    assert_memory_equal(bytes + 8, prefix, strlen(prefix));
    size_t json_end = 8 + header_size;
    while (bytes[json_end - 1] == ' ') json_end--;
    assert_int_equal(bytes[json_end - 1], '}');
    assert_true(8 + header_size - json_end < 8);
    free(bytes);

    nerve_safetensors *st = NULL;
    assert_int_equal(nerve_safetensors_open(path, &st, &err), NERVE_OK);
    assert_int_equal(nerve_safetensors_count(st), 4);
    assert_string_equal(nerve_safetensors_name(st, 0), "fc1.weight");
    assert_string_equal(nerve_safetensors_name(st, 1), "fc1.bias");
    assert_string_equal(nerve_safetensors_name(st, 2), "scale");
    assert_string_equal(nerve_safetensors_name(st, 3), "empty");
    assert_null(nerve_safetensors_name(st, 4));

    nerve_shape shape;
    const float *w = nerve_safetensors_get(st, "fc1.weight", &shape);
    assert_non_null(w);
    assert_shape(&shape, 2, weight_dims);
    assert_memory_equal(w, weight, sizeof weight);
    const float *b = nerve_safetensors_get(st, "fc1.bias", &shape);
    assert_shape(&shape, 1, bias_dims);
    assert_memory_equal(b, bias, sizeof bias);
    const float *s = nerve_safetensors_get(st, "scale", &shape);
    assert_int_equal(shape.ndim, 0);
    assert_true(s[0] == 42.0f);
    assert_non_null(nerve_safetensors_get(st, "empty", &shape));
    assert_shape(&shape, 2, empty_dims);
    assert_null(nerve_safetensors_get(st, "fc2.weight", &shape));

    assert_string_equal(nerve_safetensors_metadata(st, "format"), "pt");
    assert_string_equal(nerve_safetensors_metadata(st, "epoch"), "3");
    assert_null(nerve_safetensors_metadata(st, "missing"));
    nerve_safetensors_close(st);
}

static void writes_and_reads_a_file_without_tensors_or_metadata(void **state)
{
    (void)state;
    const char *path = test_tmppath("empty.safetensors");
    nerve_error err = {0};
    assert_int_equal(nerve_safetensors_write(path, NULL, 0, NULL, &err), NERVE_OK);
    nerve_safetensors *st = NULL;
    assert_int_equal(nerve_safetensors_open(path, &st, &err), NERVE_OK);
    assert_int_equal(nerve_safetensors_count(st), 0);
    assert_null(nerve_safetensors_metadata(st, "format"));
    nerve_safetensors_close(st);
}

/* As Python's safetensors.torch.save_file writes: compact JSON, metadata
 * first, padded with spaces. Here the header is left unpadded at an odd
 * length so that the data starts unaligned in the file, and one tensor is
 * F64 (how the test fixtures store reference values). */
static void reads_a_file_laid_out_by_the_reference_writer(void **state)
{
    (void)state;
    const char *header = "{\"__metadata__\":{\"format\":\"pt\"},"
                         "\"b\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]},"
                         "\"w\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[16,24]}}  ";
    unsigned char data[24];
    double b[2] = {0.5, -1.0 / 3.0};
    float w[2] = {2.0f, -7.5f};
    /* Little-endian bytes, whatever the host. */
    for (int i = 0; i < 2; i++) {
        uint64_t bits;
        memcpy(&bits, &b[i], 8);
        put_u64_le(data + 8 * i, bits);
        uint32_t wbits;
        memcpy(&wbits, &w[i], 4);
        for (int k = 0; k < 4; k++) data[16 + 4 * i + k] = (unsigned char)(wbits >> (8 * k));
    }
    assert_true(strlen(header) % 4 != 0);
    const char *path = test_tmppath("reference.safetensors");
    write_raw_file(path, header, data, sizeof data);

    nerve_safetensors *st = NULL;
    nerve_error err = {0};
    assert_int_equal(nerve_safetensors_open(path, &st, &err), NERVE_OK);
    assert_int_equal(nerve_safetensors_count(st), 2);
    assert_string_equal(nerve_safetensors_name(st, 0), "b");
    nerve_shape shape;
    const float *bias = nerve_safetensors_get(st, "b", &shape);
    assert_int_equal(shape.ndim, 1);
    assert_int_equal((uintptr_t)bias % 4, 0);
    assert_true(bias[0] == 0.5f);
    assert_true(bias[1] == (float)(-1.0 / 3.0));
    const float *weight = nerve_safetensors_get(st, "w", &shape);
    assert_int_equal((uintptr_t)weight % 4, 0);
    assert_int_equal(shape.ndim, 2);
    assert_true(weight[0] == 2.0f && weight[1] == -7.5f);
    assert_string_equal(nerve_safetensors_metadata(st, "format"), "pt");
    nerve_safetensors_close(st);
}

/* ---------------------------------------------------------------- corruption */

/* PyTorch's integer buffers (num_batches_tracked): I64, read as floats. */
static void int64_tensors_round_trip_and_keep_their_dtype(void **state)
{
    (void)state;
    float counts[4] = {-3, 0, 5000000, 16777216}, scale = 0.5f;
    nerve_named_tensor tensors[] = {
        {"counts", nerve_shape_1d(4), counts, NERVE_DTYPE_I64},
        {"step", nerve_shape_make(0, NULL), &scale, NERVE_DTYPE_F32},
    };
    const char *path = test_tmppath("int64.safetensors");
    nerve_error err = {0};
    test_require_ok(nerve_safetensors_write(path, tensors, 2, NULL, &err), &err);
    size_t size;
    unsigned char *raw = read_whole_file(path, &size);
    /* -3 in two's complement, little-endian, at the start of the data. */
    const unsigned char minus_three[8] = {0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    assert_true(size == 8 + (size_t)raw[0] + (size_t)raw[1] * 256 + 4 * 8 + 4);
    assert_memory_equal(raw + size - 36, minus_three, 8);
    free(raw);

    nerve_safetensors *st;
    test_require_ok(nerve_safetensors_open(path, &st, &err), &err);
    nerve_shape shape;
    const float *read = nerve_safetensors_get(st, "counts", &shape);
    assert_memory_equal(read, counts, sizeof counts);
    assert_string_equal(nerve_safetensors_dtype(st, "counts"), "I64");
    assert_string_equal(nerve_safetensors_dtype(st, "step"), "F32");
    assert_null(nerve_safetensors_dtype(st, "absent"));
    nerve_safetensors_close(st);
}

static void assert_open_fails(const char *path, nerve_status expected_status, const char *expected)
{
    nerve_safetensors *st = (nerve_safetensors *)&st;
    nerve_error err = {0};
    assert_int_equal(nerve_safetensors_open(path, &st, &err), expected_status);
    assert_null(st);
    test_assert_message_contains(&err, path);
    test_assert_message_contains(&err, expected);
    assert_null(strchr(err.message, '\n'));
}

static void assert_header_rejected(const char *header, size_t data_size, const char *expected)
{
    const char *path = test_tmppath("corrupt.safetensors");
    unsigned char *data = calloc(data_size + 1, 1);
    assert_non_null(data);
    write_raw_file(path, header, data, data_size);
    free(data);
    assert_open_fails(path, NERVE_ERR_FORMAT, expected);
}

static void rejects_a_file_shorter_than_its_length_prefix(void **state)
{
    (void)state;
    const char *path = test_tmppath("short.safetensors");
    test_write_file(path, "\x02\0\0\0\0", 5);
    assert_open_fails(path, NERVE_ERR_FORMAT, "5 bytes, too short");
    test_write_file(path, "", 0);
    assert_open_fails(path, NERVE_ERR_FORMAT, "too short");
}

static void rejects_a_header_length_beyond_the_file(void **state)
{
    (void)state;
    const char *path = test_tmppath("long_header.safetensors");
    unsigned char bytes[8 + 10];
    put_u64_le(bytes, 11);
    memcpy(bytes + 8, "{}        ", 10);
    test_write_file(path, bytes, sizeof bytes);
    assert_open_fails(path, NERVE_ERR_FORMAT, "header of 11 bytes does not fit in a file of 18");

    put_u64_le(bytes, (uint64_t)1 << 63);
    test_write_file(path, bytes, sizeof bytes);
    assert_open_fails(path, NERVE_ERR_FORMAT, "header of 9223372036854775808 bytes does not fit");
}

static void rejects_a_header_over_100_mib_before_allocating(void **state)
{
    (void)state;
    /* A sparse file: large on paper, free on disk. */
    const char *path = test_tmppath("huge_header.safetensors");
    unsigned char prefix[8];
    uint64_t header_size = ((uint64_t)100 << 20) + 1;
    put_u64_le(prefix, header_size);
    test_write_file(path, prefix, sizeof prefix);
    assert_int_equal(truncate(path, (off_t)(header_size + 8 + 64)), 0);
    assert_open_fails(path, NERVE_ERR_FORMAT, "over the 100 MiB limit");
}

static void rejects_headers_that_are_not_a_json_object(void **state)
{
    (void)state;
    assert_header_rejected("{\"a\": {\"dtype\": ", 0, "header is not valid JSON");
    assert_header_rejected("[1, 2]", 0, "header is not a JSON object");
    assert_header_rejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
                           "\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}",
                           4, "duplicate");
    assert_header_rejected("{\"a\": 3}", 0, "tensor 'a': not a JSON object");
}

static void rejects_entries_missing_a_field(void **state)
{
    (void)state;
    assert_header_rejected("{\"x\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                           "tensor 'x': missing dtype");
    assert_header_rejected("{\"x\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4,
                           "tensor 'x': missing shape");
    assert_header_rejected("{\"x\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4,
                           "tensor 'x': missing data_offsets");
    assert_header_rejected("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],"
                           "\"extra\":1}}",
                           4, "tensor 'x': unknown field 'extra'");
    assert_header_rejected("{\"x\":{\"dtype\":3,\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                           "tensor 'x': dtype is not a string");
    assert_header_rejected("{\"x\":{\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]}}", 4,
                           "tensor 'x': shape is not an array");
    assert_header_rejected("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4]}}", 4,
                           "tensor 'x': data_offsets is not [begin, end]");
    assert_header_rejected("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4,
                           "tensor 'x': data_offsets is not [begin, end]");
}

static void rejects_offsets_outside_the_data_or_inconsistent_with_the_shape(void **state)
{
    (void)state;
    assert_header_rejected("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4,
                           "tensor 'x': data_offsets [0, 8] outside the 4 bytes of data");
    assert_header_rejected("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8,
                           "tensor 'x': data_offsets [8, 4] outside");
    assert_header_rejected("{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8,
                           "tensor 'x': data_offsets span 8 bytes, shape 3 of F32 needs 12");
    assert_header_rejected("{\"x\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,8]}}", 16,
                           "tensor 'x': data_offsets span 8 bytes, shape 2 of F64 needs 16");
}

static void rejects_bad_shapes(void **state)
{
    (void)state;
    assert_header_rejected("{\"x\":{\"dtype\":\"F32\",\"shape\":[2147483648,2147483648,2147483648],"
                           "\"data_offsets\":[0,4]}}",
                           4, "tensor 'x': shape overflows");
    /* The product fits in int64, the byte count does not. */
    assert_header_rejected("{\"x\":{\"dtype\":\"F64\",\"shape\":[4611686018427387904],"
                           "\"data_offsets\":[0,4]}}",
                           4, "tensor 'x': shape overflows");
    assert_header_rejected("{\"x\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4,
                           "tensor 'x': shape[0] is not a non-negative integer");
    assert_header_rejected("{\"x\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4,
                           "tensor 'x': shape[0] is not a non-negative integer");
    assert_header_rejected("{\"x\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1],"
                           "\"data_offsets\":[0,4]}}",
                           4, "tensor 'x': 6 dimensions, at most 5");
}

static void rejects_unsupported_and_unknown_dtypes(void **state)
{
    (void)state;
    assert_header_rejected("{\"ids\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                           "tensor 'ids': dtype I32 not supported");
    assert_header_rejected("{\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4,
                           "tensor 'h': dtype F16 not supported");
    assert_header_rejected("{\"h\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4,
                           "tensor 'h': dtype BF16 not supported");
    assert_header_rejected("{\"q\":{\"dtype\":\"Q7\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4,
                           "tensor 'q': unknown dtype 'Q7'");
}

static void rejects_metadata_that_is_not_strings(void **state)
{
    (void)state;
    assert_header_rejected("{\"__metadata__\":{\"epoch\":3}}", 0,
                           "__metadata__: value of 'epoch' is not a string");
    assert_header_rejected("{\"__metadata__\":[]}", 0, "__metadata__ is not a JSON object");
}

static void reports_a_missing_file(void **state)
{
    (void)state;
    assert_open_fails(test_tmppath("absent.safetensors"), NERVE_ERR_IO, "No such file");
    assert_open_fails(test_tmpdir(), NERVE_ERR_IO, "not a regular file");
}

/* ---------------------------------------------------------------- writing */

static void write_rejects_bad_tensor_lists(void **state)
{
    (void)state;
    float v[2] = {1, 2};
    const char *path = test_tmppath("rejected.safetensors");
    nerve_error err = {0};
    nerve_named_tensor twice[] = {
        {"a", nerve_shape_1d(2), v, NERVE_DTYPE_F32},
        {"b", nerve_shape_1d(2), v, NERVE_DTYPE_F32},
        {"a", nerve_shape_1d(1), v, NERVE_DTYPE_F32}};
    assert_int_equal(nerve_safetensors_write(path, twice, 3, NULL, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "tensor name 'a' used twice");

    nerve_named_tensor reserved[] = {{"__metadata__", nerve_shape_1d(2), v, NERVE_DTYPE_F32}};
    assert_int_equal(nerve_safetensors_write(path, reserved, 1, NULL, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "invalid name '__metadata__'");

    nerve_named_tensor no_data[] = {{"a", nerve_shape_1d(2), NULL, NERVE_DTYPE_F32}};
    assert_int_equal(nerve_safetensors_write(path, no_data, 1, NULL, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "tensor 'a': no data");

    nerve_named_tensor negative[] = {{"a", nerve_shape_1d(-2), v, NERVE_DTYPE_F32}};
    assert_int_equal(nerve_safetensors_write(path, negative, 1, NULL, &err), NERVE_ERR_SHAPE);
    test_assert_message_contains(&err, "tensor 'a': invalid shape");

    const char *metadata[] = {"k", "1", "k", "2", NULL};
    nerve_named_tensor one[] = {{"a", nerve_shape_1d(2), v, NERVE_DTYPE_F32}};
    assert_int_equal(nerve_safetensors_write(path, one, 1, metadata, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "metadata key 'k' given twice");

    /* Nothing was written by any of them. */
    assert_int_equal(access(path, F_OK), -1);
}

static void write_into_a_missing_directory_fails_cleanly(void **state)
{
    (void)state;
    float v[1] = {1};
    nerve_named_tensor one[] = {{"a", nerve_shape_1d(1), v, NERVE_DTYPE_F32}};
    const char *path = test_tmppath("no/such/dir/w.safetensors");
    nerve_error err = {0};
    assert_int_equal(nerve_safetensors_write(path, one, 1, NULL, &err), NERVE_ERR_IO);
    test_assert_message_contains(&err, path);
    assert_null(strchr(err.message, '\n'));
}

static void failed_rename_leaves_the_target_and_no_temporary_file(void **state)
{
    (void)state;
    const char *dir = fresh_directory("rename_fails");
    char target[600];
    snprintf(target, sizeof target, "%s/w.safetensors", dir);
    /* A non-empty directory cannot be replaced by a file. */
    assert_int_equal(mkdir(target, 0755), 0);
    char inside[700];
    snprintf(inside, sizeof inside, "%s/keep", target);
    test_write_file(inside, "x", 1);

    float v[1] = {1};
    nerve_named_tensor one[] = {{"a", nerve_shape_1d(1), v, NERVE_DTYPE_F32}};
    nerve_error err = {0};
    assert_int_equal(nerve_safetensors_write(target, one, 1, NULL, &err), NERVE_ERR_IO);
    test_assert_message_contains(&err, target);
    assert_int_equal(count_directory_entries(dir), 1);
    assert_int_equal(count_directory_entries(target), 1);
}

static void failed_write_leaves_the_old_file_intact(void **state)
{
    (void)state;
    const char *dir = fresh_directory("write_fails");
    char path[600];
    snprintf(path, sizeof path, "%s/w.safetensors", dir);
    float old_values[3] = {1, 2, 3};
    nerve_named_tensor old_tensor[] = {{"w", nerve_shape_1d(3), old_values, NERVE_DTYPE_F32}};
    nerve_error err = {0};
    assert_int_equal(nerve_safetensors_write(path, old_tensor, 1, NULL, &err), NERVE_OK);
    size_t old_size;
    unsigned char *old_bytes = read_whole_file(path, &old_size);

    /* The file size limit makes the write fail half-way, as a full disk would. */
    int64_t count = 1 << 20;
    float *big = calloc((size_t)count, sizeof *big);
    assert_non_null(big);
    nerve_named_tensor new_tensor[] = {{"w", nerve_shape_1d(count), big, NERVE_DTYPE_F32}};
    struct rlimit saved;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
    struct rlimit limited = saved;
    limited.rlim_cur = 64 * 1024;
    void (*saved_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &limited), 0);
    nerve_status status = nerve_safetensors_write(path, new_tensor, 1, NULL, &err);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
    signal(SIGXFSZ, saved_handler);
    free(big);

    assert_int_equal(status, NERVE_ERR_IO);
    test_assert_message_contains(&err, "write failed");
    size_t size;
    unsigned char *bytes = read_whole_file(path, &size);
    assert_int_equal(size, old_size);
    assert_memory_equal(bytes, old_bytes, size);
    assert_int_equal(count_directory_entries(dir), 1);
    free(bytes);
    free(old_bytes);

    nerve_safetensors *st = NULL;
    assert_int_equal(nerve_safetensors_open(path, &st, &err), NERVE_OK);
    assert_memory_equal(nerve_safetensors_get(st, "w", NULL), old_values, sizeof old_values);
    nerve_safetensors_close(st);
}

static void write_replaces_an_existing_file(void **state)
{
    (void)state;
    const char *dir = fresh_directory("replace");
    char path[600];
    snprintf(path, sizeof path, "%s/w.safetensors", dir);
    float first[1] = {1}, second[2] = {5, 6};
    nerve_named_tensor a[] = {{"a", nerve_shape_1d(1), first, NERVE_DTYPE_F32}};
    nerve_named_tensor b[] = {{"b", nerve_shape_1d(2), second, NERVE_DTYPE_F32}};
    nerve_error err = {0};
    assert_int_equal(nerve_safetensors_write(path, a, 1, NULL, &err), NERVE_OK);
    assert_int_equal(nerve_safetensors_write(path, b, 1, NULL, &err), NERVE_OK);
    nerve_safetensors *st = NULL;
    assert_int_equal(nerve_safetensors_open(path, &st, &err), NERVE_OK);
    assert_int_equal(nerve_safetensors_count(st), 1);
    assert_memory_equal(nerve_safetensors_get(st, "b", NULL), second, sizeof second);
    nerve_safetensors_close(st);
    assert_int_equal(count_directory_entries(dir), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_keeps_names_shapes_values_and_metadata),
        cmocka_unit_test(writes_and_reads_a_file_without_tensors_or_metadata),
        cmocka_unit_test(reads_a_file_laid_out_by_the_reference_writer),
        cmocka_unit_test(rejects_a_file_shorter_than_its_length_prefix),
        cmocka_unit_test(rejects_a_header_length_beyond_the_file),
        cmocka_unit_test(rejects_a_header_over_100_mib_before_allocating),
        cmocka_unit_test(rejects_headers_that_are_not_a_json_object),
        cmocka_unit_test(rejects_entries_missing_a_field),
        cmocka_unit_test(rejects_offsets_outside_the_data_or_inconsistent_with_the_shape),
        cmocka_unit_test(rejects_bad_shapes),
        cmocka_unit_test(int64_tensors_round_trip_and_keep_their_dtype),
        cmocka_unit_test(rejects_unsupported_and_unknown_dtypes),
        cmocka_unit_test(rejects_metadata_that_is_not_strings),
        cmocka_unit_test(reports_a_missing_file),
        cmocka_unit_test(write_rejects_bad_tensor_lists),
        cmocka_unit_test(write_into_a_missing_directory_fails_cleanly),
        cmocka_unit_test(failed_rename_leaves_the_target_and_no_temporary_file),
        cmocka_unit_test(failed_write_leaves_the_old_file_intact),
        cmocka_unit_test(write_replaces_an_existing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
