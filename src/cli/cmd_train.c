/* nerve train: trains the network a .cfg describes on its [data], reports
 * each epoch and the test set, and saves the weights. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "model/data_format.h"
#include "cli/progress.h"

static const cli_command train_command = {
    "train", "CFG", "Trains the network that CFG describes on the data its [data] section names.",
    "Prints one line per epoch (a progress bar on stderr when it is a terminal), then\n"
    "the loss and accuracy on [data] test when it is set, and saves the weights with\n"
    "--save. --epochs, --batch, --seed and --lr are the same as --set net.epochs=N,\n"
    "net.batch=N, net.seed=N and optimizer.lr=X.\n"
    "--checkpoint FILE keeps the whole training state (weights, optimizer, schedule,\n"
    "random generators, position) in FILE; --resume FILE continues it exactly, to\n"
    "the run's epochs; --lr, the [schedule], --epochs, --steps, clipping and --on-nan\n"
    "may change on a resume and take effect at once (docs/cli.md). SIGINT or SIGTERM finish the step, write the checkpoint and\n"
    "exit with 130 or 143. Exit codes: docs/errors.md."};

static void print_summary(nerve_model *m, const char *cfg_path, const nerve_dataset *train,
                          const nerve_dataset *val, const nerve_dataset *test)
{
    int layers = nerve_model_layer_count(m);
    char parameters[96];
    cli_format_parameters(nerve_model_graph(m), parameters, sizeof parameters);
    printf("%s: %d layer%s, %s; %lld train, %lld validation, %lld test samples\n", cfg_path,
           layers, layers == 1 ? "" : "s", parameters, (long long)train->count,
           (long long)val->count, (long long)test->count);
    fflush(stdout);
}

/* What the model's loss means against the data: a text's unigram and bigram
 * cross-entropy, the adding problem's error when always predicting 1. */
static void print_baselines(const nerve_model *m, const nerve_dataset *train,
                            const nerve_dataset *val, const nerve_dataset *test)
{
    nerve_text_baseline b;
    if (nerve_model_text_baseline(m, &b))
        printf("corpus: %lld characters; unigram %.3f nats/char, bigram %.3f nats/char (%s)\n",
               (long long)nerve_model_vocab(m)->size, b.unigram, b.bigram,
               b.held_out ? "validation" : "training text");
    const data_format *format = nerve_model_data_format(m);
    if (format->baseline) {
        const nerve_dataset *ds = val->count ? val : test->count ? test : train;
        printf("%s %.4f (%s)\n", format->baseline_text, format->baseline(ds),
               ds == val ? "validation" : ds == test ? "test" : "training");
    }
    fflush(stdout);
}

/* The training set's samples per class and its imbalance (the largest class
 * over the smallest): whether accuracy alone can be read, or a weighted loss
 * ([loss] weight) is called for. Classifiers with a label per sample only. */
static void print_class_counts(const nerve_model *m, const nerve_dataset *train)
{
    int classes = nerve_model_classes(m);
    if (classes < 2 || !train->targets || train->target_size != 1 || train->lanes > 0) return;
    int64_t *counts = calloc((size_t)classes, sizeof *counts);
    if (!counts) return;
    for (int64_t i = 0; i < train->count; i++) {
        int64_t c = (int64_t)train->targets[i];
        if (c >= 0 && c < classes) counts[c]++;
    }
    int64_t least = counts[0], most = counts[0];
    for (int c = 1; c < classes; c++) {
        least = counts[c] < least ? counts[c] : least;
        most = counts[c] > most ? counts[c] : most;
    }
    if (classes <= 20) {
        printf("training samples per class:");
        for (int c = 0; c < classes; c++) printf("%s %d: %lld", c ? "," : "", c, (long long)counts[c]);
    } else {
        printf("training samples per class: %lld to %lld", (long long)least, (long long)most);
    }
    if (least > 0)
        printf(" (largest/smallest %.2f)\n", (double)most / (double)least);
    else
        printf(" (a class has no training sample)\n");
    free(counts);
}

/* Whether the weights can be saved at all, checked before training rather
 * than found out after it: the save writes a temporary file beside path. */
