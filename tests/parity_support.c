#include "parity_support.h"

#include <stdio.h>
#include <stdlib.h>

int parity_setup(void **state)
{
    static parity p;
    p.g = nerve_graph_new();
    p.st = NULL;
    assert_non_null(p.g);
    nerve_graph_set_keep_gradients(p.g, true); /* expect_tensor reads ops' gradients */
    *state = &p;
    return 0;
}

int parity_teardown(void **state)
{
    parity *p = *state;
    nerve_graph_free(p->g);
    nerve_safetensors_close(p->st);
    return 0;
}

void open_fixture(parity *p, const char *file)
{
    char relative[256];
    snprintf(relative, sizeof relative, "tests/fixtures/%s.safetensors", file);
    test_require_ok(nerve_safetensors_open(test_source_path(relative), &p->st, &p->err), &p->err);
}

const float *fixture_tensor(parity *p, const char *name, nerve_shape *shape)
{
    const float *data = nerve_safetensors_get(p->st, name, shape);
    if (!data) fail_msg("fixture has no tensor '%s'", name);
    return data;
}

void expect_tensor(parity *p, const char *name, nerve_node n, bool gradient)
{
    nerve_shape expected_shape, shape = nerve_node_shape(p->g, n);
    const float *expected = fixture_tensor(p, name, &expected_shape);
    char a[64], b[64];
    if (!nerve_shape_equal(&shape, &expected_shape))
        fail_msg("%s: nerve's shape %s, torch's %s", name, nerve_shape_format(&shape, a, sizeof a),
                 nerve_shape_format(&expected_shape, b, sizeof b));
    /* read through the device: the parity tests run on every backend */
    nerve_real *actual = gradient ? test_read_grad(p->g, n) : test_read_value(p->g, n);
    test_assert_close(name, actual, expected, nerve_shape_numel(&shape), PARITY_TOLERANCE);
    free(actual);
}

/* The values survive later parameters: the flat buffer grows by realloc. */
nerve_node fixture_param(parity *p, const char *name, bool frozen)
{
    nerve_shape shape;
    const float *data = fixture_tensor(p, name, &shape);
    nerve_node n = test_require_node(nerve_param(p->g, name, shape, &p->err), &p->err);
    test_write_floats(p->g, n, data, nerve_shape_numel(&shape));
    nerve_node_set_frozen(p->g, n, frozen);
    return n;
}

/* Makes the gradient reaching y [N, C] equal the fixture's upstream gradient
 * dy [N, C], as y.backward(dy) does, using only public ops:
 *   z = linear(dy, y) = dy y^T is [N, N], with z[n][n] = sum_c dy[n][c] y[n][c];
 *   loss = mse(z, t) with t = z - (N*N/2) I (set by run_with_upstream from z)
 * has dloss/dz = 2/(N*N) (z - t) = I, hence dloss/dy = I^T dy = dy, exactly
 * but for the rounding of 2/(N*N). The simpler mse(y, y_torch - dy*numel/2)
 * puts y's own values in a float target: at y = 1e4 (relu of 1e4) rounding
 * that target shifts the injected dy by up to 4e-5 (3e-5 on these fixtures),
 * more than PARITY_TOLERANCE. Here z - t = N*N/2 is exact for any |z| < 2^22.
 * A y of more than two dimensions, and its dy, are flattened to [N, C] first. */
nerve_node inject_upstream(parity *p, nerve_node y, const char *dy_name)
{
    nerve_node dy = fixture_param(p, dy_name, true);
    if (nerve_node_shape(p->g, y).ndim > 2) {
        y = test_require_node(nerve_flatten(p->g, y, &p->err), &p->err);
        dy = test_require_node(nerve_flatten(p->g, dy, &p->err), &p->err);
    }
    p->upstream = test_require_node(nerve_linear(p->g, dy, y, -1, &p->err), &p->err);
    nerve_shape z_shape = nerve_node_shape(p->g, p->upstream);
    p->upstream_target =
        test_require_node(nerve_param(p->g, "upstream_target", z_shape, &p->err), &p->err);
    nerve_node_set_frozen(p->g, p->upstream_target, true);
    return test_require_node(nerve_mse(p->g, p->upstream, p->upstream_target, NULL, &p->err), &p->err);
}

void forward_backward(parity *p, nerve_node loss)
{
    nerve_graph_zero_grad(p->g);
    assert_int_equal(nerve_graph_forward(p->g, loss, NULL), NERVE_OK);
    assert_int_equal(nerve_graph_backward(p->g, loss, NULL), NERVE_OK);
}

void run_with_upstream(parity *p, nerve_node loss)
{
    test_require_ok(nerve_graph_plan(p->g, 1, &p->err), &p->err);
    prepare_upstream(p);
    forward_backward(p, loss);
}

void prepare_upstream(parity *p)
{
    assert_int_equal(nerve_graph_forward(p->g, p->upstream, NULL), NERVE_OK);
    int64_t n = nerve_node_shape(p->g, p->upstream).dim[0];
    nerve_real *t = test_read_value(p->g, p->upstream); /* z, then t */
    for (int64_t i = 0; i < n; i++) t[i * n + i] -= (nerve_real)(n * n) / 2;
    test_write_value(p->g, p->upstream_target, t);
    free(t);
}

void name_in(char *buf, size_t size, const char *prefix, const char *name)
{
    snprintf(buf, size, "%s%s", prefix, name);
}

void check_activation(parity *p, const char *prefix, nerve_node x, nerve_node y)
{
    char name[64];
    test_require_node(y, &p->err);
    name_in(name, sizeof name, prefix, ".dy");
    run_with_upstream(p, inject_upstream(p, y, name));

    name_in(name, sizeof name, prefix, ".y");
    expect_tensor(p, name, y, false);
    name_in(name, sizeof name, prefix, ".dx");
    expect_tensor(p, name, x, true);
}
