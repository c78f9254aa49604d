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
        if (!trainable[i]) continue;
        nerve_real d = optim_gradient(terms, regularised, p[i], raw);
        if (with_momentum) {
            nerve_real b = kept * buffer[i] + undamped * d;
            buffer[i] = b;
            d = along_d * d + along_b * b;
        }
        p[i] -= lr * d;
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
        if (!trainable[i]) continue;
        nerve_real g = optim_gradient(terms, regularised, p[i], raw);
        sum[i] += g * g;
        p[i] -= clr * g / (sqrtf(sum[i]) + eps);
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
        if (!trainable[i]) continue;
        nerve_real g = optim_gradient(terms, regularised, p[i], raw);
        square_average[i] = alpha * square_average[i] + new_weight * g * g;
        nerve_real variance = square_average[i];
        if (centered) {
            average[i] = alpha * average[i] + new_weight * g;
            variance -= average[i] * average[i];
        }
        nerve_real denominator = sqrtf(variance) + eps;
        if (with_momentum) {
            buffer[i] = momentum * buffer[i] + g / denominator;
            p[i] -= lr * buffer[i];
        } else {
            p[i] -= lr * g / denominator;
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
        if (!trainable[i]) continue;
        nerve_real g = optim_gradient(terms, regularised, p[i], raw);
        nerve_real w = p[i] * kept;
        m[i] = beta1 * m[i] + new_weight1 * g;
        v[i] = beta2 * v[i] + new_weight2 * g * g;
        nerve_real second = v[i];
        if (amsgrad) second = v_max[i] = v_max[i] > second ? v_max[i] : second;
        p[i] = w - step_size * m[i] / (sqrtf(second) / correction2 + eps);
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

/* One parallel loop over the whole flat buffer in blocks, each cut at segment
 * boundaries and handed to its segment's kernel; returns the sum of the
 * kernels' squared raw gradients, summed over the ranks when sharded (a
 * failed collective makes it NaN, which stops or skips the next step). */
static double run_blocks(const nerve_optim_step *step, bool measuring)
{
    const int64_t n = step->count;
    const int64_t blocks = (n + BLOCK - 1) / BLOCK;
    double squares = 0;
#pragma omp parallel for reduction(+ : squares) if (n > PARALLEL_MIN)
    for (int64_t k = 0; k < blocks; k++) {
        int64_t first = k * BLOCK, last = first + BLOCK < n ? first + BLOCK : n;
        for (int s = segment_at(step, first); s < step->segment_count; s++) {
            const nerve_optim_segment *segment = &step->segments[s];
            if (segment->begin >= last) break;
            int64_t begin = segment->begin > first ? segment->begin : first;
            int64_t end = segment->end < last ? segment->end : last;
            squares += kernel_of(step, segment, measuring)(step, segment, begin, end);
        }
    }
    if (!step->comm) return squares;
    nerve_error err = {0};
    if (nerve_comm_allreduce(step->comm, &squares, 1, NERVE_COMM_DOUBLE, &err) != NERVE_OK)
        return NAN;
    return squares;
}

nerve_status nerve_host_optimizer_step(const nerve_kernel_ctx *ctx, nerve_optim_step *step)
{
    bool clip_norm = step->clip_norm > 0;
    if (clip_norm) {
        /* clip_grad_norm_: coefficient max_norm / (total_norm + 1e-6), applied
         * when below 1 (a NaN norm makes every gradient NaN, as in torch). */
        step->grad_norm = sqrt(run_blocks(step, true));
        double coefficient = step->clip_norm / (step->grad_norm + 1e-6);
        if (!(coefficient >= 1)) step->grad_scale = (nerve_real)coefficient;
    }
    double squares = run_blocks(step, false);
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
