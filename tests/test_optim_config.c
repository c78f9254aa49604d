/* The [optimizer] and [schedule] sections, a layer's weight_decay and l1, and
 * batch = full: every key reaches the settings with PyTorch's defaults, and
 * every mistake is an error naming file:line, the section and the key. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model/model_settings.h"
#include "test_support.h"

static const char *const base_cfg =
    "[net]\n"             /* 1 */
    "input = 4\n"         /* 2 */
    "batch = 8\n"         /* 3 */
    "\n"                  /* 4 */
    "[dense]\n"           /* 5 */
    "name = hidden\n"     /* 6 */
    "units = 5\n"         /* 7 */
    "activation = relu\n" /* 8 */
    "\n"                  /* 9 */
    "[dense]\n"           /* 10 */
    "units = 3\n";        /* 11: sections appended by the tests start at line 12 */

static nerve_status load(const char *extra, const char *const *overrides, nerve_model **m,
                         nerve_error *err)
{
    char text[4096];
    snprintf(text, sizeof text, "%s%s", base_cfg, extra);
    const char *path = test_tmppath("model.cfg");
    test_write_file(path, text, strlen(text));
    return nerve_model_load(path, overrides, m, err);
}

static nerve_model *load_ok(const char *extra)
{
    nerve_model *m = NULL;
    nerve_error err = {0};
    test_require_ok(load(extra, NULL, &m, &err), &err);
    return m;
}

/* Loads base_cfg with `extra` appended and expects failure with `needle`. */
static void expect_error(const char *extra, const char *needle)
{
    nerve_model *m = NULL;
    nerve_error err = {0};
    assert_int_equal(load(extra, NULL, &m, &err), NERVE_ERR_INVALID);
    assert_null(m);
    test_assert_message_contains(&err, needle);
}

/* The first step's change of every weight under a gradient of 1 everywhere. */
static double first_adam_step(const char *optimizer)
{
    nerve_model *m = load_ok(optimizer);
    nerve_graph *g = nerve_model_graph(m);
    nerve_error err = {0};
    nerve_optimizer *opt = nerve_optimizer_new(g, &nerve_model_settings_of(m)->optimizer, &err);
    assert_non_null(opt);
    size_t n = nerve_graph_param_count(g);
    nerve_real before = nerve_graph_params(g)[0];
    for (size_t i = 0; i < n; i++) nerve_graph_grads(g)[i] = 1;
    nerve_optimizer_step(opt);
    double change = before - nerve_graph_params(g)[0];
    nerve_optimizer_free(opt);
    nerve_model_free(m);
    return change;
}

/* Adam's first step is lr whatever the gradient's scale; without the bias
 * corrections it is lr (1 - beta1) / sqrt(1 - beta2), 3.16 lr at the
 * defaults (the slip of the notes, lab claim C53). */
static void test_adam_without_bias_correction(void **state)
{
    assert_float_equal(first_adam_step("[optimizer]\ntype = adam\nlr = 0.01\n"), 0.01, 1e-7);
    assert_float_equal(
        first_adam_step("[optimizer]\ntype = adam\nlr = 0.01\nbias_correction = 0\n"),
        0.01 * 0.1 / sqrt(0.001), 1e-6);
    expect_error("[optimizer]\ntype = sgd\nbias_correction = 0\n", "bias_correction");
}

