/* Checkpoints and the numerical guards of the trainer:
 * - resuming gives byte-identical weights to an uninterrupted run (an MLP
 *   with Adam and a per-step cosine schedule; a CNN with batch norm,
 *   dropout, augmentation, momentum SGD and a plateau schedule; an LSTM on a
 *   text stream with bptt, checkpointed inside an epoch), from positions
 *   inside epochs and at their ends, and after a stop request;
 * - the same seed and thread count give byte-identical weights (1 and 2
 *   threads), whatever a busy machine leaves of the team (nerve_cpu_team);
 * - a checkpoint loads as weights; one that does not match the run is an
 *   error naming the file and what differs;
 * - checkpoints of nerve 0.2.1 (fixtures) resume with their state restored;
 * - a non-finite loss or gradient stops the run naming the step and the
 *   layer, or skips the step (and stops after NERVE_MAX_NAN_SKIPS in a row). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu.h"
#include "checkpoint_runs.h"
#include "test_support.h"

/* cfg with its first `from` replaced by `to` (a static buffer). */
static const char *replaced(const char *cfg, const char *from, const char *to)
{
    static char text[1024];
    const char *at = strstr(cfg, from);
    assert_non_null(at);
    snprintf(text, sizeof text, "%.*s%s%s", (int)(at - cfg), cfg, to, at + strlen(from));
    return text;
}

static nerve_model *load(const char *cfg)
{
    const char *path = test_tmppath("model.cfg");
    test_write_file(path, cfg, strlen(cfg));
    nerve_model *m;
    nerve_error err = {0};
    test_require_ok(nerve_model_load(path, NULL, &m, &err), &err);
    return m;
}

/* A model's data: its [data] files when it has them, else `features`. */
typedef struct run_data {
    nerve_dataset train, val;
    bool from_files;
} run_data;

static run_data data_for(nerve_model *m, int64_t size)
{
    run_data d = {0};
    nerve_error err = {0};
    if (size == 0) {
        d.from_files = true;
        test_require_ok(nerve_model_load_data(m, &d.train, &d.val, NULL, &err), &err);
    } else {
        d.train = features(96, size, 5);
        d.val = features(32, size, 6);
    }
    return d;
}

static void data_free(run_data *d)
{
    nerve_dataset_free(&d->train);
    nerve_dataset_free(&d->val);
}

/* Trains a fresh model of cfg with the options set by the arguments; returns
 * the status, the model in *out (freed by the caller) when out is given. */
static nerve_status train(const char *cfg, int64_t size, int64_t max_steps, const char *checkpoint,
                          int64_t every, const char *resume, nerve_model **out, nerve_error *err)
{
    nerve_model *m = load(cfg);
    run_data d = data_for(m, size);
    nerve_train_options o = nerve_train_options_from(m);
    o.max_steps = max_steps;
    o.checkpoint_path = checkpoint;
    o.checkpoint_every = every;
    o.resume_path = resume;
    nerve_status st = nerve_train(m, &d.train, d.val.count ? &d.val : NULL, &o, err);
    data_free(&d);
    if (out)
        *out = m;
    else
        nerve_model_free(m);
    return st;
}

static float *copy_params(nerve_model *m)
{
    nerve_graph *g = nerve_model_graph(m);
    size_t bytes = nerve_graph_param_count(g) * sizeof(float);
    float *copy = malloc(bytes);
    memcpy(copy, nerve_graph_params(g), bytes);
    return copy;
}

static void assert_same_params(const float *expected, nerve_model *m, const char *what)
{
    nerve_graph *g = nerve_model_graph(m);
    size_t n = nerve_graph_param_count(g);
    if (memcmp(expected, nerve_graph_params(g), n * sizeof(float)) == 0) return;
    size_t i = 0;
    while (expected[i] == nerve_graph_params(g)[i]) i++;
    fail_msg("%s: parameter %zu differs: %.9g vs %.9g", what, i, expected[i],
             nerve_graph_params(g)[i]);
}

/* total steps uninterrupted, against a checkpoint after each of the
 * `stops` and a fresh model resumed from it to total. */
