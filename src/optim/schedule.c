/* Learning-rate schedules: torch.optim.lr_scheduler's, in closed form
 * (PyTorch's chainable forms give the same rates), with LinearLR warm-up in
 * front as SequentialLR chains it, and ReduceLROnPlateau's state machine. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/options.h"
#include "optim/optimizer.h"

/* Upper bound of counts of epochs or steps: keeps T_i * T_mult in range. */
#define SCHEDULE_COUNT_MAX 1e12

static nerve_schedule nerve_schedule_defaults_value(nerve_schedule_kind kind)
{
    nerve_schedule s = {.kind = kind, .gamma = 0.1, .t_mult = 1, .warmup_start_factor = 1.0 / 3,
                        .factor = 0.1, .patience = 10, .threshold = 1e-4};
    return s;
}

void nerve_schedule_defaults_sized(nerve_schedule_kind kind, nerve_schedule *out, size_t size)
{
    nerve_schedule value = nerve_schedule_defaults_value(kind);
    nerve_options_write(out, size, &value, sizeof value);
}

const char *nerve_schedule_problem(const nerve_schedule *s, const char **key, char *buf,
                                   size_t size)
{
    const double n = SCHEDULE_COUNT_MAX;
    const optim_range warmup[] = {{"warmup", (double)s->warmup, 0, n, false, false}};
    const optim_range start_factor[] = {
        {"warmup_start_factor", s->warmup_start_factor, 0, 1, true, false}};
    const optim_range step[] = {
        {"step_size", (double)s->step_size, 1, n, false, false},
        {"gamma", s->gamma, 0, INFINITY, false, true},
    };
    const optim_range gamma[] = {{"gamma", s->gamma, 0, INFINITY, false, true}};
    const optim_range cosine[] = {
        {"T_max", (double)s->t_max, 1, n, false, false},
        {"eta_min", s->eta_min, 0, INFINITY, false, true},
    };
    const optim_range restarts[] = {
        {"T_0", (double)s->t_0, 1, n, false, false},
        {"T_mult", (double)s->t_mult, 1, 1e6, false, false},
        {"eta_min", s->eta_min, 0, INFINITY, false, true},
    };
    const optim_range plateau[] = {
        {"factor", s->factor, 0, 1, false, true},
        {"patience", (double)s->patience, 0, n, false, false},
        {"threshold", s->threshold, 0, 1, false, true},
        {"cooldown", (double)s->cooldown, 0, n, false, false},
        {"min_lr", s->min_lr, 0, INFINITY, false, true},
    };
#define CHECK(ranges)                                                                              \
    optim_check_ranges(ranges, (int)(sizeof ranges / sizeof ranges[0]), key, buf, size)
    const char *problem = CHECK(warmup);
    if (!problem && s->warmup > 0) problem = CHECK(start_factor);
    if (!problem) {
        switch (s->kind) {
        case NERVE_SCHEDULE_CONSTANT: break;
        case NERVE_SCHEDULE_STEP: problem = CHECK(step); break;
        case NERVE_SCHEDULE_MULTISTEP:
        case NERVE_SCHEDULE_EXPONENTIAL: problem = CHECK(gamma); break;
        case NERVE_SCHEDULE_COSINE: problem = CHECK(cosine); break;
        case NERVE_SCHEDULE_COSINE_RESTARTS: problem = CHECK(restarts); break;
        case NERVE_SCHEDULE_PLATEAU: problem = CHECK(plateau); break;
        default:
            *key = "type";
            snprintf(buf, size, "unknown schedule kind %d", (int)s->kind);
            return buf;
        }
    }
#undef CHECK
    if (problem) return problem;
    if (s->kind == NERVE_SCHEDULE_MULTISTEP) {
        *key = "milestones";
        if (s->milestone_count < 1 || s->milestone_count > NERVE_SCHEDULE_MAX_MILESTONES) {
            snprintf(buf, size, "needs 1 to %d milestones, got %d", NERVE_SCHEDULE_MAX_MILESTONES,
                     s->milestone_count);
            return buf;
        }
        for (int i = 0; i < s->milestone_count; i++) {
            long long milestone = s->milestones[i], previous = i ? s->milestones[i - 1] : 0;
            if (milestone > previous && milestone <= (long long)n) continue;
            if (i)
                snprintf(buf, size, "%lld after %lld: milestones must increase", milestone,
                         previous);
            else
                snprintf(buf, size, "%lld is out of range [1, %g]", milestone, n);
            return buf;
        }
    }
    if (s->kind == NERVE_SCHEDULE_PLATEAU && s->interval != NERVE_SCHEDULE_PER_EPOCH) {
        *key = "interval";
        snprintf(buf, size, "plateau follows the validation loss, measured once per epoch: "
                            "it needs interval = epoch");
        return buf;
    }
    return NULL;
}

