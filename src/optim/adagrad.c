/* AdaGrad, torch.optim.Adagrad's algorithm: the sum of squared gradients
 * s (starting at initial_accumulator_value) scales each step,
 * s += g^2, p -= clr * g / (sqrt(s) + eps), with clr = lr / (1 + (t - 1) * lr_decay).
 * eps is added outside the square root, as PyTorch does. */
#include <math.h>

#include "optim/optimizer.h"

static bool adagrad_init(nerve_optimizer *opt)
{
    return optim_add_state(opt, 0, (nerve_real)opt->options.initial_accumulator_value);
}

OPTIM_LOOP double adagrad_loop(const nerve_optimizer *opt, const optim_step *step,
                                   const optim_segment *segment, int64_t begin, int64_t end,
                                   bool regularised)
{
    const nerve_optimizer_options *o = &opt->options;
    nerve_real *restrict p = step->params, *restrict sum = opt->state[0];
    const nerve_real *restrict grad = step->grads;
    const unsigned char *restrict trainable = step->trainable;
    const optim_terms terms = optim_terms_of(step, segment);
    const nerve_real clr = (nerve_real)(step->lr / (1 + (double)(step->t - 1) * o->lr_decay)),
                     eps = (nerve_real)o->eps;
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

static optim_kernel adagrad_kernel(const nerve_optimizer *opt, const optim_step *step,
                                   const optim_segment *segment)
{
    return optim_regularised(step, segment) ? adagrad_regularised : adagrad_plain;
}

const nerve_optimizer_type nerve_adagrad_type = {"adagrad", false, adagrad_init, adagrad_kernel,
                                           {"sum"}};