static void check_resume(const char *cfg, int64_t size, int64_t total, const int64_t *stops,
                         int stop_count)
{
    nerve_error err = {0};
    nerve_model *m;
    test_require_ok(train(cfg, size, total, NULL, 0, NULL, &m, &err), &err);
    float *expected = copy_params(m);
    nerve_model_free(m);
    for (int i = 0; i < stop_count; i++) {
        const char *path = test_tmppath("resume.safetensors");
        test_require_ok(train(cfg, size, stops[i], path, 0, NULL, NULL, &err), &err);
        nerve_checkpoint_info info;
        test_require_ok(nerve_checkpoint_info_read(path, &info, &err), &err);
        assert_int_equal(info.global_step, stops[i]);
        test_require_ok(train(cfg, size, total, NULL, 0, path, &m, &err), &err);
        char what[64];
        snprintf(what, sizeof what, "resumed after step %lld", (long long)stops[i]);
        assert_same_params(expected, m, what);
        nerve_model_free(m);
    }
    free(expected);
}

/* 6 steps per epoch: stops inside the first epoch, at its end, inside the
 * second. */
static void test_an_mlp_resumes_bit_identically(void **state)
{
    const int64_t stops[] = {4, 6, 9};
    check_resume(mlp_cfg, 10, 16, stops, 3);
}

static const char *const cnn_cfg =
    "[net]\ninput = 1x8x8\nbatch = 16\nepochs = 3\nseed = 4\n"
    "[optimizer]\nlr = 0.05\nmomentum = 0.9\nweight_decay = 0.001\n"
    "[schedule]\ntype = plateau\npatience = 0\nfactor = 0.5\n"
    "[augment]\nflip = 0.5\ncrop_padding = 1\nerase = 0.3\n"
    "[conv2d]\nfilters = 4\nkernel = 3\npadding = same\n"
    "[batchnorm]\n[activation]\ntype = relu\n"
    "[maxpool2d]\nkernel = 2\n"
    "[dropout]\np = 0.3\n"
    "[dense]\nunits = 2\n";

static void test_a_cnn_with_dropout_and_augmentation_resumes_bit_identically(void **state)
{
    const int64_t stops[] = {3, 6, 8, 12};
    check_resume(cnn_cfg, 64, 16, stops, 4);
}

/* checkpoint_runs.h's LSTM, its corpus in the tests' folder. */
static char lstm_cfg[1024];

static void write_lstm_cfg(void)
{
    char text[2400];
    int n = lstm_corpus(text, sizeof text);
    const char *corpus = test_tmppath("corpus.txt");
    test_write_file(corpus, text, (size_t)n);
    lstm_cfg_for(corpus, lstm_cfg, sizeof lstm_cfg);
}

/* (2160 - 200) characters in 4 lanes of bptt 8: 61 steps per epoch. */
static void test_an_lstm_on_a_stream_resumes_bit_identically(void **state)
{
    write_lstm_cfg();
    const int64_t stops[] = {7, 61, 70};
    check_resume(lstm_cfg, 0, 80, stops, 3);
}

static int64_t stop_at_step;

static void request_stop(const nerve_progress *p, void *user)
{
    if (p->global_step == stop_at_step) *(volatile sig_atomic_t *)user = 1;
}

/* A stop request finishes the step, writes the checkpoint and returns
 * NERVE_ERR_STOPPED; the run resumes from it exactly: inside an epoch, and
 * at its last step (the epoch ends first). */
static void test_a_stop_request_checkpoints_and_resumes(void **state)
{
    nerve_error err = {0};
    nerve_model *m;
    test_require_ok(train(mlp_cfg, 10, 0, NULL, 0, NULL, &m, &err), &err);
    float *expected = copy_params(m);
    nerve_model_free(m);

    const int64_t stops[] = {5, 6, 12}, epochs[] = {1, 2, 3}, epoch_steps[] = {5, 0, 0};
    for (int i = 0; i < 3; i++) {
        const char *path = test_tmppath("stopped.safetensors");
        m = load(mlp_cfg);
        run_data d = data_for(m, 10);
        volatile sig_atomic_t stop = 0;
        nerve_train_options o = nerve_train_options_from(m);
        o.checkpoint_path = path;
        o.checkpoint_every = 4;
        o.stop_flag = &stop;
        o.on_progress = request_stop;
        o.user = (void *)&stop;
        stop_at_step = stops[i];
        assert_int_equal(nerve_train(m, &d.train, &d.val, &o, &err), NERVE_ERR_STOPPED);
        test_assert_message_contains(&err, "checkpoint written to");
        nerve_checkpoint_info info;
        test_require_ok(nerve_checkpoint_info_read(path, &info, &err), &err);
        assert_int_equal(info.global_step, stops[i]);
        assert_int_equal(info.epoch, epochs[i]);
        assert_int_equal(info.epoch_step, epoch_steps[i]);
        nerve_model_free(m);
        data_free(&d);

        test_require_ok(train(mlp_cfg, 10, 0, NULL, 0, path, &m, &err), &err);
        assert_same_params(expected, m, "resumed after a stop");
        nerve_model_free(m);
    }
    free(expected);
}

