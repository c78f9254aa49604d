/* Adam (Kingma & Ba), torch.optim.Adam's algorithm: running means of the
 * gradient m = beta1 * m + (1 - beta1) * g and of its square
 * v = beta2 * v + (1 - beta2) * g^2, bias-corrected by 1 - beta^t (t counts
 * steps from 1), p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps).
 * amsgrad divides by the largest v seen instead. bias_correction = 0 drops
 * both corrections (the update of the notes' slip, lab claim C53). Weight
 * decay is L2, added to the gradient; AdamW (adamw.c) shares this, its
 * segments carrying a decoupled decay (w *= 1 - lr * decay, 1 for Adam). The
 * loop is the backends' (optimizer_host.c), with these constants. */
#include <math.h>

#include "optim/optimizer.h"

bool optim_adam_init(nerve_optimizer *opt)
{
    return optim_add_state(opt, NERVE_OPTIM_ADAM_FIRST_MOMENT, 0) &&
           optim_add_state(opt, NERVE_OPTIM_ADAM_SECOND_MOMENT, 0) &&
           (!opt->options.amsgrad ||
            optim_add_state(opt, NERVE_OPTIM_ADAM_MAX_SECOND_MOMENT, 0));
}

/* Without the corrections (bias_correction = 0) the first steps are
 * (1 - beta1) / sqrt(1 - beta2) times Adam's: about 3.2 at the defaults. */
void optim_adam_describe(const nerve_optimizer *opt, nerve_optim_step *step, int64_t t)
{
    const nerve_optimizer_options *o = &opt->options;
    const bool corrected = !o->no_bias_correction;
    step->kind = NERVE_OPTIM_ADAM;
    step->amsgrad = o->amsgrad;
    step->c.adam.step_size =
        (nerve_real)(corrected ? step->lr / (1 - pow(o->beta1, (double)t)) : step->lr);
    step->c.adam.correction2 = (nerve_real)(corrected ? sqrt(1 - pow(o->beta2, (double)t)) : 1);
    step->c.adam.beta1 = (nerve_real)o->beta1;
    step->c.adam.new_weight1 = (nerve_real)(1 - o->beta1);
    step->c.adam.beta2 = (nerve_real)o->beta2;
    step->c.adam.new_weight2 = (nerve_real)(1 - o->beta2);
    step->c.adam.eps = (nerve_real)o->eps;
}

const nerve_optimizer_type nerve_adam_type = {"adam", false, optim_adam_init, optim_adam_describe,
                                              {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}};
