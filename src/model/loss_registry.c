/* The [loss] types: one table row per loss (its cfg spelling, builder, the
 * targets it takes, what the last layer must output and what prediction
 * reports), the keys each type takes, and the [loss] section's reader. */
#include <string.h>

#include "model/model_internal.h"

static const loss_type loss_types[NERVE_LOSS_COUNT] = {
    [NERVE_LOSS_SOFTMAX_CROSS_ENTROPY] = {"softmax_cross_entropy", nerve_softmax_cross_entropy,
                                          LOSS_TARGETS_LABELS, TAKES_LOGITS, PREDICT_SOFTMAX},
    [NERVE_LOSS_MSE] = {"mse", nerve_mse, LOSS_TARGETS_VALUES, TAKES_ANY, PREDICT_OUTPUT},
    [NERVE_LOSS_L1] = {"l1", nerve_l1, LOSS_TARGETS_VALUES, TAKES_ANY, PREDICT_OUTPUT},
    [NERVE_LOSS_HUBER] = {"huber", nerve_huber, LOSS_TARGETS_VALUES, TAKES_ANY, PREDICT_OUTPUT},
    [NERVE_LOSS_SMOOTH_L1] = {"smooth_l1", nerve_smooth_l1, LOSS_TARGETS_VALUES, TAKES_ANY,
                              PREDICT_OUTPUT},
    [NERVE_LOSS_BCE] = {"bce", nerve_binary_cross_entropy, LOSS_TARGETS_BINARY,
                        TAKES_PROBABILITIES, PREDICT_OUTPUT},
    [NERVE_LOSS_BCE_WITH_LOGITS] = {"bce_with_logits", nerve_bce_with_logits, LOSS_TARGETS_BINARY,
                                    TAKES_LOGITS, PREDICT_SIGMOID},
    [NERVE_LOSS_NLL] = {"nll", nerve_nll, LOSS_TARGETS_LABELS, TAKES_LOG_PROBABILITIES,
                        PREDICT_SOFTMAX},
    [NERVE_LOSS_FOCAL] = {"focal", nerve_focal, LOSS_TARGETS_LABELS, TAKES_LOGITS,
                          PREDICT_SOFTMAX},
    [NERVE_LOSS_DISTILLATION] = {"distillation", nerve_distillation, LOSS_TARGETS_TEACHER,
                                 TAKES_LOGITS, PREDICT_SOFTMAX},
    [NERVE_LOSS_LARGE_MARGIN_SOFTMAX] = {"large_margin_softmax", nerve_large_margin_softmax,
                                         LOSS_TARGETS_LABELS, TAKES_LOGITS, PREDICT_SOFTMAX},
};

const char *nerve_loss_name(nerve_loss_kind kind)
{
    return (unsigned)kind < NERVE_LOSS_COUNT ? loss_types[kind].name : "unknown";
}

loss_targets nerve_loss_targets(nerve_loss_kind kind) { return loss_types[kind].targets; }

loss_targets nerve_model_targets(const nerve_model *m)
{
    return m->settings.loss_options.one_hot ? LOSS_TARGETS_LABELS
                                            : nerve_loss_targets(m->settings.loss);
}

const loss_type *nerve_loss_type_of(nerve_loss_kind kind) { return &loss_types[kind]; }

/* The keys a [loss] type takes besides type and reduction; any other type
 * setting one is an error, not a silently ignored key. */
