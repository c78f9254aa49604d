/* How many threads a busy machine leaves nerve (src/backends/cpu/team.c):
 * /proc/stat's busy jiffies over the CPUs this process may use, the team
 * from the CPUs others keep busy, and the GEMM and oneDNN's forward
 * convolution giving the same bits on a team of 1 as on a team of 2. */
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
                int64_t size = shapes[s][2];
                nerve_conv_geometry g = {.channels = shapes[s][0], .height = size, .width = size,
                                         .col_channels = shapes[s][1], .col_height = size,
                                         .col_width = size, .kernel = {3, 3}, .stride = {1, 1},
                                         .padding = {1, 1}, .dilation = {1, 1}, .groups = 1};
                int64_t in = batch * g.channels * size * size;
                int64_t out = batch * g.col_channels * size * size;
                int64_t weights = g.col_channels * g.channels * 9;
                int64_t space = nerve_dnnl_conv_workspace(&g, batch);
                assert_true(space > 0);
                nerve_real *x = malloc((size_t)in * sizeof *x);
                nerve_real *w = malloc((size_t)weights * sizeof *w);
                nerve_real *bias = malloc((size_t)g.col_channels * sizeof *bias);
                nerve_real *work = malloc((size_t)space * sizeof *work), *y[2];
                for (int64_t i = 0; i < in; i++) x[i] = value(i, 4);
                for (int64_t i = 0; i < weights; i++) w[i] = value(i, 5);
                for (int64_t i = 0; i < g.col_channels; i++) bias[i] = value(i, 6);
                for (int team = 1; team <= 2; team++) {
                    y[team - 1] = malloc((size_t)out * sizeof *y[0]);
                    nerve_cpu_team_fix(team);
                    assert_true(nerve_dnnl_conv_columns(&g, batch, x, w, with_bias ? bias : NULL,
                                                        false, y[team - 1], work, space));
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
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
