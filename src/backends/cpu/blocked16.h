/* oneDNN's nChw16c layout, [N, C / 16, H W, 16], against nerve's NCHW, on
 * AVX-512 float32 builds (NERVE_CPU_BLOCKED16): 16 vectors of one layout,
 * transposed in registers, are 16 of the other. batch_norm.c reads and
 * writes the convolutions' blocked outputs with it; conv_dnnl.c adds a
 * blocked gradient into an NCHW one (blocked16.c). */
#ifndef NERVE_CPU_BLOCKED16_H
#define NERVE_CPU_BLOCKED16_H

#include "backends/cpu/cpu.h"

#if defined(__AVX512F__) && !defined(NERVE_F64)
#define NERVE_CPU_BLOCKED16 1
#include <immintrin.h>

/* out[j] holds element j of each of in[0..15]. */
static inline void nerve_cpu_transpose16(const __m512 in[16], __m512 out[16])
{
    __m512 t[16], u[16];
    for (int k = 0; k < 8; k++) {
        t[2 * k] = _mm512_unpacklo_ps(in[2 * k], in[2 * k + 1]);
        t[2 * k + 1] = _mm512_unpackhi_ps(in[2 * k], in[2 * k + 1]);
    }
    for (int q = 0; q < 4; q++) {
        __m512d a = _mm512_castps_pd(t[4 * q]), b = _mm512_castps_pd(t[4 * q + 1]);
        __m512d c = _mm512_castps_pd(t[4 * q + 2]), d = _mm512_castps_pd(t[4 * q + 3]);
        /* u[4 q + c]: rows 4q..4q+3 of column 4 lane + c, in each 128-bit lane */
        u[4 * q] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        u[4 * q + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        u[4 * q + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        u[4 * q + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    for (int c = 0; c < 4; c++) {
        __m512 v0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x44);
        __m512 v1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xEE);
        __m512 v2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x44);
        __m512 v3 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xEE);
        out[c] = _mm512_shuffle_f32x4(v0, v2, 0x88);
        out[4 + c] = _mm512_shuffle_f32x4(v0, v2, 0xDD);
        out[8 + c] = _mm512_shuffle_f32x4(v1, v3, 0x88);
        out[12 + c] = _mm512_shuffle_f32x4(v1, v3, 0xDD);
    }
}

/* plain [batch, channels, inner] += blocked [batch, channels / 16, inner,
 * 16] (channels a multiple of 16), on the calling thread's OpenMP team. */
void nerve_cpu_add_from_blocked16(const nerve_real *blocked, nerve_real *plain, int64_t batch,
                                  int64_t channels, int64_t inner);
#endif

#endif
