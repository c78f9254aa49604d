/* nerve eval: loss, accuracy, error rate, per-class accuracy and confusion matrix of
 * trained weights on the test set or on another file. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const cli_command eval_command = {
    "eval", "CFG", "Evaluates the weights W of the network CFG describes on its [data] test set.",
    "--data FILE [--labels FILE] evaluates another file in the [data] format instead\n"
    "(IDX needs --labels; CSV files carry their labels). The inputs are normalised\n"
    "with the statistics saved in W."};

static int print_json(const nerve_evaluation *e)
{
    json_t *root = json_object(), *class_accuracy = json_array(), *confusion = json_array();
    json_object_set_new(root, "loss", cli_json_number(e->loss));
    if (e->classes > 0) {
        json_object_set_new(root, "accuracy", cli_json_number(e->accuracy));
        json_object_set_new(root, "error_rate", cli_json_number(e->error_rate));
    }
    json_object_set_new(root, "count", json_integer(e->count));
    if (e->classes > 0 && e->labels != e->count) /* a label per step */
        json_object_set_new(root, "labels", json_integer(e->labels));
    for (int c = 0; c < e->classes; c++) {
        json_t *row = json_array();
        for (int k = 0; k < e->classes; k++)
            json_array_append_new(row, json_integer(e->confusion[c * e->classes + k]));
        json_array_append_new(confusion, row);
        json_array_append_new(class_accuracy, cli_json_number(e->class_accuracy[c]));
    }
    if (e->classes > 0) {
        json_object_set_new(root, "class_accuracy", class_accuracy);
        json_object_set_new(root, "confusion", confusion);
    } else {
        json_decref(class_accuracy);
        json_decref(confusion);
    }
    return cli_json_print(root);
}

static int digits(int64_t v)
{
    int n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

static void print_table(const nerve_evaluation *e, const char *source)
{
    if (e->classes > 0 && e->labels != e->count)
        printf("%s: %lld samples, %lld labels (one per step)\n", source, (long long)e->count,
               (long long)e->labels);
    else
        printf("%s: %lld samples\n", source, (long long)e->count);
    if (e->classes == 0) {
        printf("loss %.4f\n", e->loss);
        return;
    }
    printf("loss %.4f  accuracy %.4f  error rate %.4f\n\n", e->loss, e->accuracy, e->error_rate);
    int64_t largest = e->classes - 1;
    for (int i = 0; i < e->classes * e->classes; i++)
        if (e->confusion[i] > largest) largest = e->confusion[i];
    int width = digits(largest) > 5 ? digits(largest) : 5;
    printf("confusion matrix (rows: true class, columns: predicted class)\n");
    printf("%*s", width, "class");
    for (int k = 0; k < e->classes; k++) printf("  %*d", width, k);
    printf("  accuracy\n");
    for (int c = 0; c < e->classes; c++) {
        printf("%*d", width, c);
        for (int k = 0; k < e->classes; k++)
            printf("  %*lld", width, (long long)e->confusion[c * e->classes + k]);
        /* A class with no sample has no accuracy. */
        if (isnan(e->class_accuracy[c]))
            printf("  %8s\n", "-");
        else
            printf("  %8.4f\n", e->class_accuracy[c]);
    }
}

static int evaluate(nerve_model *m, const char *weights_path, int64_t batch, bool json)
{
    int code = cli_load_weights(m, weights_path);
    if (code) return code;
    nerve_dataset test;
    nerve_error err = {0};
    nerve_status status = nerve_model_load_data(m, NULL, NULL, &test, &err);
    if (status) return cli_fail(&err, cli_exit_code(status));
    nerve_evaluation e;
    status = nerve_evaluate(m, &test, batch, &e, &err);
    nerve_dataset_free(&test);
    if (status) return cli_fail(&err, cli_exit_code(status));
    if (json)
        code = print_json(&e);
    else
        print_table(&e, nerve_model_settings_of(m)->data.test[0]
                            ? nerve_model_settings_of(m)->data.test
                            : "the adding problem's test samples");
    nerve_evaluation_free(&e);
    return code;
}

int cmd_eval(int argc, char **argv)
{
    cli_list sets = {0};
    const char *weights_path = NULL, *data_path = NULL, *labels_path = NULL, *cfg_path;
    int64_t threads = 0, batch = 0;
    bool json = false;
    cli_option options[] = {
        CLI_STRING("--weights", "W", &weights_path, "the weights to evaluate (required)"),
        CLI_STRING("--data", "FILE", &data_path,
            "evaluate FILE instead of [data] test (default: [data] test)"),
        CLI_STRING("--labels", "FILE", &labels_path,
            "the labels of an IDX --data file (default: none)"),
        CLI_FLAG("--json", &json, "print one JSON object on stdout (default: a readable table)"),
        CLI_INT("--batch", "N", &batch, 1, 1 << 20,
            "samples per forward pass (default: [net] batch)"),
        CLI_SET_OPTION(&sets),
        CLI_THREADS_OPTION(&threads),
    };
    const int option_count = (int)(sizeof options / sizeof options[0]);
    int code = cli_parse(&eval_command, options, option_count, argc, argv, &cfg_path);
    if (code < 0 && !weights_path) code = cli_usage_error(&eval_command, "missing --weights W");
    if (code < 0 && labels_path && !data_path)
        code = cli_usage_error(&eval_command, "--labels goes with --data FILE");
    if (code >= 0) {
        cli_list_free(&sets);
        return code;
    }

    /* --data is [data] test for this run, so that it is read, checked and
     * normalised exactly as the test set would be. */
    char *data_set = NULL, *labels_set = NULL;
    const char *flag_sets[3] = {NULL};
    if (data_path) {
        data_set = malloc(strlen(data_path) + sizeof "data.test=");
        labels_set = malloc(strlen(labels_path ? labels_path : "") + sizeof "data.test_labels=");
        if (!data_set || !labels_set) {
            fprintf(stderr, "nerve: out of memory\n");
            code = CLI_EXIT_FAILURE;
        } else {
            sprintf(data_set, "data.test=%s", data_path);
            flag_sets[0] = data_set;
            if (labels_path) {
                sprintf(labels_set, "data.test_labels=%s", labels_path);
                flag_sets[1] = labels_set;
            }
        }
    }
    nerve_model *m = NULL;
    if (code < 0) {
        cli_set_threads(threads);
        code = cli_load_model(cfg_path, sets.items, flag_sets, &m);
    }
    if (code == CLI_EXIT_OK) {
        const nerve_data_settings *data = &nerve_model_settings_of(m)->data;
        const char *format = data->format;
        if (!nerve_model_has_test_data(m))
            code = cli_usage_error(&eval_command, "%s has no [data] test; name a file with --data",
                                   cfg_path);
        else if (data_path && strcmp(format, "idx") == 0 && !labels_path)
            code = cli_usage_error(&eval_command, "an IDX --data file needs --labels FILE");
        else if (labels_path && strcmp(format, "idx") != 0)
            code = cli_usage_error(&eval_command, "--labels is for IDX data; [data] format is %s",
                                   format);
        else
            code = evaluate(m, weights_path, batch, json);
    }
    nerve_model_free(m);
    free(data_set);
    free(labels_set);
    cli_list_free(&sets);
    return code;
}
