/* Shared by the test_parity_*.c programs: a graph per test whose inputs are
 * parameters loaded from a PyTorch fixture (tests/fixtures/<file>.safetensors,
 * written by tests/reference/make_fixtures.py), and comparisons of values and
 * gradients with the fixture's tensors.
 *
 * An op's inputs are parameters, so that their gradients (dx in the fixtures)
 * land in nerve_node_grad; fixed data that takes no gradient is a frozen
 * parameter. */
#ifndef NERVE_PARITY_SUPPORT_H
#define NERVE_PARITY_SUPPORT_H

#include "test_support.h"

/* |nerve - torch| <= PARITY_TOLERANCE * max(1, |torch|): relative, with an
 * absolute floor because some expected values underflow to exactly 0
 * (sigmoid at -30). */
#define PARITY_TOLERANCE 1e-5

typedef struct parity {
    nerve_graph *g;
    nerve_safetensors *st;
    nerve_error err;
    /* the nodes that inject a fixture's upstream gradient (see inject_upstream) */
    nerve_node upstream, upstream_target;
} parity;

/* cmocka setup/teardown: a fresh graph in *state, the fixture closed after. */
int parity_setup(void **state);
int parity_teardown(void **state);
#define PARITY_TEST(f) cmocka_unit_test_setup_teardown(f, parity_setup, parity_teardown)

/* Opens tests/fixtures/<file>.safetensors. */
void open_fixture(parity *p, const char *file);
const float *fixture_tensor(parity *p, const char *name, nerve_shape *shape);
/* A parameter named after a fixture tensor, with its shape and values. */
nerve_node fixture_param(parity *p, const char *name, bool frozen);
/* Compares a node's value (or gradient) with the fixture tensor of the same shape. */
void expect_tensor(parity *p, const char *name, nerve_node n, bool gradient);
/* Builds a scalar loss whose gradient w.r.t. y is exactly the fixture tensor
 * dy_name, as y.backward(dy) does (y of any shape [N, ...]). */
nerve_node inject_upstream(parity *p, nerve_node y, const char *dy_name);
/* Plans the graph and runs forward and backward through inject_upstream's loss. */
void run_with_upstream(parity *p, nerve_node loss);
/* Its first half, on a planned graph: runs forward to inject_upstream's
 * product and sets the target that makes the loss's gradient dy. */
void prepare_upstream(parity *p);
void forward_backward(parity *p, nerve_node loss);
/* buf = prefix followed by name. */
void name_in(char *buf, size_t size, const char *prefix, const char *name);
/* For y = op(x) built by the caller: injects <prefix>.dy, runs, and compares
 * <prefix>.y with y and <prefix>.dx with x's gradient. */
void check_activation(parity *p, const char *prefix, nerve_node x, nerve_node y);

#endif