#define LOSS_BIT(kind) (1u << (kind))
static const struct loss_key {
    const char *key;
    unsigned kinds;
    const char *types;
} loss_keys[] = {
    {"delta", LOSS_BIT(NERVE_LOSS_HUBER), "huber"},
    {"beta", LOSS_BIT(NERVE_LOSS_SMOOTH_L1), "smooth_l1"},
    {"weights", LOSS_BIT(NERVE_LOSS_SOFTMAX_CROSS_ENTROPY) | LOSS_BIT(NERVE_LOSS_NLL),
     "softmax_cross_entropy and nll"},
    {"label_smoothing", LOSS_BIT(NERVE_LOSS_SOFTMAX_CROSS_ENTROPY), "softmax_cross_entropy"},
    {"gamma", LOSS_BIT(NERVE_LOSS_FOCAL), "focal"},
    {"alpha", LOSS_BIT(NERVE_LOSS_FOCAL), "focal"},
    {"pos_weight", LOSS_BIT(NERVE_LOSS_BCE_WITH_LOGITS), "bce_with_logits"},
    {"temperature", LOSS_BIT(NERVE_LOSS_DISTILLATION), "distillation"},
    {"margin", LOSS_BIT(NERVE_LOSS_LARGE_MARGIN_SOFTMAX), "large_margin_softmax"},
    {"lambda", LOSS_BIT(NERVE_LOSS_LARGE_MARGIN_SOFTMAX), "large_margin_softmax"},
    {"lambda_min", LOSS_BIT(NERVE_LOSS_LARGE_MARGIN_SOFTMAX), "large_margin_softmax"},
    {"lambda_gamma", LOSS_BIT(NERVE_LOSS_LARGE_MARGIN_SOFTMAX), "large_margin_softmax"},
    {"lambda_power", LOSS_BIT(NERVE_LOSS_LARGE_MARGIN_SOFTMAX), "large_margin_softmax"},
    {"one_hot",
     LOSS_BIT(NERVE_LOSS_MSE) | LOSS_BIT(NERVE_LOSS_L1) | LOSS_BIT(NERVE_LOSS_HUBER) |
         LOSS_BIT(NERVE_LOSS_SMOOTH_L1) | LOSS_BIT(NERVE_LOSS_BCE) |
         LOSS_BIT(NERVE_LOSS_BCE_WITH_LOGITS),
     "mse, l1, huber, smooth_l1, bce and bce_with_logits"},
};

const char *nerve_loss_list_key(nerve_loss_kind kind)
{
    switch (kind) {
    case NERVE_LOSS_SOFTMAX_CROSS_ENTROPY:
    case NERVE_LOSS_NLL: return "weights";
    case NERVE_LOSS_FOCAL: return "alpha";
    case NERVE_LOSS_BCE_WITH_LOGITS: return "pos_weight";
    default: return NULL;
    }
}

nerve_status nerve_read_loss_section(cfg_reader *r, nerve_model_settings *s)
{
    static const char *const reductions[] = {"mean", "sum", NULL};
    const char *names[NERVE_LOSS_COUNT + 1] = {NULL};
    for (int k = 0; k < NERVE_LOSS_COUNT; k++) names[k] = loss_types[k].name;
    int type, reduction;
    if (!cfg_read_choice(r, "type", names, 0, &type) ||
        !cfg_read_choice(r, "reduction", reductions, 0, &reduction))
        return r->status;
    for (size_t i = 0; i < sizeof loss_keys / sizeof loss_keys[0]; i++)
        if (cfg_has(r, loss_keys[i].key) && !(loss_keys[i].kinds & LOSS_BIT(type)))
            return cfg_fail(r, loss_keys[i].key, "only applies to [loss] type %s",
                            loss_keys[i].types), r->status;
    nerve_loss_options *o = &s->loss_options;
    int64_t margin;
    float *weights = NULL;
    const char *list_key = nerve_loss_list_key((nerve_loss_kind)type);
    if (!cfg_read_double(r, "delta", false, 1, 1e-30, 1e30, &o->delta) ||
        !cfg_read_double(r, "beta", false, 1, 0, 1e30, &o->beta) ||
        !cfg_read_double(r, "label_smoothing", false, 0, 0, 1, &o->label_smoothing) ||
        !cfg_read_double(r, "gamma", false, 2, 0, 1e6, &o->gamma) ||
        !cfg_read_double(r, "temperature", false, 1, 1e-6, 1e6, &o->temperature) ||
        !cfg_read_int(r, "margin", false, 2, 1, 4, &margin) ||
        !cfg_read_double(r, "lambda", false, 0, 0, 1e6, &o->lambda) ||
        !cfg_read_double(r, "lambda_min", false, 0, 0, 1e6, &o->lambda_min) ||
        !cfg_read_double(r, "lambda_gamma", false, 0, 0, 1e6, &o->lambda_gamma) ||
        !cfg_read_double(r, "lambda_power", false, 1, 0, 1e6, &o->lambda_power) ||
        !cfg_read_bool(r, "one_hot", false, &o->one_hot) ||
        (list_key && !cfg_read_list(r, list_key, 0, 1e30, &weights, &o->weight_count)))
        return r->status;
    s->loss = (nerve_loss_kind)type;
    o->reduction = (nerve_reduction)reduction;
    o->margin = (int)margin;
    o->weights = weights; /* the model's: nerve_model_free frees it */
    return cfg_reader_finish(r);
}
