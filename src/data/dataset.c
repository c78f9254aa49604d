#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/team.h"
#include "nerve.h"

/* Below this many elements a loop is not worth waking OpenMP's threads. */
#define PARALLEL_THRESHOLD ((int64_t)1 << 16)
/* Moments are summed in this many fixed blocks, then the blocks in order:
 * the result does not depend on the number of threads. */
#define MOMENT_BLOCKS 64

static void free_names(char **names, int count)
{
    for (int i = 0; names && i < count; i++) free(names[i]);
    free(names);
}

void nerve_dataset_free(nerve_dataset *ds)
{
    if (!ds) return;
    free(ds->inputs);
    free(ds->pixels);
    free(ds->targets);
    free_names(ds->class_names, ds->num_classes);
    memset(ds, 0, sizeof *ds);
}

/* The index of name in names[0..count), or -1. */
static int find_name(const char *const *names, int count, const char *name)
{
    for (int i = 0; i < count; i++)
        if (strcmp(names[i], name) == 0) return i;
    return -1;
}

nerve_status nerve_dataset_map_classes(nerve_dataset *ds, const char *const *names, int count,
                                       const char *what, nerve_error *err)
{
    if (!ds->class_names) return NERVE_OK;
    int *map = malloc((size_t)(ds->num_classes > 0 ? ds->num_classes : 1) * sizeof *map);
    char **copy = calloc((size_t)(count > 0 ? count : 1), sizeof *copy);
    bool ok = map && copy;
    for (int i = 0; ok && i < count; i++) ok = (copy[i] = strdup(names[i])) != NULL;
    if (!ok) {
        free(map);
        free_names(copy, count);
        return nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory for class names", what);
    }
    for (int c = 0; c < ds->num_classes; c++) {
        map[c] = find_name(names, count, ds->class_names[c]);
        if (map[c] >= 0) continue;
        char list[512] = "";
        size_t used = 0;
        for (int i = 0; i < count && used + 8 < sizeof list; i++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                     names[i]);
        if (used >= sizeof list) strcpy(list + sizeof list - 5, "...");
        nerve_error_set(err, NERVE_ERR_INVALID,
                        "%s: class '%s' is not one of the model's %d classes (%s)", what,
                        ds->class_names[c], count, list);
        free(map);
        free_names(copy, count);
        return NERVE_ERR_INVALID;
    }
    for (int64_t i = 0; i < ds->count * ds->target_size; i++)
        ds->targets[i] = (float)map[(int)ds->targets[i]];
    free(map);
    free_names(ds->class_names, ds->num_classes);
    ds->class_names = copy;
    ds->num_classes = count;
    return NERVE_OK;
}

/* The size of one input element as stored: a byte or a float. */
static size_t element_size(const nerve_dataset *ds)
{
    return ds->pixels ? sizeof *ds->pixels : sizeof *ds->inputs;
}

/* Where the stored inputs are, whichever their type. */
static void *stored_inputs(const nerve_dataset *ds)
{
    return ds->pixels ? (void *)ds->pixels : (void *)ds->inputs;
}

/* Points ds's inputs, of their stored type, at memory. */
static void set_stored_inputs(nerve_dataset *ds, void *memory)
{
    if (ds->pixels) ds->pixels = memory;
    else ds->inputs = memory;
}

/* A malloc'd copy of rows [first, first + count) of a matrix of width
 * elements of `size` bytes; NULL when there is nothing to copy (images
 * without targets). */
