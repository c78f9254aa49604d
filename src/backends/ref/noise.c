/* Counter-based noise: core/noise.c is its definition, portable C, and the
 * reference runs it as it is (so every backend's masks are checked against
 * the definition itself). */
#include "backends/ref/ref.h"

nerve_status nerve_ref_dropout_mask(const nerve_kernel_ctx *ctx, const nerve_noise_at *at,
                                    int64_t rows, int64_t per_sample, double p, nerve_real *mask)
{
    nerve_noise_dropout_mask(at, rows, per_sample, p, mask);
    return NERVE_OK;
}

nerve_status nerve_ref_uniform_noise(const nerve_kernel_ctx *ctx, const nerve_noise_at *at,
                                     int64_t rows, int64_t per_sample, double low, double high,
                                     nerve_real *out)
{
    nerve_noise_uniform(at, rows, per_sample, low, high, out);
    return NERVE_OK;
}
