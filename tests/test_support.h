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
/* All of node n's values (test_read_grad: its gradient) at the current
 * batch, copied through the graph's device into a new host buffer (free
 * it): nerve_node_read, so it works on every backend, sealed included.
 * Fails the test on error. */
nerve_real *test_read_value(nerve_graph *g, nerve_node n);
nerve_real *test_read_grad(nerve_graph *g, nerve_node n);
/* Writes all of node n's values from values (nerve_node_write). */
void test_write_value(nerve_graph *g, nerve_node n, const nerve_real *values);
/* Writes node n's first count values from float32 values (a fixture's). */
void test_write_floats(nerve_graph *g, nerve_node n, const float *values, int64_t count);
/* Fails unless |actual - expected| <= tolerance * max(1, |expected|) for every
 * element (an absolute floor, since some expected values are exactly 0),
 * listing the first differing elements of the tensor `name`. */
void test_assert_close(const char *name, const nerve_real *actual, const float *expected,
                       int64_t count, double tolerance);
/* An initialiser from its cfg spelling ("normal(0, 0.01)"); fails the test
 * if it does not parse. */
nerve_init test_parse_init(const char *spelling);
/* Two Gaussian blobs in 2-D of `count` samples, alternating class 0 (centred
 * at (-1, -1)) and class 1 (at (1, 1)), each coordinate's spread `std`. */
nerve_dataset test_blobs(int count, uint64_t seed, double std);

#endif
