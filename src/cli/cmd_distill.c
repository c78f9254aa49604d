/* nerve distill: knowledge distillation (Hinton, Vinyals and Dean 2015). A
 * trained teacher's logits for the student's training set are computed once,
 * up front, in eval mode: the teacher is fixed and [augment] is refused, so
 * every epoch would compute the same logits again, and they are small
 * (60000 x 10 floats is 2.4 MB). The student then trains on
 * alpha * T^2 KL(softmax(teacher / T) || softmax(student / T))
 *   + (1 - alpha) * cross-entropy(student, labels)
 * (nerve_distillation_with_labels), each batch taking its rows of the
 * teacher's logits through nerve_train's on_batch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/progress.h"

static const cli_command distill_command = {
    "distill", "--student S.cfg",
    "Trains the student network S.cfg on the soft targets of a trained teacher mixed with the "
    "hard labels.",
    "--teacher T.cfg:W names the teacher's config and its trained weights. Teacher and\n"
    "student must take the same input and have the same classes; the student trains on\n"
    "its own [data], [net] and [optimizer] with the loss\n"
    "  alpha * T^2 KL(softmax(teacher/T) || softmax(student/T)) + (1 - alpha) * CE(student, y).\n"
    "--alpha 0 trains the student alone (the baseline). Then it prints the teacher's and\n"
    "the student's test accuracy and how often the student predicts the teacher's class.\n"
    "--epochs, --batch, --seed and --lr are the student's net.epochs=N, net.batch=N,\n"
    "net.seed=N and optimizer.lr=X, as in nerve train."};

/* What the training callbacks share. progress comes first: the progress
 * callbacks read the user pointer as a cli_progress. */
typedef struct distill_run {
    cli_progress progress;
    nerve_graph *student;
    nerve_node teacher_input; /* the student graph's input of the teacher's logits */
    const float *logits;      /* the teacher's, one row of classes per training sample */
    int64_t classes;
    nerve_real *rows; /* a batch of them, on the host */
} distill_run;

/* The batch's rows of the teacher's logits, written into the student's
 * input (through the device: nerve_node_write). */
static void feed_teacher_logits(const int64_t *index, int64_t n, void *user)
{
    distill_run *run = user;
    for (int64_t i = 0; i < n; i++)
        for (int64_t c = 0; c < run->classes; c++)
            run->rows[i * run->classes + c] = (nerve_real)run->logits[index[i] * run->classes + c];
    (void)nerve_node_write(run->student, run->teacher_input, run->rows, n * run->classes, NULL);
}

/* m's logits (eval mode) for ds's samples, each input value x read as
 * x * gain + offset: the student's normalisation turned into the teacher's. */
static nerve_status model_logits(nerve_model *m, const nerve_dataset *ds, double gain,
                                 double offset, float *out, nerve_error *err)
{
    nerve_graph *g = nerve_model_graph(m);
    int64_t batch = nerve_model_settings_of(m)->batch;
    batch = batch > 0 && batch < ds->count ? batch : ds->count;
    nerve_status st = nerve_graph_plan_inference(g, batch, err);
    if (st != NERVE_OK) return st;
    int64_t features = ds->sample_size, classes = nerve_model_output_size(m);
    bool was_training = nerve_graph_training(g);
    nerve_graph_set_training(g, false);
    /* a batch of inputs and of logits on the host, through the device */
    nerve_real *x = malloc((size_t)(batch * (features > classes ? features : classes)) *
                           sizeof *x);
    int64_t *rows = malloc((size_t)batch * sizeof *rows);
    if (!x || !rows) {
        free(x);
        free(rows);
        return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory for the teacher's logits");
    }
    for (int64_t start = 0; st == NERVE_OK && start < ds->count; start += batch) {
        int64_t n = ds->count - start < batch ? ds->count - start : batch;
        /* gather converts stored IDX pixels (ds->inputs is NULL then) */
        for (int64_t i = 0; i < n; i++) rows[i] = start + i;
        nerve_dataset_gather(ds, rows, n, x, NULL);
        for (int64_t i = 0; i < n * features; i++) x[i] = (nerve_real)(x[i] * gain + offset);
        st = nerve_graph_set_batch(g, n, err);
        if (st == NERVE_OK) st = nerve_node_write(g, nerve_model_input(m), x, n * features, err);
        if (st == NERVE_OK) st = nerve_graph_forward(g, nerve_model_output(m), err);
        if (st == NERVE_OK) st = nerve_node_read(g, nerve_model_output(m), x, n * classes, err);
        for (int64_t i = 0; st == NERVE_OK && i < n * classes; i++)
            out[start * classes + i] = (float)x[i];
    }
    free(x);
    free(rows);
    nerve_graph_set_training(g, was_training);
    return st;
}