static void test_optimizer_defaults_are_pytorchs(void **state)
{
    nerve_model *m = load_ok("");
    nerve_optimizer_options o = nerve_model_settings_of(m)->optimizer;
    assert_int_equal(o.kind, NERVE_OPTIMIZER_SGD);
    assert_true(o.lr == 0.01 && o.momentum == 0 && o.dampening == 0 && !o.nesterov);
    assert_true(o.weight_decay == 0 && o.l1 == 0 && o.clip_value == 0 && o.clip_norm == 0);
    assert_true(o.decay_bias);
    nerve_model_free(m);

    m = load_ok("[optimizer]\ntype = adam\n");
    o = nerve_model_settings_of(m)->optimizer;
    assert_true(o.lr == 1e-3 && o.beta1 == 0.9 && o.beta2 == 0.999 && o.eps == 1e-8);
    assert_true(o.weight_decay == 0 && !o.amsgrad);
    nerve_model_free(m);

    m = load_ok("[optimizer]\ntype = adamw\n");
    o = nerve_model_settings_of(m)->optimizer;
    assert_true(o.lr == 1e-3 && o.weight_decay == 0.01);
    nerve_model_free(m);

    m = load_ok("[optimizer]\ntype = adagrad\n");
    o = nerve_model_settings_of(m)->optimizer;
    assert_true(o.lr == 0.01 && o.eps == 1e-10 && o.lr_decay == 0 &&
                o.initial_accumulator_value == 0);
    nerve_model_free(m);

    m = load_ok("[optimizer]\ntype = rmsprop\n");
    o = nerve_model_settings_of(m)->optimizer;
    assert_true(o.lr == 0.01 && o.alpha == 0.99 && o.eps == 1e-8 && !o.centered);
    nerve_model_free(m);
}

static void test_every_optimizer_key_reaches_the_options(void **state)
{
    nerve_model *m = load_ok("[optimizer]\ntype = sgd\nlr = 0.2\nmomentum = 0.8\ndampening = 0\n"
                             "nesterov = 1\nweight_decay = 0.001\nl1 = 0.0001\nclip_norm = 5\n"
                             "decay_bias = 0\n");
    nerve_optimizer_options o = nerve_model_settings_of(m)->optimizer;
    assert_true(o.lr == 0.2 && o.momentum == 0.8 && o.nesterov && o.weight_decay == 0.001);
    assert_true(o.l1 == 0.0001 && o.clip_norm == 5 && !o.decay_bias);
    nerve_model_free(m);

    m = load_ok("[optimizer]\ntype = sgd\nmomentum = 0.5\ndampening = 0.25\nclip_value = 0.1\n");
    o = nerve_model_settings_of(m)->optimizer;
    assert_true(o.dampening == 0.25 && o.clip_value == 0.1);
    nerve_model_free(m);

    m = load_ok("[optimizer]\ntype = adagrad\nlr_decay = 0.01\ninitial_accumulator_value = 0.1\n"
                "eps = 1e-6\n");
    o = nerve_model_settings_of(m)->optimizer;
    assert_int_equal(o.kind, NERVE_OPTIMIZER_ADAGRAD);
    assert_true(o.lr_decay == 0.01 && o.initial_accumulator_value == 0.1 && o.eps == 1e-6);
    nerve_model_free(m);

    m = load_ok("[optimizer]\ntype = rmsprop\nalpha = 0.9\nmomentum = 0.5\ncentered = 1\n");
    o = nerve_model_settings_of(m)->optimizer;
    assert_int_equal(o.kind, NERVE_OPTIMIZER_RMSPROP);
    assert_true(o.alpha == 0.9 && o.momentum == 0.5 && o.centered);
    nerve_model_free(m);

    m = load_ok("[optimizer]\ntype = adamw\nbeta1 = 0.8\nbeta2 = 0.99\namsgrad = 1\n"
                "weight_decay = 0.05\n");
    o = nerve_model_settings_of(m)->optimizer;
    assert_int_equal(o.kind, NERVE_OPTIMIZER_ADAMW);
    assert_true(o.beta1 == 0.8 && o.beta2 == 0.99 && o.amsgrad && o.weight_decay == 0.05);
    nerve_model_free(m);
}

