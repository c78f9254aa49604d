/* Matrix transposes, in square tiles so that the strided side of the copy
 * reuses each cache line it touches before moving on. */
#include "backends/cpu/cpu.h"

#define TILE 32

void nerve_cpu_transpose_block(int64_t rows, int64_t cols, const nerve_real *x, int64_t x_ld,
                               nerve_real *y, int64_t y_ld, bool accumulate)
{
    for (int64_t c0 = 0; c0 < cols; c0 += TILE) {
        int64_t c1 = c0 + TILE < cols ? c0 + TILE : cols;
        for (int64_t r0 = 0; r0 < rows; r0 += TILE) {
            int64_t r1 = r0 + TILE < rows ? r0 + TILE : rows;
            for (int64_t c = c0; c < c1; c++) {
                nerve_real *y_row = y + c * y_ld;
                if (accumulate)
                    for (int64_t r = r0; r < r1; r++) y_row[r] += x[r * x_ld + c];
                else
                    for (int64_t r = r0; r < r1; r++) y_row[r] = x[r * x_ld + c];
            }
        }
    }
}
