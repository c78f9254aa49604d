/* The optimizer step: the host loops (optimizer_host.c) are the optimizers'
 * definition (each checked against PyTorch by tests/test_parity_optim.c),
 * and the reference device's memory is host memory, so it runs them as
 * they are. */
#include "backends/ref/ref.h"

nerve_status nerve_ref_optimizer_step(const nerve_kernel_ctx *ctx, nerve_optim_step *step)
{
    return nerve_host_optimizer_step(ctx, step);
}