/* --every N writes every N steps; a finished run's checkpoint resumes with
 * more epochs as if they had been asked for at first. */
static void test_checkpoints_every_n_steps_and_after_the_end(void **state)
{
    nerve_error err = {0};
    const char *path = test_tmppath("every.safetensors");
    nerve_checkpoint_info info;
    test_require_ok(train(mlp_cfg, 10, 0, path, 5, NULL, NULL, &err), &err);
    test_require_ok(nerve_checkpoint_info_read(path, &info, &err), &err);
    assert_int_equal(info.global_step, 18);
    assert_int_equal(info.epoch, 4);
    assert_int_equal(info.epoch_step, 0);
    test_require_ok(train(mlp_cfg, 10, 7, path, 5, NULL, NULL, &err), &err);
    test_require_ok(nerve_checkpoint_info_read(path, &info, &err), &err);
    assert_int_equal(info.global_step, 7);
    /* Resumed at its step limit, a run has nothing to train: an error. */
    assert_int_equal(train(mlp_cfg, 10, 7, NULL, 0, path, NULL, &err), NERVE_ERR_INVALID);
    assert_non_null(strstr(err.message, "nothing to train: the checkpoint has done 7 steps"));

    const char *longer = replaced(mlp_cfg, "epochs = 3", "epochs = 5");
    nerve_model *m;
    test_require_ok(train(longer, 10, 0, NULL, 0, NULL, &m, &err), &err);
    float *expected = copy_params(m);
    nerve_model_free(m);
    test_require_ok(train(mlp_cfg, 10, 0, path, 0, NULL, NULL, &err), &err);
    test_require_ok(train(longer, 10, 0, NULL, 0, path, &m, &err), &err);
    assert_same_params(expected, m, "3 epochs, resumed to 5");
    nerve_model_free(m);
    free(expected);
}

/* The checkpoint keeps the settings a resume may change; a resume with
 * another lr uses it from the resumed step on: the same weights as a run
 * that switched rates at that step (the schedule's position recomputed). */
static void test_a_resume_with_another_rate_uses_it_at_once(void **state)
{
    nerve_error err = {0};
    const char *path = test_tmppath("rate.safetensors");
    test_require_ok(train(mlp_cfg, 10, 4, path, 0, NULL, NULL, &err), &err);
    nerve_checkpoint_info info;
    test_require_ok(nerve_checkpoint_info_read(path, &info, &err), &err);
    assert_int_equal(info.epochs, 3);
    assert_true(info.base_lr == 0.01);
    assert_string_equal(info.schedule, "cosine, interval step, T_max 12, eta_min 0");
    assert_int_equal(info.on_nan, NERVE_ON_NAN_STOP);
    /* A per-epoch schedule steps at the epoch's end only: resumed inside the
     * epoch with lr 0.02, the next steps use 0.02 all the same. */
    const char *slow = replaced(mlp_cfg, "interval = step", "interval = epoch");
    char slow_cfg[1024];
    snprintf(slow_cfg, sizeof slow_cfg, "%s", slow);
    const char *epoch_path = test_tmppath("rate_epoch.safetensors");
    test_require_ok(train(slow_cfg, 10, 4, epoch_path, 0, NULL, NULL, &err), &err);
    const char *faster = replaced(slow_cfg, "lr = 0.01", "lr = 0.02");
    const char *next = test_tmppath("rate_next.safetensors");
    test_require_ok(train(faster, 10, 5, next, 0, epoch_path, NULL, &err), &err);
    test_require_ok(nerve_checkpoint_info_read(next, &info, &err), &err);
    assert_true(info.base_lr == 0.02);
    assert_true(info.lr == 0.02);
}