const char *const nerve_schedule_type_names[] = {
    "constant", "step", "multistep", "exponential", "cosine", "cosine_restarts", "plateau", NULL};

/* The shortest text that reads back as v, so that a description compares
 * exactly and reads as the cfg wrote it (0.1, not 0.10000000000000001). */
static int append_real(char *buf, size_t size, size_t used, const char *key, double v)
{
    char text[32];
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(text, sizeof text, "%.*g", precision, v);
        if (strtod(text, NULL) == v) break;
    }
    return snprintf(buf + used, size - used, ", %s %s", key, text);
}

const char *nerve_schedule_describe(const nerve_schedule *s, char *buf, size_t size)
{
    NERVE_OPTIONS_IN(nerve_schedule, s, cooldown, "nerve_schedule_describe", NULL, "");
    int kind = s->kind >= NERVE_SCHEDULE_CONSTANT && s->kind <= NERVE_SCHEDULE_PLATEAU ? s->kind : 0;
    size_t used = 0;
#define ADD(n) used += (size_t)(n), used = used < size ? used : size - 1
    ADD(snprintf(buf, size, "%s, interval %s", nerve_schedule_type_names[kind],
                 s->interval == NERVE_SCHEDULE_PER_STEP ? "step" : "epoch"));
    switch (s->kind) {
    case NERVE_SCHEDULE_STEP:
        ADD(snprintf(buf + used, size - used, ", step_size %lld", (long long)s->step_size));
        ADD(append_real(buf, size, used, "gamma", s->gamma));
        break;
    case NERVE_SCHEDULE_MULTISTEP:
        ADD(snprintf(buf + used, size - used, ", milestones "));
        for (int i = 0; i < s->milestone_count; i++)
            ADD(snprintf(buf + used, size - used, "%s%lld", i ? " " : "",
                         (long long)s->milestones[i]));
        ADD(append_real(buf, size, used, "gamma", s->gamma));
        break;
    case NERVE_SCHEDULE_EXPONENTIAL: ADD(append_real(buf, size, used, "gamma", s->gamma)); break;
    case NERVE_SCHEDULE_COSINE:
        ADD(snprintf(buf + used, size - used, ", T_max %lld", (long long)s->t_max));
        ADD(append_real(buf, size, used, "eta_min", s->eta_min));
        break;
    case NERVE_SCHEDULE_COSINE_RESTARTS:
        ADD(snprintf(buf + used, size - used, ", T_0 %lld, T_mult %lld", (long long)s->t_0,
                     (long long)s->t_mult));
        ADD(append_real(buf, size, used, "eta_min", s->eta_min));
        break;
    case NERVE_SCHEDULE_PLATEAU:
        ADD(append_real(buf, size, used, "factor", s->factor));
        ADD(snprintf(buf + used, size - used, ", patience %lld", (long long)s->patience));
        ADD(append_real(buf, size, used, "threshold", s->threshold));
        ADD(snprintf(buf + used, size - used, ", cooldown %lld", (long long)s->cooldown));
        ADD(append_real(buf, size, used, "min_lr", s->min_lr));
        break;
    default: break;
    }
    if (s->warmup > 0) {
        ADD(snprintf(buf + used, size - used, ", warmup %lld", (long long)s->warmup));
        ADD(append_real(buf, size, used, "warmup_start_factor", s->warmup_start_factor));
    }
#undef ADD
    return buf;
}

