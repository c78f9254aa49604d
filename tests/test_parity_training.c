/* Training matches PyTorch step for step: small MLPs built from dense layers,
 * started from torch's initial weights, trained for 5 steps of SGD with
 * momentum 0.9 on one fixed batch (cross-entropy, class-weighted
 * cross-entropy, MSE), agree with torch on the loss of every step,
 * on the gradients of the first step and on the final weights
 * (tests/fixtures/mlp_sgd.safetensors, written by tests/reference/make_fixtures.py). */
#include <stdio.h>
#include <stdlib.h>

#include "test_support.h"

/* |nerve - torch| <= TOLERANCE * max(1, |torch|). */
#define TOLERANCE 1e-5
#define STEPS 5
#define MAX_LAYERS 4

typedef struct layer_spec {
    const char *name; /* torch's module name: parameters <name>.weight, <name>.bias */
    int64_t units;
    nerve_activation activation;
} layer_spec;

typedef enum loss_kind { CROSS_ENTROPY, MSE } loss_kind;

/* One torch run recorded in the fixture under prefix. */
typedef struct run_spec {
    const char *prefix;
    layer_spec layers[MAX_LAYERS];
    int layer_count;
    loss_kind loss;
    bool class_weights; /* cross-entropy with the fixture's <prefix>weights */
    double lr;
} run_spec;

/* x -> fc1 (8->16) -> relu -> fc2 (16->12) -> tanh -> out (12->4), cross-entropy. */
static const run_spec cross_entropy_run = {
    .prefix = "",
    .layers = {{"fc1", 16, NERVE_ACT_RELU},
               {"fc2", 12, NERVE_ACT_TANH},
               {"out", 4, NERVE_ACT_IDENTITY}},
    .layer_count = 3,
    .loss = CROSS_ENTROPY,
    .lr = 0.1,
};

/* The same network on an imbalanced batch, classes 2 and 3 (one sample each)
 * weighing 100: torch's mean divides by the batch's sum of w_y. */
static const run_spec weighted_run = {
    .prefix = "weighted.",
    .layers = {{"fc1", 16, NERVE_ACT_RELU},
               {"fc2", 12, NERVE_ACT_TANH},
               {"out", 4, NERVE_ACT_IDENTITY}},
    .layer_count = 3,
    .loss = CROSS_ENTROPY,
    .class_weights = true,
    .lr = 0.1,
};

/* x -> fc1 (8->6) -> sigmoid -> out (6->3), MSE against targets. */
static const run_spec mse_run = {
    .prefix = "mse.",
    .layers = {{"fc1", 6, NERVE_ACT_SIGMOID}, {"out", 3, NERVE_ACT_IDENTITY}},
    .layer_count = 2,
    .loss = MSE,
    .lr = 0.5,
};

typedef struct trainer {
    const run_spec *run;
    nerve_graph *g;
    nerve_optimizer *opt;
    nerve_safetensors *st;
    nerve_error err;
} trainer;

static int setup(void **state)
{
    static trainer t;
    t.g = nerve_graph_new();
    t.opt = NULL;
    t.st = NULL;
    assert_non_null(t.g);
    *state = &t;
    return 0;
}

static int teardown(void **state)
{
    trainer *t = *state;
    nerve_optimizer_free(t->opt);
    nerve_graph_free(t->g);
    nerve_safetensors_close(t->st);
    return 0;
}

/* The fixture tensor <prefix><name>, which must have `count` elements. */
static const float *fixture_tensor(trainer *t, const char *name, int64_t count, char *full,
                                   size_t full_size)
{
    nerve_shape shape;
    snprintf(full, full_size, "%s%s", t->run->prefix, name);
    const float *data = nerve_safetensors_get(t->st, full, &shape);
    if (!data) fail_msg("fixture has no tensor '%s'", full);
    if (nerve_shape_numel(&shape) != count)
        fail_msg("%s: %lld elements in the fixture, %lld in nerve", full,
                 (long long)nerve_shape_numel(&shape), (long long)count);
    return data;
}

/* Fails unless actual matches the fixture tensor <prefix><name>, listing the
 * first differing elements. */
static void expect_fixture(trainer *t, const char *name, const nerve_real *actual, int64_t count)
{
    char full[128];
    const float *expected = fixture_tensor(t, name, count, full, sizeof full);
    test_assert_close(full, actual, expected, count, TOLERANCE);
}

/* The fixture's tensor into node n's first count values, through the device
 * (nerve_node_write), as every value goes in and out here: the test runs on
 * every backend. */
static void copy_fixture(trainer *t, const char *name, nerve_node n, int64_t count)
{
    char full[128];
    test_write_floats(t->g, n, fixture_tensor(t, name, count, full, sizeof full), count);
}

/* Calls visit(t, parameter node, "<layer>.weight" or "<layer>.bias") for every
 * parameter, in torch's state_dict order. */
static void for_each_param(trainer *t, void (*visit)(trainer *, nerve_node, const char *),
                           const char *fixture_group)
{
    for (int l = 0; l < t->run->layer_count; l++) {
        for (int k = 0; k < 2; k++) {
            char param[64], tensor[96];
            snprintf(param, sizeof param, "%s.%s", t->run->layers[l].name, k ? "bias" : "weight");
            snprintf(tensor, sizeof tensor, "%s.%s", fixture_group, param);
            nerve_node n = nerve_graph_find(t->g, param);
            if (n < 0) fail_msg("the graph has no parameter '%s'", param);
            visit(t, n, tensor);
        }
    }
}

