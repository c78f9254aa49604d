/* Helpers shared by the C tests (cmocka). */
#ifndef NERVE_TEST_SUPPORT_H
#define NERVE_TEST_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "nerve.h"

/* A fresh private directory for this test program (removed at exit). */
const char *test_tmpdir(void);
/* Path of name inside test_tmpdir(); the buffer is static and rotates over 8 slots. */
const char *test_tmppath(const char *name);
/* Writes size bytes to path; fails the test on error. */
void test_write_file(const char *path, const void *data, size_t size);
/* Path of a file under the source tree, e.g. "tests/fixtures/x.safetensors". */
const char *test_source_path(const char *relative);
/* Asserts that err's message contains needle (and prints it when it does not). */
void test_assert_message_contains(const nerve_error *err, const char *needle);

/* Fails with the message unless status is NERVE_OK. */
void test_require_ok(nerve_status status, const nerve_error *err);
/* Fails with the message unless graph construction returned a node. */
nerve_node test_require_node(nerve_node n, const nerve_error *err);
/* Fails unless |actual - expected| <= tolerance * max(1, |expected|) for every
 * element (an absolute floor, since some expected values are exactly 0),
 * listing the first differing elements of the tensor `name`. */
void test_assert_close(const char *name, const nerve_real *actual, const float *expected,
                       int64_t count, double tolerance);

/* PyTorch fixtures (tests/fixtures/<file>.safetensors, tests/reference/README.md). */
nerve_safetensors *test_open_fixture(const char *file);
/* The fixture's tensor `name` and its shape; fails the test if absent. */
const float *test_fixture_tensor(const nerve_safetensors *st, const char *name, nerve_shape *shape);
/* A parameter named after a fixture tensor, with its shape and values; a
 * frozen one is data that takes no gradient. The values survive later
 * parameters: the flat buffer grows by realloc. */
nerve_node test_fixture_param(nerve_graph *g, const nerve_safetensors *st, const char *name,
                              bool frozen);
/* Compares node n's value (or gradient) with the fixture tensor `name`,
 * which must have the node's shape (see test_assert_close). */
void test_expect_fixture(nerve_graph *g, const nerve_safetensors *st, const char *name,
                         nerve_node n, bool gradient, double tolerance);

#endif
