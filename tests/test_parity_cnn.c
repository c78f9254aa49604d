/* A small CNN holding every layer of the CNN family (tests/fixtures/cnn.cfg)
 * trains as PyTorch does, step for step: started from torch's initial
 * state_dict, 3 steps of SGD with momentum on one batch agree with torch on
 * the first step's logits and gradients, every step's loss, the final
 * weights and running statistics, and the evaluation-mode logits
 * (tests/fixtures/cnn.safetensors, tests/reference/fixtures_cnn.py).
 * Dropout runs with p = 0 here (torch's masks cannot be matched); in
 * evaluation mode it is the identity at any p, which the last test checks. */
#include <stdio.h>
#include <stdlib.h>

#include "model/model_settings.h"
#include "test_support.h"

/* |nerve - torch| <= TOLERANCE * max(1, |torch|): float32 through a dozen
 * layers and three updates. */
#define TOLERANCE 2e-4
#define STEPS 3

typedef struct cnn_run {
    nerve_model *model;
    nerve_safetensors *st;
    nerve_optimizer *opt;
    nerve_error err;
} cnn_run;

static int setup(void **state)
{
    static cnn_run r;
    r = (cnn_run){0};
    test_require_ok(nerve_safetensors_open(test_source_path("tests/fixtures/cnn.safetensors"),
                                           &r.st, &r.err),
                    &r.err);
    *state = &r;
    return 0;
}

static int teardown(void **state)
{
    cnn_run *r = *state;
    nerve_optimizer_free(r->opt);
    nerve_model_free(r->model);
    nerve_safetensors_close(r->st);
    return 0;
}

static const float *fixture(cnn_run *r, const char *name, int64_t count)
{
    nerve_shape shape;
    const float *data = nerve_safetensors_get(r->st, name, &shape);
    if (!data) fail_msg("the fixture has no tensor '%s'", name);
    if (nerve_shape_numel(&shape) != count)
        fail_msg("%s: %lld elements in the fixture, %lld in nerve", name,
                 (long long)nerve_shape_numel(&shape), (long long)count);
    return data;
}

static int64_t numel(nerve_graph *g, nerve_node n)
{
    nerve_shape shape = nerve_node_shape(g, n);
    return nerve_shape_numel(&shape);
}

/* Values go in and out through the device (nerve_node_write, _read,
 * _read_grad): the test runs on every backend. */
static void copy_in(cnn_run *r, const char *name, nerve_node n)
{
    nerve_graph *g = nerve_model_graph(r->model);
    test_write_floats(g, n, fixture(r, name, numel(g, n)), numel(g, n));
}

/* Node n's values (its gradient where `gradient`) against the fixture's. */
static void expect(cnn_run *r, const char *name, nerve_node n, bool gradient)
{
    nerve_graph *g = nerve_model_graph(r->model);
    nerve_real *actual = gradient ? test_read_grad(g, n) : test_read_value(g, n);
    test_assert_close(name, actual, fixture(r, name, numel(g, n)), numel(g, n), TOLERANCE);
    free(actual);
}

typedef enum param_action { LOAD_INIT, LOAD_FINAL, EXPECT_GRAD0, EXPECT_FINAL } param_action;

/* Every parameter and buffer of the graph is a state_dict entry of torch's
 * model under the same name: init.<name>, grad0.<name> or final.<name>. */
static void for_each_param(cnn_run *r, param_action action)
{
    static const char *const groups[] = {"init", "final", "grad0", "final"};
    nerve_graph *g = nerve_model_graph(r->model);
    int seen = 0;
    for (nerve_node n = 0; n < nerve_graph_node_count(g); n++) {
        if (!nerve_node_is_param(g, n)) continue;
        char name[160];
        snprintf(name, sizeof name, "%s.%s", groups[action], nerve_node_name(g, n));
        seen++;
        if (action == LOAD_INIT || action == LOAD_FINAL) copy_in(r, name, n);
        else if (action == EXPECT_FINAL) expect(r, name, n, false);
        else if (!nerve_node_is_buffer(g, n)) expect(r, name, n, true);
    }
    /* 6 convolutions and 2 linear layers with weight and bias (16), 2 batch
     * norms with weight, bias, running_mean, running_var, num_batches_tracked */
    assert_int_equal(seen, 26);
}

/* Loads the cfg with dropout probability `p`, plans it for the fixture's
 * batch of 6, fills in the batch and torch's weights before or after
 * training. */
static void load(cnn_run *r, const char *p, param_action weights)
{
    char drop[32], drop2d[32];
    snprintf(drop, sizeof drop, "drop.p=%s", p);
    snprintf(drop2d, sizeof drop2d, "drop2d.p=%s", p);
    const char *overrides[] = {drop, drop2d, NULL};
    test_require_ok(nerve_model_load(test_source_path("tests/fixtures/cnn.cfg"), overrides,
                                     &r->model, &r->err),
                    &r->err);
    test_require_ok(nerve_graph_plan(nerve_model_graph(r->model), 6, &r->err), &r->err);
    copy_in(r, "x", nerve_model_input(r->model));
    copy_in(r, "labels", nerve_model_target(r->model));
    for_each_param(r, weights);
}

static void trains_like_torch(void **state)
{
    cnn_run *r = *state;
    load(r, "0", LOAD_INIT);
    nerve_model *m = r->model;
    nerve_graph *g = nerve_model_graph(m);
    r->opt = nerve_optimizer_new(g, &nerve_model_settings_of(m)->optimizer, &r->err);
    if (!r->opt) fail_msg("%s", r->err.message);
    nerve_graph_set_training(g, true);
    const float *losses = fixture(r, "loss", STEPS);
    for (int step = 0; step < STEPS; step++) {
        nerve_graph_zero_grad(g);
        assert_int_equal(nerve_graph_forward(g, nerve_model_loss(m), NULL), NERVE_OK);
        assert_int_equal(nerve_graph_backward(g, nerve_model_loss(m), NULL), NERVE_OK);
        nerve_real loss;
        test_require_ok(nerve_node_read(g, nerve_model_loss(m), &loss, 1, &r->err), &r->err);
        char name[32];
        snprintf(name, sizeof name, "loss[%d]", step);
        test_assert_close(name, &loss, &losses[step], 1, TOLERANCE);
        if (step == 0) {
            expect(r, "logits0", nerve_model_output(m), false);
            for_each_param(r, EXPECT_GRAD0);
        }
        nerve_optimizer_step(r->opt);
    }
    for_each_param(r, EXPECT_FINAL);
    nerve_graph_set_training(g, false);
    assert_int_equal(nerve_graph_forward(g, nerve_model_output(m), NULL), NERVE_OK);
    expect(r, "eval_logits", nerve_model_output(m), false);
}

/* In evaluation mode dropout is the identity and batch norm uses its running
 * statistics, whatever p is. */
static void evaluates_like_torch_with_dropout(void **state)
{
    cnn_run *r = *state;
    load(r, "0.5", LOAD_FINAL);
    nerve_graph *g = nerve_model_graph(r->model);
    nerve_graph_set_training(g, false);
    assert_int_equal(nerve_graph_forward(g, nerve_model_output(r->model), NULL), NERVE_OK);
    expect(r, "eval_p.logits", nerve_model_output(r->model), false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(trains_like_torch, setup, teardown),
        cmocka_unit_test_setup_teardown(evaluates_like_torch_with_dropout, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
