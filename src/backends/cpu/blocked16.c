/* Adding a blocked gradient into an NCHW one (blocked16.h). oneDNN's
 * reorder with a sum post-op does it in its generic ("jit:uni") kernel,
 * about twice the time of its plain reorder; transposing 16 positions of
 * 16 channels in registers and adding runs at the plain reorder's speed
 * (a ResNet step adds ten such gradients, where a block's input is also its
 * shortcut's). */
#include "backends/cpu/blocked16.h"

#ifdef NERVE_CPU_BLOCKED16
void nerve_cpu_add_from_blocked16(const nerve_real *blocked, nerve_real *plain, int64_t batch,
                                  int64_t channels, int64_t inner)
{
    const int64_t groups = channels / 16;
#pragma omp parallel for collapse(2) schedule(static) \
    if (batch * channels * inner > NERVE_CPU_PARALLEL_MIN)
    for (int64_t n = 0; n < batch; n++)
        for (int64_t g = 0; g < groups; g++) {
            const nerve_real *from = blocked + (n * groups + g) * inner * 16;
            nerve_real *to = plain + (n * channels + g * 16) * inner;
            int64_t i0 = 0;
            for (; i0 + 16 <= inner; i0 += 16) {
                __m512 rows[16], columns[16];
                for (int k = 0; k < 16; k++) rows[k] = _mm512_loadu_ps(from + (i0 + k) * 16);
                nerve_cpu_transpose16(rows, columns);
                for (int j = 0; j < 16; j++) {
                    nerve_real *p = to + j * inner + i0;
                    _mm512_storeu_ps(p, _mm512_add_ps(_mm512_loadu_ps(p), columns[j]));
                }
            }
            for (int64_t i = i0; i < inner; i++)
                for (int j = 0; j < 16; j++) to[j * inner + i] += from[i * 16 + j];
        }
}
#endif
