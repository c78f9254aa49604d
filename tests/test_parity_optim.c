/* Every optimizer and option, every learning-rate schedule, gradient clipping,
 * L1 and per-layer regularisation follow PyTorch's trajectory. An 8-12(tanh)-4
 * MLP, built from a cfg whose [optimizer] and [schedule] say what torch was
 * given, starts from torch's initial weights and trains 50 steps on one fixed
 * batch (batch = full, one step per epoch); the loss, the gradient norm before
 * clipping and the learning rate of every step, and the final weights, agree
 * with torch.optim and torch.optim.lr_scheduler
 * (tests/fixtures/optim.safetensors, schedules.safetensors, written by
 * tests/reference/fixtures_optim.py, whose case names these are). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_settings.h"
#include "test_support.h"

/* |nerve - torch| <= TOLERANCE * max(1, |torch|). */
#define TOLERANCE 1e-5
#define STEPS 50
#define SAMPLES 16
#define FEATURES 8

static const char *const parameter_names[] = {"fc1.weight", "fc1.bias", "out.weight", "out.bias"};

typedef struct trajectory_case {
    const char *name;     /* the case in the fixture */
    const char *fixture;  /* tests/fixtures/<fixture>.safetensors */
    const char *settings; /* the cfg's [optimizer] and [schedule] */
    const char *fc1_keys; /* extra keys of layer fc1 */
} trajectory_case;

#define OPTIMIZER(name, keys) {name, "optim", "[optimizer]\n" keys, NULL}
static const trajectory_case optimizer_cases[] = {
    OPTIMIZER("sgd", "type = sgd\nlr = 0.1\n"),
    OPTIMIZER("sgd_momentum", "lr = 0.1\nmomentum = 0.9\n"),
    OPTIMIZER("sgd_dampening", "lr = 0.1\nmomentum = 0.9\ndampening = 0.3\n"),
    OPTIMIZER("sgd_nesterov", "lr = 0.1\nmomentum = 0.9\nnesterov = 1\n"),
    OPTIMIZER("sgd_weight_decay", "lr = 0.1\nmomentum = 0.5\nweight_decay = 0.05\n"),
    OPTIMIZER("adagrad", "type = adagrad\nlr = 0.1\n"),
    OPTIMIZER("adagrad_options",
              "type = adagrad\nlr = 0.1\nlr_decay = 0.05\ninitial_accumulator_value = 0.5\n"
              "weight_decay = 0.02\neps = 1e-6\n"),
    OPTIMIZER("rmsprop", "type = rmsprop\nlr = 0.01\n"),
    OPTIMIZER("rmsprop_momentum", "type = rmsprop\nlr = 0.005\nalpha = 0.9\nmomentum = 0.8\n"),
    OPTIMIZER("rmsprop_centered", "type = rmsprop\nlr = 0.005\ncentered = 1\n"),
    OPTIMIZER("rmsprop_centered_momentum_weight_decay",
              "type = rmsprop\nlr = 0.002\nmomentum = 0.5\ncentered = 1\nweight_decay = 0.05\n"
              "eps = 1e-6\n"),
    OPTIMIZER("adam", "type = adam\nlr = 0.01\n"),
    OPTIMIZER("adam_amsgrad", "type = adam\nlr = 0.01\nbeta1 = 0.8\nbeta2 = 0.99\namsgrad = 1\n"),
    OPTIMIZER("adam_weight_decay", "type = adam\nlr = 0.01\nweight_decay = 0.05\n"),
    OPTIMIZER("adamw", "type = adamw\nlr = 0.01\n"),
    OPTIMIZER("adamw_amsgrad",
              "type = adamw\nlr = 0.01\nweight_decay = 0.1\namsgrad = 1\neps = 1e-6\n"),
    OPTIMIZER("clip_norm", "lr = 0.1\nmomentum = 0.9\nclip_norm = 0.25\n"),
    OPTIMIZER("clip_value", "lr = 0.1\nmomentum = 0.9\nclip_value = 0.05\n"),
    OPTIMIZER("l1", "lr = 0.1\nmomentum = 0.9\nl1 = 0.01\n"),
    OPTIMIZER("adam_l1_clip_norm_weight_decay",
              "type = adam\nlr = 0.01\nweight_decay = 0.01\nl1 = 0.005\nclip_norm = 0.3\n"),
    {"layer_overrides", "optim",
     "[optimizer]\nlr = 0.1\nmomentum = 0.9\nweight_decay = 0.01\ndecay_bias = 0\n",
     "weight_decay = 0.1\nl1 = 0.001\n"},
    OPTIMIZER("adamw_no_bias_decay",
              "type = adamw\nlr = 0.01\nweight_decay = 0.1\ndecay_bias = 0\n"),
};

