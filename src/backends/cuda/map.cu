/* The map kernel: y[i] = op(a[i], b_i) (kernels.h's nerve_map_op), the
 * arithmetic of the generic composites. Computed in double and rounded
 * once, as nerve_map_apply defines it; restated here because the device
 * cannot call the host's inline function. */
#include <math.h>

#include "backends/cuda/cuda_device.cuh"

__device__ static double map_apply(nerve_map_op op, double a, double b, double y)
{
    switch (op) {
    case NERVE_MAP_ADD: return a + b;
    case NERVE_MAP_SUB: return a - b;
    case NERVE_MAP_RSUB: return b - a;
    case NERVE_MAP_MUL: return a * b;
    case NERVE_MAP_DIV: return a / b;
    case NERVE_MAP_RDIV: return b / a;
    case NERVE_MAP_POW: return pow(a, b);
    case NERVE_MAP_MAX: return b > a ? b : a;
    case NERVE_MAP_MIN: return b < a ? b : a;
    case NERVE_MAP_EQ: return a == b;
    case NERVE_MAP_LT: return a < b;
    case NERVE_MAP_LE: return a <= b;
    case NERVE_MAP_GT: return a > b;
    case NERVE_MAP_GE: return a >= b;
    case NERVE_MAP_SELECT: return a != 0 ? b : y;
    case NERVE_MAP_ABS: return fabs(a);
    case NERVE_MAP_SIGN: return a > 0 ? 1 : a < 0 ? -1 : 0;
    case NERVE_MAP_EXP: return exp(a);
    case NERVE_MAP_EXPM1: return expm1(a);
    case NERVE_MAP_LOG: return log(a);
    case NERVE_MAP_LOG1P: return log1p(a);
    case NERVE_MAP_SQRT: return sqrt(a);
    case NERVE_MAP_ACOS: return acos(a);
    case NERVE_MAP_COS: return cos(a);
    case NERVE_MAP_SIN: return sin(a);
    case NERVE_MAP_FLOOR: return floor(a);
    }
    return NAN;
}

__global__ static void map_kernel(nerve_map_op op, const float *a, const float *b, int64_t b_step,
                                  double value, float *y, int64_t n)
{
    CUDA_FOR(i, n)
    {
        double bi = b ? (double)b[i * b_step] : value;
        y[i] = (float)map_apply(op, a[i], bi, y[i]);
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
