/* The backend interface: the loops that touch numbers. Ops say what to
 * compute; a backend says how, fast, on its device. A new backend fills this
 * table and never touches an op's maths. */
#ifndef NERVE_BACKEND_H
#define NERVE_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include "nerve.h"

typedef struct nerve_backend {
    const char *name;
    void (*set_threads)(int n);
    /* C = alpha * op(A) op(B) + beta * C, row-major; op(X) = X^T if trans_x. */
    void (*gemm)(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, nerve_real alpha,
                 const nerve_real *a, int64_t lda, const nerve_real *b, int64_t ldb,
                 nerve_real beta, nerve_real *c, int64_t ldc);
    /* y[r, :] = row for each of rows rows (bias before an accumulating GEMM). */
    void (*fill_rows)(nerve_real *y, const nerve_real *row, int64_t rows, int64_t cols);
    /* db += sum over rows of dy. */
    void (*sum_rows)(const nerve_real *dy, nerve_real *db, int64_t rows, int64_t cols);
    /* y = f(x), element-wise. */
    void (*activation_forward)(nerve_activation kind, nerve_real param, const nerve_real *x,
                               nerve_real *y, int64_t n);
    /* dx += f'(x) * dy; kernels may use x or y, whichever is cheaper. */
    void (*activation_backward)(nerve_activation kind, nerve_real param, const nerve_real *x,
                                const nerve_real *y, const nerve_real *dy, nerve_real *dx,
                                int64_t n);
    /* Row-wise softmax, max-subtracted. */
    void (*softmax_rows)(const nerve_real *x, nerve_real *y, int64_t rows, int64_t cols);
    /* dx += y * (dy - sum(dy * y)) per row. */
    void (*softmax_rows_backward)(const nerve_real *y, const nerve_real *dy, nerve_real *dx,
                                  int64_t rows, int64_t cols);
    /* Fused softmax cross-entropy: prob = softmax(logits); returns the mean
     * over rows of -log prob[label]. */
    double (*softmax_cross_entropy)(const nerve_real *logits, const nerve_real *labels,
                                    nerve_real *prob, int64_t rows, int64_t cols);
    /* dlogits += scale * (prob - onehot(label)). */
    void (*softmax_cross_entropy_backward)(const nerve_real *prob, const nerve_real *labels,
                                           nerve_real scale, nerve_real *dlogits, int64_t rows,
                                           int64_t cols);
    /* Sum of (a - b)^2 over n elements. */
    double (*squared_error)(const nerve_real *a, const nerve_real *b, int64_t n);
    /* y += scale * (a - b). */
    void (*add_scaled_difference)(int64_t n, nerve_real scale, const nerve_real *a,
                                  const nerve_real *b, nerve_real *y);
} nerve_backend;

const nerve_backend *nerve_backend_cpu(void);

#endif
