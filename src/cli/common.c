/* What the commands share: error reporting and exit codes, threads, loading
 * a model and its weights, JSON output. */
#define _GNU_SOURCE /* sched_getaffinity */
#include <jansson.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

int cli_fail(const nerve_error *err, int exit_code)
{
    if (!cli_comm || nerve_comm_size(cli_comm) == 1) {
        fprintf(stderr, "nerve: %s\n", err->message);
        return exit_code;
    }
    bool together = err->status == NERVE_ERR_NUMERIC || err->status == NERVE_ERR_STOPPED;
    if (err->status != NERVE_ERR_PEER && (!together || nerve_comm_rank(cli_comm) == 0))
        fprintf(stderr, "nerve: rank %d: %s\n", nerve_comm_rank(cli_comm), err->message);
    return exit_code;
}

int cli_exit_code(nerve_status status)
{
    switch (status) {
    case NERVE_OK: return CLI_EXIT_OK;
    case NERVE_ERR_NOMEM:
    case NERVE_ERR_PEER: return CLI_EXIT_FAILURE;
    case NERVE_ERR_NUMERIC: return CLI_EXIT_NUMERIC;
    default: return CLI_EXIT_INPUT;
    }
}

int cli_train_exit_code(nerve_status status)
{
    if (status == NERVE_ERR_IO) return CLI_EXIT_FAILURE;
    if (status == NERVE_ERR_STOPPED) return 128 + (cli_stop_signal ? cli_stop_signal : SIGINT);
    return cli_exit_code(status);
}

void cli_set_threads(int64_t threads)
{
    /* The CPUs this process may run on: all online ones, or those mpirun
     * bound a rank to. */
    cpu_set_t allowed;
    if (threads <= 0 && sched_getaffinity(0, sizeof allowed, &allowed) == 0)
        threads = CPU_COUNT(&allowed);
    if (threads <= 0) {
        long online = sysconf(_SC_NPROCESSORS_ONLN);
        threads = online > 0 ? online : 1;
    }
    nerve_set_threads((int)threads);
}

static char backend_override[64];

int cli_set_backend(const cli_command *command, const char *name)
{
    if (!name) return -1;
    char list[128] = "";
    for (int i = 0; i < nerve_backend_count(); i++) {
        const char *known = nerve_backend_name(i);
        size_t length = strlen(known);
        /* "cuda:1": a GPU's ordinal, which the library checks when it opens it */
        bool ordinal = strcmp(known, "cuda") == 0 && strncmp(name, known, length) == 0 &&
                       name[length] == ':' && name[length + 1] >= '0' && name[length + 1] <= '9';
        if (strcmp(name, known) == 0 || ordinal) {
            snprintf(backend_override, sizeof backend_override, "net.backend=%s", name);
            return -1;
        }
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", nerve_backend_name(i));
    }
    return cli_usage_error(command, "--backend: unknown backend '%s' (available: %s)", name, list);
}

const char *cli_backend_override(void) { return backend_override[0] ? backend_override : NULL; }

static int count_items(const char *const *list)
{
    int n = 0;
    while (list && list[n]) n++;
    return n;
}

int cli_load_model(const char *cfg_path, const char *const *sets, const char *const *extra,
                   nerve_model **out)
{
    *out = NULL;
    int set_count = count_items(sets), extra_count = count_items(extra);
    const char **overrides = calloc((size_t)set_count + (size_t)extra_count + 2,
                                    sizeof *overrides);
    if (!overrides) {
        fprintf(stderr, "nerve: out of memory\n");
        return CLI_EXIT_FAILURE;
    }
    /* The command's own flags (--epochs, ...) come last so that they win
     * over a --set of the same key. */
    for (int i = 0; i < set_count; i++) overrides[i] = sets[i];
    for (int i = 0; i < extra_count; i++) overrides[set_count + i] = extra[i];
    overrides[set_count + extra_count] = cli_backend_override();
    nerve_error err = {0};
    nerve_status status = nerve_model_load(cfg_path, overrides, out, &err);
    free(overrides);
    if (status) {
        *out = NULL;
        return cli_fail(&err, cli_exit_code(status));
    }
    return CLI_EXIT_OK;
}

