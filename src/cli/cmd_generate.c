/* nerve generate: samples text from a character model, one character at a
 * time, the recurrent state carried from each to the next. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "model/data_format.h"

static const cli_command generate_command = {
    "generate", "CFG",
    "Samples text from the character model CFG describes, with the weights W.",
    "Runs the network one character at a time ([net] input = 1, no bptt), its\n"
    "recurrent state carried from each character to the next: it reads the --prime\n"
    "text, then draws --length characters from softmax(logits / temperature), each\n"
    "fed back in, and prints the prime and the characters drawn. The vocabulary\n"
    "comes from W (nerve train saves it with [data] format = text)."};

/* Emitted characters go to stdout as UTF-8. */
static void print_char(uint32_t c, void *user)
{
    char utf8[4];
    fwrite(utf8, 1, (size_t)nerve_utf8_encode(c, utf8), stdout);
}

static bool parse_temperature(const char *text, double *out)
{
    char *end;
    errno = 0;
    *out = strtod(text, &end);
    return end != text && !*end && errno != ERANGE && isfinite(*out) && *out >= 0;
}

/* The cfg with the sequence length set to one character. A network that
 * cannot run on one character at a time (a dense layer over the whole
 * window) fails here, and the message says why the input changed. */
static int load_model(const char *cfg_path, const char *const *sets, nerve_model **out)
{
    static const char *const one_step[] = {"net.input=1", "net.bptt=0", "net.batch=1", NULL};
    int set_count = 0;
    while (sets && sets[set_count]) set_count++;
    const char **overrides = calloc((size_t)set_count + 5, sizeof *overrides);
    if (!overrides) {
        fprintf(stderr, "nerve: out of memory\n");
        return CLI_EXIT_FAILURE;
    }
    for (int i = 0; i < set_count; i++) overrides[i] = sets[i];
    for (int i = 0; one_step[i]; i++) overrides[set_count + i] = one_step[i];
    overrides[set_count + 3] = cli_backend_override();
    nerve_error err = {0};
    nerve_status status = nerve_model_load(cfg_path, overrides, out, &err);
    free(overrides);
    if (!status) return CLI_EXIT_OK;
    fprintf(stderr, "nerve: %s (generate runs the network on one character at a time: "
                    "[net] input = 1)\n", err.message);
    return cli_exit_code(status);
}

static int generate(const char *cfg_path, const char *const *sets, const char *weights_path,
                    const char *prime, int64_t length, double temperature, const int64_t *seed)
{
    nerve_model *m;
    int code = load_model(cfg_path, sets, &m);
    if (code) return code;
    const data_format *format = nerve_model_data_format(m);
    if (!format->characters) {
        fprintf(stderr, "nerve: %s: [data] format is %s; generate samples character models "
                        "([data] format = text)\n", cfg_path, format->name);
        nerve_model_free(m);
        return CLI_EXIT_INPUT;
    }
    code = cli_load_weights(m, weights_path);
    nerve_error err = {0};
    nerve_text prime_text = {0};
    nerve_status status = NERVE_OK;
    if (!code && prime) status = nerve_text_decode(prime, strlen(prime), "--prime", &prime_text,
                                                   &err);
    if (!code && !status) {
        nerve_generate_options o = {.prime = prime_text.chars,
                                    .prime_length = prime_text.length,
                                    .length = length,
                                    .temperature = temperature,
                                    .seed = seed ? (uint64_t)*seed
                                                 : nerve_model_settings_of(m)->seed,
                                    .emit = print_char};
        status = nerve_model_generate(m, &o, &err);
        if (!status) putchar('\n');
        /* What the weights hold (their vocabulary, their width) is at fault:
         * name them. */
        nerve_error plain = err;
        if (status) nerve_error_set(&err, status, "%s: %s", weights_path, plain.message);
    }
    if (!code && status) {
        /* Nothing half-printed stays on the line the message follows. */
        fflush(stdout);
        code = cli_fail(&err, cli_exit_code(status));
    }
    nerve_text_free(&prime_text);
    nerve_model_free(m);
    return code;
}

int cmd_generate(int argc, char **argv)
{
    cli_list sets = {0};
    const char *weights_path = NULL, *prime = NULL, *temperature_text = "1", *cfg_path;
    int64_t length = 200, seed = 0, threads = 0;
    const char *backend = NULL;
    cli_option options[] = {
        CLI_STRING("--weights", "W", &weights_path, "the trained weights (required)"),
        CLI_STRING("--prime", "TEXT", &prime,
            "UTF-8 text fed first and printed (default: a character drawn uniformly)"),
        CLI_INT("--length", "N", &length, 0, 1 << 24, "characters to draw (default: 200)"),
        CLI_STRING("--temperature", "X", &temperature_text,
            "divides the logits; 0 always takes the most likely character (default: 1)"),
        CLI_INT("--seed", "N", &seed, 0, INT64_MAX, "seeds the sampling (default: [net] seed)"),
        CLI_SET_OPTION(&sets),
        CLI_THREADS_OPTION(&threads),
        CLI_BACKEND_OPTION(&backend),
    };
    enum { OPT_WEIGHTS, OPT_PRIME, OPT_LENGTH, OPT_TEMPERATURE, OPT_SEED };
    const int option_count = (int)(sizeof options / sizeof options[0]);
    int code = cli_parse(&generate_command, options, option_count, argc, argv, &cfg_path);
    double temperature = 1;
    if (code < 0 && !weights_path)
        code = cli_usage_error(&generate_command, "--weights W is required");
    if (code < 0 && !parse_temperature(temperature_text, &temperature))
        code = cli_usage_error(&generate_command,
                               "--temperature expects a number >= 0, got '%s'", temperature_text);
    if (code < 0) code = cli_set_backend(&generate_command, backend);
    if (code < 0) {
        cli_set_threads(threads);
        code = generate(cfg_path, sets.items, weights_path, prime, length, temperature,
                        options[OPT_SEED].given ? &seed : NULL);
    }
    cli_list_free(&sets);
    return code;
}
