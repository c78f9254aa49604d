/* The pieces the nerve commands share: exit codes, the commands' entry
 * points, and loading a model and its weights the same way in every
 * command. docs/cli.md is the user's view of all of it. */
#ifndef NERVE_CLI_H
#define NERVE_CLI_H

#include <jansson.h>

#include "nerve.h"

#include "cli/options.h"

/* The exit status of every command (docs/cli.md, "Exit codes"). */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILURE = 1, /* training diverged, out of memory, a write failed */
    CLI_EXIT_USAGE = 2,   /* bad command line */
    CLI_EXIT_INPUT = 3    /* invalid config, data, weights or image file */
};

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_augment(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_distill(int argc, char **argv);

/* Prints "nerve: <message>" on stderr and returns exit_code. */
int cli_fail(const nerve_error *err, int exit_code);
/* The exit code for a library failure: out of memory and a non-finite loss
 * are runtime failures, anything else is a bad file or config. */
int cli_exit_code(nerve_status status);

/* nerve_set_threads(threads), or the number of online CPUs when threads is 0. */
void cli_set_threads(int64_t threads);

/* Loads cfg_path with the --set assignments of sets followed by extra (both
 * NULL-terminated, either may be NULL). On failure prints the message and
 * returns the exit code; *out is NULL then. */
int cli_load_model(const char *cfg_path, const char *const *sets, const char *const *extra,
                   nerve_model **out);
/* Loads the weights (and the normalisation they were trained with) into m. */
int cli_load_weights(nerve_model *m, const char *weights_path);

/* The flags of train and distill that stand for config entries, as
 * overrides: --epochs, --batch, --seed and --lr are net.epochs=N,
 * net.batch=N, net.seed=N and optimizer.lr=X (each NULL when not given).
 * items is NULL-terminated and points into text. */
typedef struct cli_train_overrides {
    char text[4][48];
    const char *items[5];
} cli_train_overrides;
void cli_train_overrides_make(cli_train_overrides *o, const int64_t *epochs,
                              const int64_t *batch, const int64_t *seed, const double *lr);

/* What train and distill share (cmd_train.c): that the directory of path
 * can be written, checked before training; saving the weights; the test
 * set's loss and accuracy. Each returns an exit code. */
int cli_check_save_directory(const char *path);
int cli_save_weights(nerve_model *m, const char *path);
int cli_evaluate_test(nerve_model *m, const nerve_dataset *test);

/* JSON has no NaN or infinity (and jansson refuses them): those are null. */
json_t *cli_json_number(double v);
/* Prints value on one line of stdout and releases it (NULL is out of memory). */
int cli_json_print(json_t *value);

#endif
