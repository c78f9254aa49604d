/* The optimizer step over host memory (cpu, ref, sealed): the update loops
 * of optimizer_step.h's algorithms, which are the optimizers' definition
 * (each checked against PyTorch by tests/test_parity_optim.c; CUDA's
 * kernels copy them). One parallel walk over the flat buffers in blocks cut
 * at segment boundaries; clip_grad_norm_'s global norm is measured by a
 * first walk when clipping by norm, otherwise by the update loops on the
 * way. */
#include <math.h>

#include "backends/device.h"
#include "backends/optimizer_step.h"
#include "dist/data_parallel.h"

#ifndef NERVE_F64

/* The update of elements [begin, end) of one segment; returns the sum of
 * their squared raw gradients (optim_raw_gradient), from which the step's
 * global norm comes. One `omp simd` loop, specialised for each variant
 * (momentum or not, regularised or not, ...) so that none branches inside and
 * all vectorise; the norm is accumulated before the trainability mask
 * applies, multiplied by it, which keeps the loop vectorisable. */
typedef double (*optim_kernel)(const nerve_optim_step *step, const nerve_optim_segment *segment,
                               int64_t begin, int64_t end);

/* A kernel's loop, written once with trailing flag arguments: it must be
 * inlined into each specialisation (OPTIM_KERNEL) for the flags' branches to
 * fold away and the loop to vectorise, which GCC does not always decide to. */
#if defined(__GNUC__)
#define OPTIM_LOOP static inline __attribute__((always_inline))
#else
#define OPTIM_LOOP static inline
#endif

/* What a kernel stores: the updated value for a trainable element, the old
 * one otherwise: a select and a plain store, where a branch around the
 * update (`if (!trainable[i]) continue;`) became AVX2 masked loads and
 * stores, slower on AMD's cores than the scalar loop they replaced. */
static inline nerve_real optim_keep(unsigned char trainable, nerve_real updated, nerve_real old)
{
    return trainable ? updated : old;
}

/* Defines kernel as loop (an OPTIM_LOOP whose trailing arguments are
 * constant flags) specialised for the flags given. */
#define OPTIM_KERNEL(kernel, loop, ...)                                                            \
    static double kernel(const nerve_optim_step *step, const nerve_optim_segment *segment,        \
                         int64_t begin, int64_t end)                                               \
    {                                                                                              \
        return loop(step, segment, begin, end, __VA_ARGS__);                                       \
    }

/* clip_grad_norm_'s total_norm: the 2-norm of all trainable raw gradients.
 * Needed before the update only when clipping by norm. */
OPTIM_LOOP double measure_loop(const nerve_optim_step *step, const nerve_optim_segment *segment,
                               int64_t begin, int64_t end, bool with_l1)
{
    const nerve_real *restrict w = step->params, *restrict grad = step->grads;
    const unsigned char *restrict trainable = step->trainable;
    const optim_terms terms = optim_terms_of(step, segment);
    nerve_real squares = 0;
#pragma omp simd reduction(+ : squares)
    for (int64_t i = begin; i < end; i++) {
        nerve_real counted = optim_raw_gradient(terms, with_l1, w[i], grad[i]) * trainable[i];
        squares += counted * counted;
    }
    return squares;
}

OPTIM_KERNEL(measure_plain, measure_loop, false)
OPTIM_KERNEL(measure_with_l1, measure_loop, true)

/* SGD: the momentum buffer b = kept * b + undamped * d, the step along
 * along_d * d + along_b * b. The first step and Nesterov's choice are these
 * factors, not branches, which would be unswitched into loops that do not
 * all vectorise: on the first step the buffer (zeros) becomes 0 * 0 + 1 * d
 * = d exactly, and plain momentum steps along 0 * d + 1 * b = b. */
OPTIM_LOOP double sgd_loop(const nerve_optim_step *step, const nerve_optim_segment *segment,
                           int64_t begin, int64_t end, bool with_momentum, bool regularised)
{
    nerve_real *restrict p = step->params;
    nerve_real *restrict buffer = step->state[NERVE_OPTIM_SGD_BUFFER];
    const nerve_real *restrict grad = step->grads;
    const unsigned char *restrict trainable = step->trainable;
    const optim_terms terms = optim_terms_of(step, segment);
    const nerve_real lr = step->c.sgd.lr, kept = step->c.sgd.kept,
                     undamped = step->c.sgd.undamped, along_d = step->c.sgd.along_d,
                     along_b = step->c.sgd.along_b;
    nerve_real squares = 0;
#pragma omp simd reduction(+ : squares)
    for (int64_t i = begin; i < end; i++) {
        nerve_real raw = optim_raw_gradient(terms, regularised, p[i], grad[i]);
        nerve_real counted = raw * trainable[i];
        squares += counted * counted;
        nerve_real d = optim_gradient(terms, regularised, p[i], raw);
        if (with_momentum) {
            nerve_real b = kept * buffer[i] + undamped * d;
            buffer[i] = optim_keep(trainable[i], b, buffer[i]);
            d = along_d * d + along_b * b;
        }
        p[i] = optim_keep(trainable[i], p[i] - lr * d, p[i]);
    }
    return squares;
}