static void test_the_same_seed_and_threads_give_the_same_weights(void **state)
{
    const char *cfgs[] = {mlp_cfg, cnn_cfg};
    const int64_t sizes[] = {10, 64};
    for (int threads = 1; threads <= 2; threads++) {
        nerve_set_threads(threads);
        for (int k = 0; k < 2; k++) {
            nerve_error err = {0};
            nerve_model *m;
            test_require_ok(train(cfgs[k], sizes[k], 0, NULL, 0, NULL, &m, &err), &err);
            float *first = copy_params(m);
            nerve_model_free(m);
            test_require_ok(train(cfgs[k], sizes[k], 0, NULL, 0, NULL, &m, &err), &err);
            char what[64];
            snprintf(what, sizeof what, "model %d, %d threads, run to run", k, threads);
            assert_same_params(first, m, what);
            nerve_model_free(m);
            free(first);
        }
    }
    nerve_set_threads(1);
}

/* On a busy machine the loops whose result does not depend on their threads
 * (the GEMM's slabs, the optimizer's ranges, zeroing: nerve_cpu_team) take
 * fewer; a network wide enough to run them all in parallel trains, on 2
 * threads, the same weights on a team of 1 as on a team of 2. */
static const char *const wide_cfg =
    "[net]\ninput = 256\nbatch = 64\nepochs = 2\nseed = 5\n"
    "[optimizer]\ntype = adam\nlr = 0.001\nclip_norm = 0.5\n"
    "[dense]\nunits = 512\nactivation = relu\n"
    "[dense]\nunits = 256\nactivation = relu\n"
    "[dense]\nunits = 2\n";

/* Convolutions wide enough for two threads and Winograd's 16-channel
 * blocks, with batch norm: the backward passes run in parts. */
static const char *const conv_cfg =
    "[net]\ninput = 16x12x12\nbatch = 32\nepochs = 2\nseed = 5\n"
    "[optimizer]\ntype = adam\nlr = 0.001\n"
    "[conv2d]\nfilters = 32\nkernel = 3\npadding = same\nbias = 0\n"
    "[batchnorm]\nactivation = relu\n"
    "[conv2d]\nfilters = 32\nkernel = 3\npadding = same\nactivation = relu\n"
    "[dense]\nunits = 2\n";

static void test_a_busy_machines_smaller_team_gives_the_same_weights(void **state)
{
    const struct {
        const char *cfg;
        int64_t features;
    } nets[] = {{wide_cfg, 256}, {conv_cfg, 16 * 12 * 12}};
    nerve_set_threads(2);
    for (int n = 0; n < 2; n++) {
        nerve_error err = {0};
        nerve_model *m;
        nerve_cpu_team_fix(2);
        test_require_ok(train(nets[n].cfg, nets[n].features, 0, NULL, 0, NULL, &m, &err), &err);
        float *two = copy_params(m);
        nerve_model_free(m);
        nerve_cpu_team_fix(1);
        test_require_ok(train(nets[n].cfg, nets[n].features, 0, NULL, 0, NULL, &m, &err), &err);
        assert_same_params(two, m, "team of 1 against team of 2");
        nerve_model_free(m);
        free(two);
    }
    nerve_cpu_team_fix(0);
    nerve_set_threads(1);
}

static void expect_resume_error(const char *cfg, const char *path, nerve_status status,
                                const char *needle)
{
    nerve_error err = {0};
    assert_int_equal(train(cfg, 10, 0, NULL, 0, path, NULL, &err), status);
    test_assert_message_contains(&err, path);
    test_assert_message_contains(&err, needle);
}

