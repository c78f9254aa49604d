/* The CPU's optimizer step: the host loops (optimizer_host.c), which are
 * already vectorised and run in parallel blocks over host memory. */
#include "backends/cpu/cpu.h"

nerve_status nerve_cpu_optimizer_step(const nerve_kernel_ctx *ctx, nerve_optim_step *step)
{
    return nerve_host_optimizer_step(ctx, step);
}
