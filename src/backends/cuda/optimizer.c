/* The optimizer step on the GPU: the host step (optimizer_host.c) with each
 * segment's loop launched as one kernel (optimizer.cu), over the same
 * description (optimizer_step.h: src/optim computed its constants, in
 * float, so that a step updates the same numbers). The gradient norm is
 * summed on the device and read once per step (clip_grad_norm_ needs it
 * before the update). */
#include <math.h>
#include <string.h>

#include "backends/cuda/cuda.h"

/* One launch per segment over the whole buffer; returns the squared raw
 * gradients' sum (downloaded: the step's one read-back). */
static nerve_status run_segments(const nerve_kernel_ctx *ctx, const nerve_optim_step *step,
                                 bool measuring, double *squares)
{
    static const nerve_cuda_optim_kind kinds[] = {
        [NERVE_OPTIM_SGD] = NERVE_CUDA_SGD,
        [NERVE_OPTIM_ADAGRAD] = NERVE_CUDA_ADAGRAD,
        [NERVE_OPTIM_RMSPROP] = NERVE_CUDA_RMSPROP,
        [NERVE_OPTIM_ADAM] = NERVE_CUDA_ADAM,
    };
    double *total = nerve_cuda_scratch() + 1;
    NERVE_TRY(nerve_cuda_check(ctx, cudaMemsetAsync(total, 0, sizeof *total, nerve_cuda_stream()),
                               "optimizer_step"));
    for (int k = 0; k < step->segment_count; k++) {
        const nerve_optim_segment *segment = &step->segments[k];
        const optim_terms terms = optim_terms_of(step, segment);
        nerve_cuda_optim u = {.kind = measuring ? NERVE_CUDA_MEASURE : kinds[step->kind],
                              .regularised = optim_regularised(step, segment),
                              .with_l1 = segment->l1 != 0,
                              .momentum = step->momentum,
                              .centered = step->centered,
                              .amsgrad = step->amsgrad,
                              .p = step->params,
                              .s0 = step->state[0],
                              .s1 = step->state[1],
                              .s2 = step->state[2],
                              .grad = step->grads,
                              .trainable = step->trainable,
                              .begin = segment->begin,
                              .end = segment->end,
                              .l1 = terms.l1,
                              .clip = terms.clip,
                              .scale = terms.scale,
                              .decay = terms.decay};
        memcpy(u.a, step->c.a, sizeof u.a);
        if (step->kind == NERVE_OPTIM_ADAM) u.a[7] = optim_kept(step, segment);
        nerve_cuda_optim_update(&u, total);
    }
    NERVE_TRY(nerve_cuda_launched(ctx, "optimizer_step"));
    return ctx->device->download(ctx, squares, total, sizeof *squares);
}

nerve_status nerve_cuda_optimizer_step(const nerve_kernel_ctx *ctx, nerve_optim_step *step)
{
    /* Sharded state sums its norm over the ranks' host memory: data-parallel
     * training refuses devices without host memory before it gets here. */
    if (step->comm)
        return nerve_engine->kernel_fail(ctx, NERVE_ERR_INVALID,
                                         "cuda: a sharded (data-parallel) optimizer runs on "
                                         "host memory, not on the GPU");
    bool clip_norm = step->clip_norm > 0;
    double squares;
    if (clip_norm) {
        /* clip_grad_norm_: coefficient max_norm / (total_norm + 1e-6), applied
         * when below 1 (a NaN norm makes every gradient NaN, as in torch). */
        NERVE_TRY(run_segments(ctx, step, true, &squares));
        step->grad_norm = sqrt(squares);
        double coefficient = step->clip_norm / (step->grad_norm + 1e-6);
        if (!(coefficient >= 1)) step->grad_scale = (nerve_real)coefficient;
    }
    NERVE_TRY(run_segments(ctx, step, false, &squares));
    if (!clip_norm) step->grad_norm = sqrt(squares);
    return NERVE_OK;
}