/* Every schedule drives SGD(lr=0.1, momentum=0.9); with one step per epoch,
 * interval = step and interval = epoch give the same rates. */
#define SCHEDULE(name, keys)                                                                       \
    {name, "schedules", "[optimizer]\nlr = 0.1\nmomentum = 0.9\n[schedule]\n" keys, NULL}
static const trajectory_case schedule_cases[] = {
    SCHEDULE("step", "type = step\nstep_size = 7\ngamma = 0.5\n"),
    SCHEDULE("multistep",
             "type = multistep\nmilestones = 5, 12, 30\ngamma = 0.3\ninterval = step\n"),
    SCHEDULE("exponential", "type = exponential\ngamma = 0.95\n"),
    SCHEDULE("cosine", "type = cosine\nT_max = 20\neta_min = 0.005\n"),
    SCHEDULE("cosine_restarts",
             "type = cosine_restarts\nT_0 = 4\nT_mult = 2\neta_min = 0.001\ninterval = step\n"),
    SCHEDULE("cosine_restarts_t_mult_1", "type = cosine_restarts\nT_0 = 9\n"),
    SCHEDULE("warmup", "warmup = 10\nwarmup_start_factor = 0.1\n"),
    SCHEDULE("warmup_cosine",
             "type = cosine\nT_max = 45\nwarmup = 5\nwarmup_start_factor = 0.1\ninterval = step\n"),
    SCHEDULE("warmup_step", "type = step\nstep_size = 10\ngamma = 0.5\nwarmup = 3\n"),
    SCHEDULE("warmup_exponential",
             "type = exponential\ngamma = 0.9\nwarmup = 6\nwarmup_start_factor = 0.5\n"),
    SCHEDULE("warmup_cosine_restarts",
             "type = cosine_restarts\nT_0 = 6\nT_mult = 2\neta_min = 0.01\nwarmup = 4\n"
             "warmup_start_factor = 0.25\n"),
};

/* ReduceLROnPlateau follows a metric: the fixture's <case>.metric, fed by hand. */
static const trajectory_case plateau_cases[] = {
    SCHEDULE("plateau",
             "type = plateau\nfactor = 0.5\npatience = 2\ncooldown = 1\nmin_lr = 0.005\n"),
    SCHEDULE("plateau_warmup",
             "type = plateau\nwarmup = 5\nwarmup_start_factor = 0.2\nfactor = 0.3\n"
             "patience = 3\nthreshold = 0.05\n"),
};

#define COUNT(array) (sizeof array / sizeof array[0])

/* What a run did at each step. */
typedef struct trajectory {
    nerve_real loss[STEPS], grad_norm[STEPS], lr[STEPS];
} trajectory;

static nerve_safetensors *open_fixture(const char *fixture)
{
    char path[128];
    snprintf(path, sizeof path, "tests/fixtures/%s.safetensors", fixture);
    nerve_safetensors *st;
    nerve_error err = {0};
    test_require_ok(nerve_safetensors_open(test_source_path(path), &st, &err), &err);
    return st;
}

/* The fixture tensor <prefix><name>, which must have `count` elements. */
static const float *fixture_tensor(nerve_safetensors *st, const char *prefix, const char *name,
                                   int64_t count)
{
    char full[128];
    nerve_shape shape;
    snprintf(full, sizeof full, "%s%s", prefix, name);
    const float *data = nerve_safetensors_get(st, full, &shape);
    if (!data) fail_msg("fixture has no tensor '%s'", full);
    if (nerve_shape_numel(&shape) != count)
        fail_msg("%s: %lld elements in the fixture, %lld expected", full,
                 (long long)nerve_shape_numel(&shape), (long long)count);
    return data;
}

static int64_t parameter_size(nerve_graph *g, nerve_node n)
{
    nerve_shape shape = nerve_node_shape(g, n);
    return nerve_shape_numel(&shape);
}

static nerve_node parameter(nerve_graph *g, const char *name)
{
    nerve_node n = nerve_graph_find(g, name);
    if (n < 0) fail_msg("the graph has no parameter '%s'", name);
    return n;
}

/* The case's network (x -> fc1 -> tanh -> out, cross-entropy) with torch's
 * initial weights. */
