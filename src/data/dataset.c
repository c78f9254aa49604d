#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nerve.h"

/* Below this many elements a loop is not worth waking OpenMP's threads. */
#define PARALLEL_THRESHOLD ((int64_t)1 << 16)
/* Moments are summed in this many fixed blocks, then the blocks in order:
 * the result does not depend on the number of threads. */
#define MOMENT_BLOCKS 64

void nerve_dataset_free(nerve_dataset *ds)
{
    if (!ds) return;
    free(ds->inputs);
    free(ds->targets);
    memset(ds, 0, sizeof *ds);
}

/* A malloc'd copy of rows [first, first + count) of a matrix of width
 * columns; NULL when there is nothing to copy (images without targets). */
static float *copy_rows(const float *data, int64_t first, int64_t count, int64_t width)
{
    size_t size = (size_t)(count * width) * sizeof(float);
    if (size == 0) return NULL;
    float *copy = malloc(size);
    if (copy) memcpy(copy, data + first * width, size);
    return copy;
}

nerve_status nerve_dataset_split(nerve_dataset *ds, int64_t count, nerve_dataset *val,
                                 nerve_error *err)
{
    memset(val, 0, sizeof *val);
    if (count < 0 || count >= ds->count)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "a validation split of %lld samples must be at least 0 and less "
                               "than the %lld samples of the data set",
                               (long long)count, (long long)ds->count);
    int64_t first = ds->count - count;
    nerve_dataset held_out = *ds;
    held_out.count = count;
    held_out.inputs = copy_rows(ds->inputs, first, count, ds->sample_size);
    held_out.targets = copy_rows(ds->targets, first, count, ds->target_size);
    bool inputs_failed = !held_out.inputs && count * ds->sample_size != 0;
    bool targets_failed = !held_out.targets && count * ds->target_size != 0;
    if (inputs_failed || targets_failed) {
        nerve_dataset_free(&held_out);
        return nerve_error_set(err, NERVE_ERR_NOMEM, "cannot allocate %lld validation samples",
                               (long long)count);
    }
    /* ds keeps its buffers (freed whole later); only its count shrinks. */
    ds->count = first;
    *val = held_out;
    return NERVE_OK;
}

static int64_t input_count(const nerve_dataset *ds) { return ds->count * ds->sample_size; }

void nerve_dataset_scale(nerve_dataset *ds, float divisor)
{
    int64_t n = input_count(ds);
    float *x = ds->inputs;
    /* Divide rather than multiply by the reciprocal, as torchvision's
     * ToTensor (x / 255), so that the values match it bit for bit. */
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (int64_t i = 0; i < n; i++) x[i] /= divisor;
}

/* Sums f(x[i]) over [0, n) in MOMENT_BLOCKS fixed blocks. */
static double block_sum(const float *x, int64_t n, double center, bool squared)
{
    double partial[MOMENT_BLOCKS];
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (int block = 0; block < MOMENT_BLOCKS; block++) {
        int64_t begin = n * block / MOMENT_BLOCKS, end = n * (block + 1) / MOMENT_BLOCKS;
        double sum = 0;
        for (int64_t i = begin; i < end; i++) {
            double d = (double)x[i] - center;
            sum += squared ? d * d : d;
        }
        partial[block] = sum;
    }
    double total = 0;
    for (int block = 0; block < MOMENT_BLOCKS; block++) total += partial[block];
    return total;
}

/* Two passes (mean, then squared deviations) rather than sum and sum of
 * squares, which cancel catastrophically when the mean is large. The
 * standard deviation is the population one (divide by n), as numpy.std. */
void nerve_dataset_moments(const nerve_dataset *ds, double *mean, double *std)
{
    int64_t n = input_count(ds);
    *mean = 0;
    *std = 0;
    if (n <= 0) return;
    *mean = block_sum(ds->inputs, n, 0, false) / (double)n;
    *std = sqrt(block_sum(ds->inputs, n, *mean, true) / (double)n);
}

void nerve_dataset_standardize(nerve_dataset *ds, double mean, double std)
{
    /* A constant input has std 0: only centre it, as scikit-learn's
     * StandardScaler does, rather than fill it with infinities. */
    double divisor = std > 0 ? std : 1.0;
    int64_t n = input_count(ds);
    float *x = ds->inputs;
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (int64_t i = 0; i < n; i++) x[i] = (float)(((double)x[i] - mean) / divisor);
}

static void copy_row(nerve_real *to, const float *from, int64_t size)
{
    for (int64_t j = 0; j < size; j++) to[j] = (nerve_real)from[j];
}

void nerve_dataset_gather(const nerve_dataset *ds, const int64_t *index, int64_t n,
                          nerve_real *inputs, nerve_real *targets)
{
    int64_t sample_size = ds->sample_size, target_size = ds->target_size;
#pragma omp parallel for if (n * sample_size > PARALLEL_THRESHOLD)
    for (int64_t i = 0; i < n; i++) {
        int64_t row = index[i];
        copy_row(inputs + i * sample_size, ds->inputs + row * sample_size, sample_size);
        if (targets && ds->targets)
            copy_row(targets + i * target_size, ds->targets + row * target_size, target_size);
    }
}
