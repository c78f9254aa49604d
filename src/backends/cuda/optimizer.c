/* The optimizer step on the GPU: src/optim/optimizer.c's host step with each
 * segment's loop launched as one kernel (optimizer.cu). The constants are
 * computed here exactly as the host loops compute them, in float, so that a
 * step updates the same numbers. The gradient norm is summed on the device
 * and read once per step (clip_grad_norm_ needs it before the update). */
#include <math.h>
#include <string.h>

#include "backends/cuda/cuda.h"
#include "optim/optimizer.h"

/* The kind and constants of opt's algorithm for one segment. */
static nerve_status algorithm(const nerve_kernel_ctx *ctx, const nerve_optimizer *opt,
                              const optim_step *step, const optim_segment *segment,
                              nerve_cuda_optim *u)
{
    const nerve_optimizer_options *o = &opt->options;
    float *a = u->a;
    u->s0 = opt->state[0];
    u->s1 = opt->state[1];
    u->s2 = opt->state[2];
    /* By name: the types' addresses are libnerve's, which the module does
     * not link (module.h). */
    const char *name = opt->type->name;
    if (strcmp(name, "sgd") == 0) {
        const bool first = step->t == 1;
        const float momentum = (float)o->momentum;
        u->kind = NERVE_CUDA_SGD;
        u->momentum = opt->state[0] != NULL;
        a[0] = (float)step->lr;
        a[1] = first ? 0 : momentum;
        a[2] = first ? 1 : (float)(1 - o->dampening);
        a[3] = o->nesterov ? 1 : 0;
        a[4] = o->nesterov ? momentum : 1;
    } else if (strcmp(name, "adagrad") == 0) {
        u->kind = NERVE_CUDA_ADAGRAD;
        a[0] = (float)(step->lr / (1 + (double)(step->t - 1) * o->lr_decay));
        a[1] = (float)o->eps;
    } else if (strcmp(name, "rmsprop") == 0) {
        u->kind = NERVE_CUDA_RMSPROP;
        u->centered = o->centered;
        u->momentum = o->momentum != 0;
        a[0] = (float)step->lr;
        a[1] = (float)o->alpha;
        a[2] = (float)(1 - o->alpha);
        a[3] = (float)o->eps;
        a[4] = (float)o->momentum;
    } else if (strcmp(name, "adam") == 0 || strcmp(name, "adamw") == 0) {
        const double t = (double)step->t;
        const bool corrected = !o->no_bias_correction;
        u->kind = NERVE_CUDA_ADAM;
        u->amsgrad = o->amsgrad;
        a[0] = (float)(corrected ? step->lr / (1 - pow(o->beta1, t)) : step->lr);
        a[1] = (float)(corrected ? sqrt(1 - pow(o->beta2, t)) : 1);
        a[2] = (float)o->beta1;
        a[3] = (float)(1 - o->beta1);
        a[4] = (float)o->beta2;
        a[5] = (float)(1 - o->beta2);
        a[6] = (float)o->eps;
        a[7] = (float)(1 - step->lr * segment->decoupled_decay);
    } else {
        return nerve_engine->kernel_fail(ctx, NERVE_ERR_INVALID,
                                         "cuda: no update kernel for optimizer '%s'", name);
    }
    return NERVE_OK;
}

/* One launch per segment over the whole buffer; returns the squared raw
 * gradients' sum (downloaded: the step's one read-back). */
static nerve_status run_segments(const nerve_kernel_ctx *ctx, const nerve_optimizer *opt,
                                 const optim_step *step, bool measuring, double *squares)
{
    double *total = nerve_cuda_scratch() + 1;
    NERVE_TRY(nerve_cuda_check(ctx, cudaMemsetAsync(total, 0, sizeof *total, nerve_cuda_stream()),
                               "optimizer_step"));
    for (int k = 0; k < opt->segment_count; k++) {
        const optim_segment *segment = &opt->segments[k];
        const optim_terms terms = optim_terms_of(step, segment);
        nerve_cuda_optim u = {.kind = NERVE_CUDA_MEASURE,
                              .regularised = optim_regularised(step, segment),
                              .with_l1 = segment->l1 != 0,
                              .p = step->params,
                              .grad = step->grads,
                              .trainable = step->trainable,
                              .begin = segment->begin,
                              .end = segment->end,
                              .l1 = terms.l1,
                              .clip = terms.clip,
                              .scale = terms.scale,
                              .decay = terms.decay};
        if (!measuring) NERVE_TRY(algorithm(ctx, opt, step, segment, &u));
        nerve_cuda_optim_update(&u, total);
    }
    NERVE_TRY(nerve_cuda_launched(ctx, "optimizer_step"));
    return ctx->device->download(ctx, squares, total, sizeof *squares);
}

nerve_status nerve_cuda_optimizer_step(const nerve_kernel_ctx *ctx, nerve_optimizer *opt)
{
    const nerve_optimizer_options *o = &opt->options;
    /* Sharded state sums its norm over the ranks' host memory: data-parallel
     * training refuses devices without host memory before it gets here. */
    if (opt->comm)
        return nerve_engine->kernel_fail(ctx, NERVE_ERR_INVALID,
                                         "cuda: a sharded (data-parallel) optimizer runs on "
                                         "host memory, not on the GPU");
    optim_step step = {.params = nerve_engine->graph_params(opt->graph) + opt->offset,
                       .grads = nerve_engine->graph_grads(opt->graph) + opt->offset,
                       .trainable = nerve_engine->graph_trainable_mask(opt->graph) + opt->offset,
                       .t = opt->steps + 1,
                       .lr = opt->lr,
                       .clip_value = (nerve_real)o->clip_value,
                       .grad_scale = 1};
    bool clip_norm = o->clip_norm > 0;
    double squares;
    if (clip_norm) {
        /* clip_grad_norm_: coefficient max_norm / (total_norm + 1e-6), applied
         * when below 1 (a NaN norm makes every gradient NaN, as in torch). */
        NERVE_TRY(run_segments(ctx, opt, &step, true, &squares));
        opt->grad_norm = sqrt(squares);
        double coefficient = o->clip_norm / (opt->grad_norm + 1e-6);
        if (!(coefficient >= 1)) step.grad_scale = (nerve_real)coefficient;
    }
    NERVE_TRY(run_segments(ctx, opt, &step, false, &squares));
    if (!clip_norm) opt->grad_norm = sqrt(squares);
    opt->steps++;
    return NERVE_OK;
}
