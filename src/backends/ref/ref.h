/* The reference backend's kernels: plain C11 loops with the formulas of
 * kernels.h written out directly, sums in double, no intrinsics, no oneDNN,
 * no threads. It is the baseline every other backend is checked against
 * (tests/test_backend_ops.c), and runs wherever a C compiler does. Slow on
 * purpose: every loop is the definition, never a rearrangement of it. */
#ifndef NERVE_REF_H
#define NERVE_REF_H

#include <math.h>

#include "backends/device.h"

/* A class label or token id as an index, false outside [0, n): the kernels
 * then give NaN (forward) or nothing (backward), as kernels.h says. */
static inline bool nerve_ref_index(nerve_real label, int64_t n, int64_t *index)
{
    if (!(label >= 0 && label < (nerve_real)n)) return false;
    *index = (int64_t)label;
    return true;
}

static inline double nerve_ref_weight(const nerve_real *weights, int64_t k)
{
    return weights ? (double)weights[k] : 1.0;
}

/* log(sum_c exp(x_c / t)) over one row, max-subtracted; y_c = the softmax. */
double nerve_ref_log_normaliser(const nerve_real *x, double temperature, nerve_real *y,
                                int64_t cols);

/* The kernels it writes, nerve_ref_<kernel>: the core, the op-specific
 * composites and three building blocks (REF_COMPOSITES), each the formula
 * of kernels.h written out: the reference the generic versions are checked
 * against. The other building blocks are the generic ones (generic.c). */
#define REF_COMPOSITES(X)                                                                          \
    X(softmax_backward, _) X(log_softmax_backward, _) X(scale_rows_backward, _)
#define NERVE_REF_DECLARE(name, params) nerve_status nerve_ref_##name params;
NERVE_ALL_KERNELS(NERVE_REF_DECLARE)
#undef NERVE_REF_DECLARE

#endif