static void *copy_rows(const void *data, int64_t first, int64_t count, int64_t width, size_t size)
{
    size_t bytes = (size_t)(count * width) * size;
    if (bytes == 0) return NULL;
    void *copy = malloc(bytes);
    if (copy) memcpy(copy, (const char *)data + (size_t)(first * width) * size, bytes);
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
    held_out.class_names = NULL; /* ds keeps them */
    set_stored_inputs(&held_out, copy_rows(stored_inputs(ds), first, count, ds->sample_size,
                                           element_size(ds)));
    held_out.targets = copy_rows(ds->targets, first, count, ds->target_size, sizeof(float));
    bool inputs_failed = !stored_inputs(&held_out) && count * ds->sample_size != 0;
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

/* Marks count samples of ds in chosen[]: at random, or at random within
 * each class in proportion to its size. */
static bool choose_samples(const nerve_dataset *ds, int64_t count, nerve_split kind, uint64_t seed,
                           unsigned char *chosen)
{
    nerve_rng rng;
    nerve_rng_seed(&rng, seed ^ 0x5a11d5eedULL);
    int64_t *order = malloc((size_t)ds->count * sizeof *order);
    if (!order) return false;
    for (int64_t i = 0; i < ds->count; i++) order[i] = i;
    nerve_rng_shuffle(&rng, order, ds->count);
    if (kind == NERVE_SPLIT_RANDOM) {
        for (int64_t i = 0; i < count; i++) chosen[order[i]] = 1;
        free(order);
        return true;
    }
    /* Stratified: each class's share count * n_c / n, rounded down, then
     * the largest remainders get one more (ties: the smaller class id). */
    int classes = ds->num_classes;
    int64_t *size = calloc((size_t)classes, sizeof *size), *quota = calloc((size_t)classes, sizeof *quota);
    double *remainder = calloc((size_t)classes, sizeof *remainder);
    if (!size || !quota || !remainder) {
        free(order), free(size), free(quota), free(remainder);
        return false;
    }
    for (int64_t i = 0; i < ds->count; i++) size[(int)ds->targets[i * ds->target_size]]++;
    int64_t given = 0;
    for (int c = 0; c < classes; c++) {
        double share = (double)count * (double)size[c] / (double)ds->count;
        quota[c] = (int64_t)share;
        remainder[c] = share - (double)quota[c];
        given += quota[c];
    }
    for (; given < count; given++) {
        int best = -1;
        for (int c = 0; c < classes; c++)
            if (quota[c] < size[c] && (best < 0 || remainder[c] > remainder[best])) best = c;
        quota[best]++;
        remainder[best] = -1;
    }
    for (int64_t i = 0; i < ds->count; i++) {
        int c = (int)ds->targets[order[i] * ds->target_size];
        if (quota[c] > 0) {
            chosen[order[i]] = 1;
            quota[c]--;
        }
    }
    free(order), free(size), free(quota), free(remainder);
    return true;
}

nerve_status nerve_dataset_split_by(nerve_dataset *ds, int64_t count, nerve_split kind,
                                    uint64_t seed, nerve_dataset *val, nerve_error *err)
{
    if (kind == NERVE_SPLIT_END || count <= 0 || count >= ds->count)
        return nerve_dataset_split(ds, count, val, err);
    if (kind == NERVE_SPLIT_STRATIFIED && (ds->num_classes == 0 || ds->target_size != 1))
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "a stratified validation split needs one class label per sample");
    if (ds->lanes > 0)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "a stream keeps its order: its validation split is its end");
    unsigned char *chosen = calloc((size_t)ds->count, 1);
    size_t row_bytes = (size_t)ds->sample_size * element_size(ds);
    char *inputs = malloc((size_t)ds->count * row_bytes + 1);
    float *targets = malloc((size_t)(ds->count * ds->target_size) * sizeof *targets + 1);
    if (!chosen || !inputs || !targets || !choose_samples(ds, count, kind, seed, chosen)) {
        free(chosen), free(inputs), free(targets);
        return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory for a validation split");
    }
    /* The kept samples first, then the chosen ones, each in file order. */
    int64_t row = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int64_t i = 0; i < ds->count; i++) {
            if (chosen[i] != pass) continue;
            memcpy(inputs + (size_t)row * row_bytes,
                   (const char *)stored_inputs(ds) + (size_t)i * row_bytes, row_bytes);
            if (ds->target_size)
                memcpy(targets + row * ds->target_size, ds->targets + i * ds->target_size,
                       (size_t)ds->target_size * sizeof *targets);
            row++;
        }
    }
    free(chosen);
    free(stored_inputs(ds));
    free(ds->targets);
    if (!ds->target_size) {
        free(targets);
        targets = NULL;
    }
    set_stored_inputs(ds, inputs);
    ds->targets = targets;
    return nerve_dataset_split(ds, count, val, err);
}

nerve_status nerve_dataset_limit_classes(nerve_dataset *ds, const int64_t *limits, int classes,
                                         nerve_error *err)
{
    if (ds->target_size != 1 || ds->num_classes == 0 || ds->lanes > 0)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "per-class limits need one class label per sample");
    int64_t *seen = calloc((size_t)(classes > 0 ? classes : 1), sizeof *seen);
    if (!seen) return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory for class limits");
    size_t row_bytes = (size_t)ds->sample_size * element_size(ds);
    char *rows = stored_inputs(ds);
    int64_t kept = 0;
    for (int64_t i = 0; i < ds->count; i++) {
        int64_t c = (int64_t)ds->targets[i];
        if (c >= 0 && c < classes && limits[c] >= 0 && seen[c]++ >= limits[c]) continue;
        if (kept != i) {
            memcpy(rows + (size_t)kept * row_bytes, rows + (size_t)i * row_bytes, row_bytes);
            ds->targets[kept] = ds->targets[i];
        }
        kept++;
    }
    free(seen);
    ds->count = kept;
    return NERVE_OK;
}

