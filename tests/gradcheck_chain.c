/* nerve_graph_backward_from against central finite differences, in double
 * precision: with a random upstream u, backward_from(node, u) must give the
 * gradient of sum(u * node) with respect to every trainable parameter and
 * to a gradient-taking input. */
#include <stdlib.h>
#include <string.h>

#include "gradcheck_support.h"

#define BATCH 3

static double sum_upstream_times(nerve_graph *g, nerve_node y, const nerve_real *upstream,
                                 int64_t count)
{
    assert_int_equal(nerve_graph_forward(g, y, NULL), NERVE_OK);
    const nerve_real *v = nerve_node_value(g, y);
    double total = 0;
    for (int64_t i = 0; i < count; i++) total += upstream[i] * v[i];
    return total;
}

/* Worst |numeric - analytic| / max(1, |numeric| + |analytic|) over values. */
static double check_values(nerve_graph *g, nerve_node y, const nerve_real *upstream,
                           int64_t count, nerve_real *values, const nerve_real *analytic,
                           int64_t value_count)
{
    double worst = 0;
    for (int64_t i = 0; i < value_count; i++) {
        nerve_real saved = values[i];
        values[i] = saved + GC_EPS;
        double plus = sum_upstream_times(g, y, upstream, count);
        values[i] = saved - GC_EPS;
        double minus = sum_upstream_times(g, y, upstream, count);
        values[i] = saved;
        double numeric = (plus - minus) / (2 * GC_EPS);
        double scale = fabs(numeric) + fabs(analytic[i]);
        double error = fabs(numeric - analytic[i]) / (scale > 1 ? scale : 1);
        if (error > worst) worst = error;
    }
    return worst;
}

static void test_backward_from_random_upstream(void **state)
{
    gc_fixture *f = *state;
    nerve_node x = nerve_input(f->g, "x", nerve_shape_1d(4), &f->err);
    assert_int_equal(nerve_graph_set_input_grad(f->g, x, true, &f->err), NERVE_OK);
    nerve_node w1 = gc_random_param(f, "fc1.weight", nerve_shape_2d(5, 4), 1, 0);
    nerve_node b1 = gc_random_param(f, "fc1.bias", nerve_shape_1d(5), 1, 0);
    nerve_node w2 = gc_random_param(f, "fc2.weight", nerve_shape_2d(3, 5), 1, 0);
    nerve_node h = nerve_activate(f->g, nerve_linear(f->g, x, w1, b1, &f->err), NERVE_ACT_TANH,
                                  NULL, &f->err);
    nerve_node y = nerve_linear(f->g, h, w2, -1, &f->err);
    assert_true(y >= 0);
    assert_int_equal(nerve_graph_plan(f->g, BATCH, &f->err), NERVE_OK);
    gc_fill_input(f, x, 1);

    int64_t count = BATCH * 3;
    nerve_real upstream[BATCH * 3];
    for (int64_t i = 0; i < count; i++) upstream[i] = 2 * nerve_rng_uniform(&f->rng) - 1;

    nerve_graph_zero_grad(f->g);
    assert_int_equal(nerve_graph_forward(f->g, y, NULL), NERVE_OK);
    assert_int_equal(nerve_graph_backward_from(f->g, y, upstream, &f->err), NERVE_OK);

    size_t param_count = nerve_graph_param_count(f->g);
    nerve_real *param_grads = malloc(param_count * sizeof *param_grads);
    nerve_real input_grad[BATCH * 4];
    assert_non_null(param_grads);
    memcpy(param_grads, nerve_graph_grads(f->g), param_count * sizeof *param_grads);
    memcpy(input_grad, nerve_node_grad(f->g, x), sizeof input_grad);

    double worst = check_values(f->g, y, upstream, count, nerve_graph_params(f->g), param_grads,
                                (int64_t)param_count);
    double worst_input = check_values(f->g, y, upstream, count, nerve_node_value(f->g, x),
                                      input_grad, BATCH * 4);
    free(param_grads);
    if (worst >= GC_TOLERANCE || worst_input >= GC_TOLERANCE)
        print_error("parameters %g, input %g\n", worst, worst_input);
    assert_true(worst < GC_TOLERANCE);
    assert_true(worst_input < GC_TOLERANCE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_backward_from_random_upstream, gc_setup,
                                        gc_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
