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
void nerve_cpu_activation_forward(nerve_activation kind, nerve_real param, const nerve_real *x,
                                  nerve_real *y, int64_t n);
void nerve_cpu_activation_backward(nerve_activation kind, nerve_real param, const nerve_real *x,
                                   const nerve_real *y, const nerve_real *dy, nerve_real *dx,
                                   int64_t n);
void nerve_cpu_softmax_rows(const nerve_real *x, nerve_real *y, int64_t rows, int64_t cols);
void nerve_cpu_softmax_rows_backward(const nerve_real *y, const nerve_real *dy, nerve_real *dx,
                                     int64_t rows, int64_t cols);
double nerve_cpu_softmax_cross_entropy(const nerve_real *logits, const nerve_real *labels,
                                       nerve_real *prob, int64_t rows, int64_t cols);
void nerve_cpu_softmax_cross_entropy_backward(const nerve_real *prob, const nerve_real *labels,
                                              nerve_real scale, nerve_real *dlogits, int64_t rows,
                                              int64_t cols);
double nerve_cpu_squared_error(const nerve_real *a, const nerve_real *b, int64_t n);
void nerve_cpu_add_scaled_difference(int64_t n, nerve_real scale, const nerve_real *a,
                                     const nerve_real *b, nerve_real *y);

#endif
