/* How many threads a busy machine leaves nerve (src/backends/cpu/team.c):
 * /proc/stat's busy jiffies over the CPUs this process may use, the team
 * from the CPUs others keep busy, and the GEMM and oneDNN's convolutions
 * (forward, and backward in parts) giving the same bits on a team of 1 as
 * on a team of 2. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/conv_dnnl.h"
#include "backends/cpu/cpu.h"
#include "test_support.h"

static const char stat_text[] =
    "cpu  900 10 300 5000 70 0 20 0 0 0\n"
    "cpu0 400 10 100 2500 30 0 10 0 0 0\n"
    "cpu1 500 0 200 2500 40 0 10 5 0 0\n"
    "intr 12345 0 1\n"
    "ctxt 99\n";

static void test_busy_jiffies_are_summed_over_the_allowed_cpus(void **state)
{
    long long busy;
    int count;
    assert_true(nerve_cpu_stat_busy(stat_text, NULL, 0, &busy, &count));
    assert_int_equal(count, 2);
    /* user + nice + system + irq + softirq + steal; idle and iowait are not busy. */
    assert_int_equal(busy, (400 + 10 + 100 + 10) + (500 + 200 + 10 + 5));
    const unsigned char only_cpu1[] = {0, 1};
    assert_true(nerve_cpu_stat_busy(stat_text, only_cpu1, 2, &busy, &count));
    assert_int_equal(count, 1);
    assert_int_equal(busy, 715);
    const unsigned char none[] = {0, 0};
    assert_false(nerve_cpu_stat_busy(stat_text, none, 2, &busy, &count));
    assert_false(nerve_cpu_stat_busy("intr 1\n", NULL, 0, &busy, &count));
}

static void test_the_team_is_the_free_cpus_within_the_threads_asked_for(void **state)
{
    assert_int_equal(nerve_cpu_team_for(2, 2, 0.0), 2);
    assert_int_equal(nerve_cpu_team_for(2, 2, 0.4), 2); /* a light job: keep both */
    assert_int_equal(nerve_cpu_team_for(2, 2, 0.6), 1);
    assert_int_equal(nerve_cpu_team_for(2, 2, 1.0), 1); /* one busy loop beside us */
    assert_int_equal(nerve_cpu_team_for(2, 2, 5.0), 1); /* never fewer than one */
    assert_int_equal(nerve_cpu_team_for(4, 16, 2.0), 4); /* never more than asked */
    assert_int_equal(nerve_cpu_team_for(16, 16, 4.2), 12);
}

static void test_a_fixed_team_is_kept_within_the_threads(void **state)
{
    int saved = nerve_get_threads();
    nerve_set_threads(2);
    nerve_cpu_team_fix(1);
    assert_int_equal(nerve_cpu_team(), 1);
    nerve_cpu_team_fix(3);
    assert_int_equal(nerve_cpu_team(), 2);
    nerve_cpu_team_fix(0);
    int team = nerve_cpu_team();
    assert_true(team >= 1 && team <= 2);
    nerve_set_threads(saved);
}

/* Deterministic values in [-1, 1]. */
static nerve_real value(int64_t i, int64_t salt)
{
    return (nerve_real)((i * 7919 + salt * 104729) % 201) / 100 - 1;
}

/* Large enough to be cut into slabs, by rows and by columns, each transpose. */
static void test_the_gemm_gives_the_same_bits_on_a_smaller_team(void **state)
{
    const int64_t shapes[][3] = {{300, 200, 150}, {128, 784, 256}, {130, 70, 400}};
    int saved = nerve_get_threads();
    nerve_set_threads(2);
    for (int s = 0; s < 3; s++)
        for (int t = 0; t < 4; t++) {
            bool ta = t & 1, tb = t & 2;
            int64_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
            nerve_real *a = malloc((size_t)(m * k) * sizeof *a);
            nerve_real *b = malloc((size_t)(k * n) * sizeof *b);
            nerve_real *c[2];
            for (int64_t i = 0; i < m * k; i++) a[i] = value(i, 1);
            for (int64_t i = 0; i < k * n; i++) b[i] = value(i, 2);
            for (int team = 1; team <= 2; team++) {
                c[team - 1] = malloc((size_t)(m * n) * sizeof *c[0]);
                for (int64_t i = 0; i < m * n; i++) c[team - 1][i] = value(i, 3);
                nerve_cpu_team_fix(team);
                nerve_cpu_matmul(ta, tb, m, n, k, 0.5f, a, ta ? m : k, b, tb ? k : n, 0.25f,
                                 c[team - 1], n);
            }
            assert_memory_equal(c[0], c[1], (size_t)(m * n) * sizeof *c[0]);
            free(a);
            free(b);
            free(c[0]);
            free(c[1]);
        }
    nerve_cpu_team_fix(0);
    nerve_set_threads(saved);
}