static void test_a_checkpoint_loads_as_weights_and_must_match_the_run(void **state)
{
    nerve_error err = {0};
    const char *path = test_tmppath("match.safetensors");
    test_require_ok(train(mlp_cfg, 10, 4, path, 0, NULL, NULL, &err), &err);
    nerve_model *m = load(mlp_cfg);
    test_require_ok(nerve_model_load_weights(m, path, &err), &err);
    nerve_model_free(m);

    expect_resume_error(replaced(mlp_cfg, "type = adam", "type = adamw"), path,
                        NERVE_ERR_INVALID, "the checkpoint's optimizer is adam, this run's is adamw");
    expect_resume_error(replaced(mlp_cfg, "units = 12", "units = 13"), path, NERVE_ERR_SHAPE,
                        "tensor 'fc1.weight' has shape 12x10, the network expects 13x10");
    expect_resume_error(replaced(mlp_cfg, "amsgrad = 1", "amsgrad = 0"), path, NERVE_ERR_FORMAT,
                        "tensor 'optimizer.fc1.weight.max_exp_avg_sq' is not part of this run's");
    expect_resume_error(replaced(mlp_cfg, "batch = 16", "batch = 12"), path, NERVE_ERR_INVALID,
                        "the checkpoint was trained with batch 16, this run has 12");
    expect_resume_error(replaced(mlp_cfg, "seed = 3", "seed = 4"), path, NERVE_ERR_INVALID,
                        "seed 3, this run has 4");

    const char *weights = test_tmppath("plain.safetensors");
    m = load(mlp_cfg);
    test_require_ok(nerve_graph_plan(nerve_model_graph(m), 16, &err), &err);
    test_require_ok(nerve_model_save_weights(m, weights, &err), &err);
    nerve_model_free(m);
    expect_resume_error(mlp_cfg, weights, NERVE_ERR_FORMAT, "not a checkpoint");
}

/* Trains mlp_cfg unshuffled on data whose sample `bad` is value in every
 * feature; returns the status and the warnings seen. */
typedef struct warnings {
    int count;
    char last[512];
} warnings;

static void remember_warning(const char *message, void *user)
{
    warnings *w = user;
    w->count++;
    snprintf(w->last, sizeof w->last, "%s", message);
}

static nerve_status train_bad_sample(int64_t bad, float value, nerve_on_nan on_nan,
                                     bool shuffle, const char *checkpoint, warnings *w,
                                     nerve_error *err)
{
    nerve_model *m = load(mlp_cfg);
    nerve_dataset ds = features(96, 10, 5);
    for (int k = 0; k < 10; k++) ds.inputs[bad * 10 + k] = value;
    nerve_train_options o = nerve_train_options_from(m);
    o.no_shuffle = !shuffle;
    o.on_nan = on_nan;
    o.on_warning = remember_warning;
    o.user = w;
    o.checkpoint_path = checkpoint;
    o.checkpoint_every = 1;
    nerve_status st = nerve_train(m, &ds, NULL, &o, err);
    if (st == NERVE_OK) {
        nerve_graph *g = nerve_model_graph(m);
        for (size_t i = 0; i < nerve_graph_param_count(g); i++)
            assert_true(isfinite(nerve_graph_params(g)[i]));
    }
    nerve_dataset_free(&ds);
    nerve_model_free(m);
    return st;
}

static void test_a_non_finite_step_stops_naming_the_step_and_the_layer(void **state)
{
    nerve_error err = {0};
    warnings w = {0};
    /* Sample 40 is in the third batch of 16. */
    assert_int_equal(train_bad_sample(40, INFINITY, NERVE_ON_NAN_STOP, false, NULL, &w, &err),
                     NERVE_ERR_NUMERIC);
    test_assert_message_contains(&err, "epoch 1, step 3: the loss is");
    test_assert_message_contains(&err, "the input batch holds non-finite values");
    test_assert_message_contains(&err, "no checkpoint");
    /* A finite input so large that the first layer's output overflows. */
    const char *path = test_tmppath("guard.safetensors");
    assert_int_equal(train_bad_sample(40, 3e38f, NERVE_ON_NAN_STOP, false, path, &w, &err),
                     NERVE_ERR_NUMERIC);
    test_assert_message_contains(&err, "epoch 1, step 3: the loss is");
    test_assert_message_contains(&err, "the first non-finite output: layer 'fc1' (dense)");
    test_assert_message_contains(&err, "last good checkpoint: ");
    test_assert_message_contains(&err, "guard.safetensors (step 2)");
    assert_int_equal(w.count, 0);
}

