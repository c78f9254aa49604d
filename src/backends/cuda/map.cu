/* The map kernel: y[i] = op(a[i], b_i) (kernels.h's nerve_map_op), the
 * arithmetic of the generic composites, computed in double and rounded
 * once by kernels.h's nerve_map_apply, compiled for the device too. */
#include <math.h>

#include "backends/cuda/cuda_device.cuh"

__global__ static void map_kernel(nerve_map_op op, const float *a, const float *b, int64_t b_step,
                                  double value, float *y, int64_t n)
{
    CUDA_FOR(i, n)
    {
        double bi = b ? (double)b[i * b_step] : value;
        y[i] = (float)nerve_map_apply(op, a[i], bi, y[i]);
    }
}

extern "C" nerve_status nerve_cuda_map(const nerve_kernel_ctx *ctx, nerve_map_op op,
                                       const float *a, const float *b, int64_t b_step,
                                       double value, float *y, int64_t n)
{
    if (n <= 0) return NERVE_OK;
    CUDA_LAUNCH(map_kernel, n)(op, a, b, b_step, value, y, n);
    return nerve_cuda_launched(ctx, "map");
}
