/* RMSProp, torch.optim.RMSprop's algorithm: a running mean of squared
 * gradients v = alpha * v + (1 - alpha) * g^2 scales each step by
 * 1 / (sqrt(v) + eps); centered subtracts the squared running mean of the
 * gradients first (sqrt(v - m^2)); with momentum the scaled gradients
 * accumulate in a buffer b = momentum * b + g / (sqrt(v) + eps), p -= lr * b.
 * The loop is the backends' (optimizer_host.c), with these constants. */
#include "optim/optimizer.h"

static bool rmsprop_init(nerve_optimizer *opt)
{
    const nerve_optimizer_options *o = &opt->options;
    return optim_add_state(opt, NERVE_OPTIM_RMSPROP_SQUARE_AVERAGE, 0) &&
           (o->momentum == 0 || optim_add_state(opt, NERVE_OPTIM_RMSPROP_BUFFER, 0)) &&
           (!o->centered || optim_add_state(opt, NERVE_OPTIM_RMSPROP_GRADIENT_AVERAGE, 0));
}

static void rmsprop_describe(const nerve_optimizer *opt, nerve_optim_step *step, int64_t t)
{
    const nerve_optimizer_options *o = &opt->options;
    step->kind = NERVE_OPTIM_RMSPROP;
    step->centered = o->centered;
    step->momentum = o->momentum != 0;
    step->c.rmsprop.lr = (nerve_real)step->lr;
    step->c.rmsprop.alpha = (nerve_real)o->alpha;
    step->c.rmsprop.new_weight = (nerve_real)(1 - o->alpha);
    step->c.rmsprop.eps = (nerve_real)o->eps;
    step->c.rmsprop.momentum = (nerve_real)o->momentum;
}

const nerve_optimizer_type nerve_rmsprop_type = {"rmsprop", false, rmsprop_init, rmsprop_describe,
                                                 {"square_avg", "momentum_buffer", "grad_avg"}};
