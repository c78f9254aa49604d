/* Adam (Kingma & Ba), torch.optim.Adam's algorithm: running means of the
 * gradient m = beta1 * m + (1 - beta1) * g and of its square
 * v = beta2 * v + (1 - beta2) * g^2, bias-corrected by 1 - beta^t (t counts
 * steps from 1), p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps).
 * amsgrad divides by the largest v seen instead. bias_correction = 0 drops
 * both corrections (the update of the notes' slip, lab claim C53). Weight
 * decay is L2, added to the gradient; AdamW (adamw.c) shares these kernels, its segments carrying
 * a decoupled decay (w *= 1 - lr * decay, 1 for Adam). */
#include <math.h>

#include "optim/optimizer.h"

enum { FIRST_MOMENT, SECOND_MOMENT, MAX_SECOND_MOMENT };

bool optim_adam_init(nerve_optimizer *opt)
{
    return optim_add_state(opt, FIRST_MOMENT, 0) && optim_add_state(opt, SECOND_MOMENT, 0) &&
           (!opt->options.amsgrad || optim_add_state(opt, MAX_SECOND_MOMENT, 0));
}

OPTIM_LOOP double adam_loop(const nerve_optimizer *opt, const optim_step *step,
                                const optim_segment *segment, int64_t begin, int64_t end,
                                bool amsgrad, bool regularised)
{
    const nerve_optimizer_options *o = &opt->options;
    nerve_real *restrict p = step->params, *restrict m = opt->state[FIRST_MOMENT],
                         *restrict v = opt->state[SECOND_MOMENT],
                         *restrict v_max = opt->state[MAX_SECOND_MOMENT];
    const nerve_real *restrict grad = step->grads;
    const unsigned char *restrict trainable = step->trainable;
    const optim_terms terms = optim_terms_of(step, segment);
    const double t = (double)step->t;
    /* Without the corrections (bias_correction = 0) the first steps are
     * (1 - beta1) / sqrt(1 - beta2) times Adam's: about 3.2 at the defaults. */
    const bool corrected = !o->no_bias_correction;
    const nerve_real step_size = (nerve_real)(corrected ? step->lr / (1 - pow(o->beta1, t))
                                                        : step->lr),
                     correction2 = (nerve_real)(corrected ? sqrt(1 - pow(o->beta2, t)) : 1),
                     beta1 = (nerve_real)o->beta1, new_weight1 = (nerve_real)(1 - o->beta1),
                     beta2 = (nerve_real)o->beta2, new_weight2 = (nerve_real)(1 - o->beta2),
                     eps = (nerve_real)o->eps,
                     kept = (nerve_real)(1 - step->lr * segment->decoupled_decay);
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

optim_kernel optim_adam_kernel(const nerve_optimizer *opt, const optim_step *step,
                               const optim_segment *segment)
{
    bool regularised = optim_regularised(step, segment);
    if (opt->options.amsgrad) return regularised ? adam_amsgrad_regularised : adam_amsgrad;
    return regularised ? adam_plain_regularised : adam_plain;
}

const nerve_optimizer_type nerve_adam_type = {"adam", false, optim_adam_init, optim_adam_kernel,
                                        {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}};
