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

static void rmsprop_update(nerve_optimizer *opt, const optim_step *step,
                           const optim_segment *segment)
{
    const nerve_optimizer_options *o = &opt->options;
    nerve_real *p = step->params, *square_average = opt->state[SQUARE_AVERAGE],
               *buffer = opt->state[MOMENTUM_BUFFER], *average = opt->state[GRADIENT_AVERAGE];
    const unsigned char *trainable = step->trainable;
    nerve_real lr = (nerve_real)step->lr, alpha = (nerve_real)o->alpha,
               new_weight = (nerve_real)(1 - o->alpha), eps = (nerve_real)o->eps,
               momentum = (nerve_real)o->momentum;
#pragma omp parallel for if (segment->end - segment->begin > OPTIM_PARALLEL_MIN)
    for (int64_t i = segment->begin; i < segment->end; i++) {
        if (!trainable[i]) continue;
        nerve_real g = optim_gradient(step, segment, i);
        square_average[i] = alpha * square_average[i] + new_weight * g * g;
        nerve_real variance = square_average[i];
        if (average) {
            average[i] = alpha * average[i] + new_weight * g;
            variance -= average[i] * average[i];
        }
        nerve_real denominator = (nerve_real)sqrt(variance) + eps;
        if (buffer) {
            buffer[i] = momentum * buffer[i] + g / denominator;
            p[i] -= lr * buffer[i];
        } else {
            p[i] -= lr * g / denominator;
        }
    }
}

const nerve_optimizer_type nerve_rmsprop_type = {"rmsprop", false, rmsprop_init, rmsprop_update};