int cli_load_weights(nerve_model *m, const char *weights_path)
{
    nerve_error err = {0};
    nerve_status status = nerve_model_load_weights(m, weights_path, &err);
    return status ? cli_fail(&err, cli_exit_code(status)) : CLI_EXIT_OK;
}

/* The shortest text that reads back as v: "optimizer.lr=0.1" in messages,
 * not 0.10000000000000001. */
static void format_real(double v, char *buf, size_t size)
{
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(buf, size, "%.*g", precision, v);
        if (strtod(buf, NULL) == v) return;
    }
}

int cli_train_flags_check(const cli_command *command, const cli_option *options,
                          const cli_train_flags *f)
{
    if (options[CLI_TRAIN_OPT_LOG_EVERY].given && !f->log_path)
        return cli_usage_error(command, "--log-every needs --log FILE.csv");
    if (options[CLI_TRAIN_OPT_EVERY].given && !f->checkpoint_path)
        return cli_usage_error(command, "--every needs --checkpoint FILE");
    if (f->resume_path && f->init_path)
        return cli_usage_error(command, "--resume continues a run: it cannot take --init");
    if (f->on_nan && strcmp(f->on_nan, "stop") != 0 && strcmp(f->on_nan, "skip") != 0)
        return cli_usage_error(command, "--on-nan expects stop or skip, got '%s'", f->on_nan);
    return cli_set_backend(command, f->backend);
}

void cli_train_flags_overrides(const cli_option *options, const cli_train_flags *f,
                               cli_train_overrides *o)
{
    int n = 0;
    char lr_text[32];
    if (options[CLI_TRAIN_OPT_EPOCHS].given)
        snprintf(o->text[n++], sizeof o->text[0], "net.epochs=%lld", (long long)f->epochs);
    if (options[CLI_TRAIN_OPT_BATCH].given)
        snprintf(o->text[n++], sizeof o->text[0], "net.batch=%lld", (long long)f->batch);
    if (options[CLI_TRAIN_OPT_SEED].given)
        snprintf(o->text[n++], sizeof o->text[0], "net.seed=%lld", (long long)f->seed);
    if (options[CLI_TRAIN_OPT_LR].given) {
        format_real(f->lr, lr_text, sizeof lr_text);
        snprintf(o->text[n++], sizeof o->text[0], "optimizer.lr=%s", lr_text);
    }
    for (int i = 0; i < n; i++) o->items[i] = o->text[i];
    o->items[n] = NULL;
}

/* Training's warnings (a skipped step, early stopping, a target reached)
 * are the same on every rank, which take the same decisions: rank 0's. */
static void print_warning(const char *message, void *user)
{
    if (cli_dist_root()) fprintf(stderr, "nerve: warning: %s\n", message);
}

void cli_train_flags_apply(const cli_train_flags *f, nerve_train_options *t)
{
    t->max_steps = f->steps;
    t->no_shuffle = f->no_shuffle;
    t->log_path = f->log_path;
    t->log_every = f->log_every;
    t->checkpoint_path = f->checkpoint_path;
    t->checkpoint_every = f->every;
    t->resume_path = f->resume_path;
    t->on_nan = f->on_nan && strcmp(f->on_nan, "skip") == 0 ? NERVE_ON_NAN_SKIP : NERVE_ON_NAN_STOP;
    t->on_warning = print_warning;
    t->stop_flag = &cli_stop_signal;
    t->comm = cli_comm;
    t->batch_per_rank = f->batch_per_rank;
    /* ZeRO-1 trains the same as ZeRO-0 (bit for bit, tests/dist) with half
     * the optimizer's work per rank on 2 (docs/distributed.md, "ZeRO-1");
     * buckets all-reduce instead. */
    t->zero = f->zero != CLI_ZERO_DEFAULT ? (int)f->zero
                                          : cli_comm && nerve_comm_size(cli_comm) > 1 &&
                                                f->bucket_mb <= 0;
    t->bucket_mb = f->bucket_mb;
}

