/* The map kernel: kernels.h's nerve_map_apply, element by element. */
#include "backends/ref/ref.h"

nerve_status nerve_ref_map(const nerve_kernel_ctx *ctx, nerve_map_op op, const nerve_real *a,
                           const nerve_real *b, int64_t b_step, double value, nerve_real *y,
                           int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        y[i] = (nerve_real)nerve_map_apply(op, a[i], b ? b[i * b_step] : value, y[i]);
    return NERVE_OK;
}