static nerve_model *load_case_model(const trajectory_case *c, nerve_safetensors *st)
{
    char text[2048];
    snprintf(text, sizeof text,
             "[net]\ninput = %d\nbatch = full\nepochs = %d\n%s"
             "[dense]\nname = fc1\nunits = 12\nactivation = tanh\n%s"
             "[dense]\nname = out\nunits = 4\n",
             FEATURES, STEPS, c->settings, c->fc1_keys ? c->fc1_keys : "");
    const char *path = test_tmppath("case.cfg");
    test_write_file(path, text, strlen(text));
    nerve_model *m;
    nerve_error err = {0};
    test_require_ok(nerve_model_load(path, NULL, &m, &err), &err);
    nerve_graph *g = nerve_model_graph(m);
    for (size_t k = 0; k < COUNT(parameter_names); k++) {
        nerve_node n = parameter(g, parameter_names[k]);
        int64_t size = parameter_size(g, n);
        const float *init = fixture_tensor(st, "init.", parameter_names[k], size);
        test_write_floats(g, n, init, size); /* through the device: every backend */
    }
    return m;
}

static void expect_trajectory(nerve_safetensors *st, const char *name, const trajectory *t,
                              nerve_model *m)
{
    char prefix[96], label[160];
    snprintf(prefix, sizeof prefix, "%s.", name);
    test_assert_close("lr", t->lr, fixture_tensor(st, prefix, "lr", STEPS), STEPS, TOLERANCE);
    test_assert_close("loss", t->loss, fixture_tensor(st, prefix, "loss", STEPS), STEPS, TOLERANCE);
    test_assert_close("grad_norm", t->grad_norm, fixture_tensor(st, prefix, "grad_norm", STEPS),
                      STEPS, TOLERANCE);
    nerve_graph *g = nerve_model_graph(m);
    snprintf(prefix, sizeof prefix, "%s.final.", name);
    for (size_t k = 0; k < COUNT(parameter_names); k++) {
        nerve_node n = parameter(g, parameter_names[k]);
        int64_t size = parameter_size(g, n);
        snprintf(label, sizeof label, "%s%s", prefix, parameter_names[k]);
        nerve_real *value = test_read_value(g, n);
        test_assert_close(label, value, fixture_tensor(st, prefix, parameter_names[k], size),
                          size, TOLERANCE);
        free(value);
    }
}

static void record_epoch(const nerve_epoch_report *r, void *user)
{
    trajectory *t = user;
    t->loss[r->epoch - 1] = (nerve_real)r->train_loss;
    t->grad_norm[r->epoch - 1] = (nerve_real)r->grad_norm;
    t->lr[r->epoch - 1] = (nerve_real)r->lr;
}

/* nerve_train on the fixture's batch, in its order: one step per epoch. */
static void test_trained_trajectory(void **state)
{
    const trajectory_case *c = *state;
    nerve_safetensors *st = open_fixture(c->fixture);
    nerve_model *m = load_case_model(c, st);
    nerve_dataset batch = {.count = SAMPLES,
                           .sample_shape = nerve_shape_1d(FEATURES),
                           .sample_size = FEATURES,
                           .inputs = (float *)fixture_tensor(st, "", "x", SAMPLES * FEATURES),
                           .target_size = 1,
                           .targets = (float *)fixture_tensor(st, "", "labels", SAMPLES),
                           .num_classes = 4};
    trajectory t;
    nerve_train_options o = nerve_train_options_from(m);
    o.no_shuffle = true;
    o.on_epoch = record_epoch;
    o.user = &t;
    nerve_error err = {0};
    test_require_ok(nerve_train(m, &batch, NULL, &o, &err), &err);
    expect_trajectory(st, c->name, &t, m);
    nerve_model_free(m);
    nerve_safetensors_close(st);
}

/* torch's loop by hand: zero_grad, forward, backward, step, then the
 * scheduler with the step's metric. */
static void run_by_hand(nerve_model *m, nerve_optimizer *opt, nerve_safetensors *st,
                        const float *metric, trajectory *t)
{
    nerve_graph *g = nerve_model_graph(m);
    nerve_error err = {0};
    test_require_ok(nerve_graph_set_batch(g, SAMPLES, &err), &err);
    const float *x = fixture_tensor(st, "", "x", SAMPLES * FEATURES);
    const float *labels = fixture_tensor(st, "", "labels", SAMPLES);
    test_write_floats(g, nerve_model_input(m), x, SAMPLES * FEATURES);
    test_write_floats(g, nerve_model_target(m), labels, SAMPLES);
    const nerve_model_settings *s = nerve_model_settings_of(m);
    nerve_scheduler scheduler;
    nerve_scheduler_init(&scheduler, &s->schedule, s->optimizer.lr);
    nerve_node loss = nerve_model_loss(m);
    for (int k = 0; k < STEPS; k++) {
        nerve_optimizer_set_lr(opt, scheduler.lr);
        nerve_graph_zero_grad(g);
        assert_int_equal(nerve_graph_forward(g, loss, NULL), NERVE_OK);
        assert_int_equal(nerve_graph_backward(g, loss, NULL), NERVE_OK);
        test_require_ok(nerve_node_read(g, loss, &t->loss[k], 1, &err), &err);
        nerve_optimizer_step(opt);
        t->grad_norm[k] = (nerve_real)nerve_optimizer_grad_norm(opt);
        t->lr[k] = (nerve_real)nerve_optimizer_lr(opt);
        nerve_scheduler_step(&scheduler, metric ? metric[k] : NAN);
    }
}

