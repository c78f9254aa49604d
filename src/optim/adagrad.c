/* AdaGrad, torch.optim.Adagrad's algorithm: the sum of squared gradients
 * s (starting at initial_accumulator_value) scales each step,
 * s += g^2, p -= clr * g / (sqrt(s) + eps), with clr = lr / (1 + (t - 1) * lr_decay).
 * eps is added outside the square root, as PyTorch does. The loop is the
 * backends' (optimizer_host.c), with these constants. */
#include "optim/optimizer.h"

static bool adagrad_init(nerve_optimizer *opt)
{
    return optim_add_state(opt, NERVE_OPTIM_ADAGRAD_SUM,
                           (nerve_real)opt->options.initial_accumulator_value);
}

static void adagrad_describe(const nerve_optimizer *opt, nerve_optim_step *step, int64_t t)
{
    const nerve_optimizer_options *o = &opt->options;
    step->kind = NERVE_OPTIM_ADAGRAD;
    step->c.adagrad.clr = (nerve_real)(step->lr / (1 + (double)(t - 1) * o->lr_decay));
    step->c.adagrad.eps = (nerve_real)o->eps;
}

const nerve_optimizer_type nerve_adagrad_type = {"adagrad", false, adagrad_init,
                                                 adagrad_describe, {"sum"}};