#ifdef NERVE_CPU_DNNL
/* A 3x3 convolution with padding 1 (the BN-CNN's and the ResNet's) of
 * `in` to `out` channels on size x size images. */
static nerve_conv_geometry same_3x3(int64_t in, int64_t out, int64_t size)
{
    return (nerve_conv_geometry){.channels = in, .height = size, .width = size,
                                 .col_channels = out, .col_height = size, .col_width = size,
                                 .kernel = {3, 3}, .stride = {1, 1}, .padding = {1, 1},
                                 .dilation = {1, 1}, .groups = 1};
}

/* oneDNN's workspace for g at batch, *space elements, on cache lines as the
 * graph's arena gives it (Winograd's kernels want that). */
static nerve_real *workspace_for(const nerve_conv_geometry *g, int64_t batch, int64_t *space)
{
    *space = nerve_dnnl_conv_workspace(g, batch);
    assert_true(*space > 0);
    return aligned_alloc(64, ((size_t)*space * sizeof(nerve_real) + 63) / 64 * 64);
}

/* The BN-CNN's convolutions (3x3, padding 1), at batch 1 and 4, with and
 * without a bias. */
static void test_a_forward_convolution_gives_the_same_bits_on_a_smaller_team(void **state)
{
    const int64_t shapes[][3] = {{32, 32, 28}, {32, 64, 14}, {64, 64, 14}}; /* in, out, size */
    int saved = nerve_get_threads();
    nerve_set_threads(2);
    for (int s = 0; s < 3; s++)
        for (int64_t batch = 1; batch <= 32; batch = batch == 1 ? 4 : batch * 8)
            for (int with_bias = 0; with_bias < 2; with_bias++) {
                int64_t size = shapes[s][2], space;
                nerve_conv_geometry g = same_3x3(shapes[s][0], shapes[s][1], size);
                int64_t in = batch * g.channels * size * size;
                int64_t out = batch * g.col_channels * size * size;
                int64_t weights = g.col_channels * g.channels * 9;
                nerve_real *work = workspace_for(&g, batch, &space);
                nerve_real *x = malloc((size_t)in * sizeof *x);
                nerve_real *w = malloc((size_t)weights * sizeof *w);
                nerve_real *bias = malloc((size_t)g.col_channels * sizeof *bias);
                nerve_real *y[2];
                for (int64_t i = 0; i < in; i++) x[i] = value(i, 4);
                for (int64_t i = 0; i < weights; i++) w[i] = value(i, 5);
                for (int64_t i = 0; i < g.col_channels; i++) bias[i] = value(i, 6);
                for (int team = 1; team <= 2; team++) {
                    y[team - 1] = malloc((size_t)out * sizeof *y[0]);
                    nerve_cpu_team_fix(team);
                    assert_true(nerve_dnnl_conv_columns(&g, batch, x, w, with_bias ? bias : NULL,
                                                        false, false, y[team - 1], work, space));
                }
                assert_memory_equal(y[0], y[1], (size_t)out * sizeof *y[0]);
                free(x);
                free(w);
                free(bias);
                free(work);
                free(y[0]);
                free(y[1]);
            }
    nerve_cpu_team_fix(0);
    nerve_set_threads(saved);
}

/* The direct sums in double: dimage = conv_transpose(dcols, w), dweight =
 * correlate(image, dcols), for 3x3 kernels with padding 1 and stride 1. */
static void direct_backward(const nerve_conv_geometry *g, int64_t batch, const nerve_real *x,
                            const nerve_real *w, const nerve_real *dy, double *dx, double *dw)
{
    int64_t C = g->channels, K = g->col_channels, H = g->height, W = g->width;
    memset(dx, 0, (size_t)(batch * C * H * W) * sizeof *dx);
    memset(dw, 0, (size_t)(K * C * 9) * sizeof *dw);
    for (int64_t n = 0; n < batch; n++)
        for (int64_t k = 0; k < K; k++)
            for (int64_t c = 0; c < C; c++)
                for (int64_t i = 0; i < 3; i++)
                    for (int64_t j = 0; j < 3; j++) {
                        double wkc = w[(k * C + c) * 9 + i * 3 + j], sum = 0;
                        for (int64_t y = 0; y < H; y++) {
                            int64_t u = y + i - 1;
                            if (u < 0 || u >= H) continue;
                            for (int64_t v0 = 0; v0 < W; v0++) {
                                int64_t v = v0 + j - 1;
                                if (v < 0 || v >= W) continue;
                                double g_out = dy[((n * K + k) * H + y) * W + v0];
                                dx[((n * C + c) * H + u) * W + v] += wkc * g_out;
                                sum += x[((n * C + c) * H + u) * W + v] * g_out;
                            }
                        }
                        dw[(k * C + c) * 9 + i * 3 + j] += sum;
                    }
}

