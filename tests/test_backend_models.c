/* Whole-model backend parity: 100 training steps of an MLP, a LeNet-style
 * CNN, a CNN with batch normalisation, dropout, channel dropout and
 * augmentation, an LSTM classifier and a char-LSTM (one-hot characters,
 * truncated BPTT over a text stream, state carried) give the same loss at every step on every
 * backend as on the reference backend (relative 1e-4); and a checkpoint
 * written on one backend resumes on another (cpu) as if the run had never
 * moved. The kernels are checked one by one in test_backend_ops.c; this
 * checks that a graph, its optimizer and its random masks behave the same
 * whatever runs the numbers.
 *
 *   test_backend_models [BACKEND]
 *
 * With a backend's name, that backend alone against ref (and cpu for the
 * checkpoints), exiting 77 (skipped) where it cannot run: "cuda" on a
 * machine without a GPU. Without, every backend that can run here. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/registry.h"
#include "test_support.h"

#define STEPS 100
#define SAMPLES 96
#define BATCH 16
#define TOLERANCE 1e-4

static const char *const mlp_cfg =
    "[net]\ninput = 12\nbatch = 16\nepochs = 100\nseed = 3\n"
    "[optimizer]\ntype = adam\nlr = 0.01\n"
    "[dense]\nunits = 24\nactivation = tanh\n"
    "[dense]\nunits = 16\nactivation = relu\n"
    "[dense]\nunits = 3\n";

static const char *const lenet_cfg =
    "[net]\ninput = 1x12x12\nbatch = 16\nepochs = 100\nseed = 9\n"
    "[optimizer]\ntype = adam\nlr = 0.005\n"
    "[conv2d]\nfilters = 4\nkernel = 5\npadding = same\nactivation = relu\n"
    "[maxpool2d]\nkernel = 2\n"
    "[conv2d]\nfilters = 6\nkernel = 3\npadding = same\nactivation = relu\n"
    "[maxpool2d]\nkernel = 2\n"
    "[dense]\nunits = 16\nactivation = relu\n"
    "[dropout]\np = 0.25\n"
    "[dense]\nunits = 3\n";

static const char *const cnn_cfg =
    "[net]\ninput = 1x8x8\nbatch = 16\nepochs = 100\nseed = 5\n"
    "[augment]\nflip = 0.5\ncrop_padding = 1\nbrightness = 0.2\n"
    "[optimizer]\nlr = 0.05\nmomentum = 0.9\n"
    "[conv2d]\nfilters = 4\nkernel = 3\npadding = same\nbias = 0\n"
    "[batchnorm]\nactivation = relu\n"
    "[maxpool2d]\nkernel = 2\n"
    "[dropout2d]\np = 0.2\n"
    "[dense]\nunits = 12\n"
    "[batchnorm]\nactivation = relu\n"
    "[dropout]\np = 0.3\n"
    "[dense]\nunits = 3\n";

static const char *const lstm_cfg =
    "[net]\ninput = 6x2\nbatch = 16\nepochs = 100\nseed = 7\n"
    "[optimizer]\ntype = adam\nlr = 0.01\nclip_norm = 1\n"
    "[lstm]\nhidden = 8\nreturn = last\n"
    "[dense]\nunits = 3\n";

/* bench/charlstm.cfg in small: a text of 6 symbols in 4 lanes, 8 steps each
 * batch, the LSTM's state carried from batch to batch. */
static const char *const char_lstm_cfg_format =
    "[net]\nbptt = 8\nbatch = 4\nepochs = 100\nseed = 13\n"
    "[data]\nformat = text\ntrain = %s\n"
    "[optimizer]\ntype = adam\nlr = 0.01\nclip_norm = 5\n"
    "[loss]\ntype = softmax_cross_entropy\n"
    "[one_hot]\nclasses = 6\n"
    "[lstm]\nhidden = 12\n"
    "[dense]\nunits = 6\n";

/* The char-LSTM's cfg over a text of 400 characters of "abcdef", each
 * mostly the one after its predecessor (a pattern to learn), written once. */
static const char *char_lstm_cfg(void)
{
    static char cfg[1024];
    if (cfg[0]) return cfg;
    char text[401];
    uint32_t state = 17;
    int symbol = 0;
    for (int i = 0; i < 400; i++) {
        state = state * 1664525u + 1013904223u;
        symbol = (state >> 24) % 5 == 0 ? (int)(state >> 8) % 6 : (symbol + 1) % 6;
        text[i] = (char)('a' + symbol);
    }
    text[400] = '\0';
    const char *path = test_tmppath("char_lstm.txt");
    test_write_file(path, text, 400);
    snprintf(cfg, sizeof cfg, char_lstm_cfg_format, path);
    return cfg;
}

