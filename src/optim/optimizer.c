/* What every optimizer shares: its construction over the graph's parameter
 * nodes, the per-parameter regularisation, and each step's description,
 * which the device's optimizer_step kernel runs (backends/optimizer_step.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_internal.h"
#include "core/options.h"
#include "optim/optimizer.h"

static const nerve_optimizer_type *const optimizer_types[] = {
    [NERVE_OPTIMIZER_SGD] = &nerve_sgd_type,
    [NERVE_OPTIMIZER_ADAGRAD] = &nerve_adagrad_type,
    [NERVE_OPTIMIZER_RMSPROP] = &nerve_rmsprop_type,
    [NERVE_OPTIMIZER_ADAM] = &nerve_adam_type,
    [NERVE_OPTIMIZER_ADAMW] = &nerve_adamw_type,
};
#define OPTIMIZER_TYPE_COUNT (int)(sizeof optimizer_types / sizeof optimizer_types[0])

static nerve_optimizer_options nerve_optimizer_defaults_value(nerve_optimizer_kind kind)
{
    nerve_optimizer_options o = {.kind = kind, .lr = 0.01, .alpha = 0.99, .beta1 = 0.9,
                                 .beta2 = 0.999, .eps = 1e-8, .decay_bias = true};
    if (kind == NERVE_OPTIMIZER_ADAGRAD) o.eps = 1e-10;
    if (kind == NERVE_OPTIMIZER_ADAM || kind == NERVE_OPTIMIZER_ADAMW) o.lr = 1e-3;
    if (kind == NERVE_OPTIMIZER_ADAMW) o.weight_decay = 1e-2;
    return o;
}

void nerve_optimizer_defaults_sized(nerve_optimizer_kind kind,
                                    nerve_optimizer_options *out, size_t size)
{
    nerve_optimizer_options value = nerve_optimizer_defaults_value(kind);
    nerve_options_write(out, size, &value, sizeof value);
}

const char *optim_check_ranges(const optim_range *ranges, int count, const char **key, char *buf,
                               size_t size)
{
    for (int i = 0; i < count; i++) {
        const optim_range *r = &ranges[i];
        double v = r->value;
        if (isfinite(v) && (r->min_open ? v > r->min : v >= r->min) &&
            (r->max_open ? v < r->max : v <= r->max))
            continue;
        *key = r->key;
        snprintf(buf, size, "%g is out of range %c%g, %g%c", v, r->min_open ? '(' : '[', r->min,
                 r->max, r->max_open ? ')' : ']');
        return buf;
    }
    return NULL;
}

const char *nerve_optimizer_options_problem(const nerve_optimizer_options *o, const char **key,
                                            char *buf, size_t size)
{
    const optim_range ranges[] = {
        {"lr", o->lr, 0, INFINITY, true, true},
        {"weight_decay", o->weight_decay, 0, INFINITY, false, true},
        {"momentum", o->momentum, 0, 1, false, true},
        {"dampening", o->dampening, 0, 1, false, false},
        {"lr_decay", o->lr_decay, 0, INFINITY, false, true},
        {"initial_accumulator_value", o->initial_accumulator_value, 0, INFINITY, false, true},
        {"alpha", o->alpha, 0, 1, false, false},
        {"beta1", o->beta1, 0, 1, false, true},
        {"beta2", o->beta2, 0, 1, false, true},
        {"eps", o->eps, 0, INFINITY, false, true},
        {"l1", o->l1, 0, INFINITY, false, true},
        {"clip_value", o->clip_value, 0, INFINITY, false, true},
        {"clip_norm", o->clip_norm, 0, INFINITY, false, true},
    };
    const char *problem = optim_check_ranges(ranges, (int)(sizeof ranges / sizeof ranges[0]), key,
                                             buf, size);
    if (problem) return problem;
    /* eps guards a division by a running magnitude that starts at zero: at
     * 0 the first step divides 0 by 0. A zero here is a struct not started
     * from nerve_optimizer_defaults (whose betas and alpha are zero too). */
    if (o->kind != NERVE_OPTIMIZER_SGD && o->eps == 0) {
        *key = "eps";
        snprintf(buf, size, "must be above 0 (start from nerve_optimizer_defaults, which gives "
                 "PyTorch's eps, betas and alpha)");
        return buf;
    }
    if (o->kind == NERVE_OPTIMIZER_SGD && o->nesterov && (o->momentum <= 0 || o->dampening != 0)) {
        *key = "nesterov";
        snprintf(buf, size, "needs momentum > 0 and dampening = 0 (as torch.optim.SGD)");
        return buf;
    }
    if (o->clip_value > 0 && o->clip_norm > 0) {
        *key = "clip_norm";
        snprintf(buf, size, "cannot be combined with clip_value: clip by norm or by value");
        return buf;
    }
    return NULL;
}

