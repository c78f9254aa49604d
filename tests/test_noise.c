/* Counter-based noise (core/noise.h): Philox-4x32-10 against the published
 * known answers, the masks' statistics, and the property exact
 * data-parallel training needs: a sample's dropout, dropout2d and rrelu
 * noise depends on (seed, step, global sample index, node) only, not on
 * its row, the size of its batch or the number of threads; and that
 * nerve_train sets that position at every step. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_internal.h"
#include "core/noise.h"
#include "test_support.h"

/* Random123's known-answer vectors for philox4x32_R(10, ctr, key), from the
 * "philox4x32 10" lines of its tests/kat_vectors (D. E. Shaw Research):
 * zeros, all ones, and the digits of pi. */
static void test_philox4x32_10_gives_random123s_known_answers(void **state)
{
    static const struct {
        uint32_t counter[4], key[2], expected[4];
    } kat[] = {
        {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
        {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
         {0xffffffff, 0xffffffff},
         {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
        {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
         {0xa4093822, 0x299f31d0},
         {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
    };
    for (size_t i = 0; i < sizeof kat / sizeof kat[0]; i++) {
        uint32_t out[4];
        nerve_philox4x32_10(kat[i].counter, kat[i].key, out);
        assert_memory_equal(out, kat[i].expected, sizeof out);
    }
}

/* The block of (seed, step, sample, stream, b) is Philox of the counter
 * (b, stream, sample, step) under the key (seed's low word, high word). */
static void test_a_block_is_philox_of_its_position(void **state)
{
    nerve_noise_at at = {0x0123456789abcdefULL, 77, 1000, 5};
    uint32_t out[4], expected[4];
    nerve_noise_block(&at, 1234, 9, out);
    const uint32_t counter[4] = {9, 5, 1234, 77}, key[2] = {0x89abcdef, 0x01234567};
    nerve_philox4x32_10(counter, key, expected);
    assert_memory_equal(out, expected, sizeof out);
}

#define MASK_SAMPLES 250
#define MASK_VALUES 4001 /* odd: the last block of a row is partly used */

/* The fraction dropped is p within 6 standard errors of the 10^6 draws, the
 * rest scaled by 1 / (1 - p); p = 0 drops nothing and p = 1 everything. */
static void test_dropout_masks_drop_a_fraction_p(void **state)
{
    const int64_t count = (int64_t)MASK_SAMPLES * MASK_VALUES;
    nerve_real *mask = malloc((size_t)count * sizeof *mask);
    const double rates[] = {0, 0.1, 0.5, 0.9, 1};
    for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
        double p = rates[r];
        nerve_noise_at at = {42, 3, 100, 7};
        nerve_noise_dropout_mask(&at, MASK_SAMPLES, MASK_VALUES, p, mask);
        int64_t dropped = 0;
        for (int64_t i = 0; i < count; i++) {
            if (mask[i] == 0) {
                dropped++;
                continue;
            }
            assert_true(fabs(mask[i] - 1 / (1 - p)) < 1e-6 / (1 - p));
        }
        double rate = (double)dropped / (double)count;
        double tolerance = 6 * sqrt(p * (1 - p) / (double)count);
        assert_true(fabs(rate - p) <= tolerance);
    }
    free(mask);
}

/* Uniform values lie in [low, high) with U(low, high)'s mean and variance,
 * and consecutive values are uncorrelated. */
static void test_uniform_values_have_the_uniform_moments(void **state)
{
    const int64_t count = (int64_t)MASK_SAMPLES * MASK_VALUES;
    nerve_real *u = malloc((size_t)count * sizeof *u);
    nerve_noise_at at = {9, 0, 0, 1};
    nerve_noise_uniform(&at, MASK_SAMPLES, MASK_VALUES, -1, 3, u);
    double sum = 0, squares = 0, lagged = 0;
    for (int64_t i = 0; i < count; i++) {
        assert_true(u[i] >= -1 && u[i] <= 3);
        sum += u[i];
        squares += (double)u[i] * u[i];
        if (i > 0) lagged += ((double)u[i] - 1) * ((double)u[i - 1] - 1);
    }
    double mean = sum / (double)count, variance = squares / (double)count - mean * mean;
    /* U(-1, 3): mean 1, variance 16 / 12; standard errors ~1e-3. */
    assert_true(fabs(mean - 1) < 0.01);
    assert_true(fabs(variance - 16.0 / 12) < 0.01);
    assert_true(fabs(lagged / (double)(count - 1) / variance) < 0.01);
    free(u);
}

/* Drawn on one thread or several, the mask is the same. */
static void test_the_thread_count_does_not_change_the_mask(void **state)
{
    const int64_t count = (int64_t)MASK_SAMPLES * MASK_VALUES;
    nerve_real *one = malloc((size_t)count * sizeof *one);
    nerve_real *two = malloc((size_t)count * sizeof *two);
    nerve_noise_at at = {5, 1, 0, 2};
    int saved = nerve_get_threads();
    nerve_set_threads(1);
    nerve_noise_dropout_mask(&at, MASK_SAMPLES, MASK_VALUES, 0.3, one);
    nerve_set_threads(2);
    nerve_noise_dropout_mask(&at, MASK_SAMPLES, MASK_VALUES, 0.3, two);
    nerve_set_threads(saved);
    assert_memory_equal(one, two, (size_t)count * sizeof *one);
    free(one);
    free(two);
}

/* x [N, 4, 3, 5] into dropout, dropout2d and rrelu side by side, and into
 * a second dropout of the same rate. */
typedef struct noisy_graph {
    nerve_graph *g;
    nerve_node x, dropout, dropout2d, rrelu, dropout_again;
} noisy_graph;

#define SAMPLE_SIZE (4 * 3 * 5)

static noisy_graph build_noisy(uint64_t seed)
{
    noisy_graph n;
    nerve_error err = {0};
    const int64_t dim[3] = {4, 3, 5};
    n.g = nerve_graph_new();
    n.x = test_require_node(nerve_input(n.g, "x", nerve_shape_make(3, dim), &err), &err);
    n.dropout = test_require_node(nerve_dropout(n.g, n.x, 0.5, &err), &err);
    n.dropout2d = test_require_node(nerve_dropout2d(n.g, n.x, 0.5, &err), &err);
    n.rrelu = test_require_node(nerve_rrelu(n.g, n.x, 0.1f, 0.4f, &err), &err);
    n.dropout_again = test_require_node(nerve_dropout(n.g, n.x, 0.5, &err), &err);
    test_require_ok(nerve_graph_plan(n.g, 8, &err), &err);
    nerve_graph_set_seed(n.g, seed);
    return n;
}

/* Runs rows samples, sample first + i being row i, at step: the value of
 * sample s is -1 - (s % 11) - k / 100 at element k (negative, for rrelu). */
static void run_noisy(noisy_graph *n, int64_t step, int64_t first, int64_t rows)
{
    nerve_error err = {0};
    test_require_ok(nerve_graph_set_batch(n->g, rows, &err), &err);
    nerve_real *x = nerve_node_value(n->g, n->x);
    for (int64_t i = 0; i < rows; i++)
        for (int64_t k = 0; k < SAMPLE_SIZE; k++)
            x[i * SAMPLE_SIZE + k] = (nerve_real)(-1 - (double)((first + i) % 11) - k / 100.0);
    nerve_graph_set_position(n->g, step, first);
    const nerve_node outputs[4] = {n->dropout, n->dropout2d, n->rrelu, n->dropout_again};
    for (int k = 0; k < 4; k++) nerve_graph_forward(n->g, outputs[k]);
}

static void assert_row_equal(noisy_graph *a, int64_t row_a, noisy_graph *b, int64_t row_b)
{
    const nerve_node nodes[3] = {a->dropout, a->dropout2d, a->rrelu};
    for (int k = 0; k < 3; k++)
        assert_memory_equal(nerve_node_value(a->g, nodes[k]) + row_a * SAMPLE_SIZE,
                            nerve_node_value(b->g, nodes[k]) + row_b * SAMPLE_SIZE,
                            SAMPLE_SIZE * sizeof(nerve_real));
}

/* Sample 105 alone (a batch of 1 starting at 105) gets the noise it gets as
 * row 5 of a batch of 8 starting at 100, and as row 1 of a batch of 3
 * starting at 104 in another graph of the same seed; at another step or in
 * another row of the same batch it gets other noise. */
static void test_a_samples_noise_does_not_depend_on_its_batch(void **state)
{
    noisy_graph whole = build_noisy(2024), split = build_noisy(2024);
    run_noisy(&whole, 11, 100, 8);
    run_noisy(&split, 11, 105, 1);
    assert_row_equal(&whole, 5, &split, 0);
    run_noisy(&split, 11, 104, 3);
    assert_row_equal(&whole, 5, &split, 1);
    assert_row_equal(&whole, 4, &split, 0);
    assert_row_equal(&whole, 6, &split, 2);
    /* Row 5 and row 6 of one batch, and sample 105 a step later, differ. */
    const nerve_real *dropped = nerve_node_value(whole.g, whole.dropout);
    assert_memory_not_equal(dropped + 5 * SAMPLE_SIZE, dropped + 6 * SAMPLE_SIZE,
                            SAMPLE_SIZE * sizeof(nerve_real));
    run_noisy(&split, 12, 105, 1);
    assert_memory_not_equal(dropped + 5 * SAMPLE_SIZE, nerve_node_value(split.g, split.dropout),
                            SAMPLE_SIZE * sizeof(nerve_real));
    nerve_graph_free(whole.g);
    nerve_graph_free(split.g);
}

/* Two dropouts of the same input and rate draw apart: the node is part of
 * the key. */
static void test_two_nodes_draw_different_masks(void **state)
{
    noisy_graph n = build_noisy(1);
    run_noisy(&n, 0, 0, 8);
    assert_memory_not_equal(nerve_node_value(n.g, n.dropout),
                            nerve_node_value(n.g, n.dropout_again),
                            8 * SAMPLE_SIZE * sizeof(nerve_real));
    nerve_graph_free(n.g);
}

/* Data parallelism's need: the gradient of a batch of 8 is the mean of the
 * gradients of its two halves (two workers), each run at the batch's step
 * with its own first sample. y = dropout(rrelu(x W^T)), mean squared error
 * against zero. */
static void test_halves_of_a_batch_give_the_whole_batchs_gradient(void **state)
{
    nerve_error err = {0};
    nerve_graph *g = nerve_graph_new();
    nerve_node x = test_require_node(nerve_input(g, "x", nerve_shape_1d(6), &err), &err);
    nerve_node target = test_require_node(nerve_input(g, "t", nerve_shape_1d(20), &err), &err);
    nerve_node w = test_require_node(nerve_param(g, "w", nerve_shape_2d(20, 6), &err), &err);
    nerve_node h = test_require_node(nerve_linear(g, x, w, -1, &err), &err);
    h = test_require_node(nerve_rrelu(g, h, 0.1f, 0.3f, &err), &err);
    h = test_require_node(nerve_dropout(g, h, 0.4, &err), &err);
    nerve_node loss = test_require_node(nerve_mse(g, h, target, NULL, &err), &err);
    test_require_ok(nerve_graph_plan(g, 8, &err), &err);
    nerve_graph_set_seed(g, 99);
    nerve_real *weight = nerve_node_value(g, w);
    for (int64_t i = 0; i < 20 * 6; i++) weight[i] = (nerve_real)(((i * 37) % 23) / 11.0 - 1);
    nerve_real inputs[8 * 6];
    for (int64_t i = 0; i < 8 * 6; i++) inputs[i] = (nerve_real)(((i * 13) % 17) / 8.0 - 1);
    nerve_real whole[20 * 6];
    for (int pass = 0; pass < 2; pass++) {
        /* pass 0: one batch of 8; pass 1: two batches of 4. */
        int64_t rows = pass == 0 ? 8 : 4;
        nerve_graph_zero_grad(g);
        for (int64_t first = 0; first < 8; first += rows) {
            test_require_ok(nerve_graph_set_batch(g, rows, &err), &err);
            memcpy(nerve_node_value(g, x), inputs + first * 6,
                   (size_t)(rows * 6) * sizeof(nerve_real));
            memset(nerve_node_value(g, target), 0, (size_t)(rows * 20) * sizeof(nerve_real));
            nerve_graph_set_position(g, 7, 16 + first);
            nerve_graph_forward(g, loss);
            nerve_graph_backward(g, loss);
        }
        const nerve_real *grad = nerve_node_grad(g, w);
        if (pass == 0) {
            memcpy(whole, grad, sizeof whole);
            continue;
        }
        double largest = 0;
        for (int64_t i = 0; i < 20 * 6; i++) largest = fmax(largest, fabs(whole[i]));
        assert_true(largest > 0);
        for (int64_t i = 0; i < 20 * 6; i++)
            assert_true(fabs(grad[i] / 2 - whole[i]) <= 1e-5 * largest);
    }
    nerve_graph_free(g);
}

/* What the trainer's batches saw: the graph's noise position. */
typedef struct positions {
    nerve_graph *g;
    int count;
    int64_t step[8], first[8];
    uint64_t seed;
} positions;

static void record_position(const int64_t *index, int64_t n, void *user)
{
    positions *p = user;
    assert_true(p->count < 8);
    p->step[p->count] = p->g->noise_step;
    p->first[p->count] = p->g->noise_first_sample;
    p->seed = p->g->noise_seed;
    p->count++;
}

/* nerve_train keys each step's noise by its global step and the position of
 * the batch's first sample in the epoch's order: 20 samples in batches of 8
 * start at 0, 8 and 16 in every epoch, steps counting on across epochs; the
 * seed is the run's. */
static void test_the_trainer_sets_step_and_first_sample(void **state)
{
    static const char cfg[] = "[net]\ninput = 3\nbatch = 8\nepochs = 2\nseed = 5\n"
                              "[dense]\nunits = 4\nactivation = relu\n"
                              "[dropout]\np = 0.5\n"
                              "[dense]\nunits = 2\n";
    const char *path = test_tmppath("dropout.cfg");
    test_write_file(path, cfg, strlen(cfg));
    nerve_error err = {0};
    nerve_model *m;
    test_require_ok(nerve_model_load(path, NULL, &m, &err), &err);
    nerve_dataset ds = {0};
    ds.count = 20;
    ds.sample_shape = nerve_shape_1d(3);
    ds.sample_size = 3;
    ds.target_size = 1;
    ds.num_classes = 2;
    ds.inputs = calloc(60, sizeof(float));
    ds.targets = calloc(20, sizeof(float));
    for (int64_t i = 0; i < 20; i++) ds.targets[i] = (float)(i % 2);
    positions seen = {.g = nerve_model_graph(m)};
    nerve_train_options o = nerve_train_options_from(m);
    o.seed = 77;
    o.on_batch = record_position;
    o.user = &seen;
    test_require_ok(nerve_train(m, &ds, NULL, &o, &err), &err);
    assert_int_equal(seen.count, 6);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(seen.step[i], i);
        assert_int_equal(seen.first[i], 8 * (i % 3));
    }
    assert_true(seen.seed == 77);
    nerve_dataset_free(&ds);
    nerve_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_philox4x32_10_gives_random123s_known_answers),
        cmocka_unit_test(test_a_block_is_philox_of_its_position),
        cmocka_unit_test(test_dropout_masks_drop_a_fraction_p),
        cmocka_unit_test(test_uniform_values_have_the_uniform_moments),
        cmocka_unit_test(test_the_thread_count_does_not_change_the_mask),
        cmocka_unit_test(test_a_samples_noise_does_not_depend_on_its_batch),
        cmocka_unit_test(test_two_nodes_draw_different_masks),
        cmocka_unit_test(test_halves_of_a_batch_give_the_whole_batchs_gradient),
        cmocka_unit_test(test_the_trainer_sets_step_and_first_sample),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
