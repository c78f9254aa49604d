/* The sealed device (src/backends/sealed): tensor memory the host cannot
 * touch outside the device's own calls. A host read of a node's memory
 * faults, and a whole run (training with batch norm, dropout and a
 * checkpoint, its resume, evaluation, prediction, saving and loading the
 * weights) goes through the device interface alone and gives what the CPU
 * gives. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/registry.h"
#include "test_support.h"

#define SAMPLES 48
#define FEATURES 6

static const char *const cfg =
    "[net]\ninput = 6\nbatch = 8\nepochs = 2\nseed = 4\n"
    "[optimizer]\ntype = adam\nlr = 0.01\n"
    "[dense]\nunits = 10\nbias = 0\n" /* batch norm removes it: Adam would move it on noise */
    "[batchnorm]\nactivation = relu\n"
    "[dropout]\np = 0.2\n"
    "[dense]\nunits = 3\n";

static nerve_dataset synthetic(void)
{
    nerve_rng rng;
    nerve_rng_seed(&rng, 9);
    nerve_dataset ds = {.count = SAMPLES, .sample_shape = nerve_shape_1d(FEATURES),
                        .sample_size = FEATURES, .target_size = 1, .num_classes = 3};
    ds.inputs = malloc(SAMPLES * FEATURES * sizeof(float));
    ds.targets = malloc(SAMPLES * sizeof(float));
    for (int i = 0; i < SAMPLES; i++) {
        for (int k = 0; k < FEATURES; k++)
            ds.inputs[i * FEATURES + k] =
                (float)(nerve_rng_uniform(&rng) + (k % 3 == i % 3 ? 1.0 : 0.0));
        ds.targets[i] = (float)(i % 3);
    }
    return ds;
}

/* What a run on one backend gives. */
typedef struct outcome {
    double losses[2 * SAMPLES / 8 + 1];
    int steps;
    double eval_loss, resumed_eval_loss;
    float predictions[SAMPLES * 3], reloaded[SAMPLES * 3];
} outcome;

static void record(const nerve_progress *p, void *user)
{
    outcome *o = user;
    if (o->steps < (int)(sizeof o->losses / sizeof o->losses[0])) o->losses[o->steps++] = p->loss;
}

static nerve_model *load_on(const char *backend)
{
    char setting[64];
    snprintf(setting, sizeof setting, "net.backend=%s", backend);
    const char *overrides[] = {setting, NULL};
    const char *file = test_tmppath("sealed.cfg");
    test_write_file(file, cfg, strlen(cfg));
    nerve_model *m;
    nerve_error err = {0};
    test_require_ok(nerve_model_load(file, overrides, &m, &err), &err);
    assert_string_equal(nerve_graph_backend(nerve_model_graph(m)), backend);
    return m;
}

static void run_on(const char *backend, outcome *out)
{
    memset(out, 0, sizeof *out);
    nerve_error err = {0};
    nerve_dataset ds = synthetic();
    char checkpoint[256], weights[256];
    snprintf(checkpoint, sizeof checkpoint, "%s", test_tmppath("sealed_checkpoint.safetensors"));
    char wname[64];
    snprintf(wname, sizeof wname, "sealed_weights_%s.safetensors", backend);
    snprintf(weights, sizeof weights, "%s", test_tmppath(wname));

    /* one epoch with a checkpoint, then resumed to the second */
    nerve_model *m = load_on(backend);
    nerve_train_options o = nerve_train_options_from(m);
    o.epochs = 1;
    o.checkpoint_path = checkpoint;
    o.on_progress = record;
    o.user = out;
    test_require_ok(nerve_train(m, &ds, NULL, &o, &err), &err);
    nerve_model_free(m);
    m = load_on(backend);
    o = nerve_train_options_from(m);
    o.epochs = 2;
    o.resume_path = checkpoint;
    o.on_progress = record;
    o.user = out;
    test_require_ok(nerve_train(m, &ds, NULL, &o, &err), &err);

    nerve_evaluation e;
    test_require_ok(nerve_evaluate(m, &ds, 0, &e, &err), &err);
    out->eval_loss = e.loss;
    nerve_evaluation_free(&e);
    test_require_ok(nerve_predict(m, ds.inputs, SAMPLES, out->predictions, &err), &err);
    test_require_ok(nerve_model_save_weights(m, weights, &err), &err);
    nerve_model_free(m);

    /* the saved weights, loaded into a fresh model, predict the same */
    m = load_on(backend);
    test_require_ok(nerve_model_load_weights(m, weights, &err), &err);
    test_require_ok(nerve_predict(m, ds.inputs, SAMPLES, out->reloaded, &err), &err);
    test_require_ok(nerve_evaluate(m, &ds, 0, &e, &err), &err);
    out->resumed_eval_loss = e.loss;
    nerve_evaluation_free(&e);
    nerve_model_free(m);
    nerve_dataset_free(&ds);
}

