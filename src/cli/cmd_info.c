/* nerve info: the layers of a network with their output shapes, parameters
 * and forward FLOPs, without loading any data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const cli_command info_command = {
    "info", "CFG", "Prints the layers of the network CFG describes: type, output shape per "
                   "sample,\nparameters and forward FLOPs per sample, and their totals.",
    NULL};

typedef struct layer_row {
    const char *name, *type;
    char shape[64];
    int64_t parameters, flops;
} layer_row;

/* A layer's nodes are those built after the previous layer's output, up to
 * its own output: its parameters and the ops that compute it. Buffers
 * (running statistics) are state, not parameters, as in PyTorch's
 * parameters(): the totals count them apart. */
static void measure_layer(nerve_graph *g, nerve_node first, nerve_node last, layer_row *row)
{
    row->parameters = row->flops = 0;
    for (nerve_node n = first; n <= last; n++) {
        if (nerve_node_is_buffer(g, n)) continue;
        if (nerve_node_is_param(g, n)) {
            nerve_shape shape = nerve_node_shape(g, n);
            row->parameters += nerve_shape_numel(&shape);
        } else {
            row->flops += nerve_node_flops(g, n);
        }
    }
    /* Activations carry the batch in their first dimension. */
    nerve_shape shape = nerve_node_shape(g, last), sample = {0};
    sample.ndim = shape.ndim > 0 ? shape.ndim - 1 : 0;
    for (int i = 0; i < sample.ndim; i++) sample.dim[i] = shape.dim[i + 1];
    if (sample.ndim == 0)
        snprintf(row->shape, sizeof row->shape, "1");
    else
        nerve_shape_format(&sample, row->shape, sizeof row->shape);
}

static void format_bytes(double bytes, char *buf, size_t size)
{
    static const char *const units[] = {"bytes", "KiB", "MiB", "GiB"};
    int unit = 0;
    while (bytes >= 1024 && unit < 3) {
        bytes /= 1024;
        unit++;
    }
    if (unit == 0)
        snprintf(buf, size, "%.0f %s", bytes, units[unit]);
    else
        snprintf(buf, size, "%.1f %s", bytes, units[unit]);
}

static int max_int(int a, int b) { return a > b ? a : b; }

static int number_width(int64_t value)
{
    char text[32];
    return snprintf(text, sizeof text, "%lld", (long long)value);
}

/* rows[0] is the input, rows[1..count] the layers. */
static void print_table(const layer_row *rows, int count)
{
    int name_w = (int)strlen("layer"), type_w = (int)strlen("type");
    int shape_w = (int)strlen("output"), param_w = (int)strlen("parameters");
    int flops_w = (int)strlen("FLOPs");
    for (int i = 0; i <= count; i++) {
        name_w = max_int(name_w, (int)strlen(rows[i].name));
        type_w = max_int(type_w, (int)strlen(rows[i].type));
        shape_w = max_int(shape_w, (int)strlen(rows[i].shape));
        param_w = max_int(param_w, number_width(rows[i].parameters));
        flops_w = max_int(flops_w, number_width(rows[i].flops));
    }
    printf("%-*s  %-*s  %-*s  %*s  %*s\n", name_w, "layer", type_w, "type", shape_w, "output",
           param_w, "parameters", flops_w, "FLOPs");
    for (int i = 0; i <= count; i++)
        printf("%-*s  %-*s  %-*s  %*lld  %*lld\n", name_w, rows[i].name, type_w, rows[i].type,
               shape_w, rows[i].shape, param_w, (long long)rows[i].parameters, flops_w,
               (long long)rows[i].flops);
}

