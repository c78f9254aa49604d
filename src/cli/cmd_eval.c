/* nerve eval: loss, accuracy, error rate, per-class accuracy and confusion matrix of
 * trained weights on the test set or on another file. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "model/data_format.h"

static const cli_command eval_command = {
    "eval", "CFG", "Evaluates the weights W of the network CFG describes on its [data] test set.",
    "--data FILE [--labels FILE] evaluates another file in the [data] format instead\n"
    "(IDX needs --labels; CSV files carry their labels). The inputs are normalised\n"
    "with the statistics saved in W.\n\n"
    "--weights W1,W2,... evaluates an ensemble: the members' predicted probabilities\n"
    "(outputs, for regression) averaged. An item CFG2:W is weights for another\n"
    "config; every member reads the samples of CFG's [data] test (or --data), as its\n"
    "own [data] section describes them, and --set applies to every member. Each\n"
    "member's figures are printed, then the ensemble's."};

/* Class c's name, or NULL: the model's, when it names its classes. */
static const char *class_name(const nerve_model *m, int c)
{
    return m ? nerve_model_class_name(m, c) : NULL;
}

static json_t *evaluation_json(const nerve_evaluation *e, const nerve_model *m)
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
    if (e->classes > 0 && class_name(m, 0)) {
        json_t *names = json_array();
        for (int c = 0; c < e->classes; c++)
            json_array_append_new(names, json_string(class_name(m, c)));
        json_object_set_new(root, "class_names", names);
    }
    if (e->classes > 0) {
        json_object_set_new(root, "class_accuracy", class_accuracy);
        json_object_set_new(root, "confusion", confusion);
        json_t *bins = json_array();
        for (int b = 0; b < NERVE_CALIBRATION_BINS; b++) {
            json_t *bin = json_object();
            json_object_set_new(bin, "upper", json_real((b + 1.0) / NERVE_CALIBRATION_BINS));
            json_object_set_new(bin, "count", json_integer(e->bin_count[b]));
            json_object_set_new(bin, "confidence", cli_json_number(e->bin_confidence[b]));
            json_object_set_new(bin, "accuracy", cli_json_number(e->bin_accuracy[b]));
            json_array_append_new(bins, bin);
        }
        json_object_set_new(root, "ece", cli_json_number(e->ece));
        json_object_set_new(root, "calibration", bins);
    } else {
        json_decref(class_accuracy);
        json_decref(confusion);
    }
    return root;
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

/* A confusion-matrix row's label: the class number, and its name when the
 * model names its classes ("3 Dress"). */
static void row_label(const nerve_model *m, int c, char *text, size_t size)
{
    const char *name = class_name(m, c);
    if (name)
        snprintf(text, size, "%d %s", c, name);
    else
        snprintf(text, size, "%d", c);
}

static void print_table(const nerve_evaluation *e, const nerve_model *m, const char *source)
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
    printf("loss %.4f  accuracy %.4f  error rate %.4f\n", e->loss, e->accuracy, e->error_rate);
    printf("expected calibration error %.4f (%d confidence bins)\n\n", e->ece,
           NERVE_CALIBRATION_BINS);
    int64_t largest = e->classes - 1;
    for (int i = 0; i < e->classes * e->classes; i++)
        if (e->confusion[i] > largest) largest = e->confusion[i];
    int width = digits(largest) > 5 ? digits(largest) : 5;
    /* Named rows are left-aligned, as words are; numbered ones keep the
     * numbers' right alignment. */
    bool named = class_name(m, 0) != NULL;
    int label_width = width;
    char label[300];
    for (int c = 0; named && c < e->classes; c++) {
        row_label(m, c, label, sizeof label);
        if ((int)strlen(label) > label_width) label_width = (int)strlen(label);
    }
    printf("confusion matrix (rows: true class, columns: predicted class)\n");
    printf(named ? "%-*s" : "%*s", label_width, "class");
    for (int k = 0; k < e->classes; k++) printf("  %*d", width, k);
    printf("  accuracy\n");
    for (int c = 0; c < e->classes; c++) {
        row_label(m, c, label, sizeof label);
        printf(named ? "%-*s" : "%*s", label_width, label);
        for (int k = 0; k < e->classes; k++)
            printf("  %*lld", width, (long long)e->confusion[c * e->classes + k]);
        /* A class with no sample has no accuracy. */
        if (isnan(e->class_accuracy[c]))
            printf("  %8s\n", "-");
        else
            printf("  %8.4f\n", e->class_accuracy[c]);
    }
}

