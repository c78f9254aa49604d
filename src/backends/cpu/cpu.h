/* The CPU backend's kernels, one file per family. */
#ifndef NERVE_CPU_H
#define NERVE_CPU_H

#include "backends/backend.h"

/* Below this many elements an OpenMP fork costs more than it saves. */
#define NERVE_CPU_PARALLEL_MIN 32768

void nerve_cpu_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, nerve_real alpha,
                    const nerve_real *a, int64_t lda, const nerve_real *b, int64_t ldb,
                    nerve_real beta, nerve_real *c, int64_t ldc);
void nerve_cpu_fill_rows(nerve_real *y, const nerve_real *row, int64_t rows, int64_t cols);
void nerve_cpu_sum_rows(const nerve_real *dy, nerve_real *db, int64_t rows, int64_t cols);
void nerve_cpu_activation_forward(nerve_activation kind, const nerve_activation_params *params,
                                  const nerve_real *x, nerve_real *y, int64_t n);
void nerve_cpu_activation_backward(nerve_activation kind, const nerve_activation_params *params,
                                   const nerve_real *x, const nerve_real *y, const nerve_real *dy,
                                   nerve_real *dx, int64_t n);
double nerve_cpu_swish_beta_gradient(const nerve_real *x, nerve_real beta, const nerve_real *dy,
                                     int64_t n);
void nerve_cpu_prelu_forward(const nerve_real *x, const nerve_real *slope, nerve_real *y,
                             int64_t outer, int64_t channels, int64_t inner);
void nerve_cpu_prelu_backward(const nerve_real *x, const nerve_real *slope, const nerve_real *dy,
                              nerve_real *dx, nerve_real *dslope, int64_t outer, int64_t channels,
                              int64_t inner);
void nerve_cpu_crelu_forward(const nerve_real *x, nerve_real *y, int64_t rows, int64_t cols);
void nerve_cpu_crelu_backward(const nerve_real *x, const nerve_real *dy, nerve_real *dx,
                              int64_t rows, int64_t cols);
void nerve_cpu_maxout_forward(const nerve_real *x, nerve_real *y, nerve_real *argmax,
                              int64_t groups, int64_t pieces);
void nerve_cpu_maxout_backward(const nerve_real *argmax, const nerve_real *dy, nerve_real *dx,
                               int64_t groups, int64_t pieces);
void nerve_cpu_softmax(const nerve_real *x, nerve_real *y, int64_t outer, int64_t len,
                       int64_t inner);
void nerve_cpu_softmax_backward(const nerve_real *y, const nerve_real *dy, nerve_real *dx,
                                int64_t outer, int64_t len, int64_t inner);
void nerve_cpu_log_softmax(const nerve_real *x, nerve_real *y, int64_t outer, int64_t len,
                           int64_t inner);
void nerve_cpu_log_softmax_backward(const nerve_real *y, const nerve_real *dy, nerve_real *dx,
                                    int64_t outer, int64_t len, int64_t inner);
double nerve_cpu_softmax_cross_entropy(const nerve_real *logits, const nerve_real *labels,
                                       nerve_real *prob, int64_t rows, int64_t cols);
void nerve_cpu_softmax_cross_entropy_backward(const nerve_real *prob, const nerve_real *labels,
                                              nerve_real scale, nerve_real *dlogits, int64_t rows,
                                              int64_t cols);
double nerve_cpu_squared_error(const nerve_real *a, const nerve_real *b, int64_t n);
void nerve_cpu_add_scaled_difference(int64_t n, nerve_real scale, const nerve_real *a,
                                     const nerve_real *b, nerve_real *y);

#endif
