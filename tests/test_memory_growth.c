/* Memory does not grow across epochs. Three models train for several epochs
 * with a validation pass after each (a CNN with batch norm, dropout and
 * augmentation; an MLP; an LSTM over a text stream with carried state). At
 * each epoch's end the test reads the process's peak and current RSS
 * (/proc/self/status) and the bytes malloc has handed out (mallinfo2).
 * From the second epoch on, none of them may grow: everything a step or an
 * evaluation needs was allocated before, or is freed again. The first epoch
 * is the warm-up (first-touched arena pages, oneDNN's primitive cache).
 * Sanitizers and valgrind keep freed memory in quarantine and replace
 * malloc, so under them the test still trains (and leak-checks) but skips
 * the comparison. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif
#ifndef UNDER_SANITIZER
#define UNDER_SANITIZER 0
#endif

#define EPOCHS 6
/* Allowance for glibc's arenas trimming and extending at different moments. */
#define RSS_SLACK_KIB 1024
/* The C library and OpenMP's runtime settle a few small blocks in the first
 * epochs (about 160 bytes seen); a per-epoch buffer would be far larger. */
#define HEAP_SLACK_BYTES 16384

typedef struct epoch_memory {
    long peak_kib[EPOCHS], current_kib[EPOCHS];
    size_t heap_bytes[EPOCHS];
} epoch_memory;

/* A field of /proc/self/status in KiB ("VmHWM:", "VmRSS:"), -1 if absent. */
static long status_kib(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kib = -1;
    size_t len = strlen(field);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, len) == 0) {
            kib = strtol(line + len, NULL, 10);
            break;
        }
    fclose(f);
    return kib;
}

/* Restarts the peak (VmHWM) at the current RSS, so that each model's peaks
 * are its own and not an earlier test's (Linux >= 4.0). */
static void reset_peak_rss(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return;
    fputs("5", f);
    fclose(f);
}

static void record_memory(const nerve_epoch_report *r, void *user)
{
    epoch_memory *mem = user;
    int i = r->epoch - 1;
    mem->peak_kib[i] = status_kib("VmHWM:");
    mem->current_kib[i] = status_kib("VmRSS:");
    struct mallinfo2 heap = mallinfo2();
    mem->heap_bytes[i] = heap.uordblks + heap.hblkhd; /* small blocks + mmapped ones */
}

static void assert_flat(const char *model, const epoch_memory *mem)
{
    for (int i = 0; i < EPOCHS; i++)
        printf("%s epoch %d: peak %ld KiB, current %ld KiB, heap %zu bytes\n", model, i + 1,
               mem->peak_kib[i], mem->current_kib[i], mem->heap_bytes[i]);
    /* valgrind replaces malloc too (mallinfo2 then reads 0) and, like the
     * sanitizers, holds freed blocks back for a while. */
    if (UNDER_SANITIZER || mem->heap_bytes[1] == 0) return;
    assert_true(mem->peak_kib[1] > 0);
    for (int i = 2; i < EPOCHS; i++) {
        if (mem->peak_kib[i] > mem->peak_kib[1] + RSS_SLACK_KIB)
            fail_msg("%s: peak RSS grew from %ld KiB after epoch 2 to %ld KiB after epoch %d",
                     model, mem->peak_kib[1], mem->peak_kib[i], i + 1);
        if (mem->current_kib[i] > mem->current_kib[1] + RSS_SLACK_KIB)
            fail_msg("%s: RSS grew from %ld KiB after epoch 2 to %ld KiB after epoch %d", model,
                     mem->current_kib[1], mem->current_kib[i], i + 1);
        if (mem->heap_bytes[i] > mem->heap_bytes[1] + HEAP_SLACK_BYTES)
            fail_msg("%s: malloc'd bytes went from %zu after epoch 2 to %zu after epoch %d",
                     model, mem->heap_bytes[1], mem->heap_bytes[i], i + 1);
    }
}

static nerve_model *load(const char *name, const char *cfg)
{
    const char *path = test_tmppath(name);
    test_write_file(path, cfg, strlen(cfg));
    nerve_model *m;
    nerve_error err = {0};
    test_require_ok(nerve_model_load(path, NULL, &m, &err), &err);
    return m;
}

/* count images of side x side, or count vectors of side values, labelled by
 * the sign of their first half's sum against the second's. */
