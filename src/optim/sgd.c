/* SGD, torch.optim.SGD's algorithm. With momentum the buffer starts as the
 * first gradient, then b = momentum * b + (1 - dampening) * g; Nesterov steps
 * along g + momentum * b, plain momentum along b: p -= lr * step. (The
 * textbook m = beta * m + lr * g, p -= m is the same for a constant lr.) */
#include "optim/optimizer.h"

static bool sgd_init(nerve_optimizer *opt)
{
    return opt->options.momentum == 0 || optim_add_state(opt, 0, 0);
}

static void sgd_update(nerve_optimizer *opt, const optim_step *step, const optim_segment *segment)
{
    const nerve_optimizer_options *o = &opt->options;
    nerve_real *p = step->params, *buffer = opt->state[0];
    const unsigned char *trainable = step->trainable;
    nerve_real lr = (nerve_real)step->lr, momentum = (nerve_real)o->momentum,
               undamped = (nerve_real)(1 - o->dampening);
    bool first = step->t == 1, nesterov = o->nesterov;
#pragma omp parallel for if (segment->end - segment->begin > OPTIM_PARALLEL_MIN)
    for (int64_t i = segment->begin; i < segment->end; i++) {
        if (!trainable[i]) continue;
        nerve_real d = optim_gradient(step, segment, i);
        if (buffer) {
            buffer[i] = first ? d : momentum * buffer[i] + undamped * d;
            d = nesterov ? d + momentum * buffer[i] : buffer[i];
        }
        p[i] -= lr * d;
    }
}

const nerve_optimizer_type nerve_sgd_type = {"sgd", false, sgd_init, sgd_update};
