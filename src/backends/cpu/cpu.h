/* The CPU backend's kernels, one file per family. */
#ifndef NERVE_CPU_H
#define NERVE_CPU_H

#include "backends/cpu/team.h"
#include "backends/device.h"

/* Below this many elements an OpenMP fork costs more than it saves. */
#define NERVE_CPU_PARALLEL_MIN 32768
/* Below this many multiply-adds (GEMM, convolution) a second thread costs
 * more than it brings (measured: the 128x10x256 output layer runs 1.4-3.5x
 * slower on two). */
#define NERVE_CPU_PARALLEL_MIN_MACS (1 << 21)
/* oneDNN runs float32 GEMM and convolutions when the build has it
 * (NERVE_WITH_DNNL); the float64 engine and a build without it run the
 * backend's own GEMM and im2col. */
#if defined(NERVE_WITH_DNNL) && !defined(NERVE_F64)
#define NERVE_CPU_DNNL 1
#endif

/* Every table entry, nerve_cpu_<kernel>, declared from the lists. */
#define NERVE_CPU_DECLARE(name, params) nerve_status nerve_cpu_##name params;
NERVE_ALL_KERNELS(NERVE_CPU_DECLARE)
#undef NERVE_CPU_DECLARE

/* The GEMM the other kernels call (nerve_cpu_gemm is its table entry). */
void nerve_cpu_matmul(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, nerve_real alpha,
                      const nerve_real *a, int64_t lda, const nerve_real *b, int64_t ldb,
                      nerve_real beta, nerve_real *c, int64_t ldc);
/* y = softmax(x / temperature) over one row (temperature > 0), max-subtracted;
 * returns the row's log-normaliser, so log softmax(x / T)_c = x_c / T - return value,
 * finite even where y_c underflows to 0. Shared by every softmax-based kernel. */
double nerve_cpu_softmax_row(const nerve_real *x, nerve_real temperature, nerve_real *y,
                             int64_t cols);

/* A label outside [0, cols) cannot be reported from a kernel; the loss
 * kernels turn it into a NaN loss, which the trainer's non-finite check
 * reports, instead of reading out of bounds. */
static inline bool nerve_cpu_label_index(nerve_real label, int64_t cols, int64_t *index)
{
    if (!(label >= 0 && label < (nerve_real)cols)) return false;
    *index = (int64_t)label;
    return true;
}

/* weights[k], or 1 without weights. */
static inline double nerve_cpu_class_weight(const nerve_real *weights, int64_t k)
{
    return weights ? (double)weights[k] : 1.0;
}

/* Batch norm over oneDNN's channel-blocked layout, [outer, channels /
 * block, inner, block] (batch_norm.c; conv_batch_norm.c runs them): whether
 * the loops take that block (16, in AVX-512 float32 builds); the
 * statistics of x (as
 * batch_norm_statistics); y, NCHW (as batch_norm_forward or, with relu,
 * batch_norm_relu_forward); the backward with batch statistics (as
 * batch_norm_backward, or with z batch_norm_relu_backward), dx written
 * blocked, dy and z NCHW. */
bool nerve_cpu_batch_norm_blocked(int64_t block);
void nerve_cpu_batch_norm_statistics_blocked(const nerve_real *x, int64_t block, nerve_real *mean,
                                             nerve_real *var, double momentum,
                                             nerve_real *running_mean, nerve_real *running_var,
                                             nerve_real *counter, int64_t outer,
                                             int64_t channels, int64_t inner);
void nerve_cpu_batch_norm_forward_blocked(const nerve_real *x, int64_t block,
                                          const nerve_real *mean, const nerve_real *var,
                                          double eps, const nerve_real *weight,
                                          const nerve_real *bias, bool relu, nerve_real *y,
                                          int64_t outer, int64_t channels, int64_t inner);
void nerve_cpu_batch_norm_backward_blocked(const nerve_real *x, int64_t block,
                                           const nerve_real *z, const nerve_real *dy,
                                           const nerve_real *mean, const nerve_real *var,
                                           double eps, const nerve_real *weight, nerve_real *dx,
                                           nerve_real *dweight, nerve_real *dbias, int64_t outer,
                                           int64_t channels, int64_t inner);

/* y[c, r] = x[r, c] (or +=) for r < rows, c < cols, with row strides;
 * single-threaded: callers split the work. */
void nerve_cpu_transpose_block(int64_t rows, int64_t cols, const nerve_real *x, int64_t x_ld,
                               nerve_real *y, int64_t y_ld, bool accumulate);

#endif
