/* nerve's side of the benchmarks (bench/run.sh; docs/benchmarks.md): trains
 * the network of a .cfg through nerve_train and times only the training
 * steps, then times nerve_predict at batch 1 and batch 256 (0 calls: not
 * timed). bench_torch.py does the same work in PyTorch, step for step.
 *
 *   nerve_bench [--threads N] [--warmup STEPS] [--steps STEPS]
 *               [--infer1-calls N] [--infer256-calls N] [--tokens] [--load-only]
 *               [--profile] CFG
 *   nerve_bench [--threads N] --gemm-ceiling
 *
 * Prints one line: nerve train_samples_per_s=... infer1_samples_per_s=...
 * infer256_samples_per_s=... train_loss=... forward_flops=... (one sample's
 * forward FLOPs); with --tokens (sequence
 * models: a sample is a sequence of input tokens) train_tokens_per_s=...
 * train_loss=... forward_flops_per_token=...; with --load-only (start-up) only the seconds that loading
 * and normalising the training set took: data_load_s=...; --profile also
 * prints to stderr where the timed training steps and the batch-256 calls
 * spent their time, op by op (nerve_graph_set_profiling: each op then waits
 * for its kernels, so the rates printed are a little lower). --gemm-ceiling
 * prints the machine's sgemm rate instead (gemm_ceiling below):
 * nerve gemm_gflops=... */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nerve.h"

/* Inference work, the same in bench_torch.py: warm-up calls (a fortieth of
 * the timed ones, at least one), then the timed calls. */
#define INFER256_BATCH 256

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The timed window runs from the end of step warmup_steps to the end of step
 * warmup_steps + timed_steps: the steps before it absorb first-touch costs,
 * and loading the data happens before either. */
typedef struct step_clock {
    nerve_graph *profiled; /* --profile: the graph whose ops are timed, else NULL */
    int64_t warmup_steps, timed_steps;
    int64_t batch, train_count;
    int64_t timed_samples;
    double start, stop;
    double loss; /* the epoch's running mean at the last timed step */
} step_clock;

static void on_progress(const nerve_progress *p, void *user)
{
    step_clock *c = user;
    if (p->global_step == c->warmup_steps) {
        if (c->profiled) nerve_graph_set_profiling(c->profiled, true);
        c->start = seconds_now();
    }
    if (p->global_step <= c->warmup_steps) return;
    /* The last batch of an epoch holds what is left of the training set. */
    int64_t first = (p->step - 1) * c->batch;
    c->timed_samples += c->train_count - first < c->batch ? c->train_count - first : c->batch;
    if (p->global_step == c->warmup_steps + c->timed_steps) {
        c->stop = seconds_now();
        c->loss = p->loss;
        if (c->profiled) nerve_graph_set_profiling(c->profiled, false);
    }
}

/* --profile's table (stderr): each op's forward and backward milliseconds per
 * call of the timed window (`seconds` over `calls` steps or predictions),
 * the ops in graph order, then what the window spent outside the ops (the
 * optimizer step, gathering the batch, reading the loss). */
static void print_profile(nerve_graph *g, const char *what, double seconds, long calls)
{
    fprintf(stderr, "profile of %s: %ld calls, %.3f ms each\n", what, calls,
            1e3 * seconds / (double)calls);
    fprintf(stderr, "  %-24s %-20s %10s %10s %7s\n", "node", "op", "fwd ms", "bwd ms", "share");
    double in_ops = 0;
    for (nerve_node n = 0; n < nerve_graph_node_count(g); n++) {
        double forward, backward;
        nerve_node_profile(g, n, &forward, &backward);
        if (forward + backward == 0) continue;
        in_ops += forward + backward;
        fprintf(stderr, "  %-24s %-20s %10.3f %10.3f %6.1f%%\n", nerve_node_name(g, n),
                nerve_node_op_name(g, n), 1e3 * forward / (double)calls,
                1e3 * backward / (double)calls, 100 * (forward + backward) / seconds);
    }
    fprintf(stderr, "  %-45s %10.3f %6.1f%%\n", "outside the ops",
            1e3 * (seconds - in_ops) / (double)calls, 100 * (seconds - in_ops) / seconds);
}