static void test_on_nan_skip_skips_bad_steps_and_stops_after_too_many(void **state)
{
    nerve_error err = {0};
    warnings w = {0};
    /* One bad batch per epoch: skipped, 3 epochs finish. */
    test_require_ok(train_bad_sample(40, NAN, NERVE_ON_NAN_SKIP, true, NULL, &w, &err), &err);
    assert_int_equal(w.count, 3);
    if (!strstr(w.last, "skipped") || !strstr(w.last, "1 in a row"))
        fail_msg("warning: %s", w.last);

    /* A model whose parameter is infinite fails every step. */
    nerve_model *m = load(mlp_cfg);
    nerve_dataset ds = features(96, 10, 5);
    nerve_graph *g = nerve_model_graph(m);
    test_require_ok(nerve_graph_plan(g, 16, &err), &err);
    nerve_graph_params(g)[0] = INFINITY;
    nerve_train_options o = nerve_train_options_from(m);
    o.on_nan = NERVE_ON_NAN_SKIP;
    o.on_warning = remember_warning;
    o.user = &w;
    w.count = 0;
    assert_int_equal(nerve_train(m, &ds, NULL, &o, &err), NERVE_ERR_NUMERIC);
    assert_int_equal(w.count, NERVE_MAX_NAN_SKIPS - 1);
    test_assert_message_contains(&err, "epoch 2, step 10: the loss is ");
    test_assert_message_contains(&err, "10 consecutive steps skipped, the limit");
    test_assert_message_contains(&err, "parameter: layer 'fc1' (dense), 'fc1.weight'");
    nerve_dataset_free(&ds);
    nerve_model_free(m);
}

/* A resume from a checkpoint of nerve 0.2.1 (tests/fixtures/checkpoints/,
 * written by tests/reference/checkpoint_fixtures.c against that release's
 * library): what it checks at the first resumed step. */
typedef struct old_checkpoint {
    const char *path;
    nerve_model *m;
    nerve_optimizer *opt;
    bool checked;
} old_checkpoint;

/* The state in place before the first resumed step: the parameters (and
 * buffers) are the file's bit for bit, the optimizer has its step count and
 * the schedule's rate. */
static void check_restored(const int64_t *index, int64_t n, void *user)
{
    old_checkpoint *c = user;
    if (c->checked) return;
    c->checked = true;
    nerve_safetensors *st;
    nerve_error err = {0};
    test_require_ok(nerve_safetensors_open(c->path, &st, &err), &err);
    nerve_graph *g = nerve_model_graph(c->m);
    for (nerve_node k = 0; k < nerve_graph_node_count(g); k++) {
        if (!nerve_node_is_param(g, k)) continue;
        nerve_shape shape;
        const float *saved = nerve_safetensors_get(st, nerve_node_name(g, k), &shape);
        assert_non_null(saved);
        assert_memory_equal(saved, nerve_node_value(g, k),
                            (size_t)nerve_shape_numel(&shape) * sizeof(float));
    }
    const char *steps = nerve_safetensors_metadata(st, "nerve.checkpoint.optimizer_steps");
    const char *lr = nerve_safetensors_metadata(st, "nerve.checkpoint.schedule.lr");
    assert_true(steps && lr);
    assert_int_equal(nerve_optimizer_steps(c->opt), strtoll(steps, NULL, 10));
    assert_true(nerve_optimizer_lr(c->opt) == strtod(lr, NULL));
    nerve_safetensors_close(st);
}

/* Resumes cfg (data of `size` features, or its [data] files with 0) from
 * the old checkpoint `name` to `total` steps, one thread: checks the state
 * restored, the weights against that nerve's uninterrupted run (`final`:
 * within rounding, since another machine's kernels may round otherwise),
 * and that the checkpoint this nerve writes holds the same tensors. */