static nerve_dataset make_images(int64_t count, int side, int channels, uint64_t seed)
{
    nerve_rng rng;
    nerve_rng_seed(&rng, seed);
    int64_t size = (int64_t)channels * side * side;
    nerve_dataset ds = {0};
    ds.count = count;
    ds.sample_shape = (nerve_shape){3, {channels, side, side}};
    ds.sample_size = size;
    ds.target_size = 1;
    ds.num_classes = 2;
    ds.inputs = malloc((size_t)(count * size) * sizeof(float));
    ds.targets = malloc((size_t)count * sizeof(float));
    assert_non_null(ds.inputs);
    assert_non_null(ds.targets);
    for (int64_t i = 0; i < count; i++) {
        double balance = 0;
        for (int64_t j = 0; j < size; j++) {
            float v = (float)nerve_rng_uniform(&rng);
            ds.inputs[i * size + j] = v;
            balance += j < size / 2 ? v : -v;
        }
        ds.targets[i] = balance > 0 ? 1.0f : 0.0f;
    }
    return ds;
}

static void train_and_watch(const char *name, nerve_model *m, nerve_dataset *train,
                            nerve_dataset *val)
{
    epoch_memory mem = {0};
    nerve_train_options o = nerve_train_options_from(m);
    o.epochs = EPOCHS;
    o.on_epoch = record_memory;
    o.user = &mem;
    nerve_error err = {0};
    reset_peak_rss();
    test_require_ok(nerve_train(m, train, val, &o, &err), &err);
    assert_flat(name, &mem);
}

static void test_a_cnn_with_dropout_bn_and_augmentation_stays_flat(void **state)
{
    (void)state;
    nerve_model *m =
        load("cnn.cfg", "[net]\ninput = 1x12x12\nbatch = 32\nseed = 3\n"
                        "[optimizer]\ntype = adam\nlr = 0.001\n"
                        "[augment]\ncrop_padding = 2\nflip = 1\nrotation = 10\n"
                        "[conv2d]\nfilters = 8\nkernel = 3\npadding = same\n"
                        "[batchnorm]\n[activation]\ntype = relu\n"
                        "[maxpool2d]\nkernel = 2\n"
                        "[dropout2d]\np = 0.2\n"
                        "[dense]\nunits = 32\nactivation = relu\n"
                        "[dropout]\np = 0.5\n"
                        "[dense]\nunits = 2\n");
    nerve_dataset train = make_images(600, 12, 1, 1), val = make_images(200, 12, 1, 2);
    train_and_watch("cnn", m, &train, &val);
    nerve_dataset_free(&train);
    nerve_dataset_free(&val);
    nerve_model_free(m);
}

static void test_an_mlp_with_a_schedule_stays_flat(void **state)
{
    (void)state;
    nerve_model *m = load("mlp.cfg", "[net]\ninput = 64\nbatch = 50\nseed = 4\n"
                                     "[optimizer]\nlr = 0.1\nmomentum = 0.9\n"
                                     "[schedule]\ntype = cosine\nT_max = 6\n"
                                     "[dense]\nunits = 128\nactivation = tanh\n"
                                     "[dense]\nunits = 2\n");
    nerve_dataset train = make_images(1000, 8, 1, 5), val = make_images(300, 8, 1, 6);
    train_and_watch("mlp", m, &train, &val);
    nerve_dataset_free(&train);
    nerve_dataset_free(&val);
    nerve_model_free(m);
}

static void test_an_lstm_on_a_text_stream_stays_flat(void **state)
{
    (void)state;
    const char *text_path = test_tmppath("corpus.txt");
    char text[20000];
    nerve_rng rng;
    nerve_rng_seed(&rng, 9);
    for (size_t i = 0; i < sizeof text - 1; i++)
        text[i] = (char)('a' + nerve_rng_below(&rng, 8) + (i % 11 == 0 ? 10 : 0));
    text[sizeof text - 1] = '\n';
    test_write_file(text_path, text, sizeof text);
    char cfg[1024];
    snprintf(cfg, sizeof cfg,
             "[net]\nbptt = 16\nbatch = 8\nseed = 7\n"
             "[data]\nformat = text\ntrain = %s\nvalidation = 2000\n"
             "[optimizer]\ntype = adam\nlr = 0.003\nclip_norm = 5\n"
             "[loss]\ntype = softmax_cross_entropy\n"
             "[embedding]\nvocab = 18\ndim = 16\n"
             "[lstm]\nhidden = 32\n"
             "[dense]\nunits = 18\n",
             text_path);
    nerve_model *m = load("lstm.cfg", cfg);
    nerve_dataset train = {0}, val = {0};
    nerve_error err = {0};
    test_require_ok(nerve_model_load_data(m, &train, &val, NULL, &err), &err);
    train_and_watch("lstm", m, &train, &val);
    nerve_dataset_free(&train);
    nerve_dataset_free(&val);
    nerve_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_cnn_with_dropout_bn_and_augmentation_stays_flat),
        cmocka_unit_test(test_an_mlp_with_a_schedule_stays_flat),
        cmocka_unit_test(test_an_lstm_on_a_text_stream_stays_flat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
