/* nerve export: a network and its weights as an ONNX model (docs/onnx.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const cli_command export_command = {
    "export", "CFG",
    "Writes the network of CFG with the weights W as an ONNX model (IR version 8).",
    "The model takes \"input\" [N, sample...] as the data files hold it (the [data]\n"
    "normalisation is applied inside unless --no-normalize) and gives \"probabilities\"\n"
    "(what nerve predict reports) or, with --logits or for regression, \"output\".\n"
    "Layers ONNX cannot express are an error naming the layer. docs/onnx.md lists\n"
    "the operators each layer becomes."};

/* "dynamic" or a batch size, 1..2^31. */
static bool parse_batch(const char *text, int64_t *batch)
{
    if (strcmp(text, "dynamic") == 0) {
        *batch = 0;
        return true;
    }
    char *end;
    long long v = strtoll(text, &end, 10);
    if (end == text || *end || v < 1 || v > (1LL << 31)) return false;
    *batch = v;
    return true;
}

int cmd_export(int argc, char **argv)
{
    cli_list sets = {0};
    const char *weights_path = NULL, *onnx_path = NULL, *batch_text = "dynamic", *cfg_path;
    int64_t opset = 17;
    bool logits = false, no_normalize = false;
    cli_option options[] = {
        CLI_STRING("--weights", "W", &weights_path, "the trained weights (required)"),
        CLI_STRING("--onnx", "OUT.onnx", &onnx_path, "the ONNX file to write, atomically (required)"),
        CLI_INT("--opset", "N", &opset, 13, 17, "the ONNX opset of the default domain (default: 17)"),
        CLI_FLAG("--logits", &logits,
                 "output the last layer itself, not the probabilities (default: as predict)"),
        CLI_FLAG("--no-normalize", &no_normalize,
                 "leave the [data] normalisation out of the model (default: included)"),
        CLI_STRING("--batch", "N|dynamic", &batch_text,
                   "a fixed batch size, or a symbolic one (default: dynamic)"),
        CLI_SET_OPTION(&sets),
    };
    const int option_count = (int)(sizeof options / sizeof options[0]);
    int code = cli_parse(&export_command, options, option_count, argc, argv, &cfg_path);
    int64_t batch = 0;
    if (code < 0 && !weights_path) code = cli_usage_error(&export_command, "missing --weights W");
    if (code < 0 && !onnx_path) code = cli_usage_error(&export_command, "missing --onnx OUT.onnx");
    if (code < 0 && !parse_batch(batch_text, &batch))
        code = cli_usage_error(&export_command, "--batch: '%s' is neither a size >= 1 nor dynamic",
                               batch_text);
    if (code >= 0) {
        cli_list_free(&sets);
        return code;
    }
    nerve_model *m;
    code = cli_load_model(cfg_path, sets.items, NULL, &m);
    cli_list_free(&sets);
    if (code) return code;
    code = cli_load_weights(m, weights_path);
    if (code == CLI_EXIT_OK) {
        nerve_onnx_export_options o = {.opset = (int)opset, .logits = logits,
                                       .no_normalize = no_normalize, .batch = batch};
        nerve_error err = {0};
        nerve_status status = nerve_model_export_onnx(m, onnx_path, &o, &err);
        if (status)
            code = cli_fail(&err, status == NERVE_ERR_IO ? CLI_EXIT_FAILURE : cli_exit_code(status));
    }
    nerve_model_free(m);
    return code;
}
