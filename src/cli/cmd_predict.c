/* nerve predict: runs trained weights on IDX images, CSV rows or one PNG or
 * JPEG image and prints each sample's class and probabilities. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/image_input.h"
#include "data/image.h"
#include "train/batching.h"

static const cli_command predict_command = {
    "predict", "CFG",
    "Predicts the class (or the outputs, for regression) of every sample of --input FILE.",
    "FILE is recognised by its content:\n"
    "  IDX images (plain or gzip), labels not needed;\n"
    "  a PNG or JPEG image: converted to the input's channels and resized to its HxW\n"
    "  (for a flat input, to the training images' shape the weights record);\n"
    "  CSV: every column is a feature, or, for a classifier, a file with one column\n"
    "  more than the input is labelled as [data] label_column says and the label is\n"
    "  ignored ([data] header applies).\n"
    "Inputs are normalised with the statistics saved in W, as in training. Classes are\n"
    "shown by name when the weights name them."};

/* The samples of the input file, count x features, not yet normalised. */
typedef struct samples {
    int64_t count;
    float *inputs;
} samples;

static bool starts_with_idx_or_gzip(const char *path)
{
    unsigned char head[2];
    FILE *file = fopen(path, "rb");
    if (!file) return false;
    size_t n = fread(head, 1, sizeof head, file);
    fclose(file);
    return n == 2 && ((head[0] == 0 && head[1] == 0) || (head[0] == 0x1f && head[1] == 0x8b));
}

/* Rows of features only, or (the file the model trained on) features with the
 * label or targets [data] describes, which are then ignored. */
static nerve_status read_csv(const nerve_model *m, const char *path, int64_t features,
                             samples *out, nerve_error *err)
{
    const nerve_data_settings *data = &nerve_model_settings_of(m)->data;
    nerve_csv_options features_only = {.header = data->csv.header,
                                       .label_column = NERVE_CSV_NO_LABEL};
    nerve_dataset ds;
    nerve_status status = nerve_csv_load(path, &features_only, &ds, err);
    if (status == NERVE_OK && ds.sample_size != features) {
        int64_t columns = ds.sample_size;
        nerve_dataset_free(&ds);
        status = nerve_csv_load(path, &data->csv, &ds, err);
        if (status == NERVE_OK && ds.sample_size != features) {
            nerve_dataset_free(&ds);
            return nerve_error_set(err, NERVE_ERR_SHAPE,
                                   "%s: rows have %lld columns; the network takes %lld features, "
                                   "optionally with the label or targets [data] describes",
                                   path, (long long)columns, (long long)features);
        }
    }
    if (status != NERVE_OK) return status;
    out->inputs = ds.inputs;
    out->count = ds.count;
    ds.inputs = NULL;
    nerve_dataset_free(&ds);
    return NERVE_OK;
}

static nerve_status read_samples(const nerve_model *m, const char *path, bool invert,
                                 samples *out, nerve_error *err)
{
    const nerve_shape *input = &nerve_model_settings_of(m)->input;
    int64_t features = nerve_shape_numel(input);
    memset(out, 0, sizeof *out);
    if (nerve_image_is_image(path)) {
        nerve_shape image_shape = nerve_model_image_shape(m);
        out->count = 1;
        return cli_image_input(path, input, &image_shape, invert, &out->inputs, err);
    }
    /* A file named as an image that is not one is a mistake (a download
     * saved as an error page, a renamed file), not CSV text. */
    if (nerve_image_named_like_one(path)) {
        FILE *file = fopen(path, "rb");
        if (!file)
            return nerve_error_set(err, NERVE_ERR_IO, "%s: cannot open: %s", path,
                                   strerror(errno));
        fclose(file);
        return nerve_error_set(err, NERVE_ERR_FORMAT,
                               "%s: named like an image, but it is not a PNG or JPEG file "
                               "(its first bytes are neither signature)", path);
    }
    if (invert)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "%s: --invert applies to a PNG or JPEG image, not to IDX or CSV "
                               "data", path);
    if (!starts_with_idx_or_gzip(path)) return read_csv(m, path, features, out, err);

    nerve_dataset ds;
    nerve_status status = nerve_idx_load_images(path, &ds, err);
    if (status == NERVE_OK) status = nerve_dataset_to_float(&ds, err);
    if (status) {
        nerve_dataset_free(&ds);
        return status;
    }
    char shape[64], expected[64];
    if (ds.sample_size != features) {
        status = nerve_error_set(err, NERVE_ERR_SHAPE,
                                 "%s: images are %s (%lld values), the network input %s has %lld",
                                 path, nerve_shape_format(&ds.sample_shape, shape, sizeof shape),
                                 (long long)ds.sample_size,
                                 nerve_shape_format(input, expected, sizeof expected),
                                 (long long)features);
        nerve_dataset_free(&ds);
        return status;
    }
    out->count = ds.count;
    out->inputs = ds.inputs;
    ds.inputs = NULL;
    nerve_dataset_free(&ds);
    return NERVE_OK;
}

