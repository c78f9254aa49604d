/* The optimizer interface: each algorithm is one step function over the
 * graph's flat parameter and gradient buffers, plus its own state. */
#ifndef NERVE_OPTIMIZER_H
#define NERVE_OPTIMIZER_H

#include "nerve.h"

typedef struct nerve_optimizer_type {
    const char *name;
    void (*step)(nerve_optimizer *opt);
    void (*free_state)(nerve_optimizer *opt);
} nerve_optimizer_type;

struct nerve_optimizer {
    const nerve_optimizer_type *type;
    nerve_graph *graph;
    double lr;
    int64_t steps;
    void *state;
};

#endif
