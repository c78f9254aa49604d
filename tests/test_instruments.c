/* The training and evaluation instruments: the probe's activation
 * statistics agree with the layers' outputs computed apart; a target error
 * is reported once, logged and (on request) stops training; the expected
 * calibration error is the binned gap between confidence and accuracy of
 * the predicted probabilities; Monte-Carlo dropout averages passes with
 * dropout on, independently of the batch. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"
#include "train/batching.h"

#define SAMPLES 100

static nerve_model *load_model(const char *layers, const char *extra)
{
    char text[1024];
    snprintf(text, sizeof text, "[net]\ninput = 2\nbatch = 20\nepochs = 2\nseed = 3\n%s%s", extra,
             layers);
    const char *path = test_tmppath("instruments.cfg");
    test_write_file(path, text, strlen(text));
    nerve_model *m;
    nerve_error err = {0};
    test_require_ok(nerve_model_load(path, NULL, &m, &err), &err);
    return m;
}

static const char *const mlp =
    "[dense]\nname = h1\nunits = 8\nactivation = tanh\n"
    "[dense]\nname = h2\nunits = 8\nactivation = relu\n"
    "[dense]\nname = out\nunits = 2\n";

static nerve_dataset blobs(int count, uint64_t seed) { return test_blobs(count, seed, 0.8); }

/* A CSV read whole: the header's fields and every row's, split in place. */
typedef struct table {
    char *text;
    char **cells; /* rows x columns, row 0 the header */
    int rows, columns;
} table;

static table read_table(const char *path)
{
    table t = {0};
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    t.text = malloc((size_t)size + 1);
    assert_int_equal(fread(t.text, 1, (size_t)size, f), (size_t)size);
    t.text[size] = 0;
    fclose(f);
    for (long i = 0; i < size; i++) t.rows += t.text[i] == '\n';
    t.columns = 1;
    for (char *p = t.text; *p != '\n'; p++) t.columns += *p == ',';
    t.cells = calloc((size_t)(t.rows * t.columns), sizeof *t.cells);
    char *p = t.text;
    for (int r = 0; r < t.rows; r++) {
        for (int c = 0; c < t.columns; c++) {
            t.cells[r * t.columns + c] = p;
            p += strcspn(p, ",\n");
            assert_true(c == t.columns - 1 ? *p == '\n' : *p == ',');
            *p++ = 0;
        }
    }
    return t;
}

static int column(const table *t, const char *name)
{
    for (int c = 0; c < t->columns; c++)
        if (strcmp(t->cells[c], name) == 0) return c;
    fail_msg("no column %s", name);
    return -1;
}

static double cell(const table *t, int row, const char *name)
{
    const char *text = t->cells[row * t->columns + column(t, name)];
    return text[0] ? strtod(text, NULL) : NAN;
}

static void free_table(table *t)
{
    free(t->text);
    free(t->cells);
}

