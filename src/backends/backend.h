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
    void (*activation_forward)(nerve_activation kind, const nerve_activation_params *params,
                               const nerve_real *x, nerve_real *y, int64_t n);
    /* dx += f'(x) * dy; kernels may use x or y, whichever is cheaper. */
    void (*activation_backward)(nerve_activation kind, const nerve_activation_params *params,
                                const nerve_real *x, const nerve_real *y, const nerve_real *dy,
                                nerve_real *dx, int64_t n);
    /* Swish's gradient w.r.t. its beta: the sum of dy * x^2 * s * (1 - s),
     * s = sigmoid(beta * x), over n elements. */
    double (*swish_beta_gradient)(const nerve_real *x, nerve_real beta, const nerve_real *dy,
                                  int64_t n);
    /* x viewed as [outer, channels, inner]: y = x where x > 0, else
     * slope[c] * x (PReLU; RReLU is one channel per element). */
    void (*prelu_forward)(const nerve_real *x, const nerve_real *slope, nerve_real *y,
                          int64_t outer, int64_t channels, int64_t inner);
    /* dx += (x > 0 ? 1 : slope[c]) * dy and dslope[c] += sum of x * dy where
     * x <= 0; either of dx and dslope may be NULL. */
    void (*prelu_backward)(const nerve_real *x, const nerve_real *slope, const nerve_real *dy,
                           nerve_real *dx, nerve_real *dslope, int64_t outer, int64_t channels,
                           int64_t inner);
    /* y [rows, 2 cols] = [relu(x), relu(-x)] per row of x [rows, cols]. */
    void (*crelu_forward)(const nerve_real *x, nerve_real *y, int64_t rows, int64_t cols);
    void (*crelu_backward)(const nerve_real *x, const nerve_real *dy, nerve_real *dx,
                           int64_t rows, int64_t cols);
    /* y[g] = max of the g-th run of `pieces` values of x; argmax[g] is the
     * first maximum's index within the run (stored as a real). */
    void (*maxout_forward)(const nerve_real *x, nerve_real *y, nerve_real *argmax,
                           int64_t groups, int64_t pieces);
    /* dx[g * pieces + argmax[g]] += dy[g]. */
    void (*maxout_backward)(const nerve_real *argmax, const nerve_real *dy, nerve_real *dx,
                            int64_t groups, int64_t pieces);
    /* Softmax along the middle axis of x viewed as [outer, len, inner]
     * (inner = 1 for the last axis), max-subtracted. */
    void (*softmax)(const nerve_real *x, nerve_real *y, int64_t outer, int64_t len,
                    int64_t inner);
    /* dx += y * (dy - sum(dy * y)) along the axis. */
    void (*softmax_backward)(const nerve_real *y, const nerve_real *dy, nerve_real *dx,
                             int64_t outer, int64_t len, int64_t inner);
    /* y = x - max - log(sum(exp(x - max))) along the axis. */
    void (*log_softmax)(const nerve_real *x, nerve_real *y, int64_t outer, int64_t len,
                        int64_t inner);
    /* dx += dy - exp(y) * sum(dy) along the axis. */
    void (*log_softmax_backward)(const nerve_real *y, const nerve_real *dy, nerve_real *dx,
                                 int64_t outer, int64_t len, int64_t inner);
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