/* The indices of the k largest of row[0..n), largest first. */
static void top_classes(const float *row, int n, int k, int *best)
{
    for (int i = 0; i < k; i++) {
        int pick = -1;
        for (int c = 0; c < n; c++) {
            bool taken = false;
            for (int j = 0; j < i; j++) taken |= best[j] == c;
            if (!taken && (pick < 0 || row[c] > row[pick])) pick = c;
        }
        best[i] = pick;
    }
}

/* Class c as printed: its name when the model names its classes. */
static void class_label(const nerve_model *m, int c, char *text, size_t size)
{
    const char *name = m ? nerve_model_class_name(m, c) : NULL;
    if (name)
        snprintf(text, size, "%s", name);
    else
        snprintf(text, size, "%d", c);
}

/* The widest class label, for the table's class column (at least "class"). */
static int class_column_width(const nerve_model *m, int classes)
{
    int width = 5;
    char text[256];
    for (int c = 0; c < classes; c++) {
        class_label(m, c, text, sizeof text);
        if ((int)strlen(text) > width) width = (int)strlen(text);
    }
    return width;
}

static int print_text(const nerve_model *m, const float *outputs, int64_t count, int64_t width,
                      int classes, int top)
{
    char label[256];
    int column = class_column_width(m, classes);
    int *best = malloc((size_t)(top > 0 ? top : 1) * sizeof *best);
    if (!best) {
        fprintf(stderr, "nerve: out of memory\n");
        return CLI_EXIT_FAILURE;
    }
    if (classes == 0)
        printf("index  outputs\n");
    else if (top > 0)
        printf("index  %-*s  top %d\n", column, "class", top);
    else
        printf("index  %-*s  probabilities\n", column, "class");
    for (int64_t i = 0; i < count; i++) {
        const float *row = outputs + i * width;
        printf("%-5lld", (long long)i);
        if (classes == 0) {
            printf(" ");
            for (int64_t j = 0; j < width; j++) printf(" %.6g", row[j]);
        } else if (top > 0) {
            top_classes(row, classes, top, best);
            class_label(m, best[0], label, sizeof label);
            printf("  %-*s ", column, label);
            for (int j = 0; j < top; j++) {
                class_label(m, best[j], label, sizeof label);
                printf(" %s:%.4f", label, row[best[j]]);
            }
        } else {
            top_classes(row, classes, 1, best);
            class_label(m, best[0], label, sizeof label);
            printf("  %-*s ", column, label);
            for (int c = 0; c < classes; c++) printf(" %.4f", row[c]);
        }
        printf("\n");
    }
    free(best);
    return CLI_EXIT_OK;
}

/* {"class": c} and, when the model names its classes, "name". */
static json_t *class_json(const nerve_model *m, int c, json_t *object)
{
    const char *name = m ? nerve_model_class_name(m, c) : NULL;
    json_object_set_new(object, "class", json_integer(c));
    if (name) json_object_set_new(object, "name", json_string(name));
    return object;
}