static int64_t argmax(const float *row, int64_t cols)
{
    int64_t best = 0;
    for (int64_t c = 1; c < cols; c++)
        if (row[c] > row[best]) best = c;
    return best;
}

/* One line for a mismatch between teacher and student, naming both. */
static int mismatch(const char *teacher_cfg, const char *student_cfg, const char *what,
                    const char *teacher_value, const char *student_value)
{
    fprintf(stderr, "nerve: %s and %s differ in %s: %s and %s\n", teacher_cfg, student_cfg, what,
            teacher_value, student_value);
    return CLI_EXIT_INPUT;
}

/* Teacher and student must read the same samples and name the same classes;
 * both must be plain classifiers (logits [N, C]). */
static int check_pair(nerve_model *teacher, const char *teacher_cfg, nerve_model *student,
                      const char *student_cfg)
{
    const nerve_model *models[2] = {teacher, student};
    const char *paths[2] = {teacher_cfg, student_cfg};
    for (int k = 0; k < 2; k++) {
        const nerve_model *m = models[k];
        if (nerve_model_classes(m) < 2 || nerve_model_label_steps(m) != 1 ||
            nerve_model_output_size(m) != nerve_model_classes(m)) {
            fprintf(stderr, "nerve: %s: distill needs a classifier with one logit per class "
                            "([loss] softmax_cross_entropy, nll, focal or large_margin_softmax)\n",
                    paths[k]);
            return CLI_EXIT_INPUT;
        }
    }
    char a[64], b[64];
    nerve_shape ti = nerve_model_settings_of(teacher)->input;
    nerve_shape si = nerve_model_settings_of(student)->input;
    if (nerve_shape_numel(&ti) != nerve_shape_numel(&si))
        return mismatch(teacher_cfg, student_cfg, "[net] input", nerve_shape_format(&ti, a, sizeof a),
                        nerve_shape_format(&si, b, sizeof b));
    if (nerve_model_classes(teacher) != nerve_model_classes(student)) {
        snprintf(a, sizeof a, "%d", nerve_model_classes(teacher));
        snprintf(b, sizeof b, "%d", nerve_model_classes(student));
        return mismatch(teacher_cfg, student_cfg, "classes", a, b);
    }
    if (nerve_augment_enabled(&nerve_model_settings_of(student)->augment)) {
        fprintf(stderr, "nerve: %s: distill does not take [augment]: the teacher's logits are "
                        "computed once, for the images as they are\n", student_cfg);
        return CLI_EXIT_INPUT;
    }
    return CLI_EXIT_OK;
}

/* The teacher's and the student's test accuracy and how often they agree. */
static int report_agreement(nerve_model *teacher, nerve_model *student, const nerve_dataset *test,
                            double gain, double offset)
{
    int64_t classes = nerve_model_classes(student);
    float *t = malloc((size_t)(test->count * classes) * sizeof *t);
    float *s = malloc((size_t)(test->count * classes) * sizeof *s);
    nerve_error err = {0};
    nerve_status st = t && s ? NERVE_OK : nerve_error_set(&err, NERVE_ERR_NOMEM, "out of memory");
    if (st == NERVE_OK) st = model_logits(teacher, test, gain, offset, t, &err);
    if (st == NERVE_OK) st = model_logits(student, test, 1, 0, s, &err);
    if (st == NERVE_OK) {
        int64_t teacher_correct = 0, agree = 0;
        for (int64_t i = 0; i < test->count; i++) {
            int64_t tc = argmax(t + i * classes, classes), sc = argmax(s + i * classes, classes);
            teacher_correct += tc == (int64_t)test->targets[i];
            agree += tc == sc;
        }
        printf("teacher test accuracy %.4f; the student agrees with the teacher on %.4f of the "
               "test set\n",
               (double)teacher_correct / (double)test->count, (double)agree / (double)test->count);
    }
    free(t);
    free(s);
    return st ? cli_fail(&err, cli_exit_code(st)) : CLI_EXIT_OK;
}