/* Three classes of samples of `size` values (shaped `shape`): noise around a
 * class pattern, the same for every backend. */
static nerve_dataset synthetic(nerve_shape shape)
{
    nerve_rng rng;
    nerve_rng_seed(&rng, 11);
    nerve_dataset ds = {.count = SAMPLES, .sample_shape = shape, .target_size = 1,
                        .num_classes = 3};
    ds.sample_size = nerve_shape_numel(&shape);
    ds.inputs = malloc((size_t)(SAMPLES * ds.sample_size) * sizeof(float));
    ds.targets = malloc(SAMPLES * sizeof(float));
    for (int i = 0; i < SAMPLES; i++) {
        int label = i % 3;
        for (int64_t k = 0; k < ds.sample_size; k++)
            ds.inputs[i * ds.sample_size + k] =
                (float)(0.5 * nerve_rng_uniform(&rng) + (k % 3 == label ? 0.8 : 0.0));
        ds.targets[i] = (float)label;
    }
    return ds;
}

/* The loss of every step, from the trainer's running mean over the epoch
 * (every batch is BATCH samples: SAMPLES is a multiple), and that mean
 * itself (which a resumed run continues). */
typedef struct step_losses {
    double loss[STEPS + 1];
    double mean[STEPS + 1];
    double previous_mean;
} step_losses;

static void record_step(const nerve_progress *p, void *user)
{
    step_losses *s = user;
    double before = p->step > 1 ? s->previous_mean * (double)(p->step - 1) : 0;
    if (p->global_step <= STEPS) {
        s->loss[p->global_step] = p->loss * (double)p->step - before;
        s->mean[p->global_step] = p->loss;
    }
    s->previous_mean = p->loss;
}

/* The backend named on the command line, or NULL: every one. */
static const char *only;

/* Whether backend takes part: named (or none named) and able to run here. */
static bool chosen(const char *backend)
{
    return (!only || strcmp(only, backend) == 0) &&
           nerve_device_usable(nerve_device_find(backend));
}

/* Trains cfg on backend up to step `steps`, from checkpoint resume (or
 * NULL), writing checkpoint (or NULL) at step `steps`. */
static void train_steps(const char *cfg, const char *name, const char *backend,
                        nerve_shape shape, int64_t steps, const char *checkpoint,
                        const char *resume, step_losses *out)
{
    char path[64], setting[64];
    snprintf(path, sizeof path, "%s.cfg", name);
    const char *file = test_tmppath(path);
    test_write_file(file, cfg, strlen(cfg));
    snprintf(setting, sizeof setting, "net.backend=%s", backend);
    const char *overrides[] = {setting, NULL};
    nerve_model *m;
    nerve_error err = {0};
    test_require_ok(nerve_model_load(file, overrides, &m, &err), &err);
    assert_string_equal(nerve_graph_backend(nerve_model_graph(m)), backend);
    /* a shape of no dimensions: the data the cfg names (a text stream) */
    nerve_dataset ds;
    if (shape.ndim > 0)
        ds = synthetic(shape);
    else
        test_require_ok(nerve_model_load_data(m, &ds, NULL, NULL, &err), &err);
    nerve_train_options o = nerve_train_options_from(m);
    o.max_steps = steps;
    o.on_progress = record_step;
    o.user = out;
    o.checkpoint_path = checkpoint;
    o.checkpoint_every = checkpoint ? steps : 0;
    o.resume_path = resume;
    memset(out, 0, sizeof *out);
    test_require_ok(nerve_train(m, &ds, NULL, &o, &err), &err);
    nerve_dataset_free(&ds);
    nerve_model_free(m);
}

static void train_on(const char *cfg, const char *name, const char *backend,
                     nerve_shape shape, step_losses *out)
{
    train_steps(cfg, name, backend, shape, STEPS, NULL, NULL, out);
}

/* Every backend's losses against the reference's, step by step. */
static void check_model(const char *cfg, const char *name, nerve_shape shape)
{
    step_losses *reference = malloc(sizeof *reference), *other = malloc(sizeof *other);
    train_on(cfg, name, "ref", shape, reference);
    assert_true(reference->loss[STEPS] < reference->loss[1]); /* it learns */
    for (int b = 0; b < nerve_backend_count(); b++) {
        const char *backend = nerve_backend_name(b);
        if (strcmp(backend, "ref") == 0 || !chosen(backend)) continue;
        train_on(cfg, name, backend, shape, other);
        double worst = 0;
        for (int step = 1; step <= STEPS; step++) {
            double want = reference->loss[step], got = other->loss[step];
            double relative = fabs(got - want) / fmax(fabs(want), 1e-3);
            if (relative > worst) worst = relative;
            if (!(relative <= TOLERANCE))
                fail_msg("%s on %s, step %d: loss %.9g, ref %.9g (relative %.2g)", name,
                         backend, step, got, want, relative);
        }
        printf("%s: %d steps on %s, largest relative difference from ref %.2g\n", name, STEPS,
               backend, worst);
    }
    free(reference);
    free(other);
}