static double cosine_annealed(double base_lr, double eta_min, int64_t t, int64_t period)
{
    const double pi = 3.14159265358979323846;
    return eta_min + (base_lr - eta_min) * (1 + cos(pi * (double)t / (double)period)) / 2;
}

double nerve_schedule_lr(const nerve_schedule *s, double base_lr, int64_t t)
{
    NERVE_OPTIONS_IN(nerve_schedule, s, cooldown, "nerve_schedule_lr", NULL, NAN);
    if (t < s->warmup) {
        /* LinearLR(start_factor=f, end_factor=1, total_iters=warmup) */
        double f = s->warmup_start_factor;
        return base_lr * (f + (1 - f) * (double)t / (double)s->warmup);
    }
    t -= s->warmup; /* SequentialLR starts the schedule at its own t = 0 */
    switch (s->kind) {
    case NERVE_SCHEDULE_CONSTANT:
    case NERVE_SCHEDULE_PLATEAU:
        return base_lr;
    case NERVE_SCHEDULE_STEP:
        return base_lr * pow(s->gamma, (double)(t / (s->step_size > 0 ? s->step_size : 1)));
    case NERVE_SCHEDULE_MULTISTEP: {
        int reached = 0;
        while (reached < s->milestone_count && s->milestones[reached] <= t) reached++;
        return base_lr * pow(s->gamma, reached);
    }
    case NERVE_SCHEDULE_EXPONENTIAL:
        return base_lr * pow(s->gamma, (double)t);
    case NERVE_SCHEDULE_COSINE:
        /* past T_max the rate climbs back, as PyTorch's does */
        return cosine_annealed(base_lr, s->eta_min, t, s->t_max > 0 ? s->t_max : 1);
    case NERVE_SCHEDULE_COSINE_RESTARTS: {
        /* restart after T_0 intervals, then after T_0 * T_mult, T_0 * T_mult^2, ... */
        int64_t period = s->t_0 > 0 ? s->t_0 : 1, into = t;
        if (s->t_mult <= 1) {
            into = t % period;
        } else {
            while (into >= period) {
                into -= period;
                period *= s->t_mult;
            }
        }
        return cosine_annealed(base_lr, s->eta_min, into, period);
    }
    }
    return base_lr;
}

void nerve_scheduler_init(nerve_scheduler *s, const nerve_schedule *schedule, double base_lr)
{
    NERVE_OPTIONS_IN(nerve_schedule, schedule, cooldown, "nerve_scheduler_init", NULL, );
    *s = (nerve_scheduler){.schedule = *schedule, .base_lr = base_lr, .best = INFINITY};
    s->lr = nerve_schedule_lr(schedule, base_lr, 0);
}

double nerve_scheduler_step(nerve_scheduler *s, double metric)
{
    const nerve_schedule *c = &s->schedule;
    bool watching = c->kind == NERVE_SCHEDULE_PLATEAU && s->t >= c->warmup;
    s->t++;
    if (!watching) return s->lr = nerve_schedule_lr(c, s->base_lr, s->t);
    /* ReduceLROnPlateau, mode 'min', threshold_mode 'rel'; a NaN metric is
     * no improvement. */
    if (metric < s->best * (1 - c->threshold)) {
        s->best = metric;
        s->bad_intervals = 0;
    } else {
        s->bad_intervals++;
    }
    if (s->cooldown_left > 0) {
        s->cooldown_left--;
        s->bad_intervals = 0;
    }
    if (s->bad_intervals > c->patience) {
        double reduced = fmax(s->lr * c->factor, c->min_lr);
        if (s->lr - reduced > 1e-8) s->lr = reduced; /* PyTorch's eps: smaller steps are skipped */
        s->cooldown_left = c->cooldown;
        s->bad_intervals = 0;
    }
    return s->lr;
}
