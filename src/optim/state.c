/* What the optimizer and the learning-rate schedule keep between steps, in
 * the state protocol (core/state.h): the optimizer's step count, rate and
 * per-parameter slots (PyTorch's names: "optimizer.fc1.weight.exp_avg"),
 * the schedule's position and plateau bookkeeping, and the settings a
 * resume compares with its own (the base rate, the schedule, clipping). */
#include "optim/state.h"

#include "optim/optimizer.h"

void optim_state(nerve_optimizer *opt, state_list *s)
{
    state_add(s, "optimizer_steps", STATE_INT, STATE_RESTORED, &opt->steps);
    state_add(s, "lr", STATE_REAL, STATE_RESTORED, &opt->lr);
    state_add(s, "run.clip_norm", STATE_REAL, STATE_RECORDED, &opt->options.clip_norm);
    state_add(s, "run.clip_value", STATE_REAL, STATE_RECORDED, &opt->options.clip_value);
    nerve_graph *g = opt->graph;
    for (int k = 0; k < opt->segment_count; k++) {
        const nerve_node node = opt->nodes[k];
        const int64_t begin = opt->segments[k].begin;
        for (int slot = 0; slot < NERVE_OPTIM_MAX_STATE; slot++) {
            if (!opt->state[slot]) continue;
            state_add_tensor(s, nerve_node_shape(g, node), opt->state[slot] + begin,
                             "optimizer.%s.%s", nerve_node_name(g, node),
                             opt->type->state_names[slot]);
        }
    }
}

void optim_scheduler_state(nerve_scheduler *sc, state_list *s)
{
    state_add(s, "schedule.t", STATE_INT, STATE_RESTORED, &sc->t);
    state_add(s, "schedule.lr", STATE_REAL, STATE_RESTORED, &sc->lr);
    state_add(s, "schedule.best", STATE_REAL, STATE_RESTORED, &sc->best);
    state_add(s, "schedule.bad_intervals", STATE_INT, STATE_RESTORED, &sc->bad_intervals);
    state_add(s, "schedule.cooldown_left", STATE_INT, STATE_RESTORED, &sc->cooldown_left);
    state_add(s, "run.lr", STATE_REAL, STATE_RECORDED, &sc->base_lr);
    state_value *v = state_add_computed(s, "run.schedule", STATE_TEXT, STATE_RECORDED);
    if (v) nerve_schedule_describe(&sc->schedule, v->text, sizeof v->text);
    v = state_add_computed(s, "run.schedule_interval", STATE_INT, STATE_RECORDED);
    if (v) v->i = (int64_t)sc->schedule.interval;
}
