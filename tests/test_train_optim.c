/* The trainer with the optim family: batch, mini-batch and stochastic gradient
 * descent (batch = full, n, 1) all learn; a per-step schedule sets every
 * step's rate and the metrics log shows it; reduce-on-plateau follows the
 * validation loss and needs a validation set; the gradient norm, global and
 * per parameter tensor, reaches the log and the epoch report; bad settings
 * stop training with a message; the optimizer is the run's, or the
 * caller's, whose state carries from one run to the next. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_internal.h"
#include "model/model_settings.h"
#include "test_support.h"

#define SAMPLES 100

static nerve_model *load_model(const char *sections)
{
    char text[1024];
    snprintf(text, sizeof text,
             "[net]\ninput = 2\nbatch = 10\nepochs = 5\nseed = 3\n%s"
             "[dense]\nunits = 8\nactivation = tanh\n[dense]\nunits = 2\n",
             sections);
    const char *path = test_tmppath("train.cfg");
    test_write_file(path, text, strlen(text));
    nerve_model *m;
    nerve_error err = {0};
    test_require_ok(nerve_model_load(path, NULL, &m, &err), &err);
    return m;
}

static nerve_dataset blobs(int count, uint64_t seed) { return test_blobs(count, seed, 0.5); }

static void count_steps(const nerve_progress *p, void *user) { ++*(int64_t *)user; }

/* Gradient descent is one optimizer whatever the batch: the whole set (batch
 * gradient descent, one step per epoch), n samples (mini-batch) or one
 * (stochastic). Each learns the blobs; evaluation and prediction run with
 * batch = full too. */
static void test_batch_minibatch_and_stochastic_gradient_descent_learn(void **state)
{
    static const struct {
        const char *sections;
        int epochs;
        int64_t steps_per_epoch;
    } variants[] = {
        {"[optimizer]\nlr = 0.5\nmomentum = 0.9\n", 40, 1},          /* batch = full */
        {"[optimizer]\nlr = 0.1\nmomentum = 0.9\n", 10, SAMPLES / 10}, /* batch = 10 */
        {"[optimizer]\nlr = 0.01\n", 5, SAMPLES},                      /* batch = 1 */
    };
    const int64_t batches[] = {0, 10, 1};
    nerve_dataset ds = blobs(SAMPLES, 11);
    nerve_error err = {0};
    for (int v = 0; v < 3; v++) {
        nerve_model *m = load_model(variants[v].sections);
        nerve_model_settings_mut(m)->batch = batches[v];
        int64_t steps = 0;
        nerve_train_options o = nerve_train_options_from(m);
        o.epochs = variants[v].epochs;
        o.on_progress = count_steps;
        o.user = &steps;
        test_require_ok(nerve_train(m, &ds, NULL, &o, &err), &err);
        assert_int_equal(steps, variants[v].epochs * variants[v].steps_per_epoch);
        nerve_evaluation e;
        test_require_ok(nerve_evaluate(m, &ds, 0, &e, &err), &err);
        if (e.accuracy < 0.95)
            fail_msg("batch %lld: accuracy %g", (long long)batches[v], e.accuracy);
        nerve_evaluation_free(&e);
        float probabilities[4];
        test_require_ok(nerve_predict(m, ds.inputs, 2, probabilities, &err), &err);
        assert_float_equal(probabilities[0] + probabilities[1], 1.0, 1e-5);
        nerve_model_free(m);
    }
    nerve_dataset_free(&ds);
}

/* The fields of line `row` (0: the header) of a CSV file, split in place. */
static int csv_row(const char *path, int row, char *line, size_t size, char **fields, int max)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    for (int i = 0; i <= row; i++) assert_non_null(fgets(line, (int)size, f));
    fclose(f);
    line[strcspn(line, "\n")] = 0;
    int n = 0;
    for (char *p = line; n < max; p++) {
        fields[n++] = p;
        p += strcspn(p, ",");
        if (!*p) break;
        *p = 0;
    }
    return n;
}

/* The fixed columns (comm_seconds and exposed_comm_seconds, empty in one
 * process, after elapsed; the four test_ and train_eval_ columns, empty
 * without --eval-test and --eval-train), then two per parameter tensor
 * (dense0.weight, dense0.bias, dense1.weight, dense1.bias): the gradient
 * norms, then the update ratios. */
enum {
    KIND, EPOCH, STEP, LR = 7, GRAD_NORM = 10, ELAPSED = 11, COMM = 12, TEST_LOSS = 14,
    TENSOR_NORMS = 18, UPDATE_RATIOS = 22, COLUMNS = 26
};

/* interval = step: the rate changes every step, and each step row of the
 * log shows the rate that step used; the epoch row shows its last step's. */