static int compare_floats(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The probe's last row (after the last epoch) against h1's and h2's outputs
 * on the first probe_size training samples, computed by nerve_model_run
 * with the trained weights; rows before training, every probe_every steps
 * and at every epoch's end; each histogram sums to 1. */
static void test_probe_statistics_match_the_layers_outputs(void **state)
{
    nerve_model *m = load_model(mlp, "[optimizer]\nlr = 0.1\n");
    nerve_dataset ds = blobs(SAMPLES, 11);
    nerve_error err = {0};
    nerve_train_options o = nerve_train_options_from(m);
    o.probe_path = test_tmppath("probe.csv");
    o.probe_every = 3;
    o.probe_size = 16;
    test_require_ok(nerve_train(m, &ds, NULL, &o, &err), &err);
    table t = read_table(o.probe_path);
    /* 5 steps per epoch: steps 0, 3, 5 (epoch end), 6, 9, 10 (epoch end). */
    static const int steps[] = {0, 3, 5, 6, 9, 10};
    assert_int_equal(t.rows, 7);
    for (int r = 1; r < t.rows; r++) assert_int_equal((int)cell(&t, r, "step"), steps[r - 1]);
    const char *layers[] = {"h1", "h2"};
    float y[16 * 8], sorted[16 * 8];
    for (int l = 0; l < 2; l++) {
        nerve_node node = -1;
        for (int i = 0; i < nerve_model_layer_count(m); i++)
            if (strcmp(nerve_model_layer_name(m, i), layers[l]) == 0)
                node = nerve_model_layer_node(m, i);
        test_require_ok(nerve_model_run(m, node, ds.inputs, 16, y, &err), &err);
        double sum = 0, squares = 0, zeros = 0, saturated = 0, dead = 0;
        for (int i = 0; i < 16 * 8; i++) {
            sum += y[i];
            zeros += y[i] == 0;
            saturated += fabs(y[i]) >= 0.99;
        }
        double mean = sum / 128;
        for (int i = 0; i < 128; i++) squares += (y[i] - mean) * (y[i] - mean);
        for (int u = 0; u < 8; u++) {
            bool active = false;
            for (int i = 0; i < 16; i++) active = active || y[i * 8 + u] != 0;
            dead += !active;
        }
        memcpy(sorted, y, sizeof sorted);
        qsort(sorted, 128, sizeof *sorted, compare_floats);
        char name[64];
        int last = t.rows - 1;
#define STAT(what) (snprintf(name, sizeof name, "%s:%s", what, layers[l]), cell(&t, last, name))
        assert_float_equal(STAT("mean"), mean, 1e-4);
        assert_float_equal(STAT("std"), sqrt(squares / 128), 1e-4);
        assert_float_equal(STAT("p50"), sorted[63], 1e-5); /* nearest rank: ceil(0.5 * 128) */
        assert_float_equal(STAT("p15"), sorted[19], 1e-5); /* ceil(0.15 * 128) = 20 */
        assert_float_equal(STAT("zero"), zeros / 128, 1e-9);
        assert_float_equal(STAT("dead"), dead / 8, 1e-9);
        if (l == 0)
            assert_float_equal(STAT("saturated"), saturated / 128, 1e-9);
        else
            assert_true(isnan(STAT("saturated"))); /* relu has no asymptote */
        double mass = 0;
        for (int c = 0; c < t.columns; c++) {
            snprintf(name, sizeof name, "hist:%s:", layers[l]);
            if (strncmp(t.cells[c], name, strlen(name)) == 0)
                mass += strtod(t.cells[last * t.columns + c], NULL);
        }
        assert_float_equal(mass, 1, 1e-4);
#undef STAT
    }
    /* tanh's histogram spans its range: the first bin's centre is -1 + 1/20. */
    assert_true(column(&t, "hist:h1:-0.95") > 0);
    free_table(&t);
    nerve_dataset_free(&ds);
    nerve_model_free(m);
}

static void keep_message(const char *message, void *user) { strcpy(user, message); }

/* The first epoch at or below the target: one `target` row in the log, one
 * message, and with target_stop the run's last epoch. */
static void test_target_error_is_reported_once_and_can_stop(void **state)
{
    nerve_dataset ds = blobs(SAMPLES, 11);
    nerve_error err = {0};
    for (int stop = 0; stop < 2; stop++) {
        nerve_model *m = load_model(mlp, "[optimizer]\nlr = 0.5\nmomentum = 0.9\n");
        nerve_train_options o = nerve_train_options_from(m);
        char message[256] = "";
        o.epochs = 6;
        o.target_error = 0.2;
        o.target_stop = stop;
        o.on_warning = keep_message;
        o.user = message;
        o.log_path = test_tmppath("target.csv");
        test_require_ok(nerve_train(m, &ds, NULL, &o, &err), &err);
        table t = read_table(o.log_path);
        int targets = 0, target_epoch = 0, epochs = 0, first_epoch = 0;
        for (int r = 1; r < t.rows; r++) {
            const char *kind = t.cells[r * t.columns];
            if (strcmp(kind, "target") == 0) {
                targets++;
                target_epoch = (int)cell(&t, r, "epoch");
                assert_true(1 - cell(&t, r, "train_accuracy") <= 0.2);
            } else if (strcmp(kind, "epoch") == 0) {
                epochs++;
                if (!first_epoch && 1 - cell(&t, r, "train_accuracy") <= 0.2)
                    first_epoch = (int)cell(&t, r, "epoch");
            }
        }
        assert_int_equal(targets, 1);
        assert_true(first_epoch > 0);
        assert_int_equal(target_epoch, first_epoch);
        assert_int_equal(epochs, stop ? first_epoch : 6);
        assert_non_null(strstr(message, "target training error 0.2 reached at epoch"));
        free_table(&t);
        nerve_model_free(m);
    }
    nerve_model *m = load_model(mlp, "");
    nerve_train_options o = nerve_train_options_from(m);
    o.target_error = 1.5;
    assert_int_equal(nerve_train(m, &ds, NULL, &o, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "between 0 and 1");
    o.target_error = 0.1;
    o.target_on_val = true;
    assert_int_equal(nerve_train(m, &ds, NULL, &o, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "validation set");
    nerve_model_free(m);
    nerve_dataset_free(&ds);
}

/* ECE recomputed from nerve_predict's probabilities: 15 bins ((k-1)/15,
 * k/15] of the top probability, sum of |accuracy - confidence| x share. */
static void test_expected_calibration_error_from_the_probabilities(void **state)
{
    nerve_model *m = load_model(mlp, "[optimizer]\nlr = 0.1\n");
    nerve_dataset ds = blobs(SAMPLES, 11);
    nerve_error err = {0};
    nerve_train_options o = nerve_train_options_from(m);
    test_require_ok(nerve_train(m, &ds, NULL, &o, &err), &err);
    float p[SAMPLES * 2];
    test_require_ok(nerve_predict(m, ds.inputs, SAMPLES, p, &err), &err);
    double count[15] = {0}, confidence[15] = {0}, correct[15] = {0};
    for (int i = 0; i < SAMPLES; i++) {
        int best = p[2 * i + 1] > p[2 * i];
        double c = p[2 * i + best];
        int b = (int)ceil(c * 15) - 1;
        count[b]++;
        confidence[b] += c;
        correct[b] += best == (int)ds.targets[i];
    }
    double ece = 0;
    for (int b = 0; b < 15; b++)
        if (count[b]) ece += count[b] / SAMPLES * fabs(correct[b] / count[b] - confidence[b] / count[b]);
    nerve_evaluation e;
    test_require_ok(nerve_evaluate(m, &ds, 0, &e, &err), &err);
    assert_true(ece > 0);
    assert_float_equal(e.ece, ece, 1e-5);
    int64_t labels = 0;
    for (int b = 0; b < 15; b++) {
        labels += e.bin_count[b];
        assert_int_equal(e.bin_count[b], (int64_t)count[b]);
        if (count[b]) assert_float_equal(e.bin_accuracy[b], correct[b] / count[b], 1e-9);
        else assert_true(isnan(e.bin_confidence[b]));
    }
    assert_int_equal(labels, SAMPLES);
    nerve_evaluation_free(&e);
    nerve_dataset_free(&ds);
    nerve_model_free(m);
}

/* Monte-Carlo dropout differs from the weight-scaled evaluation, is the
 * same whatever the batch (a sample's masks follow its index), leaves plain
 * evaluation as it was, and needs a dropout layer. */
static void test_mc_dropout_averages_passes_with_dropout_on(void **state)
{
    nerve_model *m = load_model("[dense]\nname = h1\nunits = 32\nactivation = relu\n"
                                "[dropout]\np = 0.5\n[dense]\nname = out\nunits = 2\n",
                                "[optimizer]\nlr = 0.1\n");
    nerve_dataset ds = blobs(SAMPLES, 11);
    nerve_error err = {0};
    nerve_train_options o = nerve_train_options_from(m);
    test_require_ok(nerve_train(m, &ds, NULL, &o, &err), &err);
    nerve_evaluation plain, again, mc, mc_batch, single;
    test_require_ok(nerve_evaluate(m, &ds, 0, &plain, &err), &err);
    test_require_ok(nerve_evaluate_mc_dropout(m, &ds, 0, 8, &mc, &err), &err);
    test_require_ok(nerve_evaluate_mc_dropout(m, &ds, 7, 8, &mc_batch, &err), &err);
    test_require_ok(nerve_evaluate_mc_dropout(m, &ds, 0, 1, &single, &err), &err);
    test_require_ok(nerve_evaluate(m, &ds, 0, &again, &err), &err);
    assert_true(fabs(mc.loss - plain.loss) > 1e-4);
    assert_true(fabs(single.loss - mc.loss) > 1e-4);
    assert_float_equal(mc.loss, mc_batch.loss, 1e-5);
    assert_float_equal(mc.ece, mc_batch.ece, 1e-5);
    assert_float_equal(again.loss, plain.loss, 1e-9);
    assert_int_equal(mc.count, SAMPLES);
    nerve_evaluation_free(&plain);
    nerve_evaluation_free(&again);
    nerve_evaluation_free(&mc);
    nerve_evaluation_free(&mc_batch);
    nerve_evaluation_free(&single);
    nerve_model_free(m);
    m = load_model(mlp, "");
    assert_int_equal(nerve_evaluate_mc_dropout(m, &ds, 0, 4, &mc, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "dropout layer");
    nerve_model_free(m);
    nerve_dataset_free(&ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe_statistics_match_the_layers_outputs),
        cmocka_unit_test(test_target_error_is_reported_once_and_can_stop),
        cmocka_unit_test(test_expected_calibration_error_from_the_probabilities),
        cmocka_unit_test(test_mc_dropout_averages_passes_with_dropout_on),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
