/* RMSProp, torch.optim.RMSprop's algorithm: a running mean of squared
 * gradients v = alpha * v + (1 - alpha) * g^2 scales each step by
 * 1 / (sqrt(v) + eps); centered subtracts the squared running mean of the
 * gradients first (sqrt(v - m^2)); with momentum the scaled gradients
 * accumulate in a buffer b = momentum * b + g / (sqrt(v) + eps), p -= lr * b. */
#include <math.h>

#include "optim/optimizer.h"

enum { SQUARE_AVERAGE, MOMENTUM_BUFFER, GRADIENT_AVERAGE };

static bool rmsprop_init(nerve_optimizer *opt)
{
    const nerve_optimizer_options *o = &opt->options;
    return optim_add_state(opt, SQUARE_AVERAGE, 0) &&
           (o->momentum == 0 || optim_add_state(opt, MOMENTUM_BUFFER, 0)) &&
           (!o->centered || optim_add_state(opt, GRADIENT_AVERAGE, 0));
}

OPTIM_LOOP double rmsprop_loop(const nerve_optimizer *opt, const optim_step *step,
                                   const optim_segment *segment, int64_t begin, int64_t end,
                                   bool centered, bool with_momentum, bool regularised)
{
    const nerve_optimizer_options *o = &opt->options;
    nerve_real *restrict p = step->params, *restrict square_average = opt->state[SQUARE_AVERAGE],
                         *restrict buffer = opt->state[MOMENTUM_BUFFER],
                         *restrict average = opt->state[GRADIENT_AVERAGE];
    const nerve_real *restrict grad = step->grads;
    const unsigned char *restrict trainable = step->trainable;
    const optim_terms terms = optim_terms_of(step, segment);
    const nerve_real lr = (nerve_real)step->lr, alpha = (nerve_real)o->alpha,
                     new_weight = (nerve_real)(1 - o->alpha), eps = (nerve_real)o->eps,
                     momentum = (nerve_real)o->momentum;
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

static optim_kernel rmsprop_kernel(const nerve_optimizer *opt, const optim_step *step,
                                   const optim_segment *segment)
{
    static const optim_kernel kernels[2][2][2] = {
        {{rmsprop_000, rmsprop_001}, {rmsprop_010, rmsprop_011}},
        {{rmsprop_100, rmsprop_101}, {rmsprop_110, rmsprop_111}},
    };
    return kernels[opt->options.centered][opt->options.momentum != 0]
                  [optim_regularised(step, segment)];
}

const nerve_optimizer_type nerve_rmsprop_type = {"rmsprop", false, rmsprop_init, rmsprop_kernel,
                                           {"square_avg", "momentum_buffer", "grad_avg"}};
