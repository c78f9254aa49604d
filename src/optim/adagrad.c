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

static void adagrad_update(nerve_optimizer *opt, const optim_step *step,
                           const optim_segment *segment)
{
    const nerve_optimizer_options *o = &opt->options;
    nerve_real *p = step->params, *sum = opt->state[0];
    const unsigned char *trainable = step->trainable;
    nerve_real clr = (nerve_real)(step->lr / (1 + (double)(step->t - 1) * o->lr_decay));
    nerve_real eps = (nerve_real)o->eps;
#pragma omp parallel for if (segment->end - segment->begin > OPTIM_PARALLEL_MIN)
    for (int64_t i = segment->begin; i < segment->end; i++) {
        if (!trainable[i]) continue;
        nerve_real g = optim_gradient(step, segment, i);
        sum[i] += g * g;
        p[i] -= clr * g / ((nerve_real)sqrt(sum[i]) + eps);
    }
}

const nerve_optimizer_type nerve_adagrad_type = {"adagrad", false, adagrad_init, adagrad_update};