typedef struct distill_settings {
    double temperature, alpha;
    const char *save_path;
    nerve_train_options train;
} distill_settings;

/* Adds the teacher's input and the mixed loss to the student's graph, trains
 * it on the teacher's logits for its training set, saves it and reports. */
static int distill(nerve_model *teacher, nerve_model *student, const char *student_cfg,
                   distill_settings *s)
{
    nerve_dataset train = {0}, val = {0}, test = {0};
    nerve_error err = {0};
    nerve_status st = nerve_model_load_data(student, &train, &val,
                                            nerve_model_has_test_data(student) ? &test : NULL, &err);
    /* The teacher's logits are computed from the inputs as floats. */
    if (st == NERVE_OK) st = nerve_dataset_to_float(&train, &err);
    if (st) return cli_fail(&err, cli_exit_code(st));
    double tg, to, sg, so;
    nerve_model_input_transform(teacher, &tg, &to);
    nerve_model_input_transform(student, &sg, &so);
    double gain = tg / sg, offset = to - so * tg / sg;

    int64_t classes = nerve_model_classes(student);
    nerve_graph *g = nerve_model_graph(student);
    distill_run run = {.student = g, .classes = classes};
    float *logits = malloc((size_t)(train.count * classes) * sizeof *logits);
    run.rows = malloc((size_t)(train.count * classes) * sizeof *run.rows);
    if (!logits || !run.rows) st = nerve_error_set(&err, NERVE_ERR_NOMEM, "out of memory for the teacher's logits");
    if (st == NERVE_OK) st = model_logits(teacher, &train, gain, offset, logits, &err);
    nerve_loss_options o = nerve_loss_options_default();
    o.temperature = s->temperature;
    o.soft_weight = s->alpha;
    nerve_node loss = -1;
    if (st == NERVE_OK) {
        run.logits = logits;
        run.teacher_input = nerve_input(g, "teacher_logits", nerve_shape_1d(classes), &err);
        if (run.teacher_input >= 0)
            loss = nerve_distillation_with_labels(g, nerve_model_output(student), run.teacher_input,
                                                  nerve_model_target(student), &o, &err);
        if (loss < 0) st = NERVE_ERR_INVALID;
    }
    int code = cli_dist_agree(st ? cli_fail(&err, cli_exit_code(st)) : CLI_EXIT_OK);
    if (!code) {
        char parameters[96];
        cli_format_parameters(g, parameters, sizeof parameters);
        printf("%s: %s; %lld train, %lld validation, %lld test samples; T = %g, alpha = %g\n",
               student_cfg, parameters, (long long)train.count,
               (long long)val.count, (long long)test.count, s->temperature, s->alpha);
        fflush(stdout);
        cli_progress_init(&run.progress, s->train.epochs, s->train.max_steps, true);
        s->train.on_progress = cli_progress_on_step;
        s->train.on_epoch = cli_progress_on_epoch;
        s->train.on_batch = feed_teacher_logits;
        s->train.user = &run;
        s->train.loss = loss;
        st = nerve_train(student, &train, val.count ? &val : NULL, &s->train, &err);
        cli_progress_clear(&run.progress);
        if (st) code = cli_fail(&err, cli_train_exit_code(st));
    }
    if (!code && s->save_path) code = cli_dist_agree(cli_save_weights(student, s->save_path));
    if (!code && test.count) code = cli_evaluate_test(student, &test);
    if (!code && test.count) code = report_agreement(teacher, student, &test, gain, offset);
    free(logits);
    free(run.rows);
    nerve_dataset_free(&train);
    nerve_dataset_free(&val);
    nerve_dataset_free(&test);
    return code;
}

