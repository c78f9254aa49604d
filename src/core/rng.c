/* xoshiro256** (Blackman & Vigna 2018) seeded by splitmix64: fast, and the
 * same seed gives the same stream everywhere, which reproducible training needs. */
#include <math.h>

#include "nerve.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void nerve_rng_seed(nerve_rng *rng, uint64_t seed)
{
    for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&seed);
}

uint64_t nerve_rng_next(nerve_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double nerve_rng_uniform(nerve_rng *rng)
{
    return (double)(nerve_rng_next(rng) >> 11) * 0x1.0p-53;
}

double nerve_rng_normal(nerve_rng *rng)
{
    /* Box-Muller; 1 - u keeps the logarithm's argument in (0, 1]. */
    double u = 1.0 - nerve_rng_uniform(rng), v = nerve_rng_uniform(rng);
    return sqrt(-2.0 * log(u)) * cos(2.0 * 3.14159265358979323846 * v);
}

uint64_t nerve_rng_below(nerve_rng *rng, uint64_t n)
{
    /* Rejection sampling avoids the modulo bias of next() % n. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = nerve_rng_next(rng);
    while (x >= limit);
    return x % n;
}

void nerve_rng_shuffle(nerve_rng *rng, int64_t *index, int64_t n)
{
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)nerve_rng_below(rng, (uint64_t)i + 1);
        int64_t t = index[i];
        index[i] = index[j];
        index[j] = t;
    }
}