static void test_mlp_trains_alike_on_every_backend(void **state)
{
    check_model(mlp_cfg, "mlp", nerve_shape_1d(12));
}

static void test_lenet_trains_alike_on_every_backend(void **state)
{
    check_model(lenet_cfg, "lenet", (nerve_shape){3, {1, 12, 12}});
}

static void test_bn_cnn_with_dropout_and_augmentation_trains_alike(void **state)
{
    check_model(cnn_cfg, "cnn", (nerve_shape){3, {1, 8, 8}});
}

static void test_lstm_trains_alike_on_every_backend(void **state)
{
    check_model(lstm_cfg, "lstm", (nerve_shape){2, {6, 2}});
}

static void test_char_lstm_trains_alike_on_every_backend(void **state)
{
    check_model(char_lstm_cfg(), "char_lstm", (nerve_shape){0, {0}});
}

/* Steps HALF + 1 .. STEPS of a run resumed at HALF against the same steps
 * of the run that never stopped: the epoch's running mean, which the
 * checkpoint carries across. */
#define HALF 50
static void expect_same_continuation(const step_losses *resumed, const step_losses *whole,
                                     const char *what)
{
    for (int step = HALF + 1; step <= STEPS; step++) {
        double want = whole->mean[step], got = resumed->mean[step];
        if (!(fabs(got - want) <= TOLERANCE * fmax(fabs(want), 1e-3)))
            fail_msg("%s, step %d: loss %.9g, uninterrupted %.9g", what, step, got, want);
    }
    printf("%s: steps %d..%d as the uninterrupted run\n", what, HALF + 1, STEPS);
}

/* A checkpoint written on each backend resumes on cpu, and one written on
 * cpu resumes on it (the BN-CNN: weights, batch norm's running statistics,
 * momentum buffers and the noise's position all move). */
static void test_checkpoint_resumes_on_another_backend(void **state)
{
    nerve_shape shape = {3, {1, 8, 8}};
    step_losses *whole = malloc(sizeof *whole), *part = malloc(sizeof *part);
    char first[512], second[512];
    snprintf(first, sizeof first, "%s", test_tmppath("first.ckpt"));
    snprintf(second, sizeof second, "%s", test_tmppath("second.ckpt"));
    train_on(cnn_cfg, "cnn", "cpu", shape, whole);
    for (int b = 0; b < nerve_backend_count(); b++) {
        const char *backend = nerve_backend_name(b);
        if (strcmp(backend, "cpu") == 0 || !chosen(backend)) continue;
        char what[96];
        train_steps(cnn_cfg, "cnn", backend, shape, HALF, first, NULL, part);
        train_steps(cnn_cfg, "cnn", "cpu", shape, STEPS, NULL, first, part);
        snprintf(what, sizeof what, "written on %s, resumed on cpu", backend);
        expect_same_continuation(part, whole, what);
        train_steps(cnn_cfg, "cnn", "cpu", shape, HALF, second, NULL, part);
        train_steps(cnn_cfg, "cnn", backend, shape, STEPS, NULL, second, part);
        snprintf(what, sizeof what, "written on cpu, resumed on %s", backend);
        expect_same_continuation(part, whole, what);
    }
    free(whole);
    free(part);
}

int main(int argc, char **argv)
{
    only = argc > 1 ? argv[1] : NULL;
    if (only && !nerve_device_find(only)) {
        fprintf(stderr,
                "test_backend_models: no backend '%s' in this build (or its module cannot be "
                "loaded)\n",
                only);
        return only && strncmp(only, "cuda", 4) == 0 ? 77 : 1;
    }
    if (only && !nerve_device_usable(nerve_device_find(only))) {
        printf("SKIP: backend '%s' cannot run on this machine (no GPU)\n", only);
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mlp_trains_alike_on_every_backend),
        cmocka_unit_test(test_lenet_trains_alike_on_every_backend),
        cmocka_unit_test(test_bn_cnn_with_dropout_and_augmentation_trains_alike),
        cmocka_unit_test(test_lstm_trains_alike_on_every_backend),
        cmocka_unit_test(test_char_lstm_trains_alike_on_every_backend),
        cmocka_unit_test(test_checkpoint_resumes_on_another_backend),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
