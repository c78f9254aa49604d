/* Adam (Kingma & Ba), torch.optim.Adam's algorithm: running means of the
 * gradient m = beta1 * m + (1 - beta1) * g and of its square
 * v = beta2 * v + (1 - beta2) * g^2, bias-corrected by 1 - beta^t (t counts
 * steps from 1), p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps).
 * amsgrad divides by the largest v seen instead. Weight decay is L2, added to
 * the gradient; AdamW (adamw.c) shares this loop with decoupled decay. */
#include <math.h>

#include "optim/optimizer.h"

enum { FIRST_MOMENT, SECOND_MOMENT, MAX_SECOND_MOMENT };

bool optim_adam_init(nerve_optimizer *opt)
{
    return optim_add_state(opt, FIRST_MOMENT, 0) && optim_add_state(opt, SECOND_MOMENT, 0) &&
           (!opt->options.amsgrad || optim_add_state(opt, MAX_SECOND_MOMENT, 0));
}

void optim_adam_update(nerve_optimizer *opt, const optim_step *step, const optim_segment *segment)
{
    const nerve_optimizer_options *o = &opt->options;
    nerve_real *p = step->params, *m = opt->state[FIRST_MOMENT], *v = opt->state[SECOND_MOMENT],
               *v_max = opt->state[MAX_SECOND_MOMENT];
    const unsigned char *trainable = step->trainable;
    double t = (double)step->t;
    nerve_real step_size = (nerve_real)(step->lr / (1 - pow(o->beta1, t))),
               correction2 = (nerve_real)sqrt(1 - pow(o->beta2, t)),
               beta1 = (nerve_real)o->beta1, new_weight1 = (nerve_real)(1 - o->beta1),
               beta2 = (nerve_real)o->beta2, new_weight2 = (nerve_real)(1 - o->beta2),
               eps = (nerve_real)o->eps,
               kept = (nerve_real)(1 - step->lr * segment->decoupled_decay);
#pragma omp parallel for if (segment->end - segment->begin > OPTIM_PARALLEL_MIN)
    for (int64_t i = segment->begin; i < segment->end; i++) {
        if (!trainable[i]) continue;
        nerve_real g = optim_gradient(step, segment, i);
        p[i] *= kept;
        m[i] = beta1 * m[i] + new_weight1 * g;
        v[i] = beta2 * v[i] + new_weight2 * g * g;
        nerve_real second = v[i];
        if (v_max) second = v_max[i] = v_max[i] > second ? v_max[i] : second;
        p[i] -= step_size * m[i] / ((nerve_real)sqrt(second) / correction2 + eps);
    }
}

const nerve_optimizer_type nerve_adam_type = {"adam", false, optim_adam_init, optim_adam_update};
