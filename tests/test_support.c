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

nerve_safetensors *test_open_fixture(const char *file)
{
    char relative[256];
    nerve_safetensors *st = NULL;
    nerve_error err = {0};
    snprintf(relative, sizeof relative, "tests/fixtures/%s.safetensors", file);
    test_require_ok(nerve_safetensors_open(test_source_path(relative), &st, &err), &err);
    return st;
}

const float *test_fixture_tensor(const nerve_safetensors *st, const char *name, nerve_shape *shape)
{
    const float *data = nerve_safetensors_get(st, name, shape);
    if (!data) fail_msg("fixture has no tensor '%s'", name);
    return data;
}

nerve_node test_fixture_param(nerve_graph *g, const nerve_safetensors *st, const char *name,
                              bool frozen)
{
    nerve_shape shape;
    nerve_error err = {0};
    const float *data = test_fixture_tensor(st, name, &shape);
    nerve_node n = test_require_node(nerve_param(g, name, shape, &err), &err);
    nerve_real *value = nerve_node_value(g, n);
    for (int64_t i = 0; i < nerve_shape_numel(&shape); i++) value[i] = data[i];
    nerve_node_set_frozen(g, n, frozen);
    return n;
}

void test_expect_fixture(nerve_graph *g, const nerve_safetensors *st, const char *name,
                         nerve_node n, bool gradient, double tolerance)
{
    nerve_shape expected_shape, shape = nerve_node_shape(g, n);
    const float *expected = test_fixture_tensor(st, name, &expected_shape);
    char a[64], b[64];
    if (!nerve_shape_equal(&shape, &expected_shape))
        fail_msg("%s: nerve's shape %s, torch's %s", name, nerve_shape_format(&shape, a, sizeof a),
                 nerve_shape_format(&expected_shape, b, sizeof b));
    nerve_real *actual = gradient ? nerve_node_grad(g, n) : nerve_node_value(g, n);
    if (!actual) fail_msg("%s: node '%s' has no gradient", name, nerve_node_name(g, n));
    test_assert_close(name, actual, expected, nerve_shape_numel(&shape), tolerance);
}
