/* The CPU backend's GEMM, C = alpha op(A) op(B) + beta C, against a plain
 * double-precision loop: every transpose, leading dimensions wider than the
 * matrices, beta 0 (C's NaNs overwritten), 1 and other, and sizes that
 * cross the blocked GEMM's block edges (64 rows, 128 of k, 128 and 512
 * columns) as well as 1 and 7. oneDNN's sgemm where the build has it, the
 * backend's own blocked GEMM otherwise (NERVE_WITH_DNNL=OFF). */
#include <math.h>
#include <stdlib.h>

#include "backends/cpu/cpu.h"
#include "test_support.h"

/* Deterministic values in [-1, 1]. */
static double value(int64_t i, int64_t salt)
{
    return (double)((i * 7919 + salt * 104729) % 201) / 100 - 1;
}

static void check(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                  double beta)
{
    /* Stored with 3 spare columns per row, as a sub-matrix would be. */
    int64_t a_rows = trans_a ? k : m, a_cols = trans_a ? m : k;
    int64_t b_rows = trans_b ? n : k, b_cols = trans_b ? k : n;
    int64_t lda = a_cols + 3, ldb = b_cols + 3, ldc = n + 3;
    nerve_real *a = malloc((size_t)(a_rows * lda) * sizeof *a);
    nerve_real *b = malloc((size_t)(b_rows * ldb) * sizeof *b);
    nerve_real *c = malloc((size_t)(m * ldc) * sizeof *c);
    double *expected = malloc((size_t)(m * n) * sizeof *expected);
    for (int64_t i = 0; i < a_rows * lda; i++) a[i] = (nerve_real)value(i, 1);
    for (int64_t i = 0; i < b_rows * ldb; i++) b[i] = (nerve_real)value(i, 2);
    for (int64_t i = 0; i < m * ldc; i++) c[i] = beta == 0 ? NAN : (nerve_real)value(i, 3);
    double largest = 0;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double sum = 0;
            for (int64_t p = 0; p < k; p++)
                sum += (double)(trans_a ? a[p * lda + i] : a[i * lda + p]) *
                       (double)(trans_b ? b[j * ldb + p] : b[p * ldb + j]);
            double e = alpha * sum + (beta == 0 ? 0 : beta * (double)c[i * ldc + j]);
            expected[i * n + j] = e;
            largest = fmax(largest, fabs(e));
        }
    nerve_cpu_gemm(trans_a, trans_b, m, n, k, (nerve_real)alpha, a, lda, b, ldb, (nerve_real)beta,
                   c, ldc);
    /* float32 sums of k products of values below 1. */
    double tolerance = 1e-5 * (double)(k + 1) * fmax(1, largest);
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++)
            if (!(fabs(c[i * ldc + j] - expected[i * n + j]) <= tolerance))
                fail_msg("gemm %c%c %lldx%lldx%lld alpha %g beta %g: c[%lld][%lld] = %g, "
                         "expected %g",
                         trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', (long long)m, (long long)n,
                         (long long)k, alpha, beta, (long long)i, (long long)j,
                         (double)c[i * ldc + j], expected[i * n + j]);
    /* The spare columns of C are not written. */
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = n; j < ldc; j++)
            if (beta == 0)
                assert_true(isnan(c[i * ldc + j]));
            else
                assert_true(c[i * ldc + j] == (nerve_real)value(i * ldc + j, 3));
    free(a);
    free(b);
    free(c);
    free(expected);
}

static void test_every_transpose_and_beta(void **state)
{
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            check(ta, tb, 7, 5, 3, 1, 0);
            check(ta, tb, 13, 9, 11, 0.5, 1);
            check(ta, tb, 8, 6, 4, -2, 0.25);
        }
}

static void test_sizes_across_the_block_edges(void **state)
{
    const int64_t sizes[][3] = {{1, 1, 1}, {1, 7, 1}, {7, 1, 7}, {65, 129, 130},
                                {64, 512, 128}, {70, 530, 260}, {3, 1000, 5}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        check(false, false, sizes[s][0], sizes[s][1], sizes[s][2], 1, 0);
        check(true, true, sizes[s][0], sizes[s][1], sizes[s][2], 1.5, 1);
    }
}

/* Large enough to run on every thread; the result is the same on one. */
static void test_threads_do_not_change_the_result(void **state)
{
    const int64_t m = 200, n = 300, k = 150;
    nerve_real *a = malloc((size_t)(m * k) * sizeof *a), *b = malloc((size_t)(k * n) * sizeof *b);
    nerve_real *one = calloc((size_t)(m * n), sizeof *one);
    nerve_real *two = calloc((size_t)(m * n), sizeof *two);
    for (int64_t i = 0; i < m * k; i++) a[i] = (nerve_real)value(i, 4);
    for (int64_t i = 0; i < k * n; i++) b[i] = (nerve_real)value(i, 5);
    int saved = nerve_get_threads();
    nerve_set_threads(1);
    nerve_cpu_gemm(false, false, m, n, k, 1, a, k, b, n, 0, one, n);
    nerve_set_threads(2);
    nerve_cpu_gemm(false, false, m, n, k, 1, a, k, b, n, 0, two, n);
    nerve_set_threads(saved);
    for (int64_t i = 0; i < m * n; i++)
        assert_true(fabs(one[i] - two[i]) <= 1e-4 * fmax(1, fabs(one[i])));
    free(a);
    free(b);
    free(one);
    free(two);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_transpose_and_beta),
        cmocka_unit_test(test_sizes_across_the_block_edges),
        cmocka_unit_test(test_threads_do_not_change_the_result),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
