/* What the .cu files share: the block-wide sum, and the grid-stride loop. */
#ifndef NERVE_CUDA_DEVICE_CUH
#define NERVE_CUDA_DEVICE_CUH

#include "backends/cuda/cuda.h"

/* i over [0, n) across the whole grid. */
#define CUDA_FOR(i, n)                                                                             \
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n);                      \
         i += (int64_t)blockDim.x * gridDim.x)

/* The sum of every thread's v in a block of NERVE_CUDA_THREADS threads, in
 * a fixed order (deterministic); every thread gets it. */
__device__ inline double block_sum(double v)
{
    __shared__ double partial[NERVE_CUDA_THREADS / 32];
    __shared__ double total;
    for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
    if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = v;
    __syncthreads();
    if (threadIdx.x == 0) {
        double s = 0;
        for (int w = 0; w < NERVE_CUDA_THREADS / 32; w++) s += partial[w];
        total = s;
    }
    __syncthreads();
    double result = total;
    __syncthreads(); /* partial and total may be reused by the next call */
    return result;
}

/* A class label or token id as an index, false outside [0, n) (ref.h's rule). */
__device__ inline bool cuda_index(float label, int64_t n, int64_t *index)
{
    if (!(label >= 0 && label < (float)n)) return false;
    *index = (int64_t)label;
    return true;
}

#define CUDA_LAUNCH(kernel, n) kernel<<<nerve_cuda_blocks(n), NERVE_CUDA_THREADS, 0, nerve_cuda_stream()>>>
#define CUDA_LAUNCH_BLOCKS(kernel, blocks) kernel<<<(unsigned)(blocks), NERVE_CUDA_THREADS, 0, nerve_cuda_stream()>>>

#endif