/* Samples per second of `calls` predictions of `batch` consecutive training
 * samples each, after `warmup` untimed ones. The data set keeps IDX pixels
 * as bytes, so each batch is gathered (converted) first, outside the timed
 * part: only nerve_predict is timed. */
static nerve_status time_inference(nerve_model *m, const nerve_dataset *data, int64_t batch,
                                   int warmup, int calls, bool profile, double *samples_per_s,
                                   nerve_error *err)
{
    char text[32];
    snprintf(text, sizeof text, "%lld", (long long)batch);
    nerve_status set = nerve_model_set(m, "net.batch", text, err); /* nerve_predict's batch */
    if (set != NERVE_OK) return set;
    float *outputs = malloc((size_t)(batch * nerve_model_output_size(m)) * sizeof *outputs);
    float *inputs = malloc((size_t)(batch * data->sample_size) * sizeof *inputs);
    int64_t *index = malloc((size_t)batch * sizeof *index);
    nerve_status st = NERVE_OK;
    if (!outputs || !inputs || !index)
        st = nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory for the inference batches");
    int64_t batches_in_data = data->count / batch;
    double timed = 0;
    for (int i = 0; st == NERVE_OK && i < warmup + calls; i++) {
        for (int64_t k = 0; k < batch; k++) index[k] = (i % batches_in_data) * batch + k;
        nerve_dataset_gather(data, index, batch, inputs, NULL);
        if (i == warmup && profile) nerve_graph_set_profiling(nerve_model_graph(m), true);
        double start = seconds_now();
        st = nerve_predict(m, inputs, batch, outputs, err);
        if (i >= warmup) timed += seconds_now() - start;
    }
    if (profile && st == NERVE_OK) {
        nerve_graph_set_profiling(nerve_model_graph(m), false);
        char what[64];
        snprintf(what, sizeof what, "inference at batch %lld", (long long)batch);
        print_profile(nerve_model_graph(m), what, timed, calls);
    }
    *samples_per_s = (double)calls * (double)batch / timed;
    free(index);
    free(inputs);
    free(outputs);
    return st;
}

/* The peak resident memory of the process since it started or since the
 * last reset_peak_rss, in MiB (Linux's VmHWM); -1 where /proc has none. */
static double peak_rss_mib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kib = -1;
    while (kib < 0 && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kib) != 1) kib = -1;
    fclose(f);
    return kib < 0 ? -1 : (double)kib / 1024;
}

/* Starts the next phase's peak at what is resident now (writing 5 to
 * clear_refs resets VmHWM, and with it the ru_maxrss a parent's wait4 reads:
 * compare.py takes the largest phase as the process's peak). */
static bool reset_peak_rss(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return false;
    bool done = fputs("5", f) >= 0;
    return fclose(f) == 0 && done;
}

/* Appends " rss_<phase>_mib=N" to line: the phase's peak, then starts the
 * next phase's. Without a reset the next phases' peaks would include this
 * one, so they are left out (rss_phases = false). */
static void end_rss_phase(char *line, size_t size, const char *phase, bool *rss_phases)
{
    double peak = peak_rss_mib();
    if (!*rss_phases || peak < 0) return;
    size_t used = strlen(line);
    snprintf(line + used, size - used, " rss_%s_mib=%.1f", phase, peak);
    *rss_phases = reset_peak_rss();
}

static int warmup_calls(long calls) { return calls / 40 > 0 ? (int)(calls / 40) : 1; }

/* Times `calls` predictions at `batch`, none when calls is 0. */
static nerve_status time_calls(nerve_model *m, const nerve_dataset *data, int64_t batch,
                               long calls, bool profile, double *samples_per_s, nerve_error *err)
{
    if (calls == 0) return NERVE_OK;
    return time_inference(m, data, batch, warmup_calls(calls), (int)calls, profile,
                          samples_per_s, err);
}

