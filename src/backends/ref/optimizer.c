/* The optimizer step: src/optim's portable host loops are the optimizers'
 * definition (each checked against PyTorch by tests/test_parity_optim.c),
 * and the reference device's memory is host memory, so it runs them as
 * they are. */
#include "backends/ref/ref.h"

#ifndef NERVE_F64
#include "optim/optimizer.h"

nerve_status nerve_ref_optimizer_step(const nerve_kernel_ctx *ctx, nerve_optimizer *opt)
{
    return nerve_optimizer_host_step(ctx, opt);
}
#else
/* The float64 engine, built for the gradient checks alone, has no optimizers. */
nerve_status nerve_ref_optimizer_step(const nerve_kernel_ctx *ctx, nerve_optimizer *opt)
{
    return nerve_kernel_fail(ctx, NERVE_ERR_INVALID, "the float64 test engine has no optimizers");
}
#endif
