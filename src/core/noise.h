/* Counter-based noise: Philox-4x32-10 (Salmon, Moraes, Dror and Shaw,
 * "Parallel random numbers: as easy as 1, 2, 3", SC'11), and the masks of
 * the stochastic ops drawn from it. A draw is a pure function of where it
 * is, (seed, step, global sample index, stream, word), not of what was drawn
 * before it: the same sample gets the same mask whatever batch it sits in,
 * at whatever row, on whatever backend or number of threads, which exact
 * data-parallel training needs (docs/reference.md, "Random numbers"). */
#ifndef NERVE_NOISE_H
#define NERVE_NOISE_H

#include "nerve.h"

/* The Philox-4x32-10 block of counter under key (Random123's
 * philox4x32_R(10, counter, key)). */
void nerve_philox4x32_10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]);

/* Where a batch's draws are: the key (seed), the step, and the global index
 * of the batch's first sample (row i is sample first_sample + i); stream
 * tells the draws of one user (a node of the graph, the augmentation) from
 * another's. The counter of block b of sample s is (b, stream, s, step), so
 * a step, a sample and a block index count modulo 2^32. A graph's nodes are
 * streams 0, 1, ...; the augmentation is NERVE_NOISE_STREAM_AUGMENT. */
#define NERVE_NOISE_STREAM_AUGMENT 0xffffffffu

typedef struct nerve_noise_at {
    uint64_t seed;
    int64_t step, first_sample;
    uint32_t stream;
} nerve_noise_at;

/* Block `block` of the draws of global sample `sample` at `at` (the
 * batch's first_sample is not added): its words 4 block .. 4 block + 3,
 * each uniform on [0, 2^32). */
void nerve_noise_block(const nerve_noise_at *at, int64_t sample, uint64_t block, uint32_t out[4]);

/* Inverted dropout's mask for rows samples of per_sample values each:
 * value j of batch row i is 0 with probability p (to within 2^-33) and
 * 1 / (1 - p) otherwise (0 for p = 1), from word j of sample
 * first_sample + i. */
void nerve_noise_dropout_mask(const nerve_noise_at *at, int64_t rows, int64_t per_sample,
                              double p, nerve_real *mask);
/* U(low, high) values, laid out and drawn as the dropout mask. */
void nerve_noise_uniform(const nerve_noise_at *at, int64_t rows, int64_t per_sample, double low,
                         double high, nerve_real *out);

#endif
