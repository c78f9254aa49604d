/* SGD with momentum, torch.optim.SGD's form (dampening 0): the velocity
 * starts as the first gradient, then v = momentum * v + g, and p -= lr * v.
 * (The textbook v = momentum * v - lr * g is the same for a constant lr.) */
#include <stdlib.h>
#include <string.h>

#include "optim/optimizer.h"

typedef struct sgd_state {
    double momentum;
    nerve_real *velocity; /* one per parameter; NULL without momentum */
} sgd_state;

static void sgd_step(nerve_optimizer *opt)
{
    sgd_state *s = opt->state;
    nerve_real *p = nerve_graph_params(opt->graph);
    const nerve_real *grad = nerve_graph_grads(opt->graph);
    const unsigned char *trainable = nerve_graph_trainable_mask(opt->graph);
    int64_t n = (int64_t)nerve_graph_param_count(opt->graph);
    nerve_real lr = (nerve_real)opt->lr, momentum = (nerve_real)s->momentum;
    bool first = opt->steps == 0;
    if (!s->velocity) {
#pragma omp parallel for if (n > 65536)
        for (int64_t i = 0; i < n; i++)
            if (trainable[i]) p[i] -= lr * grad[i];
        return;
    }
    nerve_real *v = s->velocity;
#pragma omp parallel for if (n > 65536)
    for (int64_t i = 0; i < n; i++) {
        if (!trainable[i]) continue;
        v[i] = first ? grad[i] : momentum * v[i] + grad[i];
        p[i] -= lr * v[i];
    }
}

static void sgd_free(nerve_optimizer *opt)
{
    sgd_state *s = opt->state;
    if (s) free(s->velocity);
    free(s);
}

static const nerve_optimizer_type sgd_type = {"sgd", sgd_step, sgd_free};

nerve_optimizer *nerve_sgd_new(nerve_graph *g, const nerve_sgd_options *options, nerve_error *err)
{
    if (!(options->lr > 0) || !(options->momentum >= 0 && options->momentum < 1)) {
        nerve_error_set(err, NERVE_ERR_INVALID,
                        "sgd: lr must be > 0 and momentum in [0, 1), got lr=%g momentum=%g",
                        options->lr, options->momentum);
        return NULL;
    }
    nerve_optimizer *opt = calloc(1, sizeof *opt);
    sgd_state *s = calloc(1, sizeof *s);
    size_t n = nerve_graph_param_count(g);
    if (opt && s && options->momentum > 0) s->velocity = calloc(n ? n : 1, sizeof *s->velocity);
    if (!opt || !s || (options->momentum > 0 && !s->velocity)) {
        if (s) free(s->velocity);
        free(s);
        free(opt);
        nerve_error_set(err, NERVE_ERR_NOMEM, "sgd: out of memory for %zu parameters", n);
        return NULL;
    }
    s->momentum = options->momentum;
    opt->type = &sgd_type;
    opt->graph = g;
    opt->lr = options->lr;
    opt->state = s;
    return opt;
}
