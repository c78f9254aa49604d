/* The [optimizer] and [schedule] sections. Keys are named as PyTorch's
 * arguments; values are checked by the optimizer and schedule code itself
 * (src/optim), so the cfg and the library accept exactly the same settings,
 * and the cfg's message names the key's line. */
#include <errno.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_internal.h"
#include "optim/optimizer.h"

/* A key that only some types of a section take: bit k of types stands for
 * the section's type k. */
typedef struct typed_key {
    const char *key;
    unsigned types;
} typed_key;

/* Fails on a key the chosen type does not take, naming the types that do. */
static bool reject_keys_of_other_types(cfg_reader *r, const typed_key *keys, int count,
                                       const char *const *type_names, int type)
{
    for (int i = 0; i < count; i++) {
        if ((keys[i].types >> type & 1) || !cfg_has(r, keys[i].key)) continue;
        char list[200] = "";
        for (int k = 0; type_names[k]; k++) {
            size_t used = strlen(list);
            if (keys[i].types >> k & 1)
                snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", type_names[k]);
        }
        return cfg_fail(r, keys[i].key, "only applies to type %s, not %s", list, type_names[type]);
    }
    return true;
}

/* Reads into *value, keeping it when the key is absent; ranges are the
 * optimizer's and schedule's to check. */
static bool read_real(cfg_reader *r, const char *key, bool required, double *value)
{
    return cfg_read_double(r, key, required, *value, -DBL_MAX, DBL_MAX, value);
}

static bool read_count(cfg_reader *r, const char *key, bool required, int64_t *value)
{
    return cfg_read_int(r, key, required, *value, INT64_MIN, INT64_MAX, value);
}

static bool read_flag(cfg_reader *r, const char *key, bool *value)
{
    return cfg_read_bool(r, key, *value, value);
}

nerve_status nerve_read_optimizer_section(cfg_reader *r, nerve_optimizer_options *o)
{
    /* In nerve_optimizer_kind's order. */
    static const char *const types[] = {"sgd", "adagrad", "rmsprop", "adam", "adamw", NULL};
    enum { SGD = 1, ADAGRAD = 2, RMSPROP = 4, ADAM = 8, ADAMW = 16 };
    static const typed_key typed_keys[] = {
        {"momentum", SGD | RMSPROP},
        {"dampening", SGD},
        {"nesterov", SGD},
        {"lr_decay", ADAGRAD},
        {"initial_accumulator_value", ADAGRAD},
        {"alpha", RMSPROP},
        {"centered", RMSPROP},
        {"beta1", ADAM | ADAMW},
        {"beta2", ADAM | ADAMW},
        {"amsgrad", ADAM | ADAMW},
        {"bias_correction", ADAM | ADAMW},
        {"eps", ADAGRAD | RMSPROP | ADAM | ADAMW},
    };
    int type;
    if (!cfg_read_choice(r, "type", types, 0, &type) ||
        !reject_keys_of_other_types(r, typed_keys, (int)(sizeof typed_keys / sizeof typed_keys[0]),
                                    types, type))
        return r->status;
    *o = nerve_optimizer_defaults((nerve_optimizer_kind)type);
    bool correction = true;
    if (!read_real(r, "lr", false, &o->lr) ||
        !read_real(r, "weight_decay", false, &o->weight_decay) ||
        !read_real(r, "momentum", false, &o->momentum) ||
        !read_real(r, "dampening", false, &o->dampening) ||
        !read_flag(r, "nesterov", &o->nesterov) || !read_real(r, "lr_decay", false, &o->lr_decay) ||
        !read_real(r, "initial_accumulator_value", false, &o->initial_accumulator_value) ||
        !read_real(r, "alpha", false, &o->alpha) || !read_flag(r, "centered", &o->centered) ||
        !read_real(r, "beta1", false, &o->beta1) || !read_real(r, "beta2", false, &o->beta2) ||
        !read_flag(r, "amsgrad", &o->amsgrad) || !read_flag(r, "bias_correction", &correction) ||
        !read_real(r, "eps", false, &o->eps) ||
        !read_real(r, "l1", false, &o->l1) || !read_real(r, "clip_value", false, &o->clip_value) ||
        !read_real(r, "clip_norm", false, &o->clip_norm) ||
        !read_flag(r, "decay_bias", &o->decay_bias))
        return r->status;
    o->no_bias_correction = !correction;
    char why[200];
    const char *key;
    if (nerve_optimizer_options_problem(o, &key, why, sizeof why)) cfg_fail(r, key, "%s", why);
    return cfg_reader_finish(r);
}

