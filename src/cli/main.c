/* nerve: the command-line trainer. Dispatches to one command per file. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"train", cmd_train, "train a network from a .cfg file and save its weights"},
    {"eval", cmd_eval, "loss, accuracy and confusion matrix of weights on a data set"},
    {"predict", cmd_predict, "classify IDX images, CSV rows or a PNG/JPEG image"},
    {"info", cmd_info, "layers, output shapes, parameters and FLOPs of a network"},
    {"augment", cmd_augment, "a PNG grid of training images as [augment] changes them"},
    {"generate", cmd_generate, "sample text from a character model"},
    {"distill", cmd_distill, "train a student network on a teacher's softened outputs"},
    {"gan", cmd_gan, "train a generator against a discriminator (a GAN)"},
    {"pretrain", cmd_pretrain, "greedy layer-wise autoencoder pre-training of hidden layers"},
    {"export", cmd_export, "write a network and its weights as an ONNX model"},
    {"import", cmd_import, "convert an ONNX model into a .cfg and safetensors weights"},
    {"inspect", cmd_inspect, "per-tensor statistics and filter images of a weights file"},
    {"plot", cmd_plot, "line charts, histograms and heat maps of metrics logs (PNG, SVG)"},
    {"comm-bench", cmd_comm_bench, "all-reduce time and bandwidth between MPI ranks"},
};
#define COMMAND_COUNT (int)(sizeof commands / sizeof commands[0])

static void print_usage(FILE *out)
{
    fprintf(out, "usage: nerve COMMAND CFG [options]\n\ncommands:\n");
    for (int i = 0; i < COMMAND_COUNT; i++)
        fprintf(out, "  %-10s  %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "  %-10s  %s\n", "help", "this list, or 'nerve help COMMAND': a command's options");
    fprintf(out,
            "\n'nerve COMMAND --help' lists a command's options and their defaults.\n"
            "'nerve --version' prints the version.\n"
            "Exit status: 0 success, 1 runtime failure (e.g. a file cannot be written), 2 bad\n"
            "command line, 3 invalid config, data, weights or image file, 4 training stopped\n"
            "on a non-finite loss or gradient, 130 / 143 training stopped by SIGINT / SIGTERM\n"
            "(docs/errors.md).\n");
}

static int find_command(const char *name)
{
    for (int i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(commands[i].name, name) == 0) return i;
    return -1;
}

static int unknown_command(const char *name)
{
    fprintf(stderr, "nerve: unknown command '%s' (see nerve --help)\n", name);
    return CLI_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        print_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0) {
        printf("nerve %s\n", NERVE_VERSION);
        return CLI_EXIT_OK;
    }
    if (strcmp(name, "help") == 0) {
        if (argc == 2) {
            print_usage(stdout);
            return CLI_EXIT_OK;
        }
        int k = find_command(argv[2]);
        if (k < 0) return unknown_command(argv[2]);
        char *help_argv[] = {argv[2], "--help", NULL};
        return commands[k].run(2, help_argv);
    }
    if (name[0] == '-') {
        fprintf(stderr, "nerve: unknown option '%s' (see nerve --help)\n", name);
        return CLI_EXIT_USAGE;
    }
    int k = find_command(name);
    if (k < 0) return unknown_command(name);
    int code = cli_dist_start();
    if (!code) code = commands[k].run(argc - 1, argv + 1);
    cli_dist_end();
    return code;
}
