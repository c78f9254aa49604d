/* Strict option parsing: a typo must not silently train with a default. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int cli_usage_error(const cli_command *command, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    fprintf(stderr, "nerve %s: ", command->name);
    vfprintf(stderr, fmt, args);
    fprintf(stderr, " (see nerve %s --help)\n", command->name);
    va_end(args);
    return CLI_EXIT_USAGE;
}

void cli_list_free(cli_list *list)
{
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

/* Options with a second name: --device is --backend (a GPU is a device). */
static const char *const aliases[][2] = {{"--device", "--backend"}};

static cli_option *find_option(cli_option *options, int count, const char *name, size_t length)
{
    for (int i = 0; i < count; i++)
        if (strlen(options[i].name) == length && strncmp(options[i].name, name, length) == 0)
            return &options[i];
    for (size_t a = 0; a < sizeof aliases / sizeof aliases[0]; a++)
        if (strlen(aliases[a][0]) == length && strncmp(aliases[a][0], name, length) == 0)
            return find_option(options, count, aliases[a][1], strlen(aliases[a][1]));
    return NULL;
}

/* Whole decimal numbers only: "10", not "10k", "1e3" or " 10". */
static bool parse_int(const char *text, int64_t *out)
{
    if (!*text || *text == ' ' || *text == '\t' || *text == '+') return false;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (*end || errno == ERANGE) return false;
    *out = v;
    return true;
}

static bool parse_real(const char *text, double *out)
{
    if (!*text || *text == ' ' || *text == '\t') return false;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (*end || errno == ERANGE || !isfinite(v)) return false;
    *out = v;
    return true;
}

static int list_add(const cli_command *command, cli_list *list, const char *item, int capacity)
{
    if (!list->items) {
        list->items = calloc((size_t)capacity + 1, sizeof *list->items);
        if (!list->items) {
            fprintf(stderr, "nerve %s: out of memory\n", command->name);
            return CLI_EXIT_FAILURE;
        }
    }
    list->items[list->count++] = item;
    return -1;
}

static int set_value(const cli_command *command, cli_option *option, const char *value,
                     int capacity)
{
    switch (option->kind) {
    case CLI_OPTION_FLAG:
        *(bool *)option->value = true;
        return -1;
    case CLI_OPTION_STRING:
        if (!*value) return cli_usage_error(command, "%s needs a non-empty %s", option->name,
                                            option->value_name);
        *(const char **)option->value = value;
        return -1;
    case CLI_OPTION_INT: {
        int64_t v;
        if (!parse_int(value, &v))
            return cli_usage_error(command, "%s expects a whole number, got '%s'", option->name,
                                   value);
        if (v < option->min || v > option->max)
            return cli_usage_error(command, "%s must be between %lld and %lld, got %lld",
                                   option->name, (long long)option->min,
                                   (long long)option->max, (long long)v);
        *(int64_t *)option->value = v;
        return -1;
    }
    case CLI_OPTION_REAL: {
        double v;
        if (!parse_real(value, &v))
            return cli_usage_error(command, "%s expects a number, got '%s'", option->name, value);
        if (!(v > 0))
            return cli_usage_error(command, "%s must be positive, got '%s'", option->name, value);
        *(double *)option->value = v;
        return -1;
    }
    case CLI_OPTION_LIST:
        return list_add(command, option->value, value, capacity);
    }
    return -1;
}

/* "unknown option '--epoch', did you mean '--epochs'?" */
static int unknown_option(const cli_command *command, const cli_option *options, int option_count,
                          const char *arg, size_t name_length)
{
    char word[64];
    snprintf(word, sizeof word, "%.*s", (int)name_length, arg);
    const char *names[128];
    int n = 0;
    for (int i = 0; i < option_count && n < 127; i++) names[n++] = options[i].name;
    names[n++] = "--help";
    const char *closest = nerve_closest_name(word, names, n);
    if (closest)
        return cli_usage_error(command, "unknown option '%.*s', did you mean '%s'?",
                               (int)name_length, arg, closest);
    return cli_usage_error(command, "unknown option '%.*s'", (int)name_length, arg);
}

int cli_parse(const cli_command *command, cli_option *options, int option_count, int argc,
              char **argv, const char **positional)
{
    int count;
    return cli_parse_many(command, options, option_count, argc, argv, positional, 1, &count);
}

int cli_parse_many(const cli_command *command, cli_option *options, int option_count, int argc,
                   char **argv, const char **positionals, int capacity, int *count)
{
    *count = 0;
    positionals[0] = NULL;
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            cli_print_help(command, options, option_count, stdout);
            return CLI_EXIT_OK;
        }
    }
    bool options_ended = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (options_ended || arg[0] != '-' || arg[1] == '\0') {
            if (*count == capacity || !command->positional)
                return cli_usage_error(command, "unexpected argument '%s'", arg);
            positionals[(*count)++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            options_ended = true;
            continue;
        }
        /* "--name value" or "--name=value" */
        const char *equals = strchr(arg, '=');
        size_t name_length = equals ? (size_t)(equals - arg) : strlen(arg);
        cli_option *option = find_option(options, option_count, arg, name_length);
        if (!option) return unknown_option(command, options, option_count, arg, name_length);
        if (option->given && option->kind != CLI_OPTION_LIST)
            return cli_usage_error(command, "option '%s' given twice", option->name);
        option->given = true;
        const char *value = NULL;
        if (option->kind == CLI_OPTION_FLAG) {
            if (equals) return cli_usage_error(command, "option '%s' takes no value", option->name);
        } else if (equals) {
            value = equals + 1;
        } else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) {
            /* "--save --epochs 3" forgot the file name; "--save=--x" is the
             * way to name a file that starts with "--". */
            value = argv[++i];
        } else {
            return cli_usage_error(command, "option '%s' needs a value %s", option->name,
                                   option->value_name);
        }
        int status = set_value(command, option, value, argc);
        if (status >= 0) return status;
    }
    if (!*count && command->positional)
        return cli_usage_error(command, "missing %s", command->positional);
    return -1;
}

void cli_print_help(const cli_command *command, const cli_option *options, int option_count,
                    FILE *out)
{
    fprintf(out, "usage: nerve %s%s%s [options]\n\n%s\n", command->name,
            command->positional ? " " : "", command->positional ? command->positional : "",
            command->summary);
    if (command->description) fprintf(out, "\n%s\n", command->description);
    int width = (int)strlen("-h, --help");
    for (int i = 0; i < option_count; i++) {
        int w = (int)strlen(options[i].name);
        if (options[i].value_name) w += 1 + (int)strlen(options[i].value_name);
        if (w > width) width = w;
    }
    fprintf(out, "\noptions:\n");
    for (int i = 0; i < option_count; i++) {
        char left[128];
        snprintf(left, sizeof left, "%s%s%s", options[i].name, options[i].value_name ? " " : "",
                 options[i].value_name ? options[i].value_name : "");
        fprintf(out, "  %-*s  %s\n", width, left, options[i].help);
    }
    fprintf(out, "  %-*s  %s\n", width, "-h, --help", "show this help and exit");
}

int cli_flag_as_positional(int argc, char **argv, const char *flag)
{
    size_t len = strlen(flag);
    int n = 0;
    for (int i = 0; i < argc; i++) {
        if (i > 0 && strcmp(argv[i], flag) == 0) continue;
        bool joined = i > 0 && strncmp(argv[i], flag, len) == 0 && argv[i][len] == '=';
        argv[n++] = joined ? argv[i] + len + 1 : argv[i];
    }
    return n;
}
