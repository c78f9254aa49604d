/* Token ids to vectors: the lookup, and its scatter-add backward (atomic:
 * repeated ids add up in an order that may vary, within float rounding);
 * one-hot rows. */
#include <math.h>

#include "backends/cuda/cuda_device.cuh"

__global__ static void embedding_forward(const float *ids, const float *table, float *y,
                                         int64_t rows, int64_t vocab, int64_t dim)
{
    CUDA_FOR(k, rows * dim)
    {
        int64_t r = k / dim, c = k % dim, id;
        y[k] = cuda_index(ids[r], vocab, &id) ? table[id * dim + c] : NAN;
    }
}

__global__ static void embedding_backward(const float *ids, const float *dy, float *dtable,
                                          int64_t rows, int64_t vocab, int64_t dim, int64_t skip)
{
    CUDA_FOR(k, rows * dim)
    {
        int64_t r = k / dim, c = k % dim, id;
        if (!cuda_index(ids[r], vocab, &id) || id == skip) continue;
        atomicAdd(&dtable[id * dim + c], dy[k]);
    }
}

extern "C" nerve_status nerve_cuda_embedding_forward(const nerve_kernel_ctx *ctx, const float *ids,
                                                     const float *table, float *y, int64_t rows,
                                                     int64_t vocab, int64_t dim)
{
    if (rows * dim <= 0) return NERVE_OK;
    CUDA_LAUNCH(embedding_forward, rows * dim)(ids, table, y, rows, vocab, dim);
    return nerve_cuda_launched(ctx, "embedding_forward");
}

extern "C" nerve_status nerve_cuda_embedding_backward(const nerve_kernel_ctx *ctx,
                                                      const float *ids, const float *dy,
                                                      float *dtable, int64_t rows, int64_t vocab,
                                                      int64_t dim, int64_t skip)
{
    if (rows * dim <= 0) return NERVE_OK;
    CUDA_LAUNCH(embedding_backward, rows * dim)(ids, dy, dtable, rows, vocab, dim, skip);
    return nerve_cuda_launched(ctx, "embedding_backward");
}

__global__ static void one_hot(const float *ids, float *y, int64_t rows, int64_t classes)
{
    CUDA_FOR(k, rows * classes)
    {
        int64_t r = k / classes, c = k % classes, id;
        bool valid = cuda_index(ids[r], classes, &id);
        y[k] = !valid ? NAN : c == id ? 1.0f : 0.0f;
    }
}

/* The char-LSTM's input layer: one row of classes values per id. */
extern "C" nerve_status nerve_cuda_one_hot(const nerve_kernel_ctx *ctx, const float *ids, float *y,
                                           int64_t rows, int64_t classes)
{
    if (rows * classes <= 0) return NERVE_OK;
    CUDA_LAUNCH(one_hot, rows * classes)(ids, y, rows, classes);
    return nerve_cuda_launched(ctx, "one_hot");
}