static bool epochs_set(const cli_option *options, const cli_train_flags *f)
{
    if (options[CLI_TRAIN_OPT_EPOCHS].given) return true;
    for (int i = 0; i < f->sets.count; i++)
        if (strncmp(f->sets.items[i], "net.epochs", 10) == 0) return true;
    return false;
}

/* ", what A -> B" after *used in buf. */
static void add_change(char *buf, size_t size, const char *what, const char *was, const char *is)
{
    size_t used = strlen(buf);
    if (strcmp(was, is) != 0 && used < size)
        snprintf(buf + used, size - used, "%s%s %s -> %s", used ? ", " : "", what, was, is);
}

static void add_real_change(char *buf, size_t size, const char *what, double was, double is)
{
    char a[32], b[32];
    format_real(was, a, sizeof a);
    format_real(is, b, sizeof b);
    add_change(buf, size, what, a, b);
}

int cli_train_resume(const nerve_model *m, const cli_option *options, const cli_train_flags *f,
                     nerve_train_options *t)
{
    nerve_checkpoint_info info;
    nerve_error err = {0};
    nerve_status status = nerve_checkpoint_info_read(t->resume_path, &info, &err);
    if (status) return cli_fail(&err, cli_exit_code(status));
    printf("resuming %s: epoch %d, step %lld of the epoch, %lld steps done\n", t->resume_path,
           info.epoch, (long long)info.epoch_step, (long long)info.global_step);
    if (info.epochs == 0) return CLI_EXIT_OK; /* an older checkpoint: no settings recorded */
    if (!epochs_set(options, f)) t->epochs = info.epochs;
    const nerve_model_settings *s = nerve_model_settings_of(m);
    char changes[1024] = "", a[16], b[16], schedule[256];
    add_real_change(changes, sizeof changes, "lr", info.base_lr, s->optimizer.lr);
    add_change(changes, sizeof changes, "schedule", info.schedule,
               nerve_schedule_describe(&s->schedule, schedule, sizeof schedule));
    snprintf(a, sizeof a, "%d", info.epochs);
    snprintf(b, sizeof b, "%d", t->epochs);
    add_change(changes, sizeof changes, "epochs", a, b);
    add_real_change(changes, sizeof changes, "clip_norm", info.clip_norm, s->optimizer.clip_norm);
    add_real_change(changes, sizeof changes, "clip_value", info.clip_value,
                    s->optimizer.clip_value);
    add_change(changes, sizeof changes, "on-nan", info.on_nan == NERVE_ON_NAN_SKIP ? "skip" : "stop",
               t->on_nan == NERVE_ON_NAN_SKIP ? "skip" : "stop");
    if (changes[0])
        printf("resume changes %s, from step %lld on\n", changes, (long long)info.global_step + 1);
    fflush(stdout);
    return CLI_EXIT_OK;
}

json_t *cli_json_number(double v) { return isfinite(v) ? json_real(v) : json_null(); }

int cli_json_print(json_t *value)
{
    char *text = value ? json_dumps(value, JSON_REAL_PRECISION(8)) : NULL;
    json_decref(value);
    if (!text) {
        fprintf(stderr, "nerve: out of memory writing JSON\n");
        return CLI_EXIT_FAILURE;
    }
    puts(text);
    free(text);
    return CLI_EXIT_OK;
}

size_t cli_buffer_values(const nerve_graph *g)
{
    size_t count = 0;
    for (nerve_node n = 0; n < nerve_graph_node_count(g); n++) {
        if (!nerve_node_is_buffer(g, n)) continue;
        nerve_shape shape = nerve_node_shape(g, n);
        count += (size_t)nerve_shape_numel(&shape);
    }
    return count;
}

void cli_format_parameters(const nerve_graph *g, char *buf, size_t size)
{
    size_t buffered = cli_buffer_values(g), learnt = nerve_graph_param_count(g) - buffered;
    if (buffered)
        snprintf(buf, size, "%zu parameters + %zu in buffers", learnt, buffered);
    else
        snprintf(buf, size, "%zu parameters", learnt);
}
