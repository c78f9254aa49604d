/* The pieces the nerve commands share: exit codes, the commands' entry
 * points, and loading a model and its weights the same way in every
 * command. docs/cli.md is the user's view of all of it. */
#ifndef NERVE_CLI_H
#define NERVE_CLI_H

#include <jansson.h>
#include <signal.h>

#include "nerve.h"

#include "cli/options.h"
#include "io/config.h"
#include "model/model_settings.h"

/* The exit status of every command (docs/cli.md, "Exit codes"). */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILURE = 1, /* training diverged, out of memory, a write failed */
    CLI_EXIT_USAGE = 2,   /* bad command line */
    CLI_EXIT_INPUT = 3,   /* invalid config, data, weights or image file */
    CLI_EXIT_NUMERIC = 4  /* training stopped on a non-finite loss or gradient */
    /* 128 + N: training stopped by signal N (130 SIGINT, 143 SIGTERM) after
     * writing its checkpoint (cli_train_exit_code). */
};

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_augment(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_distill(int argc, char **argv);
int cmd_gan(int argc, char **argv);
int cmd_pretrain(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_comm_bench(int argc, char **argv);

/* Prints "nerve: <message>" on stderr and returns exit_code. Under MPI the
 * message says "rank R:"; a failure every rank meets together (a
 * non-finite loss, a stop) is printed by rank 0 alone, and NERVE_ERR_PEER
 * (the failing rank printed its own) not at all. */
int cli_fail(const nerve_error *err, int exit_code);

/* Distributed runs (distributed.c): cli_dist_start initialises MPI when an
 * MPI launcher started the process (cli_comm then holds its ranks, NULL
 * otherwise) and silences stdout on ranks other than 0; cli_dist_end
 * finalises it. cli_dist_root: whether this process prints and writes
 * files. cli_dist_agree(code): a collective; code where it is non-zero here,
 * otherwise 1 when another rank's code is non-zero (that rank printed why). */
extern nerve_comm *cli_comm;
int cli_dist_start(void);
void cli_dist_end(void);
bool cli_dist_root(void);
int cli_dist_agree(int code);
/* The exit code for a library failure: out of memory is a runtime failure,
 * a non-finite loss or gradient a numerical stop, anything else a bad file
 * or config. */
int cli_exit_code(nerve_status status);
/* The exit code for a failed nerve_train: a file that cannot be written
 * (log, checkpoint) is a runtime failure, a stop on a signal 128 + the
 * signal, anything else as cli_exit_code. */
int cli_train_exit_code(nerve_status status);

/* Makes SIGINT and SIGTERM request a stop of training (stop_signals.c): a
 * thread of its own takes them and records the signal in cli_stop_signal,
 * which nerve_train_options.stop_flag points to; a second signal ends the
 * process at once. Call it before any other thread starts (before the first
 * parallel loop), so that every thread blocks the signals. */
extern volatile sig_atomic_t cli_stop_signal;
void cli_catch_stop_signals(void);

/* nerve_set_threads(threads), or when threads is 0 the number of CPUs the
 * process may run on (its affinity: all online CPUs, or the cores mpirun
 * bound a rank to). */
void cli_set_threads(int64_t threads);

/* --backend NAME (NULL: not given): every model loaded after this runs on
 * that backend, as if each cfg said [net] backend = NAME. Returns -1, or
 * after a usage error naming the backends there are, its exit code. */
int cli_set_backend(const cli_command *command, const char *name);
/* "net.backend=NAME" once cli_set_backend took a name, else NULL: the last
 * override of every model the command loads. */
const char *cli_backend_override(void);

/* Loads cfg_path with the --set assignments of sets followed by extra (both
 * NULL-terminated, either may be NULL). On failure prints the message and
 * returns the exit code; *out is NULL then. */
int cli_load_model(const char *cfg_path, const char *const *sets, const char *const *extra,
                   nerve_model **out);
/* Loads the weights (and the normalisation they were trained with) into m. */
int cli_load_weights(nerve_model *m, const char *weights_path);

/* The training flags train and distill share: --set, --epochs, --batch,
 * --lr, --seed, --threads, --backend, --init, --save, --log, --log-every, --steps,
 * --no-shuffle, --checkpoint, --every, --resume and --on-nan. CLI_TRAIN_OPTIONS(flags, who, saved) puts their
 * CLI_TRAIN_OPTION_COUNT entries, in that order, into a command's option
 * table; `who` and `saved` word the help of --init ("start <who>from the
 * weights in W") and --save ("save <saved> to W"). */
typedef struct cli_train_flags {
    cli_list sets;
    int64_t epochs, batch, seed, threads, steps, log_every, every;
    double lr;
    const char *backend, *init_path, *save_path, *log_path, *checkpoint_path, *resume_path, *on_nan;
    bool no_shuffle, batch_per_rank;
    int64_t zero; /* CLI_ZERO_DEFAULT until --zero is given */
    double bucket_mb;
} cli_train_flags;
#define CLI_ZERO_DEFAULT (-1)

enum {
    CLI_TRAIN_OPT_SET, CLI_TRAIN_OPT_EPOCHS, CLI_TRAIN_OPT_BATCH, CLI_TRAIN_OPT_LR,
    CLI_TRAIN_OPT_SEED, CLI_TRAIN_OPT_THREADS, CLI_TRAIN_OPT_BACKEND, CLI_TRAIN_OPT_INIT, CLI_TRAIN_OPT_SAVE,
    CLI_TRAIN_OPT_LOG, CLI_TRAIN_OPT_LOG_EVERY, CLI_TRAIN_OPT_STEPS, CLI_TRAIN_OPT_NO_SHUFFLE,
    CLI_TRAIN_OPT_CHECKPOINT, CLI_TRAIN_OPT_EVERY, CLI_TRAIN_OPT_RESUME, CLI_TRAIN_OPT_ON_NAN,
    CLI_TRAIN_OPT_BATCH_PER_RANK, CLI_TRAIN_OPT_ZERO, CLI_TRAIN_OPT_BUCKET_MB,
    CLI_TRAIN_OPTION_COUNT
};

#define CLI_TRAIN_OPTIONS(f, who, saved)                                                      \
    CLI_SET_OPTION(&(f)->sets),                                                               \
    CLI_INT("--epochs", "N", &(f)->epochs, 0, 1 << 20, "epochs (default: [net] epochs)"),     \
    CLI_INT("--batch", "N", &(f)->batch, 1, 1 << 20, "batch size (default: [net] batch)"),    \
    CLI_REAL("--lr", "X", &(f)->lr, "learning rate (default: [optimizer] lr)"),              \
    CLI_INT("--seed", "N", &(f)->seed, 0, INT64_MAX,                                          \
            "seed of the initial weights and the shuffling (default: [net] seed)"),           \
    CLI_THREADS_OPTION(&(f)->threads),                                                        \
    CLI_BACKEND_OPTION(&(f)->backend),                                                        \
    CLI_STRING("--init", "W", &(f)->init_path,                                                \
               "start " who "from the weights in W (default: initialise from the seed)"),     \
    CLI_STRING("--save", "W", &(f)->save_path,                                                \
               "save " saved " to W, atomically (default: not saved)"),                       \
    CLI_STRING("--log", "FILE.csv", &(f)->log_path,                                           \
               "write training metrics as CSV (default: none)"),                              \
    CLI_INT("--log-every", "N", &(f)->log_every, 1, INT64_MAX,                                \
            "also log every N steps (default: once per epoch)"),                              \
    CLI_INT("--steps", "N", &(f)->steps, 1, INT64_MAX,                                        \
            "stop after N steps in all (default: no limit)"),                                 \
    CLI_FLAG("--no-shuffle", &(f)->no_shuffle,                                                \
             "keep the file's sample order (default: reshuffle every epoch)"),                \
    CLI_STRING("--checkpoint", "FILE", &(f)->checkpoint_path,                                 \
               "keep the whole training state in FILE, atomically (default: none)"),          \
    CLI_INT("--every", "N", &(f)->every, 1, INT64_MAX,                                        \
            "write the checkpoint every N steps (default: at every epoch's end)"),            \
    CLI_STRING("--resume", "FILE", &(f)->resume_path,                                         \
               "continue the run a --checkpoint FILE holds (default: start afresh)"),         \
    CLI_STRING("--on-nan", "stop|skip", &(f)->on_nan,                                         \
               "on a non-finite loss or gradient: stop, or skip the step (default: stop)"),   \
    CLI_FLAG("--batch-per-rank", &(f)->batch_per_rank,                                        \
             "under MPI, batch is each rank's: the global batch is ranks x batch "            \
             "(default: batch is the global batch)"),                                         \
    CLI_INT("--zero", "0|1", &(f)->zero, 0, 1,                                                \
            "under MPI, 1: shard the optimizer state over the ranks (ZeRO-1); the same "      \
            "training (default: 1 on several ranks, 0 with --bucket-mb)"),                     \
    CLI_REAL("--bucket-mb", "X", &(f)->bucket_mb,                                             \
             "under MPI, all-reduce the gradients in buckets of about X MiB while backward "  \
             "runs (default: one all-reduce after it)")

/* After cli_parse, with `options` the first of the CLI_TRAIN_OPTIONS
 * entries: a usage error for --log-every without --log, --every without
 * --checkpoint, --resume with --init or an --on-nan other than stop or skip
 * (its exit code), or -1 when the flags are fine. */
int cli_train_flags_check(const cli_command *command, const cli_option *options,
                          const cli_train_flags *f);

/* --epochs, --batch, --seed and --lr, those given, as the config overrides
 * net.epochs=N, net.batch=N, net.seed=N and optimizer.lr=X. items is
 * NULL-terminated and points into text. */
typedef struct cli_train_overrides {
    char text[4][48];
    const char *items[5];
} cli_train_overrides;
void cli_train_flags_overrides(const cli_option *options, const cli_train_flags *f,
                               cli_train_overrides *o);

/* The flags that are training options (--steps, --no-shuffle, --log,
 * --log-every, --checkpoint, --every, --resume, --on-nan) set in t; warnings
 * go to stderr, and SIGINT and SIGTERM stop training (t->stop_flag is
 * cli_stop_signal: the command calls cli_catch_stop_signals first). */
void cli_train_flags_apply(const cli_train_flags *f, nerve_train_options *t);

/* For --resume (t->resume_path): prints where the checkpoint continues and
 * what this run changes of its settings (lr, schedule, epochs, clipping,
 * --on-nan), and takes the checkpoint's epochs when the command line sets
 * none (--epochs, --set net.epochs). Returns an exit code. */
int cli_train_resume(const nerve_model *m, const cli_option *options, const cli_train_flags *f,
                     nerve_train_options *t);

/* What train and distill share (cmd_train.c): that the directory of path
 * can be written, checked before training; saving the weights; the test
 * set's loss and accuracy. Each returns an exit code. */
int cli_check_save_directory(const char *path);
int cli_save_weights(nerve_model *m, const char *path);
int cli_evaluate_test(nerve_model *m, const nerve_dataset *test);

/* The values of g's buffers (batch norm's running statistics), stored with
 * the parameters but not learnt; and "63 parameters + 9 in buffers" (or
 * "63 parameters"), the one way every command counts a network's values. */
size_t cli_buffer_values(const nerve_graph *g);
void cli_format_parameters(const nerve_graph *g, char *buf, size_t size);

/* JSON has no NaN or infinity (and jansson refuses them): those are null. */
json_t *cli_json_number(double v);
/* Prints value on one line of stdout and releases it (NULL is out of memory). */
int cli_json_print(json_t *value);

#endif