static void assert_near(double got, double want, const char *what, int i)
{
    if (!(fabs(got - want) <= 1e-4 * fmax(fabs(want), 1e-2)))
        fail_msg("%s %d: sealed %.9g, cpu %.9g", what, i, got, want);
}

static void test_a_run_through_the_sealed_device_matches_the_cpu(void **state)
{
    outcome *cpu = malloc(sizeof *cpu), *sealed = malloc(sizeof *sealed);
    run_on("cpu", cpu);
    run_on("sealed", sealed);
    assert_int_equal(cpu->steps, sealed->steps);
    assert_true(cpu->steps >= 2 * SAMPLES / 8);
    for (int i = 0; i < cpu->steps; i++) assert_near(sealed->losses[i], cpu->losses[i], "loss", i);
    assert_near(sealed->eval_loss, cpu->eval_loss, "evaluation loss", 0);
    for (int i = 0; i < SAMPLES * 3; i++) {
        assert_near(sealed->predictions[i], cpu->predictions[i], "prediction", i);
        assert_true(sealed->reloaded[i] == sealed->predictions[i]);
    }
    assert_true(sealed->resumed_eval_loss == sealed->eval_loss);
    free(cpu);
    free(sealed);
}

/* A host read of a planned node's memory outside the device faults (in a
 * child process, which it kills); the device's own copies work. */
static void test_host_access_to_sealed_memory_faults(void **state)
{
    nerve_error err = {0};
    nerve_graph *g = nerve_graph_new();
    test_require_ok(nerve_graph_set_backend(g, "sealed", &err), &err);
    nerve_node x = nerve_input(g, "x", nerve_shape_1d(4), &err);
    nerve_node y = nerve_activate(g, x, NERVE_ACT_RELU, NULL, &err);
    assert_true(y >= 0);
    test_require_ok(nerve_graph_plan(g, 2, &err), &err);
    const nerve_real in[8] = {-1, 2, -3, 4, 5, -6, 7, -8};
    nerve_real out[8];
    test_require_ok(nerve_node_write(g, x, in, 8, &err), &err);
    test_require_ok(nerve_graph_forward(g, y, &err), &err);
    test_require_ok(nerve_node_read(g, y, out, 8, &err), &err);
    for (int i = 0; i < 8; i++) assert_true(out[i] == (in[i] > 0 ? in[i] : 0));
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        signal(SIGSEGV, SIG_DFL); /* a sanitizer's handler would report and exit */
        volatile nerve_real v = nerve_node_value(g, y)[0];
        (void)v;
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGSEGV);
    nerve_graph_free(g);
}

/* A gradient-taking input's gradient is read through the device
 * (nerve_node_read_grad); a node without one is an error naming it. */
static void test_gradients_are_read_through_the_device(void **state)
{
    nerve_error err = {0};
    nerve_graph *g = nerve_graph_new();
    test_require_ok(nerve_graph_set_backend(g, "sealed", &err), &err);
    nerve_node x = nerve_input(g, "x", nerve_shape_1d(4), &err);
    test_require_ok(nerve_graph_set_input_grad(g, x, true, &err), &err);
    nerve_node other = nerve_input(g, "other", nerve_shape_1d(4), &err);
    const nerve_node both[2] = {x, other};
    nerve_node sum = nerve_add(g, "sum", both, 2, &err);
    nerve_node y = nerve_activate(g, sum, NERVE_ACT_RELU, NULL, &err);
    assert_true(y >= 0);
    test_require_ok(nerve_graph_plan(g, 2, &err), &err);
    const nerve_real in[8] = {-1, 2, -3, 4, 5, -6, 7, -8}, zero[8] = {0};
    const nerve_real upstream[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    nerve_real dx[8];
    test_require_ok(nerve_node_write(g, x, in, 8, &err), &err);
    test_require_ok(nerve_node_write(g, other, zero, 8, &err), &err);
    test_require_ok(nerve_graph_forward(g, y, &err), &err);
    test_require_ok(nerve_graph_backward_from(g, y, upstream, &err), &err);
    test_require_ok(nerve_node_read_grad(g, x, dx, 8, &err), &err);
    for (int i = 0; i < 8; i++) assert_true(dx[i] == (in[i] > 0 ? upstream[i] : 0));
    assert_int_equal(nerve_node_read_grad(g, x, dx, 9, &err), NERVE_ERR_INVALID);
    assert_non_null(strstr(err.message, "9 values asked, it has 8"));
    assert_int_equal(nerve_node_read_grad(g, other, dx, 1, &err), NERVE_ERR_INVALID);
    assert_non_null(strstr(err.message, "'other': the node has no gradient"));
    nerve_graph_free(g);
}

int main(void)
{
    if (!nerve_device_find("sealed")) return 77; /* no memory protection here */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_access_to_sealed_memory_faults),
        cmocka_unit_test(test_gradients_are_read_through_the_device),
        cmocka_unit_test(test_a_run_through_the_sealed_device_matches_the_cpu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
