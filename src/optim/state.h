/* The optimizer's and the schedule's parts of a checkpoint, in the state
 * protocol (core/state.h; state.c). */
#ifndef NERVE_OPTIM_STATE_H
#define NERVE_OPTIM_STATE_H

#include "core/state.h"
#include "nerve.h"

/* The optimizer's steps, rate, clipping settings and state slots (whole:
 * not while sharded). */
void optim_state(nerve_optimizer *opt, state_list *s);
/* The schedule's position, plateau bookkeeping and settings. */
void optim_scheduler_state(nerve_scheduler *sc, state_list *s);

#endif