static void test_optimizer_mistakes_name_their_line(void **state)
{
    expect_error("[optimizer]\ntype = adadelta\n",
                 "model.cfg:13: [optimizer] type: 'adadelta' is not one of: sgd, adagrad, rmsprop, "
                 "adam, adamw");
    expect_error("[optimizer]\ntype = adam\nmomentum = 0.9\n",
                 "model.cfg:14: [optimizer] momentum: only applies to type sgd, rmsprop, not adam");
    expect_error("[optimizer]\nbeta1 = 0.9\n", "model.cfg:13: [optimizer] beta1: only applies to "
                                               "type adam, adamw, not sgd");
    expect_error("[optimizer]\ntype = sgd\neps = 1e-8\n",
                 "model.cfg:14: [optimizer] eps: only applies to type adagrad, rmsprop, adam, "
                 "adamw, not sgd");
    expect_error("[optimizer]\ntype = adam\nbeta1 = 1\n",
                 "model.cfg:14: [optimizer] beta1: 1 is out of range [0, 1)");
    expect_error("[optimizer]\nlr = 0\n",
                 "model.cfg:13: [optimizer] lr: 0 is out of range (0, inf)");
    expect_error("[optimizer]\nmomentum = 1\n",
                 "model.cfg:13: [optimizer] momentum: 1 is out of range [0, 1)");
    expect_error("[optimizer]\nmomentum = 0.9\ndampening = 1.5\n",
                 "model.cfg:14: [optimizer] dampening: 1.5 is out of range [0, 1]");
    expect_error("[optimizer]\ntype = rmsprop\nalpha = -0.1\n",
                 "model.cfg:14: [optimizer] alpha: -0.1 is out of range [0, 1]");
    expect_error("[optimizer]\ntype = adagrad\nlr_decay = -1\n",
                 "model.cfg:14: [optimizer] lr_decay: -1 is out of range [0, inf)");
    expect_error("[optimizer]\ntype = adagrad\ninitial_accumulator_value = -1\n",
                 "model.cfg:14: [optimizer] initial_accumulator_value: -1 is out of range");
    expect_error("[optimizer]\ntype = adam\neps = small\n",
                 "model.cfg:14: [optimizer] eps: 'small' is not a finite number");
    expect_error("[optimizer]\ntype = adam\namsgrad = 2\n",
                 "model.cfg:14: [optimizer] amsgrad: 2 is out of range [0, 1]");
    expect_error("[optimizer]\nweight_decay = -0.1\n",
                 "model.cfg:13: [optimizer] weight_decay: -0.1 is out of range [0, inf)");
    expect_error("[optimizer]\nl1 = -1\n", "model.cfg:13: [optimizer] l1: -1 is out of range");
    expect_error("[optimizer]\nclip_value = -1\n",
                 "model.cfg:13: [optimizer] clip_value: -1 is out of range");
    expect_error("[optimizer]\nclip_norm = nan\n",
                 "model.cfg:13: [optimizer] clip_norm: 'nan' is not a finite number");
    expect_error("[optimizer]\nnesterov = 1\n",
                 "model.cfg:13: [optimizer] nesterov: needs momentum > 0 and dampening = 0");
    expect_error("[optimizer]\nmomentum = 0.9\ndampening = 0.1\nnesterov = 1\n",
                 "model.cfg:15: [optimizer] nesterov: needs momentum > 0 and dampening = 0");
    expect_error("[optimizer]\nclip_value = 1\nclip_norm = 1\n",
                 "model.cfg:14: [optimizer] clip_norm: cannot be combined with clip_value");
    expect_error("[optimizer]\ndecay_bias = no\n",
                 "model.cfg:13: [optimizer] decay_bias: 'no' is not an integer");
    expect_error("[optimizer]\nbetas = 0.9\n", "model.cfg:13: unknown key 'betas' in [optimizer]");
}