/* "key=value", allocated (NULL when out of memory): a --set of the command's own. */
static char *assignment(const char *key, const char *value)
{
    char *text = malloc(strlen(key) + strlen(value) + 2);
    if (text) sprintf(text, "%s=%s", key, value);
    return text;
}

static const char *source_name(const nerve_model *m)
{
    const char *test = nerve_model_settings_of(m)->data.test;
    return test[0] ? test : "the adding problem's test samples";
}

/* --augment: the samples transformed as [augment] transforms training
 * batches, drawn from [net] seed (step 0, each sample's own index): the
 * network's robustness to shifts, rotations or noise at test time. */
static nerve_status augment_samples(const nerve_model *m, nerve_dataset *ds, nerve_error *err)
{
    nerve_augment *a = nerve_model_augment_new(m, nerve_model_settings_of(m)->seed, err);
    if (!a) return err->status;
    nerve_status st = nerve_dataset_to_float(ds, err);
    if (st == NERVE_OK) nerve_augment_apply(a, ds->inputs, ds->count, 0, 0);
    nerve_augment_free(a);
    return st;
}

static int evaluate(nerve_model *m, const char *weights_path, int64_t batch, bool json,
                    int64_t mc_samples, bool augment)
{
    int code = cli_dist_agree(cli_load_weights(m, weights_path));
    if (code) return code;
    nerve_dataset test;
    nerve_error err = {0};
    nerve_status status = nerve_model_load_data(m, NULL, NULL, &test, &err);
    if (!status && augment && (status = augment_samples(m, &test, &err)))
        nerve_dataset_free(&test);
    if ((code = cli_dist_agree(status ? cli_fail(&err, cli_exit_code(status)) : 0))) return code;
    /* Under MPI each rank evaluates a shard and the counts are summed. */
    nerve_evaluation e;
    status = nerve_evaluate_sharded(m, &test, batch, cli_comm, &e, &err);
    nerve_evaluation mc = {0};
    if (!status && mc_samples > 0) {
        status = nerve_evaluate_mc_dropout(m, &test, batch, (int)mc_samples, &mc, &err);
        if (status) nerve_evaluation_free(&e);
    }
    nerve_dataset_free(&test);
    if (status) return cli_fail(&err, cli_exit_code(status));
    if (json) {
        json_t *root = evaluation_json(&e, m);
        if (mc_samples > 0) {
            json_t *mc_json = evaluation_json(&mc, m);
            json_object_set_new(mc_json, "samples", json_integer(mc_samples));
            json_object_set_new(root, "mc_dropout", mc_json);
        }
        code = cli_json_print(root);
    } else {
        print_table(&e, m, source_name(m));
        if (mc_samples > 0) {
            printf("\nMonte-Carlo dropout: %lld passes, %s averaged\n", (long long)mc_samples,
                   mc.classes > 0 ? "probabilities" : "outputs");
            print_table(&mc, m, source_name(m));
        }
    }
    nerve_evaluation_free(&e);
    nerve_evaluation_free(&mc);
    return code;
}

/* An ensemble member: an item of --weights, W (a weights file for CFG) or
 * CFG2:W (weights for another config), with its model and its copy of the
 * evaluation samples, normalised as its weights say. */
typedef struct eval_member {
    const char *item;
    char *cfg;       /* the item's config, NULL for CFG */
    const char *weights;
    nerve_model *model;
    nerve_dataset data;
} eval_member;

static void print_ensemble_table(const nerve_ensemble_evaluation *e, const eval_member *members,
                                 const char *source)
{
    for (int i = 0; i < e->count; i++) {
        const nerve_evaluation *m = &e->members[i];
        printf("member %d  loss %.4f", i + 1, m->loss);
        if (m->classes > 0) printf("  accuracy %.4f", m->accuracy);
        printf("  %s\n", members[i].item);
    }
    printf("\nensemble of %d (%s averaged)\n", e->count,
           e->ensemble.classes > 0 ? "probabilities" : "outputs");
    print_table(&e->ensemble, members[0].model, source);
}

