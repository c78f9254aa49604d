/* nerve import: an ONNX model as a .cfg and safetensors weights (docs/onnx.md). */
#include <stdio.h>

#include "cli/cli.h"

static const cli_command import_command = {
    "import", "MODEL.onnx",
    "Converts an ONNX model that nerve can express into a .cfg and its weights.",
    "The graph must be one nerve builds: the operators of docs/onnx.md, in the\n"
    "shapes nerve export and torch.onnx.export give them. Anything else is an\n"
    "error naming the node, its operator and the opset. The cfg has [net] and the\n"
    "layers; add [data], [optimizer] and [loss] settings to train it further."};

int cmd_import(int argc, char **argv)
{
    const char *cfg_path = NULL, *weights_path = NULL, *onnx_path;
    cli_option options[] = {
        CLI_STRING("--cfg", "OUT.cfg", &cfg_path, "the network config to write (required)"),
        CLI_STRING("--weights", "OUT.safetensors", &weights_path,
                   "the weights to write (required)"),
    };
    const int option_count = (int)(sizeof options / sizeof options[0]);
    int code = cli_parse(&import_command, options, option_count, argc, argv, &onnx_path);
    if (code < 0 && !cfg_path) code = cli_usage_error(&import_command, "missing --cfg OUT.cfg");
    if (code < 0 && !weights_path)
        code = cli_usage_error(&import_command, "missing --weights OUT.safetensors");
    if (code >= 0) return code;
    nerve_error err = {0};
    nerve_status status = nerve_onnx_import(onnx_path, cfg_path, weights_path, &err);
    if (status)
        return cli_fail(&err, status == NERVE_ERR_IO || status == NERVE_ERR_NOMEM
                                  ? CLI_EXIT_FAILURE
                                  : CLI_EXIT_INPUT);
    return CLI_EXIT_OK;
}