static int print_json(const nerve_model *m, const float *outputs, int64_t count, int64_t width,
                      int classes, int top)
{
    int *best = malloc((size_t)(classes > 0 ? classes : 1) * sizeof *best);
    json_t *all = json_array();
    for (int64_t i = 0; best && i < count; i++) {
        const float *row = outputs + i * width;
        json_t *sample = json_object(), *values = json_array();
        json_object_set_new(sample, "index", json_integer(i));
        if (classes == 0) {
            for (int64_t j = 0; j < width; j++)
                json_array_append_new(values, cli_json_number(row[j]));
            json_object_set_new(sample, "outputs", values);
        } else if (top > 0) {
            top_classes(row, classes, top, best);
            class_json(m, best[0], sample);
            for (int j = 0; j < top; j++) {
                json_t *entry = class_json(m, best[j], json_object());
                json_object_set_new(entry, "probability", cli_json_number(row[best[j]]));
                json_array_append_new(values, entry);
            }
            json_object_set_new(sample, "top", values);
        } else {
            top_classes(row, classes, 1, best);
            class_json(m, best[0], sample);
            for (int c = 0; c < classes; c++)
                json_array_append_new(values, cli_json_number(row[c]));
            json_object_set_new(sample, "probabilities", values);
        }
        json_array_append_new(all, sample);
    }
    if (!best) {
        json_decref(all);
        all = NULL;
    }
    free(best);
    return cli_json_print(all);
}

/* The class of one step: the most probable of its `classes` probabilities. */
static int step_class(const float *row, int classes)
{
    int best;
    top_classes(row, classes, 1, &best);
    return best;
}

/* A per-step classifier: the class each step predicts, one row per sample. */
static int print_steps_text(const float *outputs, int64_t count, int64_t steps, int classes)
{
    printf("index  classes (one per step)\n");
    for (int64_t i = 0; i < count; i++) {
        printf("%-5lld ", (long long)i);
        for (int64_t t = 0; t < steps; t++)
            printf(" %d", step_class(outputs + (i * steps + t) * classes, classes));
        printf("\n");
    }
    return CLI_EXIT_OK;
}

/* The same in JSON, with each step's probabilities. */
static int print_steps_json(const float *outputs, int64_t count, int64_t steps, int classes)
{
    json_t *all = json_array();
    for (int64_t i = 0; i < count; i++) {
        json_t *predicted = json_array(), *probabilities = json_array();
        for (int64_t t = 0; t < steps; t++) {
            const float *row = outputs + (i * steps + t) * classes;
            json_t *step = json_array();
            for (int c = 0; c < classes; c++) json_array_append_new(step, cli_json_number(row[c]));
            json_array_append_new(predicted, json_integer(step_class(row, classes)));
            json_array_append_new(probabilities, step);
        }
        json_array_append_new(all, json_pack("{s:I, s:o, s:o}", "index", (json_int_t)i, "classes",
                                             predicted, "probabilities", probabilities));
    }
    return cli_json_print(all);
}

/* --layer NAME: every sample's output of that layer, flattened. */
static int print_layer(nerve_model *m, const char *layer, const samples *in, bool json)
{
    nerve_node node = -1;
    for (int i = 0; i < nerve_model_layer_count(m) && node < 0; i++)
        if (strcmp(nerve_model_layer_name(m, i), layer) == 0) node = nerve_model_layer_node(m, i);
    if (node < 0) {
        fprintf(stderr, "nerve: no layer named '%s' (nerve info lists them)\n", layer);
        return CLI_EXIT_INPUT;
    }
    nerve_shape shape = nerve_node_shape(nerve_model_graph(m), node);
    int64_t width = nerve_shape_numel(&shape) / shape.dim[0];
    float *outputs = malloc((size_t)(in->count > 0 ? in->count : 1) * (size_t)width * sizeof *outputs);
    nerve_error err = {0};
    nerve_status status = outputs ? nerve_model_run(m, node, in->inputs, in->count, outputs, &err)
                                  : nerve_error_set(&err, NERVE_ERR_NOMEM, "out of memory for "
                                                    "the layer's outputs");
    int code = status ? cli_fail(&err, cli_exit_code(status))
                      : json ? print_json(NULL, outputs, in->count, width, 0, 0)
                             : print_text(NULL, outputs, in->count, width, 0, 0);
    free(outputs);
    return code;
}