/* The backends compiled in, the network's marked. */
static void print_backends(const nerve_graph *g)
{
    printf("backend: %s (available:", nerve_graph_backend(g));
    for (int i = 0; i < nerve_backend_count(); i++)
        printf("%s%s", i ? ", " : " ", nerve_backend_name(i));
    printf(")\n");
    /* The GPUs, where the CUDA backend is built in. */
    for (int i = 0; i < nerve_backend_count(); i++) {
        if (strcmp(nerve_backend_name(i), "cuda") != 0) continue;
        int count = nerve_cuda_device_count();
        char text[512];
        if (count == 0) {
            /* why: the module, its libraries or the driver (describe says) */
            nerve_cuda_device_describe(0, text, sizeof text);
            printf("cuda: no CUDA GPU available%s%s%s\n", *text ? " (" : "", text,
                   *text ? ")" : "");
        }
        for (int k = 0; k < count; k++) {
            nerve_cuda_device_describe(k, text, sizeof text);
            printf("cuda:%d: %s\n", k, text);
        }
    }
}

/* The memory plan's arena for a training step and for inference at the
 * [net] batch (docs/architecture.md, "Memory"). */
static void print_arena(nerve_graph *g, int64_t batch)
{
    size_t training, inference;
    nerve_error err;
    if (batch < 1) batch = 1;
    if (nerve_graph_plan_bytes(g, batch, true, &training, &err) != NERVE_OK ||
        nerve_graph_plan_bytes(g, batch, false, &inference, &err) != NERVE_OK)
        return;
    char train_text[32], infer_text[32];
    format_bytes((double)training, train_text, sizeof train_text);
    format_bytes((double)inference, infer_text, sizeof infer_text);
    printf("arena at batch %lld: %s training, %s inference\n", (long long)batch, train_text,
           infer_text);
}

static int print_layers(nerve_model *m, const char *cfg_path)
{
    nerve_graph *g = nerve_model_graph(m);
    const nerve_model_settings *settings = nerve_model_settings_of(m);
    int count = nerve_model_layer_count(m);
    layer_row *rows = calloc((size_t)count + 1, sizeof *rows);
    if (!rows) {
        fprintf(stderr, "nerve: out of memory\n");
        return CLI_EXIT_FAILURE;
    }
    rows[0].name = rows[0].type = "input";
    nerve_shape_format(&settings->input, rows[0].shape, sizeof rows[0].shape);
    int64_t total_flops = 0;
    nerve_node previous = nerve_model_input(m);
    for (int i = 0; i < count; i++) {
        layer_row *row = &rows[i + 1];
        row->name = nerve_model_layer_name(m, i);
        row->type = nerve_model_layer_type(m, i);
        nerve_node node = nerve_model_layer_node(m, i);
        measure_layer(g, previous + 1, node, row);
        previous = node;
        total_flops += row->flops;
    }

    printf("%s: input %s, ", cfg_path, rows[0].shape);
    const char *loss = nerve_loss_name(settings->loss);
    if (nerve_model_classes(m) > 0)
        printf("%d classes, loss %s\n\n", nerve_model_classes(m), loss);
    else
        printf("%lld outputs, loss %s\n\n", (long long)nerve_model_output_size(m), loss);
    print_table(rows, count);
    free(rows);
    char bytes[32], parameters[96];
    format_bytes((double)nerve_graph_param_count(g) * sizeof(float), bytes, sizeof bytes);
    cli_format_parameters(g, parameters, sizeof parameters);
    printf("\ntotal: %s (%s of float32 weights), %lld FLOPs per sample (forward)\n", parameters,
           bytes, (long long)total_flops);
    print_arena(g, settings->batch);
    print_backends(g);
    return CLI_EXIT_OK;
}

int cmd_info(int argc, char **argv)
{
    cli_list sets = {0};
    const char *cfg_path, *backend = NULL;
    cli_option options[] = {
        CLI_SET_OPTION(&sets),
        CLI_BACKEND_OPTION(&backend),
    };
    int code = cli_parse(&info_command, options, 2, argc, argv, &cfg_path);
    if (code < 0) code = cli_set_backend(&info_command, backend);
    if (code >= 0) {
        cli_list_free(&sets);
        return code;
    }
    nerve_model *m;
    code = cli_load_model(cfg_path, sets.items, NULL, &m);
    cli_list_free(&sets);
    if (code) return code;
    code = print_layers(m, cfg_path);
    nerve_model_free(m);
    return code;
}