static int usage(void)
{
    fprintf(stderr, "usage: nerve_bench [--threads N] [--warmup STEPS] [--steps STEPS] "
                    "[--infer1-calls N] [--infer256-calls N] [--tokens] [--load-only] "
                    "[--profile] CFG\n"
                    "       nerve_bench [--threads N] --gemm-ceiling\n");
    return 2;
}

static int fail(const nerve_error *err)
{
    fprintf(stderr, "nerve_bench: %s\n", err->message);
    return 1;
}

static int compare_seconds(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The machine's sgemm ceiling as nerve reaches it: a linear op of 1024
 * samples x 1024 features by a 1024 x 1024 weight (one 1024^3 GEMM through
 * the backend's gemm kernel, oneDNN's sgemm here), the median of 15 timed
 * calls after 3 warm-up calls. compare.py divides the achieved GFLOP/s by it
 * (the figure `make bench-gemm` measures, without needing OpenBLAS). */
static int gemm_ceiling(void)
{
    enum { SIDE = 1024, WARMUP = 3, CALLS = 15 };
    nerve_error err;
    nerve_graph *g = nerve_graph_new();
    if (!g) return 1;
    nerve_node x = nerve_input(g, "x", nerve_shape_1d(SIDE), &err);
    int64_t dims[2] = {SIDE, SIDE};
    nerve_node w = x < 0 ? -1 : nerve_param(g, "w", nerve_shape_make(2, dims), &err);
    nerve_node y = w < 0 ? -1 : nerve_linear(g, x, w, -1, &err);
    nerve_status st = y < 0 ? NERVE_ERR_INVALID : nerve_graph_plan_inference(g, SIDE, &err);
    if (st == NERVE_OK) {
        nerve_real *xv = nerve_node_value(g, x), *wv = nerve_node_value(g, w);
        for (int64_t i = 0; i < (int64_t)SIDE * SIDE; i++) {
            xv[i] = (nerve_real)((i * 7919 % 2001) / 1000.0 - 1);
            wv[i] = (nerve_real)((i * 104729 % 2001) / 1000.0 - 1);
        }
    }
    double seconds[CALLS];
    for (int call = 0; st == NERVE_OK && call < WARMUP + CALLS; call++) {
        double start = seconds_now();
        st = nerve_graph_forward(g, y, &err);
        if (call >= WARMUP) seconds[call - WARMUP] = seconds_now() - start;
    }
    nerve_graph_free(g);
    if (st != NERVE_OK) return fail(&err);
    qsort(seconds, CALLS, sizeof *seconds, compare_seconds);
    printf("nerve gemm_gflops=%.1f\n", 2.0 * SIDE * SIDE * SIDE / seconds[CALLS / 2] / 1e9);
    return 0;
}

int main(int argc, char **argv)
{
    long threads = 2, warmup = 100, steps = 938; /* 938 steps: two epochs' worth at batch 128 */
    long infer1_calls = 20000, infer256_calls = 400;
    const char *cfg = NULL;
    bool tokens = false, load_only = false, profile = false, ceiling = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--gemm-ceiling") == 0) {
            ceiling = true;
            continue;
        }
        if (strcmp(argv[i], "--tokens") == 0) {
            tokens = true;
            continue;
        }
        if (strcmp(argv[i], "--load-only") == 0) {
            load_only = true;
            continue;
        }
        if (strcmp(argv[i], "--profile") == 0) {
            profile = true;
            continue;
        }
        long *value = strcmp(argv[i], "--threads") == 0  ? &threads
                      : strcmp(argv[i], "--warmup") == 0 ? &warmup
                      : strcmp(argv[i], "--steps") == 0  ? &steps
                      : strcmp(argv[i], "--infer1-calls") == 0   ? &infer1_calls
                      : strcmp(argv[i], "--infer256-calls") == 0 ? &infer256_calls
                                                                 : NULL;
        if (!value) {
            if (cfg || argv[i][0] == '-') return usage();
            cfg = argv[i];
            continue;
        }
        char *end;
        if (i + 1 == argc) return usage();
        *value = strtol(argv[++i], &end, 10);
        bool inference = value == &infer1_calls || value == &infer256_calls;
        if (*end || *value < (inference ? 0 : 1)) return usage();
    }
    if (ceiling) {
        if (cfg) return usage();
        nerve_set_threads((int)threads);
        return gemm_ceiling();
    }
    if (!cfg) return usage();
    nerve_set_threads((int)threads);

    nerve_error err;
    nerve_model *m = NULL;
    nerve_dataset train = {0};
    if (nerve_model_load(cfg, NULL, &m, &err) != NERVE_OK) return fail(&err);
    double load_start = seconds_now();
    if (nerve_model_load_data(m, &train, NULL, NULL, &err) != NERVE_OK) {
        nerve_model_free(m);
        return fail(&err);
    }
    double load_seconds = seconds_now() - load_start;
    if (load_only) { /* start-up: reading and normalising the data set alone */
        printf("nerve data_load_s=%.4f samples=%lld\n", load_seconds, (long long)train.count);
        nerve_dataset_free(&train);
        nerve_model_free(m);
        return 0;
    }

    nerve_train_options options = nerve_train_options_from(m);
    step_clock clock = {.profiled = profile ? nerve_model_graph(m) : NULL,
                        .warmup_steps = warmup, .timed_steps = steps, .batch = options.batch,
                        .train_count = train.count};
    int64_t steps_per_epoch = (train.count + options.batch - 1) / options.batch;
    options.max_steps = warmup + steps;
    options.epochs = (int)((options.max_steps + steps_per_epoch - 1) / steps_per_epoch);
    options.on_progress = on_progress;
    options.user = &clock;
    double infer1 = 0, infer256 = 0;
    /* Each phase's peak resident memory: training (loading included), then
     * each inference batch size from what training left resident. */
    char rss[128] = "";
    bool rss_phases = true;
    nerve_status st = nerve_train(m, &train, NULL, &options, &err);
    end_rss_phase(rss, sizeof rss, "train", &rss_phases);
    if (st == NERVE_OK && profile)
        print_profile(nerve_model_graph(m), "the timed training steps", clock.stop - clock.start,
                      steps);
    if (st == NERVE_OK) st = time_calls(m, &train, 1, infer1_calls, false, &infer1, &err);
    if (infer1_calls > 0) end_rss_phase(rss, sizeof rss, "infer1", &rss_phases);
    if (st == NERVE_OK)
        st = time_calls(m, &train, INFER256_BATCH, infer256_calls, profile, &infer256, &err);
    if (infer256_calls > 0) end_rss_phase(rss, sizeof rss, "infer256", &rss_phases);
    int64_t tokens_per_sample = train.sample_size;
    /* The forward FLOPs of one sample (every op of the graph, the loss too):
     * compare.py turns them into GFLOP/s. */
    int64_t flops = 0;
    nerve_graph *g = nerve_model_graph(m);
    for (nerve_node n = 0; n < nerve_graph_node_count(g); n++) flops += nerve_node_flops(g, n);
    nerve_dataset_free(&train);
    nerve_model_free(m);
    if (st != NERVE_OK) return fail(&err);

    double samples_per_s = (double)clock.timed_samples / (clock.stop - clock.start);
    if (tokens) {
        printf("nerve train_tokens_per_s=%.1f train_loss=%.4f forward_flops_per_token=%lld%s\n",
               samples_per_s * (double)tokens_per_sample, clock.loss,
               (long long)(flops / tokens_per_sample), rss);
        return 0;
    }

    printf("nerve train_samples_per_s=%.1f infer1_samples_per_s=%.1f infer256_samples_per_s=%.1f "
           "train_loss=%.4f forward_flops=%lld%s\n",
           samples_per_s, infer1, infer256, clock.loss, (long long)flops, rss);
    return 0;
}
