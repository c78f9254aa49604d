/* Token ids to vectors: an embedding's lookup and scatter-add, one-hot
 * encoding. An id outside [0, vocab) gives a row of NaN forward and adds
 * nothing backward. */
#include "backends/ref/ref.h"

nerve_status nerve_ref_embedding_forward(const nerve_kernel_ctx *ctx, const nerve_real *ids, const nerve_real *table, nerve_real *y,
                                 int64_t rows, int64_t vocab, int64_t dim)
{
    for (int64_t r = 0; r < rows; r++) {
        int64_t id;
        bool valid = nerve_ref_index(ids[r], vocab, &id);
        for (int64_t c = 0; c < dim; c++) y[r * dim + c] = valid ? table[id * dim + c] : NAN;
    }
    return NERVE_OK;
}

nerve_status nerve_ref_embedding_backward(const nerve_kernel_ctx *ctx, const nerve_real *ids, const nerve_real *dy, nerve_real *dtable,
                                  int64_t rows, int64_t vocab, int64_t dim, int64_t skip)
{
    for (int64_t r = 0; r < rows; r++) {
        int64_t id;
        if (!nerve_ref_index(ids[r], vocab, &id) || id == skip) continue;
        for (int64_t c = 0; c < dim; c++) dtable[id * dim + c] += dy[r * dim + c];
    }
    return NERVE_OK;
}

nerve_status nerve_ref_one_hot(const nerve_kernel_ctx *ctx, const nerve_real *ids, nerve_real *y, int64_t rows, int64_t classes)
{
    for (int64_t r = 0; r < rows; r++) {
        int64_t id;
        bool valid = nerve_ref_index(ids[r], classes, &id);
        for (int64_t c = 0; c < classes; c++) y[r * classes + c] = !valid ? NAN : c == id ? 1 : 0;
    }
    return NERVE_OK;
}
