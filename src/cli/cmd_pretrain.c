/* nerve pretrain: greedy layer-wise autoencoder pre-training of a network's
 * hidden dense layers (nerve_pretrain), saved as an ordinary weights file
 * that nerve train --init fine-tunes. */
#include <stdio.h>

#include "cli/cli.h"

static const cli_command pretrain_command = {
    "pretrain", "CFG",
    "Pre-trains the hidden dense layers of CFG, bottom up, each as the encoder of an "
    "autoencoder, and saves the weights for nerve train --init.",
    "Each hidden [dense] layer learns to reconstruct its input: the training set (less\n"
    "[data] validation) passed through the layers below it, already pre-trained. The\n"
    "decoder is a sigmoid layer when every input lies in [0, 1], linear otherwise; the\n"
    "[optimizer] of CFG trains it on the squared reconstruction error. The output layer\n"
    "stays as initialised. Prints each layer's reconstruction error (the MSE per value)\n"
    "before and after.\n"
    "--noise P makes each a denoising autoencoder: inputs zeroed with probability P."};

static void print_epoch(const nerve_pretrain_report *r, void *user)
{
    (void)user;
    printf("layer %d/%d %s: epoch %d/%d loss %.5f (%.1f s)\n", r->index, r->count, r->layer,
           r->epoch, r->epochs, r->loss, r->seconds);
    fflush(stdout);
}

static void print_layer(const nerve_pretrain_report *r, void *user)
{
    (void)user;
    printf("layer %d/%d %s (%lld -> %lld, %s decoder): reconstruction MSE %.5f -> %.5f in "
           "%.1f s\n",
           r->index, r->count, r->layer, (long long)r->inputs, (long long)r->units,
           r->sigmoid_decoder ? "sigmoid" : "linear", r->start_loss, r->end_loss, r->seconds);
    fflush(stdout);
}

static int pretrain_and_save(nerve_model *m, const char *cfg_path,
                             const nerve_pretrain_options *options, const char *save_path)
{
    int code = cli_check_save_directory(save_path);
    if (code) return code;
    nerve_dataset train = {0};
    nerve_error err = {0};
    nerve_status status = nerve_model_load_data(m, &train, NULL, NULL, &err);
    if (status) return cli_fail(&err, cli_exit_code(status));
    printf("%s: pre-training on %lld samples, %d epoch%s per layer, batch %lld, noise %g, "
           "lr %g\n",
           cfg_path, (long long)train.count, options->epochs, options->epochs == 1 ? "" : "s",
           (long long)(options->batch ? options->batch : train.count), options->noise,
           options->lr);
    fflush(stdout);
    status = nerve_pretrain(m, &train, options, &err);
    code = status ? cli_fail(&err, cli_exit_code(status)) : cli_save_weights(m, save_path);
    nerve_dataset_free(&train);
    return code;
}

int cmd_pretrain(int argc, char **argv)
{
    cli_list sets = {0};
    int64_t epochs = 0, batch = 0, seed = 0, threads = 0;
    const char *backend = NULL;
    double noise = 0, lr = 0;
    const char *save_path = NULL, *cfg_path;
    cli_option options[] = {
        CLI_SET_OPTION(&sets),
        CLI_STRING("--save", "W", &save_path, "save the pre-trained weights to W (required)"),
        CLI_INT("--epochs", "N", &epochs, 1, 1 << 20, "epochs per layer (default: [net] epochs)"),
        CLI_REAL("--noise", "P", &noise,
                 "masking noise: zero each input with probability P < 1 (default: none)"),
        CLI_INT("--batch", "N", &batch, 1, 1 << 20, "batch size (default: [net] batch)"),
        CLI_REAL("--lr", "X", &lr, "learning rate (default: [optimizer] lr)"),
        CLI_INT("--seed", "N", &seed, 0, INT64_MAX,
                "seed of the shuffling, the noise and the decoders (default: [net] seed)"),
        CLI_THREADS_OPTION(&threads),
        CLI_BACKEND_OPTION(&backend),
    };
    enum { OPT_SET, OPT_SAVE, OPT_EPOCHS, OPT_NOISE, OPT_BATCH, OPT_LR, OPT_SEED };
    const int option_count = (int)(sizeof options / sizeof options[0]);
    int code = cli_parse(&pretrain_command, options, option_count, argc, argv, &cfg_path);
    if (code < 0 && !save_path)
        code = cli_usage_error(&pretrain_command, "--save W is required: the pre-trained weights "
                                                  "are its result");
    if (code < 0 && noise >= 1)
        code = cli_usage_error(&pretrain_command, "--noise must be below 1, got %g", noise);
    if (code < 0) code = cli_set_backend(&pretrain_command, backend);
    if (code >= 0) {
        cli_list_free(&sets);
        return code;
    }
    cli_set_threads(threads);
    nerve_model *m;
    code = cli_load_model(cfg_path, sets.items, NULL, &m);
    cli_list_free(&sets);
    if (code) return code;
    nerve_pretrain_options o = nerve_pretrain_options_from(m);
    if (options[OPT_EPOCHS].given) o.epochs = (int)epochs;
    if (options[OPT_BATCH].given) o.batch = batch;
    if (options[OPT_LR].given) o.lr = lr;
    if (options[OPT_SEED].given) o.seed = (uint64_t)seed;
    o.noise = noise;
    o.on_epoch = print_epoch;
    o.on_layer = print_layer;
    code = pretrain_and_save(m, cfg_path, &o, save_path);
    nerve_model_free(m);
    return code;
}
