/* The generic composites: each composite kernel (kernels.h) written once on
 * top of the core kernels, for any device that does not write its own, and
 * the helpers they are composed with. */
#ifndef NERVE_GENERIC_H
#define NERVE_GENERIC_H

#include "backends/device.h"

#define NERVE_GENERIC_DECLARE(name, params) nerve_status nerve_generic_##name params;
NERVE_COMPOSITE_KERNELS(NERVE_GENERIC_DECLARE)
NERVE_OP_KERNELS(NERVE_GENERIC_DECLARE)
#undef NERVE_GENERIC_DECLARE

/* The map kernel over n elements (nerve_map_op without its prefix); b
 * NULL: the constant v. */
#define NERVE_MAP(ctx, op, a, b, step, v, y, n)                                                    \
    NERVE_KERNEL((ctx), map, NERVE_MAP_##op, (a), (b), (step), (v), (y), (n))
/* In a function with `nerve_status st` and a `done:` label that releases
 * its scratch: runs expr, jumping to done when it fails. */
#define NERVE_STEP(expr)                                                                           \
    do {                                                                                           \
        if ((st = (expr)) != NERVE_OK) goto done;                                                  \
    } while (0)

/* n elements of the device's memory for a composite's intermediate values;
 * release them with nerve_generic_release (NULL is fine). */
nerve_status nerve_generic_scratch(const nerve_kernel_ctx *ctx, int64_t n, nerve_real **out);
void nerve_generic_release(const nerve_kernel_ctx *ctx, nerve_real *scratch);
/* loss[0] = scale * the sum of x[0..n), summed in double (a device scalar). */
nerve_status nerve_generic_sum(const nerve_kernel_ctx *ctx, const nerve_real *x, int64_t n,
                               double scale, nerve_real *loss);
/* sums[r] = the sum of row r of x [rows, cols]. */
nerve_status nerve_generic_row_sums(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                    int64_t rows, int64_t cols, nerve_real *sums);
/* y[0..n) += g * scale * dloss[0] (dloss NULL: 1); g is overwritten. */
nerve_status nerve_generic_accumulate(const nerve_kernel_ctx *ctx, nerve_real *g, int64_t n,
                                      double scale, const nerve_real *dloss, nerve_real *y);
/* The labels of rows rows over cols classes: onehot [rows, cols] one_hot's
 * rows (NaN rows for a label outside [0, cols)), and target [rows, cols]
 * the same with 0 rows there instead. */
nerve_status nerve_generic_targets(const nerve_kernel_ctx *ctx, const nerve_real *labels,
                                   int64_t rows, int64_t cols, nerve_real *onehot,
                                   nerve_real *target);
/* picked[r] = x[r, label r] where target (nerve_generic_targets) marks it,
 * else 0; scratch holds rows * cols elements. */
nerve_status nerve_generic_pick(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                const nerve_real *target, int64_t rows, int64_t cols,
                                nerve_real *scratch, nerve_real *picked);
/* y[0..n) = 1. */
nerve_status nerve_generic_ones(const nerve_kernel_ctx *ctx, nerve_real *y, int64_t n);
/* For x viewed as [outer, len, inner]: sums [outer, inner] = the sums along
 * len; the broadcast y [outer, len, inner] = sums repeated along len. */
nerve_status nerve_generic_axis_sums(const nerve_kernel_ctx *ctx, const nerve_real *x,
                                     int64_t outer, int64_t len, int64_t inner, nerve_real *sums);
nerve_status nerve_generic_axis_broadcast(const nerve_kernel_ctx *ctx, const nerve_real *sums,
                                          int64_t outer, int64_t len, int64_t inner,
                                          nerve_real *y);

#endif
