/* Row broadcasts, reductions and simple element-wise arithmetic. */
#include <string.h>

#include "backends/cpu/cpu.h"

void nerve_cpu_fill_rows(nerve_real *y, const nerve_real *row, int64_t rows, int64_t cols)
{
    for (int64_t r = 0; r < rows; r++) memcpy(y + r * cols, row, (size_t)cols * sizeof *y);
}

void nerve_cpu_sum_rows(const nerve_real *dy, nerve_real *db, int64_t rows, int64_t cols)
{
    for (int64_t r = 0; r < rows; r++) {
        const nerve_real *d = dy + r * cols;
        for (int64_t c = 0; c < cols; c++) db[c] += d[c];
    }
}

double nerve_cpu_squared_error(const nerve_real *a, const nerve_real *b, int64_t n)
{
    double sum = 0;
#pragma omp parallel for reduction(+ : sum) if (n > NERVE_CPU_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        sum += d * d;
    }
    return sum;
}

void nerve_cpu_add_scaled_difference(int64_t n, nerve_real scale, const nerve_real *a,
                                     const nerve_real *b, nerve_real *y)
{
#pragma omp parallel for if (n > NERVE_CPU_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) y[i] += scale * (a[i] - b[i]);
}
