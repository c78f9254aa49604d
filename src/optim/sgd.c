/* SGD, torch.optim.SGD's algorithm. With momentum the buffer starts as the
 * first gradient, then b = momentum * b + (1 - dampening) * g; Nesterov steps
 * along g + momentum * b, plain momentum along b: p -= lr * step. (The
 * textbook m = beta * m + lr * g, p -= m is the same for a constant lr.) */
#include "optim/optimizer.h"

static bool sgd_init(nerve_optimizer *opt)
{
    return opt->options.momentum == 0 || optim_add_state(opt, 0, 0);
}

OPTIM_LOOP double sgd_loop(const nerve_optimizer *opt, const optim_step *step,
                               const optim_segment *segment, int64_t begin, int64_t end,
                               bool with_momentum, bool regularised)
{
    const nerve_optimizer_options *o = &opt->options;
    nerve_real *restrict p = step->params, *restrict buffer = opt->state[0];
    const nerve_real *restrict grad = step->grads;
    const unsigned char *restrict trainable = step->trainable;
    const optim_terms terms = optim_terms_of(step, segment);
    /* The first step and Nesterov's choice are factors, not branches, which
     * would be unswitched into loops that do not all vectorise: on the first
     * step the buffer (zeros) becomes 0 * 0 + 1 * d = d exactly, and plain
     * momentum steps along 0 * d + 1 * b = b. */
    const bool first = step->t == 1, nesterov = o->nesterov;
    const nerve_real lr = (nerve_real)step->lr, momentum = (nerve_real)o->momentum,
                     kept = first ? 0 : momentum,
                     undamped = first ? 1 : (nerve_real)(1 - o->dampening),
                     along_d = nesterov ? 1 : 0, along_b = nesterov ? momentum : 1;
    nerve_real squares = 0;
#pragma omp simd reduction(+ : squares)
    for (int64_t i = begin; i < end; i++) {
        nerve_real raw = optim_raw_gradient(terms, regularised, p[i], grad[i]);
        nerve_real counted = raw * trainable[i];
        squares += counted * counted;
        nerve_real d = optim_gradient(terms, regularised, p[i], raw);
        if (with_momentum) {
            nerve_real b = kept * buffer[i] + undamped * d;
            buffer[i] = optim_keep(trainable[i], b, buffer[i]);
            d = along_d * d + along_b * b;
        }
        p[i] = optim_keep(trainable[i], p[i] - lr * d, p[i]);
    }
    return squares;
}

OPTIM_KERNEL(sgd_plain, sgd_loop, false, false)
OPTIM_KERNEL(sgd_plain_regularised, sgd_loop, false, true)
OPTIM_KERNEL(sgd_momentum, sgd_loop, true, false)
OPTIM_KERNEL(sgd_momentum_regularised, sgd_loop, true, true)

static optim_kernel sgd_kernel(const nerve_optimizer *opt, const optim_step *step,
                               const optim_segment *segment)
{
    bool regularised = optim_regularised(step, segment);
    if (opt->state[0]) return regularised ? sgd_momentum_regularised : sgd_momentum;
    return regularised ? sgd_plain_regularised : sgd_plain;
}

const nerve_optimizer_type nerve_sgd_type = {"sgd", false, sgd_init, sgd_kernel,
                                       {"momentum_buffer"}};