int nerve_dataset_class_missing(const nerve_dataset *train, const nerve_dataset *val)
{
    if (train->num_classes <= 0 || !val || val->count == 0 || !val->targets) return -1;
    int classes = train->num_classes > val->num_classes ? train->num_classes : val->num_classes;
    unsigned char *seen = calloc((size_t)classes, 1);
    if (!seen) return -1;
    for (int64_t i = 0; i < train->count * train->target_size; i++) {
        int c = (int)train->targets[i];
        if (c >= 0 && c < classes) seen[c] = 1;
    }
    int missing = -1;
    for (int64_t i = 0; i < val->count * val->target_size; i++) {
        int c = (int)val->targets[i];
        if (c >= 0 && c < classes && !seen[c] && (missing < 0 || c < missing)) missing = c;
    }
    free(seen);
    return missing;
}

static int64_t input_count(const nerve_dataset *ds) { return ds->count * ds->sample_size; }

/* The values a pass over the inputs changes: the float inputs, or the 256
 * values of stored pixels (the same arithmetic, on each byte value once). */
static float *values_of(nerve_dataset *ds, int64_t *n)
{
    *n = ds->pixels ? 256 : input_count(ds);
    return ds->pixels ? ds->pixel_values : ds->inputs;
}

void nerve_dataset_scale(nerve_dataset *ds, float divisor)
{
    int64_t n;
    float *x = values_of(ds, &n);
    /* Divide rather than multiply by the reciprocal, as torchvision's
     * ToTensor (x / 255), so that the values match it bit for bit. */
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (int64_t i = 0; i < n; i++) x[i] /= divisor;
}

/* Input element i as a float, whichever its stored type. */
static inline float input_at(const nerve_dataset *ds, int64_t i)
{
    return ds->pixels ? ds->pixel_values[ds->pixels[i]] : ds->inputs[i];
}

/* Sums f(x[i]) over [0, n) in MOMENT_BLOCKS fixed blocks. */
static double block_sum(const nerve_dataset *ds, int64_t n, double center, bool squared)
{
    double partial[MOMENT_BLOCKS];
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (int block = 0; block < MOMENT_BLOCKS; block++) {
        int64_t begin = n * block / MOMENT_BLOCKS, end = n * (block + 1) / MOMENT_BLOCKS;
        double sum = 0;
        for (int64_t i = begin; i < end; i++) {
            double d = (double)input_at(ds, i) - center;
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
    *mean = block_sum(ds, n, 0, false) / (double)n;
    *std = sqrt(block_sum(ds, n, *mean, true) / (double)n);
}

void nerve_dataset_standardize(nerve_dataset *ds, double mean, double std)
{
    /* A constant input has std 0: only centre it, as scikit-learn's
     * StandardScaler does, rather than fill it with infinities. */
    double divisor = std > 0 ? std : 1.0;
    int64_t n;
    float *x = values_of(ds, &n);
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (int64_t i = 0; i < n; i++) x[i] = (float)(((double)x[i] - mean) / divisor);
}

nerve_status nerve_dataset_to_float(nerve_dataset *ds, nerve_error *err)
{
    if (!ds->pixels) return NERVE_OK;
    int64_t n = input_count(ds);
    float *inputs = malloc((size_t)n * sizeof *inputs + 1);
    if (!inputs)
        return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory converting %lld inputs to float",
                               (long long)n);
#pragma omp parallel for if (n > PARALLEL_THRESHOLD)
    for (int64_t i = 0; i < n; i++) inputs[i] = ds->pixel_values[ds->pixels[i]];
    free(ds->pixels);
    ds->pixels = NULL;
    ds->inputs = inputs;
    return NERVE_OK;
}

static void copy_row(nerve_real *to, const float *from, int64_t size)
{
    for (int64_t j = 0; j < size; j++) to[j] = (nerve_real)from[j];
}

static void convert_row(nerve_real *to, const unsigned char *from, const float *values,
                        int64_t size)
{
    for (int64_t j = 0; j < size; j++) to[j] = (nerve_real)values[from[j]];
}

void nerve_dataset_gather(const nerve_dataset *ds, const int64_t *index, int64_t n,
                          nerve_real *inputs, nerve_real *targets)
{
    int64_t sample_size = ds->sample_size, target_size = ds->target_size;
    /* Row copies: the busy machine's team may take them (team.h). */
#pragma omp parallel for num_threads(nerve_cpu_team()) if (n * sample_size > PARALLEL_THRESHOLD)
    for (int64_t i = 0; i < n; i++) {
        int64_t row = index[i];
        if (ds->pixels)
            convert_row(inputs + i * sample_size, ds->pixels + row * sample_size,
                        ds->pixel_values, sample_size);
        else
            copy_row(inputs + i * sample_size, ds->inputs + row * sample_size, sample_size);
        if (targets && ds->targets)
            copy_row(targets + i * target_size, ds->targets + row * target_size, target_size);
    }
}