/* A parameter named "<layer>.bias". */
static bool is_bias(nerve_graph *g, nerve_node n)
{
    const char *name = nerve_node_name(g, n);
    size_t length = strlen(name);
    return length >= 5 && strcmp(name + length - 5, ".bias") == 0;
}

/* Biases are exempt from both penalties when decay_bias is off; AdamW's
 * weight decay is decoupled from the gradient, the others' coupled to it. */
static void set_segment_regularization(const nerve_optimizer *opt, int k, double weight_decay,
                                       double l1)
{
    nerve_optim_segment *s = &opt->segments[k];
    if (!opt->options.decay_bias && is_bias(opt->graph, opt->nodes[k])) weight_decay = l1 = 0;
    s->coupled_decay = opt->type->decoupled_decay ? 0 : weight_decay;
    s->decoupled_decay = opt->type->decoupled_decay ? weight_decay : 0;
    s->l1 = l1;
}

/* One segment per parameter node: parameters are laid out in the flat
 * buffers in node order, so the segments tile them in order. */
static bool build_segments(nerve_optimizer *opt)
{
    nerve_graph *g = opt->graph;
    int params = 0;
    for (nerve_node n = 0; n < nerve_graph_node_count(g); n++) params += nerve_node_is_param(g, n);
    opt->segments = calloc((size_t)params + 1, sizeof *opt->segments);
    opt->nodes = calloc((size_t)params + 1, sizeof *opt->nodes);
    if (!opt->segments || !opt->nodes) return false;
    for (nerve_node n = 0; n < nerve_graph_node_count(g); n++) {
        if (!nerve_node_is_param(g, n)) continue;
        int k = opt->segment_count++;
        nerve_shape shape = nerve_node_shape(g, n);
        opt->nodes[k] = n;
        opt->segments[k].begin = nerve_node_value(g, n) - nerve_graph_params(g);
        opt->segments[k].end = opt->segments[k].begin + nerve_shape_numel(&shape);
        set_segment_regularization(opt, k, opt->options.weight_decay, opt->options.l1);
    }
    return true;
}

bool optim_add_state(nerve_optimizer *opt, int slot, nerve_real value)
{
    nerve_graph *g = opt->graph;
    size_t n = (size_t)opt->count; /* this rank's shard under ZeRO (shard.c) */
    void *state;
    if (g->device->allocate(&g->ctx, (n ? n : 1) * sizeof *opt->state[slot], &state) != NERVE_OK)
        return false;
    opt->state[slot] = state;
    return nerve_graph_fill(g, opt->state[slot], (int64_t)n, value) == NERVE_OK;
}

nerve_optimizer *nerve_optimizer_new(nerve_graph *g, const nerve_optimizer_options *options,
                                     nerve_error *err)
{
    NERVE_OPTIONS_IN(nerve_optimizer_options, options, decay_bias, "nerve_optimizer_new",
                     err, NULL);
    if ((unsigned)options->kind >= (unsigned)OPTIMIZER_TYPE_COUNT) {
        nerve_error_set(err, NERVE_ERR_INVALID, "unknown optimizer kind %d", (int)options->kind);
        return NULL;
    }
    const nerve_optimizer_type *type = optimizer_types[options->kind];
    char why[160];
    const char *key;
    if (nerve_optimizer_options_problem(options, &key, why, sizeof why)) {
        nerve_error_set(err, NERVE_ERR_INVALID, "%s: %s: %s", type->name, key, why);
        return NULL;
    }
    nerve_optimizer *opt = calloc(1, sizeof *opt);
    if (opt) {
        opt->type = type;
        opt->graph = g;
        opt->device = g->device;
        opt->options = *options;
        opt->lr = options->lr;
        opt->count = (int64_t)nerve_graph_param_count(g);
    }
    if (!opt || !build_segments(opt) || !type->init(opt)) {
        nerve_optimizer_free(opt);
        nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory for %zu parameters", type->name,
                        nerve_graph_param_count(g));
        return NULL;
    }
    return opt;
}

