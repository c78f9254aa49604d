/* The adding problem, the long-memory benchmark of Hochreiter & Schmidhuber
 * (1997), generated in the form later papers use (Le, Jaitly & Hinton 2015;
 * Arjovsky et al. 2016): values U(0, 1), one marker in each half. A network
 * must carry two values across up to `length` steps and ignore the rest. */
#include <stdlib.h>
#include <string.h>

#include "nerve.h"

nerve_status nerve_adding_generate(int64_t length, int64_t count, uint64_t seed,
                                   nerve_dataset *out, nerve_error *err)
{
    memset(out, 0, sizeof *out);
    if (length < 2 || count < 1)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "the adding problem needs a length of at least 2 and at least one "
                               "sample, got length %lld and %lld samples",
                               (long long)length, (long long)count);
    out->inputs = malloc((size_t)(count * length * 2) * sizeof *out->inputs);
    out->targets = malloc((size_t)count * sizeof *out->targets);
    if (!out->inputs || !out->targets) {
        nerve_dataset_free(out);
        return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory for %lld adding samples of "
                               "length %lld", (long long)count, (long long)length);
    }
    nerve_rng rng;
    nerve_rng_seed(&rng, seed);
    int64_t half = length / 2;
    for (int64_t s = 0; s < count; s++) {
        float *x = out->inputs + s * length * 2;
        for (int64_t t = 0; t < length; t++) {
            x[2 * t] = (float)nerve_rng_uniform(&rng);
            x[2 * t + 1] = 0;
        }
        int64_t first = (int64_t)nerve_rng_below(&rng, (uint64_t)half);
        int64_t second = half + (int64_t)nerve_rng_below(&rng, (uint64_t)(length - half));
        x[2 * first + 1] = x[2 * second + 1] = 1;
        out->targets[s] = x[2 * first] + x[2 * second];
    }
    int64_t dims[2] = {length, 2};
    out->count = count;
    out->sample_shape = nerve_shape_make(2, dims);
    out->sample_size = length * 2;
    out->target_size = 1;
    return NERVE_OK;
}

double nerve_adding_baseline(const nerve_dataset *ds)
{
    double sum = 0;
    for (int64_t s = 0; s < ds->count; s++) {
        double error = (double)ds->targets[s * ds->target_size] - 1;
        sum += error * error;
    }
    return ds->count ? sum / (double)ds->count : 0;
}
