/* Matrix transposes, in square tiles so that the strided side of the copy
 * reuses each cache line it touches before moving on. */
#include "backends/cpu/cpu.h"

#define TILE 32

void nerve_cpu_transpose(const nerve_real *x, int64_t rows, int64_t cols, nerve_real *y,
                         bool accumulate)
{
    int64_t col_tiles = (cols + TILE - 1) / TILE;
    /* A tile column of x is a tile row of y: threads write disjoint rows. */
#pragma omp parallel for if (rows * cols > NERVE_CPU_PARALLEL_MIN)
    for (int64_t tile = 0; tile < col_tiles; tile++) {
        int64_t c0 = tile * TILE, c1 = c0 + TILE < cols ? c0 + TILE : cols;
        for (int64_t r0 = 0; r0 < rows; r0 += TILE) {
            int64_t r1 = r0 + TILE < rows ? r0 + TILE : rows;
            for (int64_t c = c0; c < c1; c++) {
                nerve_real *y_row = y + c * rows;
                if (accumulate)
                    for (int64_t r = r0; r < r1; r++) y_row[r] += x[r * cols + c];
                else
                    for (int64_t r = r0; r < r1; r++) y_row[r] = x[r * cols + c];
            }
        }
    }
}