nerve_optimizer *nerve_sgd_new(nerve_graph *g, const nerve_sgd_options *options, nerve_error *err)
{
    NERVE_OPTIONS_IN(nerve_sgd_options, options, momentum, "nerve_sgd_new", err, NULL);
    nerve_optimizer_options o = nerve_optimizer_defaults(NERVE_OPTIMIZER_SGD);
    o.lr = options->lr;
    o.momentum = options->momentum;
    return nerve_optimizer_new(g, &o, err);
}

nerve_status nerve_optimizer_set_regularization(nerve_optimizer *opt, nerve_node param,
                                                double weight_decay, double l1, nerve_error *err)
{
    if (!(weight_decay >= 0 && isfinite(weight_decay)) || !(l1 >= 0 && isfinite(l1)))
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "%s: weight_decay and l1 must be finite and >= 0, got %g and %g",
                               nerve_node_name(opt->graph, param), weight_decay, l1);
    for (int k = 0; k < opt->segment_count; k++) {
        if (opt->nodes[k] != param) continue;
        set_segment_regularization(opt, k, weight_decay, l1);
        return NERVE_OK;
    }
    return nerve_error_set(err, NERVE_ERR_INVALID,
                           "node %d is not a parameter the optimizer updates", param);
}

/* The step as the backends run it (backends/optimizer_step.h): this rank's
 * range of the flat buffers, the segments, the state, and the algorithm's
 * constants for step t. The device's optimizer_step kernel measures the norm,
 * clips and updates. */
nerve_status nerve_optimizer_step(nerve_optimizer *opt)
{
    const nerve_optimizer_options *o = &opt->options;
    nerve_graph *g = opt->graph;
    nerve_optim_step step = {.params = nerve_graph_params(g) + opt->offset,
                             .grads = nerve_graph_grads(g) + opt->offset,
                             .trainable = nerve_graph_trainable_mask(g) + opt->offset,
                             .count = opt->count,
                             .segments = opt->segments,
                             .segment_count = opt->segment_count,
                             .lr = opt->lr,
                             .clip_value = (nerve_real)o->clip_value,
                             .clip_norm = o->clip_norm,
                             .comm = opt->comm,
                             .grad_scale = 1};
    for (int k = 0; k < NERVE_OPTIM_MAX_STATE; k++) step.state[k] = opt->state[k];
    opt->type->describe(opt, &step, opt->steps + 1);
    NERVE_TRY(NERVE_RUN(g, optimizer_step, &step));
    opt->grad_norm = step.grad_norm;
    opt->steps++;
    return NERVE_OK;
}

void nerve_optimizer_set_lr(nerve_optimizer *opt, double lr) { opt->lr = lr; }
double nerve_optimizer_lr(const nerve_optimizer *opt) { return opt->lr; }
int64_t nerve_optimizer_steps(const nerve_optimizer *opt) { return opt->steps; }
double nerve_optimizer_grad_norm(const nerve_optimizer *opt) { return opt->grad_norm; }
const char *nerve_optimizer_name(const nerve_optimizer *opt) { return opt->type->name; }

size_t nerve_optimizer_state_bytes(const nerve_optimizer *opt)
{
    size_t slots = 0;
    for (int k = 0; k < NERVE_OPTIM_MAX_STATE; k++) slots += opt->state[k] != NULL;
    return slots * (size_t)opt->count * sizeof(nerve_real);
}

void nerve_optimizer_free(nerve_optimizer *opt)
{
    if (!opt) return;
    const nerve_kernel_ctx ctx = {.device = opt->device};
    for (int k = 0; k < NERVE_OPTIM_MAX_STATE; k++)
        if (opt->state[k]) opt->device->release(&ctx, opt->state[k]);
    free(opt->full_segments);
    free(opt->full_nodes);
    free(opt->segments);
    free(opt->nodes);
    free(opt);
}