static int print_ensemble_json(const nerve_ensemble_evaluation *e, const eval_member *members,
                               const char *cfg_path)
{
    json_t *root = json_object(), *list = json_array();
    for (int i = 0; i < e->count; i++) {
        json_t *member = evaluation_json(&e->members[i], members[i].model);
        json_object_set_new(member, "cfg", json_string(members[i].cfg ? members[i].cfg : cfg_path));
        json_object_set_new(member, "weights", json_string(members[i].weights));
        json_array_append_new(list, member);
    }
    json_object_set_new(root, "members", list);
    json_object_set_new(root, "ensemble", evaluation_json(&e->ensemble, members[0].model));
    return cli_json_print(root);
}

/* Splits the --weights list into members; CFG2:W items keep their config. */
static int split_members(char *list, eval_member *members, int *count)
{
    *count = 0;
    for (char *item = list, *next; item; item = next) {
        next = strchr(item, ',');
        if (next) *next++ = 0;
        eval_member *m = &members[(*count)++];
        m->item = item;
        m->weights = item;
        char *colon = strchr(item, ':');
        if (colon) {
            m->cfg = malloc((size_t)(colon - item) + 1);
            if (!m->cfg) {
                fprintf(stderr, "nerve: out of memory\n");
                return CLI_EXIT_FAILURE;
            }
            memcpy(m->cfg, item, (size_t)(colon - item));
            m->cfg[colon - item] = 0;
            m->weights = colon + 1;
        }
        if (!*m->weights || (m->cfg && !*m->cfg))
            return cli_usage_error(&eval_command, "--weights item %d ('%s') is not W or CFG:W",
                                   *count, item);
    }
    return CLI_EXIT_OK;
}

/* Each member reads the samples of CFG's [data] test (or --data, already
 * there), as its own [data] section says how. */
static int load_member(eval_member *m, const char *cfg_path, const char *const *sets,
                       const char *const *data_sets)
{
    int code = cli_load_model(m->cfg ? m->cfg : cfg_path, sets, data_sets, &m->model);
    if (code == CLI_EXIT_OK) code = cli_load_weights(m->model, m->weights);
    if (code) return code;
    nerve_error err = {0};
    nerve_status status = nerve_model_load_data(m->model, NULL, NULL, &m->data, &err);
    return status ? cli_fail(&err, cli_exit_code(status)) : CLI_EXIT_OK;
}

static int evaluate_ensemble(const nerve_model *data_model, const char *cfg_path,
                             const char *weights_list, const char *const *sets, int64_t batch,
                             bool json)
{
    const nerve_data_settings *data = &nerve_model_settings_of(data_model)->data;
    char *list = malloc(strlen(weights_list) + 1);
    int capacity = 1;
    for (const char *c = weights_list; *c; c++) capacity += *c == ',';
    eval_member *members = calloc((size_t)capacity, sizeof *members);
    nerve_ensemble_member *ensemble = calloc((size_t)capacity, sizeof *ensemble);
    char *test_set = assignment("data.test", data->test);
    char *labels_set = assignment("data.test_labels", data->test_labels);
    int count = 0, code = CLI_EXIT_OK;
    if (!list || !members || !ensemble || !test_set || !labels_set) {
        fprintf(stderr, "nerve: out of memory\n");
        code = CLI_EXIT_FAILURE;
    } else {
        strcpy(list, weights_list);
        code = split_members(list, members, &count);
    }
    /* Generated data (the adding problem) has no file to share. */
    const char *data_sets[3] = {data->test[0] ? test_set : NULL,
                                data->test_labels[0] ? labels_set : NULL, NULL};
    for (int i = 0; i < count && code == CLI_EXIT_OK; i++) {
        code = load_member(&members[i], cfg_path, sets, data_sets);
        ensemble[i] = (nerve_ensemble_member){members[i].model, &members[i].data,
                                              members[i].item};
    }
    nerve_ensemble_evaluation e = {0};
    if (code == CLI_EXIT_OK) {
        nerve_error err = {0};
        nerve_status status = nerve_evaluate_ensemble(ensemble, count, batch, &e, &err);
        if (status)
            code = cli_fail(&err, cli_exit_code(status));
        else if (json)
            code = print_ensemble_json(&e, members, cfg_path);
        else
            print_ensemble_table(&e, members, source_name(data_model));
    }
    nerve_ensemble_evaluation_free(&e);
    for (int i = 0; i < count; i++) {
        free(members[i].cfg);
        nerve_model_free(members[i].model);
        nerve_dataset_free(&members[i].data);
    }
    free(members);
    free(ensemble);
    free(list);
    free(test_set);
    free(labels_set);
    return code;
}