static void test_per_step_schedule_sets_and_logs_every_steps_rate(void **state)
{
    nerve_model *m = load_model("[optimizer]\nlr = 0.1\n"
                                "[schedule]\ntype = exponential\ngamma = 0.9\ninterval = step\n");
    nerve_dataset ds = blobs(SAMPLES, 11);
    nerve_error err = {0};
    nerve_train_options o = nerve_train_options_from(m);
    o.epochs = 2;
    o.log_path = test_tmppath("steps.csv");
    o.log_every = 1;
    test_require_ok(nerve_train(m, &ds, NULL, &o, &err), &err);
    char line[512], *fields[COLUMNS + 1];
    assert_int_equal(csv_row(o.log_path, 0, line, sizeof line, fields, COLUMNS + 1), COLUMNS);
    assert_string_equal(fields[LR], "lr");
    assert_string_equal(fields[GRAD_NORM], "grad_norm");
    assert_string_equal(fields[ELAPSED], "elapsed");
    assert_string_equal(fields[COMM], "comm_seconds");
    assert_string_equal(fields[TEST_LOSS], "test_loss");
    assert_string_equal(fields[TENSOR_NORMS], "grad_norm:dense0.weight");
    assert_string_equal(fields[UPDATE_RATIOS - 1], "grad_norm:dense1.bias");
    assert_string_equal(fields[UPDATE_RATIOS], "update_ratio:dense0.weight");
    assert_string_equal(fields[COLUMNS - 1], "update_ratio:dense1.bias");
    /* rows: 10 steps of epoch 1, its epoch row, 10 steps of epoch 2, its epoch row */
    double elapsed = 0;
    for (int row = 1, step = 0; row <= 22; row++) {
        assert_int_equal(csv_row(o.log_path, row, line, sizeof line, fields, COLUMNS + 1), COLUMNS);
        bool epoch_row = strcmp(fields[KIND], "epoch") == 0;
        if (!epoch_row) step++;
        assert_int_equal(atoi(fields[STEP]), step);
        assert_float_equal(strtod(fields[LR], NULL), 0.1 * pow(0.9, step - 1), 1e-7);
        assert_true(strtod(fields[GRAD_NORM], NULL) > 0);
        /* every row has the seconds since training began, never decreasing */
        assert_true(fields[ELAPSED][0] != '\0' && strtod(fields[ELAPSED], NULL) >= elapsed);
        elapsed = strtod(fields[ELAPSED], NULL);
        assert_string_equal(fields[COMM], ""); /* no ranks */
        assert_true(epoch_row == (row == 11 || row == 22));
        /* Without L1 or clipping, a step's global norm is the tensors' norms combined. */
        double squares = 0;
        for (int k = TENSOR_NORMS; k < UPDATE_RATIOS; k++)
            squares += pow(strtod(fields[k], NULL), 2);
        if (!epoch_row)
            assert_float_equal(sqrt(squares), strtod(fields[GRAD_NORM], NULL),
                               1e-4 * strtod(fields[GRAD_NORM], NULL));
    }
    nerve_dataset_free(&ds);
    nerve_model_free(m);
}

/* update_ratio:NAME is ||W_after - W_before|| / ||W_before|| of the step:
 * one plain SGD step, its weights read before and after, gives the same
 * figure; a tensor at zero (a bias zeroed here) has an empty field. */
static void test_update_ratio_is_the_steps_relative_change(void **state)
{
    nerve_model *m = load_model("[optimizer]\nlr = 0.3\n");
    nerve_dataset ds = blobs(SAMPLES, 11);
    nerve_error err = {0};
    nerve_graph *g = nerve_model_graph(m);
    nerve_node weight = nerve_graph_find(g, "dense0.weight");
    assert_true(weight >= 0);
    nerve_shape shape = nerve_node_shape(g, weight);
    int64_t size = nerve_shape_numel(&shape);
    nerve_real *before = test_read_value(g, weight);
    nerve_node bias = nerve_graph_find(g, "dense0.bias");
    const nerve_real zeros[8] = {0};
    test_require_ok(nerve_node_write(g, bias, zeros, 8, &err), &err);
    nerve_train_options o = nerve_train_options_from(m);
    o.max_steps = 1;
    o.log_path = test_tmppath("ratio.csv");
    o.log_every = 1;
    test_require_ok(nerve_train(m, &ds, NULL, &o, &err), &err);
    nerve_real *after = test_read_value(g, weight);
    double moved = 0, norm = 0;
    for (int64_t i = 0; i < size; i++) {
        double d = (double)after[i] - before[i];
        moved += d * d;
        norm += (double)before[i] * before[i];
    }
    free(after);
    char line[512], *fields[COLUMNS + 1];
    assert_int_equal(csv_row(o.log_path, 1, line, sizeof line, fields, COLUMNS + 1), COLUMNS);
    assert_string_equal(fields[KIND], "step");
    double logged = strtod(fields[UPDATE_RATIOS], NULL);
    assert_true(logged > 1e-4);
    assert_float_equal(logged, sqrt(moved / norm), 1e-4 * logged);
    assert_string_equal(fields[UPDATE_RATIOS + 1], ""); /* dense0.bias was zero */
    assert_true(strtod(fields[UPDATE_RATIOS + 2], NULL) > 0); /* dense1.weight */
    free(before);
    nerve_dataset_free(&ds);
    nerve_model_free(m);
}