static void test_every_schedule_key_reaches_the_schedule(void **state)
{
    nerve_model *m = load_ok("[schedule]\ntype = multistep\nmilestones = 5, 12,30\ngamma = 0.3\n"
                             "interval = step\nwarmup = 4\nwarmup_start_factor = 0.5\n");
    nerve_schedule s = nerve_model_settings_of(m)->schedule;
    assert_int_equal(s.kind, NERVE_SCHEDULE_MULTISTEP);
    assert_int_equal(s.milestone_count, 3);
    assert_true(s.milestones[0] == 5 && s.milestones[1] == 12 && s.milestones[2] == 30);
    assert_true(s.gamma == 0.3 && s.interval == NERVE_SCHEDULE_PER_STEP);
    assert_true(s.warmup == 4 && s.warmup_start_factor == 0.5);
    nerve_model_free(m);

    m = load_ok("[schedule]\ntype = exponential\ngamma = 0.9\n");
    s = nerve_model_settings_of(m)->schedule;
    assert_true(s.kind == NERVE_SCHEDULE_EXPONENTIAL && s.gamma == 0.9);
    assert_true(s.interval == NERVE_SCHEDULE_PER_EPOCH && s.warmup == 0);
    nerve_model_free(m);

    m = load_ok("[schedule]\ntype = cosine\nT_max = 20\neta_min = 0.001\n");
    s = nerve_model_settings_of(m)->schedule;
    assert_true(s.kind == NERVE_SCHEDULE_COSINE && s.t_max == 20 && s.eta_min == 0.001);
    nerve_model_free(m);

    m = load_ok("[schedule]\ntype = cosine_restarts\nT_0 = 10\nT_mult = 2\n");
    s = nerve_model_settings_of(m)->schedule;
    assert_true(s.kind == NERVE_SCHEDULE_COSINE_RESTARTS && s.t_0 == 10 && s.t_mult == 2);
    assert_true(s.eta_min == 0);
    nerve_model_free(m);

    m = load_ok("[schedule]\ntype = plateau\n");
    s = nerve_model_settings_of(m)->schedule;
    assert_true(s.kind == NERVE_SCHEDULE_PLATEAU && s.factor == 0.1 && s.patience == 10);
    assert_true(s.threshold == 1e-4 && s.cooldown == 0 && s.min_lr == 0);
    nerve_model_free(m);

    m = load_ok("[schedule]\ntype = plateau\nfactor = 0.5\npatience = 3\nthreshold = 0.01\n"
                "cooldown = 2\nmin_lr = 1e-5\n");
    s = nerve_model_settings_of(m)->schedule;
    assert_true(s.factor == 0.5 && s.patience == 3 && s.threshold == 0.01);
    assert_true(s.cooldown == 2 && s.min_lr == 1e-5);
    nerve_model_free(m);

    m = load_ok("[schedule]\nwarmup = 3\n");
    s = nerve_model_settings_of(m)->schedule;
    assert_true(s.kind == NERVE_SCHEDULE_CONSTANT && s.warmup == 3);
    assert_float_equal(s.warmup_start_factor, 1.0 / 3, 1e-15); /* LinearLR's default */
    nerve_model_free(m);
}