/* --alpha takes 0 (the baseline), which CLI_REAL's positive values do not. */
static bool parse_alpha(const char *text, double *alpha)
{
    char *end;
    *alpha = strtod(text, &end);
    return end != text && !*end && *alpha >= 0 && *alpha <= 1;
}

int cmd_distill(int argc, char **argv)
{
    cli_train_flags f = {.zero = CLI_ZERO_DEFAULT};
    double temperature = 4;
    const char *teacher_arg = NULL, *alpha_text = "0.9", *student_cfg;
    cli_option options[] = {
        CLI_STRING("--teacher", "T.cfg:W", &teacher_arg,
            "the teacher's config and trained weights (required)"),
        CLI_REAL("--temperature", "X", &temperature, "the softmaxes' temperature T (default: 4)"),
        CLI_STRING("--alpha", "A", &alpha_text,
            "weight in [0, 1] of the soft targets; 1 - A of the labels (default: 0.9)"),
        CLI_TRAIN_OPTIONS(&f, "the student ", "the student's weights"),
    };
    const int option_count = (int)(sizeof options / sizeof options[0]);
    const cli_option *train_flags = options + 3; /* after --teacher, --temperature, --alpha */
    argc = cli_flag_as_positional(argc, argv, "--student");
    int code = cli_parse(&distill_command, options, option_count, argc, argv, &student_cfg);
    distill_settings s = {0};
    const char *colon = teacher_arg ? strrchr(teacher_arg, ':') : NULL;
    if (code < 0 && !teacher_arg)
        code = cli_usage_error(&distill_command, "missing --teacher T.cfg:W");
    else if (code < 0 && (!colon || colon == teacher_arg || !colon[1]))
        code = cli_usage_error(&distill_command, "--teacher expects T.cfg:W, got '%s'",
                               teacher_arg);
    else if (code < 0 && !parse_alpha(alpha_text, &s.alpha))
        code = cli_usage_error(&distill_command, "--alpha must be in [0, 1], got '%s'", alpha_text);
    else if (code < 0)
        code = cli_train_flags_check(&distill_command, train_flags, &f);
    if (code >= 0) {
        cli_list_free(&f.sets);
        /* A command line one rank alone refuses (an MPMD launch, a directory
         * one host lacks) must not leave the others waiting. */
        return cli_dist_agree(code);
    }
    char teacher_cfg[4096];
    snprintf(teacher_cfg, sizeof teacher_cfg, "%.*s", (int)(colon - teacher_arg), teacher_arg);

    cli_catch_stop_signals();
    cli_train_overrides overrides;
    cli_train_flags_overrides(train_flags, &f, &overrides);
    cli_set_threads(f.threads);
    s.temperature = temperature;
    s.save_path = f.save_path;
    nerve_model *teacher = NULL, *student = NULL;
    code = cli_load_model(teacher_cfg, NULL, NULL, &teacher);
    if (!code) code = cli_load_model(student_cfg, f.sets.items, overrides.items, &student);
    cli_list_free(&f.sets);
    if (!code) code = check_pair(teacher, teacher_cfg, student, student_cfg);
    if (!code) code = cli_load_weights(teacher, colon + 1);
    if (!code && f.save_path) code = cli_check_save_directory(f.save_path);
    if (!code && f.checkpoint_path) code = cli_check_save_directory(f.checkpoint_path);
    if (!code && f.init_path) code = cli_load_weights(student, f.init_path);
    code = cli_dist_agree(code);
    if (!code) {
        s.train = nerve_train_options_from(student);
        cli_train_flags_apply(&f, &s.train);
        /* As train: what the checkpoint recorded and what this resume changes. */
        if (s.train.resume_path) code = cli_train_resume(student, train_flags, &f, &s.train);
        code = cli_dist_agree(code);
    }
    if (!code) code = distill(teacher, student, student_cfg, &s);
    nerve_model_free(student);
    nerve_model_free(teacher);
    return code;
}