static nerve_optimizer *planned_optimizer(nerve_model *m)
{
    nerve_error err = {0};
    test_require_ok(nerve_graph_plan(nerve_model_graph(m), SAMPLES, &err), &err);
    nerve_optimizer *opt =
        nerve_optimizer_new(nerve_model_graph(m), &nerve_model_settings_of(m)->optimizer, &err);
    if (!opt) fail_msg("%s", err.message);
    return opt;
}

static void test_plateau_trajectory(void **state)
{
    const trajectory_case *c = *state;
    nerve_safetensors *st = open_fixture(c->fixture);
    nerve_model *m = load_case_model(c, st);
    nerve_optimizer *opt = planned_optimizer(m);
    char prefix[96];
    snprintf(prefix, sizeof prefix, "%s.", c->name);
    trajectory t;
    run_by_hand(m, opt, st, fixture_tensor(st, prefix, "metric", STEPS), &t);
    expect_trajectory(st, c->name, &t, m);
    nerve_optimizer_free(opt);
    nerve_model_free(m);
    nerve_safetensors_close(st);
}

/* The library's way to the layer_overrides case: the optimizer's options,
 * then fc1's parameters regularised apart (fc1.bias stays exempt). */
static void test_set_regularization_matches_parameter_groups(void **state)
{
    static const trajectory_case plain = OPTIMIZER(
        "layer_overrides", "lr = 0.1\nmomentum = 0.9\nweight_decay = 0.01\ndecay_bias = 0\n");
    nerve_safetensors *st = open_fixture(plain.fixture);
    nerve_model *m = load_case_model(&plain, st);
    nerve_optimizer *opt = planned_optimizer(m);
    nerve_graph *g = nerve_model_graph(m);
    nerve_error err = {0};
    test_require_ok(nerve_optimizer_set_regularization(opt, parameter(g, "fc1.weight"), 0.1, 0.001,
                                                       &err), &err);
    test_require_ok(nerve_optimizer_set_regularization(opt, parameter(g, "fc1.bias"), 0.1, 0.001,
                                                       &err), &err);
    assert_int_equal(nerve_optimizer_set_regularization(opt, nerve_model_output(m), 0, 0, &err),
                     NERVE_ERR_INVALID);
    assert_int_equal(
        nerve_optimizer_set_regularization(opt, parameter(g, "out.weight"), -1, 0, &err),
        NERVE_ERR_INVALID);
    trajectory t;
    run_by_hand(m, opt, st, NULL, &t);
    expect_trajectory(st, plain.name, &t, m);
    nerve_optimizer_free(opt);
    nerve_model_free(m);
    nerve_safetensors_close(st);
}

int main(void)
{
    /* One test per case, named after it. */
    struct CMUnitTest tests[COUNT(optimizer_cases) + COUNT(schedule_cases) + COUNT(plateau_cases) +
                            1];
    size_t n = 0;
    for (size_t i = 0; i < COUNT(optimizer_cases); i++)
        tests[n++] = (struct CMUnitTest){optimizer_cases[i].name, test_trained_trajectory, NULL,
                                         NULL, (void *)&optimizer_cases[i]};
    for (size_t i = 0; i < COUNT(schedule_cases); i++)
        tests[n++] = (struct CMUnitTest){schedule_cases[i].name, test_trained_trajectory, NULL,
                                         NULL, (void *)&schedule_cases[i]};
    for (size_t i = 0; i < COUNT(plateau_cases); i++)
        tests[n++] = (struct CMUnitTest){plateau_cases[i].name, test_plateau_trajectory, NULL,
                                         NULL, (void *)&plateau_cases[i]};
    tests[n++] =
        (struct CMUnitTest)cmocka_unit_test(test_set_regularization_matches_parameter_groups);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
