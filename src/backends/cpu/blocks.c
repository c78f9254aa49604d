/* Sums of whole tensors and copies of row blocks: the arithmetic of the
 * structural ops (add, concat), and a folded ReLU's gradient handed to a
 * sum's inputs. */
#include <string.h>

#include "backends/cpu/cpu.h"

/* Elements summed per chunk: the chunk of y stays in L1 cache while every
 * input is added into it, so y is written to memory once. */
#define ADD_CHUNK 2048

/* The sum, and with relu max(0, sum) while the chunk is in cache. Each
 * element is one thread's: the busy machine's team runs it. */
static void add_chunks(const nerve_real *const *x, int count, nerve_real *y, int64_t n, bool relu)
{
    int64_t chunks = (n + ADD_CHUNK - 1) / ADD_CHUNK;
#pragma omp parallel for num_threads(nerve_cpu_team()) if (n * count > NERVE_CPU_PARALLEL_MIN)
    for (int64_t chunk = 0; chunk < chunks; chunk++) {
        int64_t begin = chunk * ADD_CHUNK, len = n - begin < ADD_CHUNK ? n - begin : ADD_CHUNK;
        nerve_real *yc = y + begin;
        const nerve_real *a = x[0] + begin, *b = x[1] + begin;
        for (int64_t i = 0; i < len; i++) yc[i] = a[i] + b[i];
        for (int k = 2; k < count; k++) {
            const nerve_real *xk = x[k] + begin;
            for (int64_t i = 0; i < len; i++) yc[i] += xk[i];
        }
        if (relu)
            for (int64_t i = 0; i < len; i++) yc[i] = yc[i] > 0 ? yc[i] : 0;
    }
}

nerve_status nerve_cpu_add_forward(const nerve_kernel_ctx *ctx, const nerve_real *const *x,
                                   int count, nerve_real *y, int64_t n)
{
    add_chunks(x, count, y, n, false);
    return NERVE_OK;
}

nerve_status nerve_cpu_add_relu_forward(const nerve_kernel_ctx *ctx, const nerve_real *const *x,
                                        int count, nerve_real *y, int64_t n)
{
    add_chunks(x, count, y, n, true);
    return NERVE_OK;
}

/* Per chunk, each input's gradient in turn while y's and dy's chunk is in
 * cache: y and dy are read from memory once. */
nerve_status nerve_cpu_add_relu_backward(const nerve_kernel_ctx *ctx, const nerve_real *y,
                                         const nerve_real *dy, nerve_real *const *dx,
                                         const bool *accumulate, int count, int64_t n)
{
    int64_t chunks = (n + ADD_CHUNK - 1) / ADD_CHUNK;
#pragma omp parallel for num_threads(nerve_cpu_team()) if (n * count > NERVE_CPU_PARALLEL_MIN)
    for (int64_t chunk = 0; chunk < chunks; chunk++) {
        int64_t begin = chunk * ADD_CHUNK, len = n - begin < ADD_CHUNK ? n - begin : ADD_CHUNK;
        const nerve_real *yc = y + begin, *dyc = dy + begin;
        for (int k = 0; k < count; k++) {
            nerve_real *d = dx[k] + begin;
            if (accumulate[k])
                for (int64_t i = 0; i < len; i++) d[i] += yc[i] > 0 ? dyc[i] : 0;
            else
                for (int64_t i = 0; i < len; i++) d[i] = yc[i] > 0 ? dyc[i] : 0;
        }
    }
    return NERVE_OK;
}

nerve_status nerve_cpu_copy_block(const nerve_kernel_ctx *ctx, int64_t rows, int64_t cols,
                                  const nerve_real *src, int64_t src_stride, nerve_real *dst,
                                  int64_t dst_stride)
{
#pragma omp parallel for if (rows > 1 && rows * cols > NERVE_CPU_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++)
        memcpy(dst + r * dst_stride, src + r * src_stride, (size_t)cols * sizeof *dst);
    return NERVE_OK;
}

nerve_status nerve_cpu_add_block(const nerve_kernel_ctx *ctx, int64_t rows, int64_t cols,
                                 const nerve_real *src, int64_t src_stride, nerve_real *dst,
                                 int64_t dst_stride)
{
#pragma omp parallel for if (rows > 1 && rows * cols > NERVE_CPU_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const nerve_real *s = src + r * src_stride;
        nerve_real *d = dst + r * dst_stride;
        for (int64_t c = 0; c < cols; c++) d[c] += s[c];
    }
    return NERVE_OK;
}