int cli_check_save_directory(const char *path)
{
    const char *slash = strrchr(path, '/');
    char directory[4096];
    if (!slash)
        snprintf(directory, sizeof directory, ".");
    else
        snprintf(directory, sizeof directory, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    if (access(directory, W_OK) == 0) return CLI_EXIT_OK;
    fprintf(stderr, "nerve: %s: cannot save the weights there: %s: %s\n", path, directory,
            strerror(errno));
    return CLI_EXIT_FAILURE;
}

int cli_save_weights(nerve_model *m, const char *path)
{
    if (!cli_dist_root()) return CLI_EXIT_OK;
    nerve_error err = {0};
    nerve_status status = nerve_model_save_weights(m, path, &err);
    if (status) return cli_fail(&err, status == NERVE_ERR_IO ? CLI_EXIT_FAILURE
                                                              : cli_exit_code(status));
    printf("saved weights to %s\n", path);
    return CLI_EXIT_OK;
}

int cli_evaluate_test(nerve_model *m, const nerve_dataset *test)
{
    nerve_error err = {0};
    nerve_evaluation e;
    nerve_status status = nerve_evaluate_sharded(m, test, nerve_model_settings_of(m)->batch,
                                                 cli_comm, &e, &err);
    if (status) return cli_fail(&err, cli_exit_code(status));
    if (nerve_model_classes(m) > 0)
        printf("test loss %.4f accuracy %.4f\n", e.loss, e.accuracy);
    else
        printf("test loss %.4f\n", e.loss);
    nerve_evaluation_free(&e);
    return CLI_EXIT_OK;
}

static int train_and_report(nerve_model *m, const char *cfg_path, const cli_option *flag_options,
                            const cli_train_flags *f, nerve_train_options *options,
                            bool eval_test)
{
    const char *save_path = f->save_path;
    int code = save_path ? cli_check_save_directory(save_path) : CLI_EXIT_OK;
    if (!code && eval_test && !nerve_model_has_test_data(m)) {
        fprintf(stderr, "nerve: %s: --eval-test evaluates the test set at every epoch's end: "
                        "set [data] test\n", cfg_path);
        code = CLI_EXIT_USAGE;
    }
    if (!code && options->checkpoint_path)
        code = cli_check_save_directory(options->checkpoint_path);
    if (!code && f->init_path) code = cli_load_weights(m, f->init_path);
    if (!code && options->resume_path) code = cli_train_resume(m, flag_options, f, options);
    if ((code = cli_dist_agree(code))) return code;
    nerve_dataset train = {0}, val = {0}, test = {0};
    nerve_error err = {0};
    nerve_status status =
        nerve_model_load_data(m, &train, &val, nerve_model_has_test_data(m) ? &test : NULL, &err);
    if ((code = cli_dist_agree(status ? cli_fail(&err, cli_exit_code(status)) : 0))) return code;
    print_summary(m, cfg_path, &train, &val, &test);
    int missing = cli_dist_root() ? nerve_dataset_class_missing(&train, &val) : -1;
    if (missing >= 0) {
        const char *name = nerve_model_class_name(m, missing);
        fprintf(stderr, "nerve: warning: the validation set holds class %d%s%s%s, which the "
                        "training set lacks (a file sorted by class? [data] validation_split = "
                        "stratified or random)\n", missing, name ? " (" : "", name ? name : "",
                name ? ")" : "");
    }
    print_baselines(m, &train, &val, &test);
    if (cli_dist_root()) print_class_counts(m, &train);

    cli_progress progress;
    cli_progress_init(&progress, options->epochs, options->max_steps, nerve_model_classes(m) > 0);
    options->on_progress = cli_progress_on_step;
    options->on_epoch = cli_progress_on_epoch;
    options->user = &progress;
    if (eval_test) options->test_set = &test;
    status = nerve_train(m, &train, val.count ? &val : NULL, options, &err);
    cli_progress_clear(&progress);
    if (!status) cli_progress_print_cut_short(&progress);
    if (status) {
        code = cli_fail(&err, cli_train_exit_code(status));
    } else {
        if (save_path) code = cli_dist_agree(cli_save_weights(m, save_path));
        if (!code && test.count) code = cli_evaluate_test(m, &test);
    }
    nerve_dataset_free(&train);
    nerve_dataset_free(&val);
    nerve_dataset_free(&test);
    return code;
}

int cmd_train(int argc, char **argv)
{
    cli_train_flags f = {.zero = CLI_ZERO_DEFAULT};
    const char *cfg_path, *save_best = NULL, *monitor = NULL, *target_on = NULL, *probe = NULL;
    const char *state_grads = NULL;
    int64_t patience = 0, probe_every = 0, probe_size = 0, eval_every = 0, state_grads_every = 0;
    double target_error = 0;
    bool restore_best = false, stop_at_target = false, eval_test = false, eval_train = false;
    cli_option options[] = {
        CLI_TRAIN_OPTIONS(&f, "", "the trained weights"),
        CLI_INT("--early-stop", "N", &patience, 1, 1 << 20,
                "stop after N epochs without a better validation figure (default: "
                "[train] patience, 0: never)"),
        CLI_STRING("--monitor", "val_loss|val_accuracy", &monitor,
                   "the validation figure early stopping and --save-best follow "
                   "(default: [train] monitor, val_loss)"),
        CLI_STRING("--save-best", "W", &save_best,
                   "save the best epoch's weights to W, atomically, at each improvement"),
        CLI_FLAG("--restore-best", &restore_best,
                 "end training with the best epoch's weights (what --save and the test "
                 "set see)"),
        CLI_REAL("--target-error", "E", &target_error,
                 "report the first epoch whose training error (--target-on) is at most E, "
                 "0 < E < 1 (a 'target' row in --log)"),
        CLI_STRING("--target-on", "train|val", &target_on,
                   "the error --target-error watches (default: train)"),
        CLI_FLAG("--stop-at-target", &stop_at_target, "end training when the target is reached"),
        CLI_INT("--eval-every", "N", &eval_every, 1, INT64_MAX,
                "also evaluate the validation set every N steps (an 'eval' row in --log)"),
        CLI_FLAG("--eval-test", &eval_test,
                 "also evaluate [data] test at every epoch's end (test_loss, test_accuracy in "
                 "--log and the epoch line)"),
        CLI_FLAG("--eval-train", &eval_train,
                 "also evaluate the training set in eval mode at every epoch's end "
                 "(train_eval_loss, train_eval_accuracy)"),
        CLI_STRING("--probe", "FILE.csv", &probe,
                   "per-layer activation statistics on a fixed probe batch, before training "
                   "and at every epoch's end"),
        CLI_INT("--probe-every", "N", &probe_every, 1, INT64_MAX,
                "also probe every N steps (needs --probe)"),
        CLI_INT("--probe-size", "N", &probe_size, 1, 1 << 20,
                "the probe batch: the first N training samples (default 256, at most one "
                "batch)"),
        CLI_STRING("--state-grads", "FILE.csv", &state_grads,
                   "||dL/dh_t|| for every time step of every recurrent layer, at each "
                   "epoch's last step"),
        CLI_INT("--state-grads-every", "N", &state_grads_every, 1, INT64_MAX,
                "write the state gradients every N steps instead (needs --state-grads)"),
    };
    const int option_count = (int)(sizeof options / sizeof options[0]);
    int code = cli_parse(&train_command, options, option_count, argc, argv, &cfg_path);
    if (code < 0) code = cli_train_flags_check(&train_command, options, &f);
    if (code < 0 && monitor && strcmp(monitor, "val_loss") != 0 &&
        strcmp(monitor, "val_accuracy") != 0)
        code = cli_usage_error(&train_command, "--monitor must be val_loss or val_accuracy, "
                               "not '%s'", monitor);
    if (code < 0 && target_on && strcmp(target_on, "train") != 0 && strcmp(target_on, "val") != 0)
        code = cli_usage_error(&train_command, "--target-on must be train or val, not '%s'",
                               target_on);
    if (code < 0 && (target_on || stop_at_target) && target_error == 0)
        code = cli_usage_error(&train_command, "--target-on and --stop-at-target need "
                               "--target-error E");
    if (code < 0 && (probe_every || probe_size) && !probe)
        code = cli_usage_error(&train_command, "--probe-every and --probe-size need "
                               "--probe FILE.csv");
    if (code < 0 && state_grads_every && !state_grads)
        code = cli_usage_error(&train_command, "--state-grads-every needs --state-grads FILE.csv");
    if (code < 0 && save_best && cli_check_save_directory(save_best)) code = CLI_EXIT_FAILURE;
    if (code >= 0) {
        cli_list_free(&f.sets);
        /* A command line one rank alone refuses (an MPMD launch, a directory
         * one host lacks) must not leave the others waiting. */
        return cli_dist_agree(code);
    }

    cli_catch_stop_signals();
    cli_train_overrides overrides;
    cli_train_flags_overrides(options, &f, &overrides);
    cli_set_threads(f.threads);
    nerve_model *m;
    code = cli_dist_agree(cli_load_model(cfg_path, f.sets.items, overrides.items, &m));
    if (code) {
        cli_list_free(&f.sets);
        nerve_model_free(m);
        return code;
    }

    nerve_train_options train_options = nerve_train_options_from(m);
    cli_train_flags_apply(&f, &train_options);
    if (patience) train_options.patience = patience;
    if (monitor) train_options.monitor_accuracy = strcmp(monitor, "val_accuracy") == 0;
    train_options.save_best_path = save_best;
    train_options.restore_best = restore_best;
    train_options.target_error = target_error;
    train_options.target_on_val = target_on && strcmp(target_on, "val") == 0;
    train_options.target_stop = stop_at_target;
    train_options.probe_path = probe;
    train_options.probe_every = probe_every;
    train_options.probe_size = probe_size;
    train_options.eval_every = eval_every;
    train_options.eval_train = eval_train;
    train_options.state_gradients_path = state_grads;
    train_options.state_gradients_every = state_grads_every;
    code = train_and_report(m, cfg_path, options, &f, &train_options, eval_test);
    nerve_model_free(m);
    cli_list_free(&f.sets);
    return code;
}
