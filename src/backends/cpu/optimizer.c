/* The CPU's optimizer step: the host loops (optimizer_host.c), which are
 * already vectorised and run in parallel blocks over host memory. Their
 * result does not depend on their threads (fixed ranges), so the step runs
 * on the busy machine's team. */
#include <omp.h>

#include "backends/cpu/cpu.h"

nerve_status nerve_cpu_optimizer_step(const nerve_kernel_ctx *ctx, nerve_optim_step *step)
{
    int threads = omp_get_max_threads(), team = nerve_cpu_team();
    if (team != threads) omp_set_num_threads(team);
    nerve_status st = nerve_host_optimizer_step(ctx, step);
    if (team != threads) omp_set_num_threads(threads);
    return st;
}