OPTIM_KERNEL(sgd_plain, sgd_loop, false, false)
OPTIM_KERNEL(sgd_plain_regularised, sgd_loop, false, true)
OPTIM_KERNEL(sgd_momentum, sgd_loop, true, false)
OPTIM_KERNEL(sgd_momentum_regularised, sgd_loop, true, true)

/* AdaGrad: s += g^2, p -= clr * g / (sqrt(s) + eps). */
OPTIM_LOOP double adagrad_loop(const nerve_optim_step *step, const nerve_optim_segment *segment,
                               int64_t begin, int64_t end, bool regularised)
{
    nerve_real *restrict p = step->params, *restrict sum = step->state[NERVE_OPTIM_ADAGRAD_SUM];
    const nerve_real *restrict grad = step->grads;
    const unsigned char *restrict trainable = step->trainable;
    const optim_terms terms = optim_terms_of(step, segment);
    const nerve_real clr = step->c.adagrad.clr, eps = step->c.adagrad.eps;
    nerve_real squares = 0;
#pragma omp simd reduction(+ : squares)
    for (int64_t i = begin; i < end; i++) {
        nerve_real raw = optim_raw_gradient(terms, regularised, p[i], grad[i]);
        nerve_real counted = raw * trainable[i];
        squares += counted * counted;
        nerve_real g = optim_gradient(terms, regularised, p[i], raw);
        nerve_real summed = sum[i] + g * g;
        sum[i] = optim_keep(trainable[i], summed, sum[i]);
        p[i] = optim_keep(trainable[i], p[i] - clr * g / (sqrtf(summed) + eps), p[i]);
    }
    return squares;
}

OPTIM_KERNEL(adagrad_plain, adagrad_loop, false)
OPTIM_KERNEL(adagrad_regularised, adagrad_loop, true)

/* RMSProp: v = alpha * v + (1 - alpha) * g^2 (minus the squared running mean
 * of g when centered), then p -= lr * g / (sqrt(v) + eps), through a momentum
 * buffer when it has one. */
OPTIM_LOOP double rmsprop_loop(const nerve_optim_step *step, const nerve_optim_segment *segment,
                               int64_t begin, int64_t end, bool centered, bool with_momentum,
                               bool regularised)
{
    nerve_real *restrict p = step->params;
    nerve_real *restrict square_average = step->state[NERVE_OPTIM_RMSPROP_SQUARE_AVERAGE];
    nerve_real *restrict buffer = step->state[NERVE_OPTIM_RMSPROP_BUFFER];
    nerve_real *restrict average = step->state[NERVE_OPTIM_RMSPROP_GRADIENT_AVERAGE];
    const nerve_real *restrict grad = step->grads;
    const unsigned char *restrict trainable = step->trainable;
    const optim_terms terms = optim_terms_of(step, segment);
    const nerve_real lr = step->c.rmsprop.lr, alpha = step->c.rmsprop.alpha,
                     new_weight = step->c.rmsprop.new_weight, eps = step->c.rmsprop.eps,
                     momentum = step->c.rmsprop.momentum;
    nerve_real squares = 0;
#pragma omp simd reduction(+ : squares)
    for (int64_t i = begin; i < end; i++) {
        nerve_real raw = optim_raw_gradient(terms, regularised, p[i], grad[i]);
        nerve_real counted = raw * trainable[i];
        squares += counted * counted;
        const unsigned char on = trainable[i];
        nerve_real g = optim_gradient(terms, regularised, p[i], raw);
        nerve_real squared = alpha * square_average[i] + new_weight * g * g;
        square_average[i] = optim_keep(on, squared, square_average[i]);
        nerve_real variance = squared;
        if (centered) {
            nerve_real mean = alpha * average[i] + new_weight * g;
            average[i] = optim_keep(on, mean, average[i]);
            variance -= mean * mean;
        }
        nerve_real denominator = sqrtf(variance) + eps;
        if (with_momentum) {
            nerve_real b = momentum * buffer[i] + g / denominator;
            buffer[i] = optim_keep(on, b, buffer[i]);
            p[i] = optim_keep(on, p[i] - lr * b, p[i]);
        } else {
            p[i] = optim_keep(on, p[i] - lr * g / denominator, p[i]);
        }
    }
    return squares;
}

