#include "test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[256];

static void remove_tmpdir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
}

const char *test_tmpdir(void)
{
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/nerve-test-XXXXXX");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            abort();
        }
        atexit(remove_tmpdir);
    }
    return tmpdir;
}

const char *test_tmppath(const char *name)
{
    static char slots[8][512];
    static int next;
    char *p = slots[next++ % 8];
    snprintf(p, 512, "%s/%s", test_tmpdir(), name);
    return p;
}

void test_write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
}

const char *test_source_path(const char *relative)
{
    static char slots[8][1024];
    static int next;
    char *p = slots[next++ % 8];
    snprintf(p, 1024, "%s/%s", NERVE_SOURCE_DIR, relative);
    return p;
}

void test_assert_message_contains(const nerve_error *err, const char *needle)
{
    if (!strstr(err->message, needle)) {
        fprintf(stderr, "expected \"%s\" in message: %s\n", needle, err->message);
        fail();
    }
}

void test_require_ok(nerve_status status, const nerve_error *err)
{
    if (status != NERVE_OK) fail_msg("%s: %s", nerve_status_name(status), err->message);
}

nerve_node test_require_node(nerve_node n, const nerve_error *err)
{
    if (n < 0) fail_msg("graph construction failed: %s", err->message);
    return n;
}

static int64_t node_numel(const nerve_graph *g, nerve_node n)
{
    nerve_shape shape = nerve_node_shape(g, n);
    return nerve_shape_numel(&shape);
}

static nerve_real *read_node(nerve_graph *g, nerve_node n, bool gradient)
{
    int64_t count = node_numel(g, n);
    nerve_real *values = malloc((size_t)(count > 0 ? count : 1) * sizeof *values);
    if (!values) fail_msg("out of memory for %lld values", (long long)count);
    nerve_error err = {0};
    test_require_ok(gradient ? nerve_node_read_grad(g, n, values, count, &err)
                             : nerve_node_read(g, n, values, count, &err),
                    &err);
    return values;
}

nerve_real *test_read_value(nerve_graph *g, nerve_node n) { return read_node(g, n, false); }
nerve_real *test_read_grad(nerve_graph *g, nerve_node n) { return read_node(g, n, true); }

void test_write_value(nerve_graph *g, nerve_node n, const nerve_real *values)
{
    nerve_error err = {0};
    test_require_ok(nerve_node_write(g, n, values, node_numel(g, n), &err), &err);
}

void test_write_floats(nerve_graph *g, nerve_node n, const float *values, int64_t count)
{
    nerve_real *converted = malloc((size_t)(count > 0 ? count : 1) * sizeof *converted);
    if (!converted) fail_msg("out of memory for %lld values", (long long)count);
    for (int64_t i = 0; i < count; i++) converted[i] = values[i];
    nerve_error err = {0};
    test_require_ok(nerve_node_write(g, n, converted, count, &err), &err);
    free(converted);
}

void test_assert_close(const char *name, const nerve_real *actual, const float *expected,
                       int64_t count, double tolerance)
{
    int64_t bad = 0;
    for (int64_t i = 0; i < count; i++) {
        double a = actual[i], e = expected[i];
        if (isfinite(a) && fabs(a - e) <= tolerance * fmax(1.0, fabs(e))) continue;
        if (bad++ < 5) print_error("%s[%lld]: nerve %.9g, expected %.9g\n", name, (long long)i, a, e);
    }
    if (bad) fail_msg("%s: %lld of %lld elements differ", name, (long long)bad, (long long)count);
}

nerve_init test_parse_init(const char *spelling)
{
    nerve_init init;
    nerve_error err = {0};
    test_require_ok(nerve_init_parse(spelling, &init, &err), &err);
    return init;
}

nerve_dataset test_blobs(int count, uint64_t seed, double std)
{
    nerve_rng rng;
    nerve_rng_seed(&rng, seed);
    nerve_dataset ds = {.count = count, .sample_shape = nerve_shape_1d(2), .sample_size = 2,
                        .target_size = 1, .num_classes = 2};
    ds.inputs = malloc((size_t)count * 2 * sizeof(float));
    ds.targets = malloc((size_t)count * sizeof(float));
    assert_true(ds.inputs && ds.targets);
    for (int i = 0; i < count; i++) {
        int label = i % 2;
        for (int k = 0; k < 2; k++)
            ds.inputs[2 * i + k] = (float)((label ? 1 : -1) + std * nerve_rng_normal(&rng));
        ds.targets[i] = (float)label;
    }
    return ds;
}