int cmd_eval(int argc, char **argv)
{
    cli_list sets = {0};
    const char *weights_path = NULL, *data_path = NULL, *labels_path = NULL, *cfg_path;
    int64_t threads = 0, batch = 0, mc_samples = 0;
    const char *backend = NULL;
    bool json = false, augment = false;
    cli_option options[] = {
        CLI_STRING("--weights", "W[,W2,...]", &weights_path,
            "the weights to evaluate, or an ensemble's: W or CFG2:W items (required)"),
        CLI_STRING("--data", "FILE", &data_path,
            "evaluate FILE instead of [data] test (default: [data] test)"),
        CLI_STRING("--labels", "FILE", &labels_path,
            "the labels of an IDX --data file (default: none)"),
        CLI_FLAG("--json", &json, "print one JSON object on stdout (default: a readable table)"),
        CLI_INT("--batch", "N", &batch, 1, 1 << 20,
            "samples per forward pass (default: [net] batch)"),
        CLI_INT("--mc-samples", "K", &mc_samples, 1, 1 << 16,
            "also evaluate with Monte-Carlo dropout: dropout on, K passes averaged"),
        CLI_FLAG("--augment", &augment,
            "evaluate the samples as [augment] transforms training batches (test-time "
            "transforms and noise, e.g. --set augment.noise=25.5)"),
        CLI_SET_OPTION(&sets),
        CLI_THREADS_OPTION(&threads),
        CLI_BACKEND_OPTION(&backend),
    };
    const int option_count = (int)(sizeof options / sizeof options[0]);
    int code = cli_parse(&eval_command, options, option_count, argc, argv, &cfg_path);
    if (code < 0 && !weights_path) code = cli_usage_error(&eval_command, "missing --weights W");
    if (code < 0 && labels_path && !data_path)
        code = cli_usage_error(&eval_command, "--labels goes with --data FILE");
    if (code < 0) code = cli_set_backend(&eval_command, backend);
    if (code >= 0) {
        cli_list_free(&sets);
        /* A command line one rank alone refuses (an MPMD launch, a directory
         * one host lacks) must not leave the others waiting. */
        return cli_dist_agree(code);
    }

    /* --data is [data] test for this run, so that it is read, checked and
     * normalised exactly as the test set would be. */
    char *data_set = NULL, *labels_set = NULL;
    const char *flag_sets[3] = {NULL};
    if (data_path) {
        data_set = assignment("data.test", data_path);
        labels_set = assignment("data.test_labels", labels_path ? labels_path : "");
        if (!data_set || !labels_set) {
            fprintf(stderr, "nerve: out of memory\n");
            code = CLI_EXIT_FAILURE;
        } else {
            flag_sets[0] = data_set;
            if (labels_path) flag_sets[1] = labels_set;
        }
    }
    nerve_model *m = NULL;
    if (code < 0) {
        cli_set_threads(threads);
        code = cli_dist_agree(cli_load_model(cfg_path, sets.items, flag_sets, &m));
    }
    if (code == CLI_EXIT_OK) {
        const data_format *format = nerve_model_data_format(m);
        bool label_files = (format->keys & DATA_KEYS_LABEL_FILES) != 0;
        if (!nerve_model_has_test_data(m))
            code = cli_usage_error(&eval_command, "%s has no [data] test; name a file with --data",
                                   cfg_path);
        else if (data_path && label_files && !labels_path)
            code = cli_usage_error(&eval_command, "an IDX --data file needs --labels FILE");
        else if (labels_path && !label_files)
            code = cli_usage_error(&eval_command, "--labels is for IDX data; [data] format is %s",
                                   format->name);
        else if (strpbrk(weights_path, ",:") && augment)
            code = cli_usage_error(&eval_command, "--augment evaluates one model, not an "
                                   "ensemble");
        else if (strpbrk(weights_path, ",:") && mc_samples)
            code = cli_usage_error(&eval_command, "--mc-samples evaluates one model, not an "
                                   "ensemble");
        else if (strpbrk(weights_path, ",:"))
            code = evaluate_ensemble(m, cfg_path, weights_path, sets.items, batch, json);
        else
            code = evaluate(m, weights_path, batch, json, mc_samples, augment);
    }
    nerve_model_free(m);
    free(data_set);
    free(labels_set);
    cli_list_free(&sets);
    return code;
}
