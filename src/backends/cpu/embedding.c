/* Token ids to vectors: an embedding's row lookup and its scatter-add
 * backward, and one-hot encoding. Ids are reals, as class labels are; one
 * outside [0, vocab) gives a row of NaN, so a bad id shows in the loss
 * instead of reading memory it does not own. */
#include <math.h>
#include <string.h>

#include "backends/cpu/cpu.h"

/* Columns of dtable one thread owns in the scatter-add: threads split the
 * columns, not the ids, so repeated ids never race and every element sums
 * its rows in the same order whatever the thread count. */
#define EMBEDDING_COLUMN_BLOCK 64

nerve_status nerve_cpu_embedding_forward(const nerve_kernel_ctx *ctx, const nerve_real *ids,
                                         const nerve_real *table, nerve_real *y, int64_t rows,
                                         int64_t vocab, int64_t dim)
{
#pragma omp parallel for if (rows * dim > NERVE_CPU_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) {
        int64_t id;
        nerve_real *out = y + r * dim;
        if (nerve_cpu_label_index(ids[r], vocab, &id))
            memcpy(out, table + id * dim, (size_t)dim * sizeof *out);
        else
            for (int64_t c = 0; c < dim; c++) out[c] = (nerve_real)NAN;
    }
    return NERVE_OK;
}

nerve_status nerve_cpu_embedding_backward(const nerve_kernel_ctx *ctx, const nerve_real *ids,
                                          const nerve_real *dy, nerve_real *dtable, int64_t rows,
                                          int64_t vocab, int64_t dim, int64_t skip)
{
    int64_t blocks = (dim + EMBEDDING_COLUMN_BLOCK - 1) / EMBEDDING_COLUMN_BLOCK;
#pragma omp parallel for if (rows * dim > NERVE_CPU_PARALLEL_MIN)
    for (int64_t b = 0; b < blocks; b++) {
        int64_t first = b * EMBEDDING_COLUMN_BLOCK;
        int64_t end = first + EMBEDDING_COLUMN_BLOCK < dim ? first + EMBEDDING_COLUMN_BLOCK : dim;
        for (int64_t r = 0; r < rows; r++) {
            int64_t id;
            if (!nerve_cpu_label_index(ids[r], vocab, &id) || id == skip) continue;
            nerve_real *d = dtable + id * dim;
            const nerve_real *g = dy + r * dim;
            for (int64_t c = first; c < end; c++) d[c] += g[c];
        }
    }
    return NERVE_OK;
}

nerve_status nerve_cpu_one_hot(const nerve_kernel_ctx *ctx, const nerve_real *ids, nerve_real *y,
                               int64_t rows, int64_t classes)
{
#pragma omp parallel for if (rows * classes > NERVE_CPU_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) {
        int64_t id;
        nerve_real *out = y + r * classes;
        bool valid = nerve_cpu_label_index(ids[r], classes, &id);
        for (int64_t c = 0; c < classes; c++) out[c] = valid ? 0 : (nerve_real)NAN;
        if (valid) out[id] = 1;
    }
    return NERVE_OK;
}
