/* Batch normalisation against PyTorch (tests/fixtures/norm.safetensors,
 * written by tests/reference/fixtures_norm.py): the batchnorm layer's forward
 * and backward in training mode for BatchNorm1d ([N, C], [N, C, L]) and
 * BatchNorm2d, its running statistics after three training steps, and eval
 * mode's forward and backward with them. */
#include <stdio.h>
#include <string.h>

#include "parity_support.h"

/* The layer's parameter <layer>.<suffix> set to the fixture tensor `name`. */
static void set_from_fixture(parity *p, const char *layer, const char *suffix, const char *name)
{
    char param[64];
    snprintf(param, sizeof param, "%s.%s", layer, suffix);
    nerve_node n = nerve_graph_find(p->g, param);
    assert_true(n >= 0);
    nerve_shape shape;
    const float *values = fixture_tensor(p, name, &shape); /* sets shape */
    test_write_floats(p->g, n, values, nerve_shape_numel(&shape));
}

/* num_batches_tracked, read through the device. */
static nerve_real batches_tracked(parity *p)
{
    nerve_real count;
    nerve_node n = nerve_graph_find(p->g, "bn.num_batches_tracked");
    assert_true(n >= 0);
    test_require_ok(nerve_node_read(p->g, n, &count, 1, &p->err), &p->err);
    return count;
}

static nerve_node layer_param(parity *p, const char *layer, const char *suffix)
{
    char name[64];
    snprintf(name, sizeof name, "%s.%s", layer, suffix);
    return nerve_graph_find(p->g, name);
}

static void check_training_step(parity *p, const char *c, bool affine)
{
    char name[64];
    open_fixture(p, "norm");
    name_in(name, sizeof name, c, ".x");
    nerve_node x = fixture_param(p, name, false);
    nerve_batchnorm_options o = nerve_batchnorm_defaults();
    o.no_affine = !affine;
    nerve_node y = nerve_batchnorm_layer(p->g, "bn", x, &o, &p->err);
    if (affine) {
        name_in(name, sizeof name, c, ".weight");
        set_from_fixture(p, "bn", "weight", name);
        name_in(name, sizeof name, c, ".bias");
        set_from_fixture(p, "bn", "bias", name);
    }
    check_activation(p, c, x, y);
    if (!affine) return;
    name_in(name, sizeof name, c, ".dweight");
    expect_tensor(p, name, layer_param(p, "bn", "weight"), true);
    name_in(name, sizeof name, c, ".dbias");
    expect_tensor(p, name, layer_param(p, "bn", "bias"), true);
}

static void test_batchnorm1d_training(void **state) { check_training_step(*state, "bn1d", true); }
static void test_batchnorm1d_ncl_training(void **state)
{
    check_training_step(*state, "bn1d_ncl", true);
}
static void test_batchnorm2d_training(void **state) { check_training_step(*state, "bn2d", true); }
static void test_batchnorm2d_without_affine_training(void **state)
{
    check_training_step(*state, "bn2d_plain", false);
}

/* Three training forwards move the running statistics; eval mode then
 * normalises with them and differentiates them as constants, and its
 * forwards leave them (and the count) as they were. */
static void check_running_statistics(parity *p, const char *r, double momentum)
{
    char name[64];
    open_fixture(p, "norm");
    name_in(name, sizeof name, r, ".eval.x");
    nerve_node x = fixture_param(p, name, false);
    nerve_batchnorm_options o = nerve_batchnorm_defaults();
    o.momentum = momentum;
    nerve_node y = test_require_node(nerve_batchnorm_layer(p->g, "bn", x, &o, &p->err), &p->err);
    name_in(name, sizeof name, r, ".weight");
    set_from_fixture(p, "bn", "weight", name);
    name_in(name, sizeof name, r, ".bias");
    set_from_fixture(p, "bn", "bias", name);
    name_in(name, sizeof name, r, ".eval.dy");
    nerve_node loss = inject_upstream(p, y, name);
    test_require_ok(nerve_graph_plan(p->g, 1, &p->err), &p->err);

    nerve_shape shape = nerve_node_shape(p->g, x);
    for (int step = 0; step < 3; step++) {
        snprintf(name, sizeof name, "%s.x%d", r, step);
        test_write_floats(p->g, x, fixture_tensor(p, name, NULL), nerve_shape_numel(&shape));
        assert_int_equal(nerve_graph_forward(p->g, y, NULL), NERVE_OK);
    }
    name_in(name, sizeof name, r, ".running_mean");
    expect_tensor(p, name, layer_param(p, "bn", "running_mean"), false);
    name_in(name, sizeof name, r, ".running_var");
    expect_tensor(p, name, layer_param(p, "bn", "running_var"), false);
    assert_true(batches_tracked(p) == 3);

    name_in(name, sizeof name, r, ".eval.x");
    test_write_floats(p->g, x, fixture_tensor(p, name, NULL), nerve_shape_numel(&shape));
    nerve_graph_set_training(p->g, false);
    run_with_upstream(p, loss);
    name_in(name, sizeof name, r, ".eval.y");
    expect_tensor(p, name, y, false);
    name_in(name, sizeof name, r, ".eval.dx");
    expect_tensor(p, name, x, true);
    name_in(name, sizeof name, r, ".eval.dweight");
    expect_tensor(p, name, layer_param(p, "bn", "weight"), true);
    name_in(name, sizeof name, r, ".eval.dbias");
    expect_tensor(p, name, layer_param(p, "bn", "bias"), true);
    name_in(name, sizeof name, r, ".running_mean");
    expect_tensor(p, name, layer_param(p, "bn", "running_mean"), false);
    name_in(name, sizeof name, r, ".running_var");
    expect_tensor(p, name, layer_param(p, "bn", "running_var"), false);
    assert_true(batches_tracked(p) == 3);
}

static void test_batchnorm1d_running_statistics(void **state)
{
    check_running_statistics(*state, "running1d", 0.2);
}

static void test_batchnorm2d_running_statistics(void **state)
{
    check_running_statistics(*state, "running2d", 0.1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        PARITY_TEST(test_batchnorm1d_training),
        PARITY_TEST(test_batchnorm1d_ncl_training),
        PARITY_TEST(test_batchnorm2d_training),
        PARITY_TEST(test_batchnorm2d_without_affine_training),
        PARITY_TEST(test_batchnorm1d_running_statistics),
        PARITY_TEST(test_batchnorm2d_running_statistics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