/* [centered][with_momentum][regularised] */
OPTIM_KERNEL(rmsprop_000, rmsprop_loop, false, false, false)
OPTIM_KERNEL(rmsprop_001, rmsprop_loop, false, false, true)
OPTIM_KERNEL(rmsprop_010, rmsprop_loop, false, true, false)
OPTIM_KERNEL(rmsprop_011, rmsprop_loop, false, true, true)
OPTIM_KERNEL(rmsprop_100, rmsprop_loop, true, false, false)
OPTIM_KERNEL(rmsprop_101, rmsprop_loop, true, false, true)
OPTIM_KERNEL(rmsprop_110, rmsprop_loop, true, true, false)
OPTIM_KERNEL(rmsprop_111, rmsprop_loop, true, true, true)

/* Adam: m = beta1 * m + (1 - beta1) * g, v = beta2 * v + (1 - beta2) * g^2
 * (amsgrad: divided by the largest v so far), p = p * kept - step_size * m /
 * (sqrt(v) / correction2 + eps). */
OPTIM_LOOP double adam_loop(const nerve_optim_step *step, const nerve_optim_segment *segment,
                            int64_t begin, int64_t end, bool amsgrad, bool regularised)
{
    nerve_real *restrict p = step->params, *restrict m = step->state[NERVE_OPTIM_ADAM_FIRST_MOMENT];
    nerve_real *restrict v = step->state[NERVE_OPTIM_ADAM_SECOND_MOMENT];
    nerve_real *restrict v_max = step->state[NERVE_OPTIM_ADAM_MAX_SECOND_MOMENT];
    const nerve_real *restrict grad = step->grads;
    const unsigned char *restrict trainable = step->trainable;
    const optim_terms terms = optim_terms_of(step, segment);
    const nerve_real step_size = step->c.adam.step_size, correction2 = step->c.adam.correction2,
                     beta1 = step->c.adam.beta1, new_weight1 = step->c.adam.new_weight1,
                     beta2 = step->c.adam.beta2, new_weight2 = step->c.adam.new_weight2,
                     eps = step->c.adam.eps, kept = optim_kept(step, segment);
    nerve_real squares = 0;
#pragma omp simd reduction(+ : squares)
    for (int64_t i = begin; i < end; i++) {
        nerve_real raw = optim_raw_gradient(terms, regularised, p[i], grad[i]);
        nerve_real counted = raw * trainable[i];
        squares += counted * counted;
        const unsigned char on = trainable[i];
        nerve_real g = optim_gradient(terms, regularised, p[i], raw);
        nerve_real w = p[i] * kept;
        nerve_real first = beta1 * m[i] + new_weight1 * g;
        nerve_real second = beta2 * v[i] + new_weight2 * g * g;
        m[i] = optim_keep(on, first, m[i]);
        v[i] = optim_keep(on, second, v[i]);
        if (amsgrad) {
            second = v_max[i] > second ? v_max[i] : second;
            v_max[i] = optim_keep(on, second, v_max[i]);
        }
        p[i] = optim_keep(on, w - step_size * first / (sqrtf(second) / correction2 + eps), p[i]);
    }
    return squares;
}

OPTIM_KERNEL(adam_plain, adam_loop, false, false)
OPTIM_KERNEL(adam_plain_regularised, adam_loop, false, true)
OPTIM_KERNEL(adam_amsgrad, adam_loop, true, false)
OPTIM_KERNEL(adam_amsgrad_regularised, adam_loop, true, true)

/* The specialisation that updates (or, measuring, measures) a segment: a
 * table look-up per block and segment, after the scale is known (it decides
 * whether a segment's gradient is regularised). */
static optim_kernel kernel_of(const nerve_optim_step *step, const nerve_optim_segment *segment,
                              bool measuring)
{
    static const optim_kernel sgd[2][2] = {{sgd_plain, sgd_plain_regularised},
                                           {sgd_momentum, sgd_momentum_regularised}};
    static const optim_kernel adagrad[2] = {adagrad_plain, adagrad_regularised};
    static const optim_kernel rmsprop[2][2][2] = {
        {{rmsprop_000, rmsprop_001}, {rmsprop_010, rmsprop_011}},
        {{rmsprop_100, rmsprop_101}, {rmsprop_110, rmsprop_111}},
    };
    static const optim_kernel adam[2][2] = {{adam_plain, adam_plain_regularised},
                                            {adam_amsgrad, adam_amsgrad_regularised}};
    if (measuring) return segment->l1 != 0 ? measure_with_l1 : measure_plain;
    const bool regularised = optim_regularised(step, segment);
    switch (step->kind) {
    case NERVE_OPTIM_SGD: return sgd[step->momentum][regularised];
    case NERVE_OPTIM_ADAGRAD: return adagrad[regularised];
    case NERVE_OPTIM_RMSPROP: return rmsprop[step->centered][step->momentum][regularised];
    case NERVE_OPTIM_ADAM: return adam[step->amsgrad][regularised];
    }
    return NULL;
}

