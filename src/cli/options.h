/* A small, strict command-line parser shared by the commands: each command
 * describes its options in a table, the parser fills the values and rejects
 * unknown options, missing or malformed values and repeated options. */
#ifndef NERVE_CLI_OPTIONS_H
#define NERVE_CLI_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef enum cli_option_kind {
    CLI_OPTION_FLAG,   /* bool, takes no value */
    CLI_OPTION_STRING, /* const char * */
    CLI_OPTION_INT,    /* int64_t within [min, max] */
    CLI_OPTION_REAL,   /* double, finite and positive */
    CLI_OPTION_LIST    /* cli_list: the option may be repeated */
} cli_option_kind;

/* The values of a repeatable option, in command-line order. */
typedef struct cli_list {
    const char **items; /* NULL-terminated once anything was added, else NULL */
    int count;
} cli_list;

typedef struct cli_option {
    const char *name;       /* "--epochs" */
    const char *value_name; /* "N" in the help; NULL for flags */
    cli_option_kind kind;
    void *value;            /* bool *, const char **, int64_t *, double * or cli_list * */
    int64_t min, max;       /* CLI_OPTION_INT only */
    const char *help;       /* one line, ending with the default where there is one */
    bool given;             /* set by the parser */
} cli_option;

/* Table entries, one macro per kind. */
#define CLI_FLAG(name, target, help) \
    {(name), NULL, CLI_OPTION_FLAG, (bool *){target}, 0, 0, (help), false}
#define CLI_STRING(name, value_name, target, help) \
    {(name), (value_name), CLI_OPTION_STRING, (const char **){target}, 0, 0, (help), false}
#define CLI_INT(name, value_name, target, min, max, help) \
    {(name), (value_name), CLI_OPTION_INT, (int64_t *){target}, (min), (max), (help), false}
#define CLI_REAL(name, value_name, target, help) \
    {(name), (value_name), CLI_OPTION_REAL, (double *){target}, 0, 0, (help), false}
#define CLI_LIST(name, value_name, target, help) \
    {(name), (value_name), CLI_OPTION_LIST, (cli_list *){target}, 0, 0, (help), false}
/* The options every command that loads a model shares. */
#define CLI_SET_OPTION(target)                                                                \
    CLI_LIST("--set", "SECTION.KEY=VALUE", target,                                            \
             "override a config entry (repeatable); SECTION is a settings section or a "      \
             "layer's name")
#define CLI_THREADS_OPTION(target) \
    CLI_INT("--threads", "N", target, 1, 4096, "threads (default: the CPUs this process may run on)")
#define CLI_BACKEND_OPTION(target)                                                            \
    CLI_STRING("--backend", "cpu|ref|cuda[:N]", target,                                      \
               "the backend (device) every network runs on, also --device; cuda:N is GPU "  \
               "N (default: [net] backend, else NERVE_BACKEND, else cpu)")

typedef struct cli_command {
    const char *name;        /* "train" */
    const char *positional;  /* the one required argument, "CFG"; NULL: none */
    const char *summary;     /* one line */
    const char *description; /* paragraphs for --help, or NULL */
} cli_command;

/* Parses argv[1..argc) (argv[0] is the command's name). -h and --help print
 * the help on stdout. Returns -1 when the command should run, otherwise the
 * exit code: 0 after the help, CLI_EXIT_USAGE after printing the problem. */
int cli_parse(const cli_command *command, cli_option *options, int option_count, int argc,
              char **argv, const char **positional);
/* cli_parse for a command that takes up to capacity positional arguments
 * (at least one): they go to positionals[0..*count). */
int cli_parse_many(const cli_command *command, cli_option *options, int option_count, int argc,
                   char **argv, const char **positionals, int capacity, int *count);
void cli_print_help(const cli_command *command, const cli_option *options, int option_count,
                    FILE *out);
/* Prints "nerve <command>: <message> (see nerve <command> --help)" and
 * returns CLI_EXIT_USAGE, for problems the table cannot express. */
int cli_usage_error(const cli_command *command, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void cli_list_free(cli_list *list);
/* For a command whose one argument reads as a flag ("--student S.cfg"):
 * drops the word `flag` (and the "flag=" of "flag=VALUE") from argv, which
 * leaves the value as the positional argument; returns the new argc. */
int cli_flag_as_positional(int argc, char **argv, const char *flag);

#endif