/* milestones = 30, 60, 90 */
static bool read_milestones(cfg_reader *r, bool required, nerve_schedule *s)
{
    char text[512];
    if (!cfg_read_string(r, "milestones", required, "", text, sizeof text)) return false;
    s->milestone_count = 0;
    for (const char *p = text; *p;) {
        char *end;
        errno = 0;
        long long milestone = strtoll(p, &end, 10);
        while (*end == ' ' || *end == '\t') end++;
        if (end == p || errno == ERANGE || (*end && *end != ',') || (*end == ',' && !end[1]))
            return cfg_fail(r, "milestones",
                            "'%s' is not a list of epochs or steps like 30, 60, 90", text);
        if (s->milestone_count == NERVE_SCHEDULE_MAX_MILESTONES)
            return cfg_fail(r, "milestones", "more than %d milestones",
                            NERVE_SCHEDULE_MAX_MILESTONES);
        s->milestones[s->milestone_count++] = milestone;
        p = *end ? end + 1 : end;
    }
    return true;
}

nerve_status nerve_read_schedule_section(cfg_reader *r, nerve_schedule *s)
{
    const char *const *types = nerve_schedule_type_names;
    static const char *const intervals[] = {"epoch", "step", NULL};
    enum { STEP = 2, MULTISTEP = 4, EXPONENTIAL = 8, COSINE = 16, RESTARTS = 32, PLATEAU = 64 };
    static const typed_key typed_keys[] = {
        {"step_size", STEP},
        {"gamma", STEP | MULTISTEP | EXPONENTIAL},
        {"milestones", MULTISTEP},
        {"T_max", COSINE},
        {"eta_min", COSINE | RESTARTS},
        {"T_0", RESTARTS},
        {"T_mult", RESTARTS},
        {"factor", PLATEAU},
        {"patience", PLATEAU},
        {"threshold", PLATEAU},
        {"cooldown", PLATEAU},
        {"min_lr", PLATEAU},
    };
    int type, interval;
    if (!cfg_read_choice(r, "type", types, 0, &type) ||
        !reject_keys_of_other_types(r, typed_keys, (int)(sizeof typed_keys / sizeof typed_keys[0]),
                                    types, type))
        return r->status;
    *s = nerve_schedule_defaults((nerve_schedule_kind)type);
    if (!cfg_read_choice(r, "interval", intervals, 0, &interval) ||
        !read_count(r, "step_size", type == NERVE_SCHEDULE_STEP, &s->step_size) ||
        !read_real(r, "gamma", type == NERVE_SCHEDULE_EXPONENTIAL, &s->gamma) ||
        !read_milestones(r, type == NERVE_SCHEDULE_MULTISTEP, s) ||
        !read_count(r, "T_max", type == NERVE_SCHEDULE_COSINE, &s->t_max) ||
        !read_real(r, "eta_min", false, &s->eta_min) ||
        !read_count(r, "T_0", type == NERVE_SCHEDULE_COSINE_RESTARTS, &s->t_0) ||
        !read_count(r, "T_mult", false, &s->t_mult) ||
        !read_count(r, "warmup", false, &s->warmup) ||
        !read_real(r, "warmup_start_factor", false, &s->warmup_start_factor) ||
        !read_real(r, "factor", false, &s->factor) ||
        !read_count(r, "patience", false, &s->patience) ||
        !read_real(r, "threshold", false, &s->threshold) ||
        !read_count(r, "cooldown", false, &s->cooldown) ||
        !read_real(r, "min_lr", false, &s->min_lr))
        return r->status;
    s->interval = (nerve_schedule_interval)interval;
    if (cfg_has(r, "warmup_start_factor") && s->warmup == 0) {
        cfg_fail(r, "warmup_start_factor", "only applies with warmup > 0");
        return r->status;
    }
    char why[200];
    const char *key;
    if (nerve_schedule_problem(s, &key, why, sizeof why)) cfg_fail(r, key, "%s", why);
    return cfg_reader_finish(r);
}