static void test_schedule_mistakes_name_their_line(void **state)
{
    expect_error("[schedule]\ntype = linear\n",
                 "model.cfg:13: [schedule] type: 'linear' is not one of: constant, step, "
                 "multistep, exponential, cosine, cosine_restarts, plateau");
    expect_error("[schedule]\ntype = multistep\n",
                 "model.cfg:12: [schedule] requires the key 'milestones'");
    expect_error("[schedule]\ntype = multistep\nmilestones = 30, 10\n",
                 "model.cfg:14: [schedule] milestones: 10 after 30: milestones must increase");
    expect_error("[schedule]\ntype = multistep\nmilestones = 0\n",
                 "model.cfg:14: [schedule] milestones: 0 is out of range [1, 1e+12]");
    expect_error("[schedule]\ntype = multistep\nmilestones = 5,,6\n",
                 "model.cfg:14: [schedule] milestones: '5,,6' is not a list");
    expect_error("[schedule]\ntype = multistep\nmilestones = 5, ten\n",
                 "model.cfg:14: [schedule] milestones: '5, ten' is not a list");
    expect_error("[schedule]\ntype = multistep\nmilestones = 5,\n",
                 "model.cfg:14: [schedule] milestones: '5,' is not a list");
    expect_error("[schedule]\ntype = exponential\n",
                 "model.cfg:12: [schedule] requires the key 'gamma'");
    expect_error("[schedule]\ntype = exponential\ngamma = -1\n",
                 "model.cfg:14: [schedule] gamma: -1 is out of range [0, inf)");
    expect_error("[schedule]\ntype = cosine\n",
                 "model.cfg:12: [schedule] requires the key 'T_max'");
    expect_error("[schedule]\ntype = cosine\nT_max = 0\n",
                 "model.cfg:14: [schedule] T_max: 0 is out of range [1, 1e+12]");
    expect_error("[schedule]\ntype = cosine\nT_max = 10\neta_min = -1\n",
                 "model.cfg:15: [schedule] eta_min: -1 is out of range [0, inf)");
    expect_error("[schedule]\ntype = cosine_restarts\n",
                 "model.cfg:12: [schedule] requires the key 'T_0'");
    expect_error("[schedule]\ntype = cosine_restarts\nT_0 = 5\nT_mult = 0\n",
                 "model.cfg:15: [schedule] T_mult: 0 is out of range [1, 1e+06]");
    expect_error("[schedule]\ntype = step\nstep_size = 5\nT_max = 10\n",
                 "model.cfg:15: [schedule] T_max: only applies to type cosine, not step");
    expect_error("[schedule]\ntype = cosine\nT_max = 5\ngamma = 0.5\n",
                 "model.cfg:15: [schedule] gamma: only applies to type step, multistep, "
                 "exponential, not cosine");
    expect_error("[schedule]\npatience = 5\n",
                 "model.cfg:13: [schedule] patience: only applies to type plateau, not constant");
    expect_error("[schedule]\nwarmup = -1\n",
                 "model.cfg:13: [schedule] warmup: -1 is out of range [0, 1e+12]");
    expect_error("[schedule]\nwarmup_start_factor = 0.5\n",
                 "model.cfg:13: [schedule] warmup_start_factor: only applies with warmup > 0");
    expect_error("[schedule]\nwarmup = 5\nwarmup_start_factor = 0\n",
                 "model.cfg:14: [schedule] warmup_start_factor: 0 is out of range (0, 1]");
    expect_error("[schedule]\ninterval = batch\n",
                 "model.cfg:13: [schedule] interval: 'batch' is not one of: epoch, step");
    expect_error("[schedule]\ntype = plateau\ninterval = step\n",
                 "model.cfg:14: [schedule] interval: plateau follows the validation loss");
    expect_error("[schedule]\ntype = plateau\nfactor = 1\n",
                 "model.cfg:14: [schedule] factor: 1 is out of range [0, 1)");
    expect_error("[schedule]\ntype = plateau\npatience = -1\n",
                 "model.cfg:14: [schedule] patience: -1 is out of range [0, 1e+12]");
    expect_error("[schedule]\ntype = plateau\nthreshold = 1\n",
                 "model.cfg:14: [schedule] threshold: 1 is out of range [0, 1)");
    expect_error("[schedule]\ntype = plateau\ncooldown = 1.5\n",
                 "model.cfg:14: [schedule] cooldown: '1.5' is not an integer");
    expect_error("[schedule]\ntype = plateau\nmin_lr = -1\n",
                 "model.cfg:14: [schedule] min_lr: -1 is out of range [0, inf)");
}

static void test_layer_regularisation_keys(void **state)
{
    nerve_model *m = load_ok("[dense]\nunits = 2\nweight_decay = 0\nl1 = 1e-4\n");
    assert_int_equal(nerve_model_layer_count(m), 3);
    nerve_model_free(m);
    expect_error("[dense]\nunits = 2\nl1 = -1\n",
                 "model.cfg:14: [dense] l1: -1 is out of range [0, inf]");
    expect_error("[dense]\nunits = 2\nweight_decay = lots\n",
                 "model.cfg:14: [dense] weight_decay: 'lots' is not a finite number");
    expect_error("[activation]\ntype = tanh\nweight_decay = 0\n",
                 "model.cfg:14: [activation] weight_decay: the layer has no parameters to "
                 "regularise");
    expect_error("[flatten]\nl1 = 0.1\n",
                 "model.cfg:13: [flatten] l1: the layer has no parameters to regularise");
}

