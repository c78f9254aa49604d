/* Philox-4x32-10 as published (Salmon et al., SC'11, section 5.2): ten
 * rounds of two 32 x 32 -> 64-bit multiplications whose halves are mixed
 * with the other two words and the round key, the key bumped by the Weyl
 * constants between rounds. Checked against Random123's known-answer
 * vectors in tests/test_noise.c. */
#include <math.h>

#include "core/noise.h"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u /* the golden ratio */
#define PHILOX_W1 0xBB67AE85u /* sqrt(3) - 1 */
#define PHILOX_ROUNDS 10
/* Below this many draws a batch's mask is drawn on one thread: waking
 * OpenMP's threads costs more than it saves. */
#define PARALLEL_THRESHOLD ((int64_t)1 << 15)

void nerve_philox4x32_10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4])
{
    uint32_t c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < PHILOX_ROUNDS; round++) {
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

void nerve_noise_block(const nerve_noise_at *at, int64_t sample, uint64_t block, uint32_t out[4])
{
    const uint32_t counter[4] = {(uint32_t)block, at->stream, (uint32_t)(uint64_t)sample,
                                 (uint32_t)(uint64_t)at->step};
    const uint32_t key[2] = {(uint32_t)at->seed, (uint32_t)(at->seed >> 32)};
    nerve_philox4x32_10(counter, key, out);
}

/* What a word becomes: a dropout mask value (keep_scale, or 0 below
 * threshold) or a uniform value low + width * word / 2^32. */
typedef struct noise_map {
    bool dropout;
    uint64_t threshold;
    nerve_real keep_scale;
    double low, width;
} noise_map;

static inline nerve_real map_word(const noise_map *m, uint32_t word)
{
    if (m->dropout) return word < m->threshold ? 0 : m->keep_scale;
    return (nerve_real)(m->low + m->width * ldexp(word, -32));
}

/* Value j of row i from word j of sample first_sample + i; the rows in
 * parallel, since each is a function of its own counters only. */
static void fill(const nerve_noise_at *at, int64_t rows, int64_t per_sample, const noise_map *m,
                 nerve_real *out)
{
#pragma omp parallel for schedule(static) if (rows * per_sample >= PARALLEL_THRESHOLD)
    for (int64_t i = 0; i < rows; i++) {
        nerve_real *row = out + i * per_sample;
        for (int64_t j = 0; j < per_sample; j += 4) {
            uint32_t words[4];
            nerve_noise_block(at, at->first_sample + i, (uint64_t)j / 4, words);
            int count = per_sample - j < 4 ? (int)(per_sample - j) : 4;
            for (int k = 0; k < count; k++) row[j + k] = map_word(m, words[k]);
        }
    }
}

void nerve_noise_dropout_mask(const nerve_noise_at *at, int64_t rows, int64_t per_sample,
                              double p, nerve_real *mask)
{
    /* p = 1 gives the threshold 2^32, above every word: all dropped. */
    noise_map m = {.dropout = true, .threshold = (uint64_t)llround(ldexp(p, 32)),
                   .keep_scale = p < 1 ? (nerve_real)(1 / (1 - p)) : 0};
    fill(at, rows, per_sample, &m, mask);
}

void nerve_noise_uniform(const nerve_noise_at *at, int64_t rows, int64_t per_sample, double low,
                         double high, nerve_real *out)
{
    noise_map m = {.low = low, .width = high - low};
    fill(at, rows, per_sample, &m, out);
}