static void record_epoch(const nerve_epoch_report *r, void *user)
{
    ((nerve_epoch_report *)user)[r->epoch - 1] = *r;
}

/* The epoch report's grad_norm is the mean of its steps' norms, as logged. */
static void test_grad_norm_reaches_the_epoch_report_and_the_log(void **state)
{
    nerve_model *m = load_model("[optimizer]\nlr = 0.1\nclip_norm = 0.01\n");
    nerve_dataset ds = blobs(SAMPLES, 11);
    nerve_error err = {0};
    nerve_epoch_report reports[5];
    nerve_train_options o = nerve_train_options_from(m);
    o.log_path = test_tmppath("norms.csv");
    o.log_every = 1;
    o.on_epoch = record_epoch;
    o.user = reports;
    test_require_ok(nerve_train(m, &ds, NULL, &o, &err), &err);
    char line[512], *fields[COLUMNS + 1];
    double sum = 0;
    for (int row = 1; row <= 10; row++) {
        csv_row(o.log_path, row, line, sizeof line, fields, COLUMNS + 1);
        double norm = strtod(fields[GRAD_NORM], NULL);
        assert_true(norm > 0.01); /* before clipping */
        sum += norm;
    }
    assert_float_equal(reports[0].grad_norm, sum / 10, 1e-5 * sum);
    csv_row(o.log_path, 11, line, sizeof line, fields, COLUMNS + 1);
    assert_string_equal(fields[KIND], "epoch");
    assert_float_equal(strtod(fields[GRAD_NORM], NULL), reports[0].grad_norm,
                       1e-5 * reports[0].grad_norm);
    nerve_dataset_free(&ds);
    nerve_model_free(m);
}

/* threshold = 0.99 makes every epoch after the first "no better" than the
 * best, so with patience 0 each one halves the rate. */
static void test_plateau_lowers_the_rate_when_the_validation_loss_stalls(void **state)
{
    nerve_model *m = load_model("[optimizer]\nlr = 0.1\n[schedule]\ntype = plateau\nfactor = 0.5\n"
                                "patience = 0\nthreshold = 0.99\nmin_lr = 0.01\n");
    nerve_dataset train = blobs(SAMPLES, 11), val = blobs(20, 12);
    nerve_error err = {0};
    nerve_epoch_report reports[5];
    nerve_train_options o = nerve_train_options_from(m);
    o.on_epoch = record_epoch;
    o.user = reports;
    test_require_ok(nerve_train(m, &train, &val, &o, &err), &err);
    const double expected[5] = {0.1, 0.1, 0.05, 0.025, 0.0125};
    for (int i = 0; i < 5; i++) {
        assert_float_equal(reports[i].lr, expected[i], 1e-12);
        assert_false(isnan(reports[i].val_loss));
    }
    nerve_dataset_free(&train);
    nerve_dataset_free(&val);
    nerve_model_free(m);
}