static void test_batch_full_is_the_whole_training_set(void **state)
{
    const char *const full[] = {"net.batch=full", NULL};
    nerve_model *m = NULL;
    nerve_error err = {0};
    test_require_ok(load("", full, &m, &err), &err);
    assert_int_equal(nerve_model_settings_of(m)->batch, 0);
    assert_int_equal(nerve_train_options_from(m).batch, 0);
    nerve_model_free(m);
    const char *const fool[] = {"net.batch=fool", NULL};
    assert_int_equal(load("", fool, &m, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "[net] batch: 'fool' is not an integer");
    const char *const zero[] = {"net.batch=0", NULL};
    assert_int_equal(load("", zero, &m, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "[net] batch: 0 is out of range [1, 1048576]");
}

static void test_new_keys_can_be_set_from_the_command_line(void **state)
{
    const char *const overrides[] = {"optimizer.type=adamw", "optimizer.amsgrad=1",
                                     "schedule.type=cosine", "schedule.T_max=7",
                                     "schedule.interval=step", "hidden.weight_decay=0", NULL};
    nerve_model *m = NULL;
    nerve_error err = {0};
    test_require_ok(load("", overrides, &m, &err), &err);
    const nerve_model_settings *s = nerve_model_settings_of(m);
    assert_true(s->optimizer.kind == NERVE_OPTIMIZER_ADAMW && s->optimizer.amsgrad);
    assert_true(s->schedule.kind == NERVE_SCHEDULE_COSINE && s->schedule.t_max == 7);
    assert_int_equal(s->schedule.interval, NERVE_SCHEDULE_PER_STEP);
    nerve_model_free(m);
    const char *const bad[] = {"optimizer.beta2=2", NULL};
    assert_int_equal(load("[optimizer]\ntype = adam\n", bad, &m, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "model.cfg (--set): [optimizer] beta2: 2 is out of range");
}

/* examples/optimizers.cfg: AdamW, a per-step cosine after a warm-up, clip_norm. */
static void test_the_optimizers_example_loads(void **state)
{
    nerve_model *m = NULL;
    nerve_error err = {0};
    test_require_ok(nerve_model_load(test_source_path("examples/optimizers.cfg"), NULL, &m, &err),
                    &err);
    const nerve_model_settings *s = nerve_model_settings_of(m);
    assert_true(s->optimizer.kind == NERVE_OPTIMIZER_ADAMW && s->optimizer.clip_norm == 1);
    assert_false(s->optimizer.decay_bias);
    assert_true(s->schedule.kind == NERVE_SCHEDULE_COSINE && s->schedule.warmup == 215);
    assert_int_equal(s->schedule.interval, NERVE_SCHEDULE_PER_STEP);
    /* 5 epochs of 55000 / 128 steps: the warm-up and the cosine fill the run */
    assert_int_equal(s->schedule.warmup + s->schedule.t_max, 5 * ((55000 + 127) / 128));
    nerve_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_optimizer_defaults_are_pytorchs),
        cmocka_unit_test(test_every_optimizer_key_reaches_the_options),
        cmocka_unit_test(test_optimizer_mistakes_name_their_line),
        cmocka_unit_test(test_every_schedule_key_reaches_the_schedule),
        cmocka_unit_test(test_schedule_mistakes_name_their_line),
        cmocka_unit_test(test_layer_regularisation_keys),
        cmocka_unit_test(test_batch_full_is_the_whole_training_set),
        cmocka_unit_test(test_new_keys_can_be_set_from_the_command_line),
        cmocka_unit_test(test_the_optimizers_example_loads),
        cmocka_unit_test(test_adam_without_bias_correction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
