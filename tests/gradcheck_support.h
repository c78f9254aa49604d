/* Shared by the gradcheck_*.c programs, which link the float64 engine: a
 * graph per test, parameters with random values, and the check itself. */
#ifndef NERVE_GRADCHECK_SUPPORT_H
#define NERVE_GRADCHECK_SUPPORT_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "nerve.h"

/* Central differences of step GC_EPS in double precision agree with the
 * analytic gradient to about 1e-9; GC_TOLERANCE leaves room for curvature. */
#define GC_TOLERANCE 1e-7
#define GC_EPS 1e-6

typedef struct gc_fixture {
    nerve_graph *g;
    nerve_rng rng;
    nerve_error err;
} gc_fixture;

/* cmocka setup/teardown: a fresh graph and a seeded RNG in *state. */
int gc_setup(void **state);
int gc_teardown(void **state);
/* A parameter filled with values in (-scale, scale) that stay at least
 * `margin` away from 0, so that no finite difference straddles a kink. */
nerve_node gc_random_param(gc_fixture *f, const char *name, nerve_shape shape, double scale,
                           double margin);
/* Fills an input node's current value with values in (-scale, scale). */
void gc_fill_input(gc_fixture *f, nerve_node n, double scale);
/* A frozen parameter: data of a fixed shape that takes no gradient. */
nerve_node gc_constant(gc_fixture *f, const char *name, nerve_shape shape, double scale);
/* Plans at batch 1, checks d(loss)/d(every trainable parameter), returns
 * the worst error; fails the test if loss is -1 (with the builder's message). */
double gc_check_loss(gc_fixture *f, nerve_node loss);
/* gc_check_loss of mse(y, random target). */
double gc_check_through_mse(gc_fixture *f, nerve_node y);

#endif
