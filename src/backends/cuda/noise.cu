/* Counter-based noise on the GPU: the Philox-4x32-10 of core/noise.c, word
 * for word, so that a dropout mask or a uniform draw is bit-identical to the
 * CPU's (the same sample gets the same mask on every backend). One thread
 * per block of four words. */
#include <math.h>

#include "backends/cuda/cuda_device.cuh"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

__device__ static void philox(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0,
                              uint32_t k1, uint32_t out[4])
{
    for (int round = 0; round < 10; round++) {
        if (round > 0) k0 += PHILOX_W0, k1 += PHILOX_W1;
        uint64_t p0 = (uint64_t)PHILOX_M0 * c0, p1 = (uint64_t)PHILOX_M1 * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c1 = (uint32_t)p1;
        c3 = (uint32_t)p0;
        c0 = n0;
        c2 = n2;
    }
    out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

/* noise.c's noise_map: a dropout value or low + width * word / 2^32 (with
 * the multiply and the add rounded apart, as the CPU's: no fused multiply-add). */
struct noise_map {
    bool dropout;
    uint64_t threshold;
    float keep_scale;
    double low, width;
};

__global__ static void fill(nerve_noise_at at, int64_t rows, int64_t per_sample, noise_map m,
                            float *out)
{
    const int64_t blocks = (per_sample + 3) / 4;
    CUDA_FOR(b, rows * blocks)
    {
        int64_t i = b / blocks, j = b % blocks * 4;
        uint64_t sample = (uint64_t)(at.first_sample + i);
        uint32_t words[4];
        philox((uint32_t)(j / 4), at.stream, (uint32_t)sample, (uint32_t)(uint64_t)at.step,
               (uint32_t)at.seed, (uint32_t)(at.seed >> 32), words);
        int count = per_sample - j < 4 ? (int)(per_sample - j) : 4;
        for (int k = 0; k < count; k++)
            out[i * per_sample + j + k] = m.dropout ? (words[k] < m.threshold ? 0 : m.keep_scale)
                                                    : (float)__dadd_rn(m.low, __dmul_rn(m.width, ldexp((double)words[k], -32)));
    }
}

static nerve_status draw(const nerve_kernel_ctx *ctx, const nerve_noise_at *at, int64_t rows,
                         int64_t per_sample, noise_map m, float *out, const char *name)
{
    int64_t n = rows * ((per_sample + 3) / 4);
    if (n <= 0) return NERVE_OK;
    CUDA_LAUNCH(fill, n)(*at, rows, per_sample, m, out);
    return nerve_cuda_launched(ctx, name);
}

extern "C" nerve_status nerve_cuda_dropout_mask(const nerve_kernel_ctx *ctx, const nerve_noise_at *at,
                                                int64_t rows, int64_t per_sample, double p,
                                                float *mask)
{
    noise_map m = {true, (uint64_t)llround(ldexp(p, 32)), p < 1 ? (float)(1 / (1 - p)) : 0.0f, 0, 0};
    return draw(ctx, at, rows, per_sample, m, mask, "dropout_mask");
}

extern "C" nerve_status nerve_cuda_uniform_noise(const nerve_kernel_ctx *ctx,
                                                 const nerve_noise_at *at, int64_t rows,
                                                 int64_t per_sample, double low, double high,
                                                 float *out)
{
    noise_map m = {false, 0, 0, low, high - low};
    return draw(ctx, at, rows, per_sample, m, out, "uniform_noise");
}