static int predict(nerve_model *m, const char *weights_path, const char *input_path, bool json,
                   int top, const char *layer, bool invert)
{
    int code = cli_load_weights(m, weights_path);
    if (code) return code;
    samples in;
    nerve_error err = {0};
    nerve_status status = read_samples(m, input_path, invert, &in, &err);
    if (status) return cli_fail(&err, cli_exit_code(status));

    const nerve_model_settings *settings = nerve_model_settings_of(m);
    nerve_dataset ds = {.count = in.count,
                        .sample_shape = settings->input,
                        .sample_size = nerve_shape_numel(&settings->input),
                        .inputs = in.inputs};
    nerve_model_normalize(m, &ds);
    status = nerve_model_check_tokens(m, in.inputs, in.count, input_path, &err);
    if (status) {
        free(in.inputs);
        return cli_fail(&err, cli_exit_code(status));
    }
    if (layer) {
        code = print_layer(m, layer, &in, json);
        free(in.inputs);
        return code;
    }
    int64_t width = nerve_model_output_size(m);
    size_t rows = (size_t)(in.count > 0 ? in.count : 1);
    /* Room for two columns: a binary classifier's one output becomes two. */
    float *outputs = malloc(rows * (size_t)(width > 2 ? width : 2) * sizeof *outputs);
    if (!outputs)
        status = nerve_error_set(&err, NERVE_ERR_NOMEM, "out of memory for %lld predictions",
                                 (long long)in.count);
    else
        status = nerve_predict(m, in.inputs, in.count, outputs, &err);
    free(in.inputs);
    if (status) {
        free(outputs);
        return cli_fail(&err, cli_exit_code(status));
    }
    int classes = nerve_model_classes(m);
    if (classes == 2 && width == 1) { /* bce's one output is P(class 1) */
        for (int64_t i = in.count - 1; i >= 0; i--) {
            outputs[2 * i + 1] = outputs[i];
            outputs[2 * i] = 1 - outputs[i];
        }
        width = 2;
    }
    if (top > classes) top = classes;
    int64_t steps = nerve_model_label_steps(m);
    if (steps > 1)
        code = json ? print_steps_json(outputs, in.count, steps, classes)
                    : print_steps_text(outputs, in.count, steps, classes);
    else
        code = json ? print_json(m, outputs, in.count, width, classes, top)
                    : print_text(m, outputs, in.count, width, classes, top);
    free(outputs);
    return code;
}

int cmd_predict(int argc, char **argv)
{
    cli_list sets = {0};
    const char *weights_path = NULL, *input_path = NULL, *cfg_path, *layer = NULL;
    int64_t threads = 0, top = 0;
    const char *backend = NULL;
    bool json = false, invert = false;
    cli_option options[] = {
        CLI_STRING("--weights", "W", &weights_path, "the trained weights (required)"),
        CLI_STRING("--input", "FILE", &input_path,
            "IDX images, CSV rows or a PNG/JPEG image (required)"),
        CLI_INT("--top", "K", &top, 1, 1 << 20,
            "print the K most probable classes (default: every class's probability)"),
        CLI_FLAG("--json", &json, "print one JSON array on stdout (default: a table)"),
        CLI_FLAG("--invert", &invert,
            "an image's values become 255 - value: a dark object on a light ground for a "
            "network trained on light-on-dark images (MNIST, Fashion-MNIST)"),
        CLI_STRING("--layer", "NAME", &layer,
            "print that layer's outputs instead (after its activation; default: the network's)"),
        CLI_SET_OPTION(&sets),
        CLI_THREADS_OPTION(&threads),
        CLI_BACKEND_OPTION(&backend),
    };
    const int option_count = (int)(sizeof options / sizeof options[0]);
    int code = cli_parse(&predict_command, options, option_count, argc, argv, &cfg_path);
    if (code < 0 && !weights_path) code = cli_usage_error(&predict_command, "missing --weights W");
    if (code < 0 && !input_path) code = cli_usage_error(&predict_command, "missing --input FILE");
    if (code < 0) code = cli_set_backend(&predict_command, backend);
    if (code >= 0) {
        cli_list_free(&sets);
        return code;
    }
    cli_set_threads(threads);
    nerve_model *m;
    code = cli_load_model(cfg_path, sets.items, NULL, &m);
    cli_list_free(&sets);
    if (code) return code;
    if (top > 0 && nerve_model_classes(m) == 0)
        code = cli_usage_error(&predict_command, "--top is for classifiers; %s is a regression",
                               cfg_path);
    else if (top > 0 && layer)
        code = cli_usage_error(&predict_command, "--top is for the network's classes, not a "
                               "--layer's outputs");
    else if (top > 0 && nerve_model_label_steps(m) > 1)
        code = cli_usage_error(&predict_command, "--top is for one class per sample; %s predicts "
                               "one per step", cfg_path);
    else
        code = predict(m, weights_path, input_path, json, (int)top, layer, invert);
    nerve_model_free(m);
    return code;
}
