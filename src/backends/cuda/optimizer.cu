/* The optimizers' update over a run of the flat buffers: the host loops
 * (backends/optimizer_host.c) element by element in float, with the
 * constants of the step's description (optimizer_step.h); the squared raw
 * gradients are summed per block in double and added to one device total. */
#include <math.h>

#include "backends/cuda/cuda_device.cuh"

/* optim_raw_gradient and optim_gradient (backends/optimizer_step.h). */
__device__ static inline float raw_gradient(const nerve_cuda_optim &u, bool regularised, float w,
                                            float g)
{
    return regularised ? g + ((w > 0 ? u.l1 : 0) - (w < 0 ? u.l1 : 0)) : g;
}

__device__ static inline float update_gradient(const nerve_cuda_optim &u, float w, float raw)
{
    if (!u.regularised) return raw;
    float g = raw > u.clip ? u.clip : raw;
    g = g < -u.clip ? -u.clip : g;
    return __fadd_rn(__fmul_rn(g, u.scale), __fmul_rn(u.decay, w));
}

__global__ static void update(nerve_cuda_optim u, double *squares)
{
    double local = 0;
    const float *a = u.a;
    CUDA_FOR(e, u.end - u.begin)
    {
        const int64_t i = u.begin + e;
        float w = u.p[i];
        float raw = raw_gradient(u, u.kind == NERVE_CUDA_MEASURE ? u.with_l1 : u.regularised, w,
                                 u.grad[i]);
        float counted = raw * u.trainable[i];
        local += (double)(counted * counted);
        if (u.kind == NERVE_CUDA_MEASURE || !u.trainable[i]) continue;
        float g = update_gradient(u, w, raw);
        switch (u.kind) {
        case NERVE_CUDA_SGD: { /* a: lr, kept, undamped, along_d, along_b */
            if (u.momentum) {
                float b = __fadd_rn(__fmul_rn(a[1], u.s0[i]), __fmul_rn(a[2], g));
                u.s0[i] = b;
                g = __fadd_rn(__fmul_rn(a[3], g), __fmul_rn(a[4], b));
            }
            u.p[i] = __fsub_rn(w, __fmul_rn(a[0], g));
            break;
        }
        case NERVE_CUDA_ADAGRAD: { /* a: clr, eps */
            float sum = __fadd_rn(u.s0[i], __fmul_rn(g, g));
            u.s0[i] = sum;
            u.p[i] = __fsub_rn(w, __fdiv_rn(__fmul_rn(a[0], g), __fadd_rn(sqrtf(sum), a[1])));
            break;
        }
        case NERVE_CUDA_RMSPROP: { /* a: lr, alpha, new_weight, eps, momentum */
            float sq = __fadd_rn(__fmul_rn(a[1], u.s0[i]), __fmul_rn(__fmul_rn(a[2], g), g));
            u.s0[i] = sq;
            float variance = sq;
            if (u.centered) {
                float avg = __fadd_rn(__fmul_rn(a[1], u.s2[i]), __fmul_rn(a[2], g));
                u.s2[i] = avg;
                variance = __fsub_rn(variance, __fmul_rn(avg, avg));
            }
            float denominator = __fadd_rn(sqrtf(variance), a[3]);
            if (u.momentum) {
                float b = __fadd_rn(__fmul_rn(a[4], u.s1[i]), __fdiv_rn(g, denominator));
                u.s1[i] = b;
                u.p[i] = __fsub_rn(w, __fmul_rn(a[0], b));
            } else {
                u.p[i] = __fsub_rn(w, __fdiv_rn(__fmul_rn(a[0], g), denominator));
            }
            break;
        }
        case NERVE_CUDA_ADAM: { /* a: step_size, correction2, beta1, new_weight1, beta2,
                                   new_weight2, eps, kept */
            float kept_w = __fmul_rn(w, a[7]);
            float m = __fadd_rn(__fmul_rn(a[2], u.s0[i]), __fmul_rn(a[3], g));
            float v = __fadd_rn(__fmul_rn(a[4], u.s1[i]), __fmul_rn(__fmul_rn(a[5], g), g));
            u.s0[i] = m;
            u.s1[i] = v;
            float second = v;
            if (u.amsgrad) second = u.s2[i] = u.s2[i] > second ? u.s2[i] : second;
            float denominator = __fadd_rn(__fdiv_rn(sqrtf(second), a[1]), a[6]);
            u.p[i] = __fsub_rn(kept_w, __fdiv_rn(__fmul_rn(a[0], m), denominator));
            break;
        }
        default: break;
        }
    }
    local = block_sum(local);
    if (threadIdx.x == 0) atomicAdd(squares, local);
}

extern "C" void nerve_cuda_optim_update(const nerve_cuda_optim *u, double *squares)
{
    int64_t n = u->end - u->begin;
    if (n > 0) CUDA_LAUNCH(update, n)(*u, squares);
}
