/* SGD, torch.optim.SGD's algorithm. With momentum the buffer starts as the
 * first gradient, then b = momentum * b + (1 - dampening) * g; Nesterov steps
 * along g + momentum * b, plain momentum along b: p -= lr * step. (The
 * textbook m = beta * m + lr * g, p -= m is the same for a constant lr.) The
 * loop is the backends' (optimizer_host.c), with these constants. */
#include "optim/optimizer.h"

static bool sgd_init(nerve_optimizer *opt)
{
    return opt->options.momentum == 0 || optim_add_state(opt, NERVE_OPTIM_SGD_BUFFER, 0);
}

/* The first step and Nesterov's choice are factors, not branches: on the
 * first step the buffer (zeros) becomes 0 * 0 + 1 * d = d exactly, and plain
 * momentum steps along 0 * d + 1 * b = b. */
static void sgd_describe(const nerve_optimizer *opt, nerve_optim_step *step, int64_t t)
{
    const nerve_optimizer_options *o = &opt->options;
    const bool first = t == 1, nesterov = o->nesterov;
    const nerve_real momentum = (nerve_real)o->momentum;
    step->kind = NERVE_OPTIM_SGD;
    step->momentum = opt->state[NERVE_OPTIM_SGD_BUFFER] != NULL;
    step->c.sgd.lr = (nerve_real)step->lr;
    step->c.sgd.kept = first ? 0 : momentum;
    step->c.sgd.undamped = first ? 1 : (nerve_real)(1 - o->dampening);
    step->c.sgd.along_d = nesterov ? 1 : 0;
    step->c.sgd.along_b = nesterov ? momentum : 1;
}

const nerve_optimizer_type nerve_sgd_type = {"sgd", false, sgd_init, sgd_describe,
                                             {"momentum_buffer"}};