/* The backward passes run in parts (conv_dnnl.c): the same bits on a team
 * of 1 as of 2, accumulating or not, and the direct sums' values. Batch 4
 * and 7 cut into two parts (of 2 and 2, 3 and 4 samples: Winograd and
 * not), batch 1 one. */
static void test_a_backward_convolution_gives_the_same_bits_on_a_smaller_team(void **state)
{
    const int64_t shapes[][3] = {{32, 32, 12}, {16, 48, 9}}; /* in, out, size */
    const int64_t batches[] = {4, 7, 1};
    int saved = nerve_get_threads();
    nerve_set_threads(2);
    for (int s = 0; s < 2; s++)
        for (int b = 0; b < 3; b++) {
            int64_t batch = batches[b], size = shapes[s][2], space;
            nerve_conv_geometry g = same_3x3(shapes[s][0], shapes[s][1], size);
            int64_t in = batch * g.channels * size * size;
            int64_t out = batch * g.col_channels * size * size;
            int64_t weights = g.col_channels * g.channels * 9;
            nerve_real *work = workspace_for(&g, batch, &space);
            nerve_real *x = malloc((size_t)in * sizeof *x), *w = malloc((size_t)weights * sizeof *w);
            nerve_real *dy = malloc((size_t)out * sizeof *dy);
            nerve_real *dx[2], *dw[2];
            double *want_dx = malloc((size_t)in * sizeof *want_dx);
            double *want_dw = malloc((size_t)weights * sizeof *want_dw);
            for (int64_t i = 0; i < in; i++) x[i] = value(i, 7);
            for (int64_t i = 0; i < weights; i++) w[i] = value(i, 8);
            for (int64_t i = 0; i < out; i++) dy[i] = value(i, 9);
            direct_backward(&g, batch, x, w, dy, want_dx, want_dw);
            for (int accumulate = 0; accumulate < 2; accumulate++) {
                for (int team = 1; team <= 2; team++) {
                    dx[team - 1] = malloc((size_t)in * sizeof *dx[0]);
                    dw[team - 1] = malloc((size_t)weights * sizeof *dw[0]);
                    for (int64_t i = 0; i < in; i++) dx[team - 1][i] = value(i, 10);
                    for (int64_t i = 0; i < weights; i++) dw[team - 1][i] = value(i, 11);
                    nerve_cpu_team_fix(team);
                    assert_true(nerve_dnnl_conv_backward(&g, batch, x, w, dy, accumulate,
                                                         dx[team - 1], dw[team - 1], work, space));
                    /* Two parts (batch 1: one) on the team asked for. */
                    assert_int_equal(nerve_dnnl_conv_backward_team(), batch > 1 ? team : 1);
                }
                assert_memory_equal(dx[0], dx[1], (size_t)in * sizeof *dx[0]);
                assert_memory_equal(dw[0], dw[1], (size_t)weights * sizeof *dw[0]);
                /* Winograd's rounding is a few times the direct sum's (test_backend_ops). */
                for (int64_t i = 0; i < in; i++) {
                    double want = want_dx[i] + (accumulate ? value(i, 10) : 0);
                    assert_true(fabs(dx[0][i] - want) <= 1e-4 * (1 + fabs(want)));
                }
                for (int64_t i = 0; i < weights; i++) {
                    double want = want_dw[i] + value(i, 11); /* dweight always accumulates */
                    assert_true(fabs(dw[0][i] - want) <= 3e-4 * (1 + fabs(want)));
                }
                for (int t = 0; t < 2; t++) {
                    free(dx[t]);
                    free(dw[t]);
                }
            }
            free(x);
            free(w);
            free(dy);
            free(work);
            free(want_dx);
            free(want_dw);
        }
    nerve_cpu_team_fix(0);
    nerve_set_threads(saved);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_busy_jiffies_are_summed_over_the_allowed_cpus),
        cmocka_unit_test(test_the_team_is_the_free_cpus_within_the_threads_asked_for),
        cmocka_unit_test(test_a_fixed_team_is_kept_within_the_threads),
        cmocka_unit_test(test_the_gemm_gives_the_same_bits_on_a_smaller_team),
#ifdef NERVE_CPU_DNNL
        cmocka_unit_test(test_a_forward_convolution_gives_the_same_bits_on_a_smaller_team),
        cmocka_unit_test(test_a_backward_convolution_gives_the_same_bits_on_a_smaller_team),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
