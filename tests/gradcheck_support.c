#include "gradcheck_support.h"

int gc_setup(void **state)
{
    static gc_fixture f;
    f.g = nerve_graph_new();
    nerve_rng_seed(&f.rng, 42);
    *state = &f;
    return 0;
}

int gc_teardown(void **state)
{
    gc_fixture *f = *state;
    nerve_graph_free(f->g);
    return 0;
}

nerve_node gc_random_param(gc_fixture *f, const char *name, nerve_shape shape, double scale,
                           double margin)
{
    nerve_node n = nerve_param(f->g, name, shape, &f->err);
    assert_true(n >= 0);
    nerve_real *v = nerve_node_value(f->g, n);
    for (int64_t i = 0; i < nerve_shape_numel(&shape); i++) {
        double u = 2 * nerve_rng_uniform(&f->rng) - 1;
        v[i] = u >= 0 ? margin + u * (scale - margin) : -margin + u * (scale - margin);
    }
    return n;
}

void gc_fill_input(gc_fixture *f, nerve_node n, double scale)
{
    nerve_shape s = nerve_node_shape(f->g, n);
    nerve_real *v = nerve_node_value(f->g, n);
    for (int64_t i = 0; i < nerve_shape_numel(&s); i++)
        v[i] = (2 * nerve_rng_uniform(&f->rng) - 1) * scale;
}

nerve_node gc_constant(gc_fixture *f, const char *name, nerve_shape shape, double scale)
{
    nerve_node n = gc_random_param(f, name, shape, scale, 0);
    nerve_node_set_frozen(f->g, n, true);
    return n;
}

double gc_check_loss(gc_fixture *f, nerve_node loss)
{
    if (loss < 0) fail_msg("building the loss failed: %s", f->err.message);
    assert_int_equal(nerve_graph_plan(f->g, 1, &f->err), NERVE_OK);
    double worst;
    assert_int_equal(nerve_gradcheck(f->g, loss, GC_EPS, &worst, &f->err), NERVE_OK);
    return worst;
}

double gc_check_through_mse(gc_fixture *f, nerve_node y)
{
    assert_true(y >= 0);
    nerve_node target = gc_constant(f, "target", nerve_node_shape(f->g, y), 1.0);
    return gc_check_loss(f, nerve_mse(f->g, y, target, NULL, &f->err));
}