static void resume_old_checkpoint(const char *cfg, int64_t size, const char *name,
                                  const char *final, int64_t total)
{
    char path[512], final_path[512];
    snprintf(path, sizeof path, "%s", test_source_path(name));
    snprintf(final_path, sizeof final_path, "%s", test_source_path(final));
    nerve_error err = {0};
    nerve_model *m = load(cfg);
    run_data d = data_for(m, size);
    old_checkpoint c = {path, m, nerve_model_optimizer_new(m, &err), false};
    assert_non_null(c.opt);
    const char *written = test_tmppath("resumed_old.safetensors");
    nerve_train_options o = nerve_train_options_from(m);
    o.max_steps = total;
    o.resume_path = path;
    o.checkpoint_path = written;
    o.optimizer = c.opt;
    o.on_batch = check_restored;
    o.user = &c;
    int threads = nerve_get_threads();
    nerve_set_threads(1);
    nerve_status st = nerve_train(m, &d.train, d.val.count ? &d.val : NULL, &o, &err);
    nerve_set_threads(threads);
    test_require_ok(st, &err);
    assert_true(c.checked);

    nerve_safetensors *expected, *old, *now;
    test_require_ok(nerve_safetensors_open(final_path, &expected, &err), &err);
    nerve_graph *g = nerve_model_graph(m);
    for (nerve_node k = 0; k < nerve_graph_node_count(g); k++) {
        if (!nerve_node_is_param(g, k)) continue;
        nerve_shape shape;
        const float *want = nerve_safetensors_get(expected, nerve_node_name(g, k), &shape);
        assert_non_null(want);
        const float *have = nerve_node_value(g, k);
        for (int64_t i = 0; i < nerve_shape_numel(&shape); i++)
            if (!(fabsf(want[i] - have[i]) <= 1e-4f * (1 + fabsf(want[i]))))
                fail_msg("%s: %s[%lld] is %.9g, the old nerve's run ends at %.9g", name,
                         nerve_node_name(g, k), (long long)i, have[i], want[i]);
    }
    test_require_ok(nerve_safetensors_open(path, &old, &err), &err);
    test_require_ok(nerve_safetensors_open(written, &now, &err), &err);
    assert_int_equal(nerve_safetensors_count(now), nerve_safetensors_count(old));
    for (int i = 0; i < nerve_safetensors_count(old); i++) {
        nerve_shape a, b;
        assert_non_null(nerve_safetensors_get(old, nerve_safetensors_name(old, i), &a));
        assert_non_null(nerve_safetensors_get(now, nerve_safetensors_name(old, i), &b));
        assert_true(nerve_shape_equal(&a, &b));
    }
    nerve_safetensors_close(expected);
    nerve_safetensors_close(old);
    nerve_safetensors_close(now);
    nerve_optimizer_free(c.opt);
    data_free(&d);
    nerve_model_free(m);
}

/* Checkpoints written by nerve 0.2.1 (before the state protocol) resume:
 * the MLP's with Adam's three state slots, and the LSTM stream's with its
 * carried state. */
static void test_checkpoints_of_nerve_0_2_1_still_resume(void **state)
{
    resume_old_checkpoint(mlp_cfg, 10, "tests/fixtures/checkpoints/mlp_step9.safetensors",
                          "tests/fixtures/checkpoints/mlp_final.safetensors", 16);
    write_lstm_cfg();
    resume_old_checkpoint(lstm_cfg, 0, "tests/fixtures/checkpoints/lstm_step70.safetensors",
                          "tests/fixtures/checkpoints/lstm_final.safetensors", 80);
}

int main(void)
{
    nerve_set_threads(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_an_mlp_resumes_bit_identically),
        cmocka_unit_test(test_a_cnn_with_dropout_and_augmentation_resumes_bit_identically),
        cmocka_unit_test(test_an_lstm_on_a_stream_resumes_bit_identically),
        cmocka_unit_test(test_a_stop_request_checkpoints_and_resumes),
        cmocka_unit_test(test_a_resume_with_another_rate_uses_it_at_once),
        cmocka_unit_test(test_checkpoints_every_n_steps_and_after_the_end),
        cmocka_unit_test(test_the_same_seed_and_threads_give_the_same_weights),
        cmocka_unit_test(test_a_busy_machines_smaller_team_gives_the_same_weights),
        cmocka_unit_test(test_a_checkpoint_loads_as_weights_and_must_match_the_run),
        cmocka_unit_test(test_checkpoints_of_nerve_0_2_1_still_resume),
        cmocka_unit_test(test_a_non_finite_step_stops_naming_the_step_and_the_layer),
        cmocka_unit_test(test_on_nan_skip_skips_bad_steps_and_stops_after_too_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