static void test_plateau_without_a_validation_set_is_an_error(void **state)
{
    nerve_model *m = load_model("[schedule]\ntype = plateau\n");
    nerve_dataset ds = blobs(SAMPLES, 11);
    nerve_error err = {0};
    nerve_train_options o = nerve_train_options_from(m);
    assert_int_equal(nerve_train(m, &ds, NULL, &o, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "plateau");
    test_assert_message_contains(&err, "[data] validation");
    nerve_dataset empty = {.count = 0};
    assert_int_equal(nerve_train(m, &ds, &empty, &o, &err), NERVE_ERR_INVALID);
    nerve_dataset_free(&ds);
    nerve_model_free(m);
}

/* Settings changed in code after loading are checked when training starts. */
static void test_bad_settings_stop_training_with_a_message(void **state)
{
    nerve_model *m = load_model("[optimizer]\ntype = adam\n");
    nerve_dataset ds = blobs(SAMPLES, 11);
    nerve_error err = {0};
    nerve_train_options o = nerve_train_options_from(m);
    nerve_model_settings_mut(m)->optimizer.beta2 = 1.5;
    assert_int_equal(nerve_train(m, &ds, NULL, &o, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "[optimizer] adam: beta2: 1.5 is out of range [0, 1)");
    nerve_model_settings_mut(m)->optimizer.beta2 = 0.999;
    nerve_model_settings_mut(m)->schedule = nerve_schedule_defaults(NERVE_SCHEDULE_COSINE);
    assert_int_equal(nerve_train(m, &ds, NULL, &o, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "[schedule] T_max: 0 is out of range [1, 1e+12]");
    o.batch = -1;
    assert_int_equal(nerve_train(m, &ds, NULL, &o, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "or 0 for the whole training set");
    nerve_dataset_free(&ds);
    nerve_model_free(m);
}

/* The weights after training m (a fresh load of sections) for `runs` calls
 * of nerve_train of `epochs` each, whole-set batches (the same step every
 * time but for the optimizer's state); with `shared`, every call trains with
 * one optimizer of the caller's. */
static void train_in_runs(const char *sections, int runs, int epochs, bool shared, float *out,
                          int64_t *count)
{
    nerve_model *m = load_model(sections);
    nerve_dataset ds = blobs(SAMPLES, 11);
    nerve_error err = {0};
    nerve_optimizer *opt = shared ? nerve_model_optimizer_new(m, &err) : NULL;
    if (shared) test_require_ok(opt ? NERVE_OK : err.status, &err);
    nerve_train_options o = nerve_train_options_from(m);
    o.batch = 0;
    o.no_shuffle = true; /* the whole set in one order: the same sums every step */
    o.epochs = epochs;
    o.optimizer = opt;
    for (int r = 0; r < runs; r++) test_require_ok(nerve_train(m, &ds, NULL, &o, &err), &err);
    nerve_graph *g = nerve_model_graph(m);
    *count = (int64_t)nerve_graph_param_count(g);
    /* the flat parameter buffer is device memory: copied through the device */
    assert_int_equal(nerve_graph_download(g, out, nerve_graph_params(g), *count), NERVE_OK);
    nerve_optimizer_free(opt);
    nerve_dataset_free(&ds);
    nerve_model_free(m);
}

/* The optimizer belongs to the run: each nerve_train starts Adam's moments
 * afresh, unless the caller hands it an optimizer of its own, whose state
 * then carries from run to run: two runs of 2 epochs with one shared
 * optimizer are bit for bit one run of 4. */
static void test_the_optimizer_belongs_to_the_run_or_the_caller(void **state)
{
    const char *adam = "[optimizer]\ntype = adam\nlr = 0.05\n";
    float whole[256], shared[256], fresh[256];
    int64_t n = 0, n2 = 0, n3 = 0;
    train_in_runs(adam, 1, 4, false, whole, &n);
    train_in_runs(adam, 2, 2, true, shared, &n2);
    train_in_runs(adam, 2, 2, false, fresh, &n3);
    assert_true(n > 0 && n <= 256 && n == n2 && n == n3);
    assert_memory_equal(whole, shared, (size_t)n * sizeof *whole);
    assert_memory_not_equal(whole, fresh, (size_t)n * sizeof *whole);
}

/* An optimizer over another model's graph is refused, naming the remedy. */
static void test_an_optimizer_of_another_graph_is_refused(void **state)
{
    nerve_model *m = load_model(""), *other = load_model("");
    nerve_dataset ds = blobs(SAMPLES, 11);
    nerve_error err = {0};
    nerve_optimizer *opt = nerve_model_optimizer_new(other, &err);
    assert_non_null(opt);
    nerve_train_options o = nerve_train_options_from(m);
    o.optimizer = opt;
    assert_int_equal(nerve_train(m, &ds, NULL, &o, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "nerve_model_optimizer_new");
    nerve_optimizer_free(opt);
    nerve_dataset_free(&ds);
    nerve_model_free(other);
    nerve_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_minibatch_and_stochastic_gradient_descent_learn),
        cmocka_unit_test(test_per_step_schedule_sets_and_logs_every_steps_rate),
        cmocka_unit_test(test_grad_norm_reaches_the_epoch_report_and_the_log),
        cmocka_unit_test(test_update_ratio_is_the_steps_relative_change),
        cmocka_unit_test(test_plateau_lowers_the_rate_when_the_validation_loss_stalls),
        cmocka_unit_test(test_plateau_without_a_validation_set_is_an_error),
        cmocka_unit_test(test_bad_settings_stop_training_with_a_message),
        cmocka_unit_test(test_the_optimizer_belongs_to_the_run_or_the_caller),
        cmocka_unit_test(test_an_optimizer_of_another_graph_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
