/* The CPU's optimizer step: the portable update loops of src/optim, which
 * are already vectorised and run in parallel blocks over host memory. */
#include "backends/cpu/cpu.h"

#ifndef NERVE_F64
#include "optim/optimizer.h"

nerve_status nerve_cpu_optimizer_step(const nerve_kernel_ctx *ctx, nerve_optimizer *opt)
{
    return nerve_optimizer_host_step(ctx, opt);
}
#else
/* The float64 engine, built for the gradient checks alone, has no optimizers. */
nerve_status nerve_cpu_optimizer_step(const nerve_kernel_ctx *ctx, nerve_optimizer *opt)
{
    return nerve_kernel_fail(ctx, NERVE_ERR_INVALID, "the float64 test engine has no optimizers");
}
#endif