static int64_t node_numel(trainer *t, nerve_node n)
{
    nerve_shape shape = nerve_node_shape(t->g, n);
    return nerve_shape_numel(&shape);
}

static void load_param(trainer *t, nerve_node n, const char *tensor)
{
    copy_fixture(t, tensor, n, node_numel(t, n));
}

static void expect_param_value(trainer *t, nerve_node n, const char *tensor)
{
    nerve_real *value = test_read_value(t->g, n);
    expect_fixture(t, tensor, value, node_numel(t, n));
    free(value);
}

static void expect_param_grad(trainer *t, nerve_node n, const char *tensor)
{
    nerve_real *grad = test_read_grad(t->g, n);
    expect_fixture(t, tensor, grad, node_numel(t, n));
    free(grad);
}

/* Builds the run's MLP from dense layers (whose random initial weights are
 * then replaced by torch's), plans it for the fixture's batch and fills the
 * batch in. Returns the loss node. */
static nerve_node build(trainer *t, const run_spec *run)
{
    t->run = run;
    test_require_ok(nerve_safetensors_open(test_source_path("tests/fixtures/mlp_sgd.safetensors"),
                                      &t->st, &t->err),
               &t->err);
    nerve_shape x_shape;
    char x_name[64];
    snprintf(x_name, sizeof x_name, "%sx", run->prefix);
    if (!nerve_safetensors_get(t->st, x_name, &x_shape)) fail_msg("fixture has no '%s'", x_name);
    int64_t batch = x_shape.dim[0], features = x_shape.dim[1];
    int64_t outputs = run->layers[run->layer_count - 1].units;

    nerve_node x = test_require_node(nerve_input(t->g, "x", nerve_shape_1d(features), &t->err), &t->err);
    nerve_rng rng;
    nerve_rng_seed(&rng, 1);
    nerve_node h = x;
    for (int l = 0; l < run->layer_count; l++) {
        nerve_dense_options options = {.units = run->layers[l].units,
                                       .activation = run->layers[l].activation};
        h = test_require_node(nerve_dense(t->g, run->layers[l].name, h, &options, &rng, &t->err),
                         &t->err);
    }
    nerve_node target, loss;
    if (run->loss == CROSS_ENTROPY) {
        target = nerve_input(t->g, "labels", nerve_shape_make(0, NULL), &t->err);
        nerve_loss_options options = nerve_loss_options_default();
        if (run->class_weights) {
            char name[128];
            options.weights = fixture_tensor(t, "weights", outputs, name, sizeof name);
            options.weight_count = outputs;
        }
        loss = nerve_softmax_cross_entropy(t->g, h, test_require_node(target, &t->err), &options,
                                           &t->err);
    } else {
        target = nerve_input(t->g, "targets", nerve_shape_1d(outputs), &t->err);
        loss = nerve_mse(t->g, h, test_require_node(target, &t->err), NULL, &t->err);
    }
    test_require_node(loss, &t->err);
    test_require_ok(nerve_graph_plan(t->g, batch, &t->err), &t->err);

    copy_fixture(t, "x", x, batch * features);
    copy_fixture(t, run->loss == CROSS_ENTROPY ? "labels" : "targets", target,
                 node_numel(t, target));
    for_each_param(t, load_param, "init");
    nerve_sgd_options sgd = {.lr = run->lr, .momentum = 0.9};
    t->opt = nerve_sgd_new(t->g, &sgd, &t->err);
    if (!t->opt) fail_msg("%s", t->err.message);
    return loss;
}

/* torch's loop: zero_grad, forward, backward, step; loss[k] is taken before
 * step k's update. */
static void check_training(trainer *t, const run_spec *run)
{
    nerve_node loss = build(t, run);
    nerve_real losses[STEPS];
    for (int step = 0; step < STEPS; step++) {
        nerve_graph_zero_grad(t->g);
        assert_int_equal(nerve_graph_forward(t->g, loss, NULL), NERVE_OK);
        assert_int_equal(nerve_graph_backward(t->g, loss, NULL), NERVE_OK);
        test_require_ok(nerve_node_read(t->g, loss, &losses[step], 1, &t->err), &t->err);
        if (step == 0) for_each_param(t, expect_param_grad, "grad0");
        nerve_optimizer_step(t->opt);
    }
    expect_fixture(t, "loss", losses, STEPS);
    for_each_param(t, expect_param_value, "final");
}

static void test_cross_entropy_mlp_sgd_momentum(void **state)
{
    check_training(*state, &cross_entropy_run);
}

static void test_weighted_cross_entropy_mlp_sgd_momentum(void **state)
{
    check_training(*state, &weighted_run);
}

static void test_mse_mlp_sgd_momentum(void **state) { check_training(*state, &mse_run); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cross_entropy_mlp_sgd_momentum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_weighted_cross_entropy_mlp_sgd_momentum, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mse_mlp_sgd_momentum, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