/* Blocks are large enough to amortise a call and small enough to share out. */
#define BLOCK 4096
/* Buffers of more elements than this are updated on all threads. */
#define PARALLEL_MIN 65536

/* The segment holding element i. */
static int segment_at(const nerve_optim_step *step, int64_t i)
{
    int low = 0, high = step->segment_count - 1;
    while (low < high) {
        int middle = (low + high + 1) / 2;
        if (step->segments[middle].begin <= i)
            low = middle;
        else
            high = middle - 1;
    }
    return low;
}

/* The blocks [first_block, last_block) of the flat buffer, each cut at
 * segment boundaries and handed to its segment's kernel; returns the sum of
 * the kernels' squared raw gradients, in block order. */
static double run_range(const nerve_optim_step *step, bool measuring, int64_t first_block,
                        int64_t last_block)
{
    const int64_t n = step->count;
    double squares = 0;
    for (int64_t k = first_block; k < last_block; k++) {
        int64_t first = k * BLOCK, last = first + BLOCK < n ? first + BLOCK : n;
        for (int s = segment_at(step, first); s < step->segment_count; s++) {
            const nerve_optim_segment *segment = &step->segments[s];
            if (segment->begin >= last) break;
            int64_t begin = segment->begin > first ? segment->begin : first;
            int64_t end = segment->end < last ? segment->end : last;
            squares += kernel_of(step, segment, measuring)(step, segment, begin, end);
        }
    }
    return squares;
}

/* One parallel loop over the whole flat buffer in RANGES fixed ranges of
 * blocks, their sums added in order, so that the result does not depend on
 * how many threads ran them (the CPU backend gives a busy machine's step to
 * fewer: nerve_cpu_team); *sum: the squared raw gradients, summed over the
 * ranks when sharded. A failed collective fails the step: the ranks are out
 * of step (comm.c). */
#define RANGES 64
static nerve_status run_blocks(const nerve_kernel_ctx *ctx, const nerve_optim_step *step,
                               bool measuring, double *sum)
{
    const int64_t n = step->count;
    const int64_t blocks = (n + BLOCK - 1) / BLOCK;
    const int64_t per_range = (blocks + RANGES - 1) / RANGES;
    double partial[RANGES] = {0};
#pragma omp parallel for schedule(dynamic, 1) if (n > PARALLEL_MIN)
    for (int64_t r = 0; r < RANGES; r++) {
        int64_t first = r * per_range;
        int64_t last = first + per_range < blocks ? first + per_range : blocks;
        if (first < last) partial[r] = run_range(step, measuring, first, last);
    }
    double squares = 0;
    for (int r = 0; r < RANGES; r++) squares += partial[r];
    *sum = squares;
    if (!step->comm) return NERVE_OK;
    nerve_error err = {0};
    nerve_status st = nerve_dist_test_alloc(step->comm, "allreduce", &err);
    if (st == NERVE_OK) st = nerve_comm_allreduce(step->comm, sum, 1, NERVE_COMM_DOUBLE, &err);
    return st == NERVE_OK ? NERVE_OK : nerve_kernel_fail(ctx, st, "%s", err.message);
}

nerve_status nerve_host_optimizer_step(const nerve_kernel_ctx *ctx, nerve_optim_step *step)
{
    bool clip_norm = step->clip_norm > 0;
    if (clip_norm) {
        /* clip_grad_norm_: coefficient max_norm / (total_norm + 1e-6), applied
         * when below 1 (a NaN norm makes every gradient NaN, as in torch). */
        double squares;
        NERVE_TRY(run_blocks(ctx, step, true, &squares));
        step->grad_norm = sqrt(squares);
        double coefficient = step->clip_norm / (step->grad_norm + 1e-6);
        if (!(coefficient >= 1)) step->grad_scale = (nerve_real)coefficient;
    }
    double squares;
    NERVE_TRY(run_blocks(ctx, step, false, &squares));
    if (!clip_norm) step->grad_norm = sqrt(squares);
    return NERVE_OK;
}
#else
/* The float64 engine, built for the gradient checks alone, has no optimizers. */
nerve_status nerve_host_optimizer_step(const nerve_kernel_ctx *ctx, nerve_optim_step *step)
{
    return nerve_kernel_fail(ctx, NERVE_ERR_INVALID, "the float64 test engine has no optimizers");
}
#endif
