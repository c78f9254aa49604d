/* The CPU's optimizer step: the portable update loops of src/optim, which
 * are already vectorised and run in parallel blocks over host memory. */
#include <omp.h>

#include "backends/cpu/cpu.h"

#ifndef NERVE_F64
#include "optim/optimizer.h"

/* The step's result does not depend on its threads (optimizer.c's fixed
 * ranges), so it runs on the busy machine's team. */
nerve_status nerve_cpu_optimizer_step(const nerve_kernel_ctx *ctx, nerve_optimizer *opt)
{
    int threads = omp_get_max_threads(), team = nerve_cpu_team();
    if (team != threads) omp_set_num_threads(team);
    nerve_status st = nerve_optimizer_host_step(ctx, opt);
    if (team != threads) omp_set_num_threads(threads);
    return st;
}
#else
/* The float64 engine, built for the gradient checks alone, has no optimizers. */
nerve_status nerve_cpu_optimizer_step(const nerve_kernel_ctx *ctx, nerve_optimizer *opt)
{
    return nerve_kernel_fail(ctx, NERVE_ERR_INVALID, "the float64 test engine has no optimizers");
}
#endif
