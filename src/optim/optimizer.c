#include <stdlib.h>

#include "optim/optimizer.h"

void nerve_optimizer_step(nerve_optimizer *opt)
{
    opt->type->step(opt);
    opt->steps++;
}

void nerve_optimizer_set_lr(nerve_optimizer *opt, double lr) { opt->lr = lr; }
double nerve_optimizer_lr(const nerve_optimizer *opt) { return opt->lr; }
int64_t nerve_optimizer_steps(const nerve_optimizer *opt) { return opt->steps; }
const char *nerve_optimizer_name(const nerve_optimizer *opt) { return opt->type->name; }

void nerve_optimizer_free(nerve_optimizer *opt)
{
    if (!opt) return;
    if (opt->type->free_state) opt->type->free_state(opt);
    free(opt);
}
