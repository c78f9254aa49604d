/* The reference backend's kernels: plain C11 loops with the formulas of
 * backend.h written out directly, sums in double, no intrinsics, no oneDNN,
 * no threads. It is the baseline every other backend is checked against
 * (tests/test_backend_ops.c), and runs wherever a C compiler does. Slow on
 * purpose: every loop is the definition, never a rearrangement of it. */
#ifndef NERVE_REF_H
#define NERVE_REF_H

#include <math.h>

#include "backends/backend.h"

/* A class label or token id as an index, false outside [0, n): the kernels
 * then give NaN (forward) or nothing (backward), as backend.h says. */
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

void nerve_ref_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, nerve_real alpha,
                    const nerve_real *a, int64_t lda, const nerve_real *b, int64_t ldb,
                    nerve_real beta, nerve_real *c, int64_t ldc);
void nerve_ref_fill_rows(nerve_real *y, const nerve_real *row, int64_t rows, int64_t cols);
void nerve_ref_sum_rows(const nerve_real *dy, nerve_real *db, int64_t rows, int64_t cols);
void nerve_ref_activation_forward(nerve_activation kind, const nerve_activation_params *params,
                                  const nerve_real *x, nerve_real *y, int64_t n);
void nerve_ref_activation_backward(nerve_activation kind, const nerve_activation_params *params,
                                   const nerve_real *x, const nerve_real *y, const nerve_real *dy,
                                   nerve_real *dx, int64_t n);
double nerve_ref_swish_beta_gradient(const nerve_real *x, nerve_real beta, const nerve_real *dy,
                                     int64_t n);
void nerve_ref_prelu_forward(const nerve_real *x, const nerve_real *slope, nerve_real *y,
                             int64_t outer, int64_t channels, int64_t inner);
void nerve_ref_prelu_backward(const nerve_real *x, const nerve_real *slope, const nerve_real *dy,
                              nerve_real *dx, nerve_real *dslope, int64_t outer, int64_t channels,
                              int64_t inner);
void nerve_ref_crelu_forward(const nerve_real *x, nerve_real *y, int64_t rows, int64_t cols);
void nerve_ref_crelu_backward(const nerve_real *x, const nerve_real *dy, nerve_real *dx,
                              int64_t rows, int64_t cols);
void nerve_ref_maxout_forward(const nerve_real *x, nerve_real *y, nerve_real *argmax,
                              int64_t groups, int64_t pieces);
void nerve_ref_maxout_backward(const nerve_real *argmax, const nerve_real *dy, nerve_real *dx,
                               int64_t groups, int64_t pieces);
void nerve_ref_softmax(const nerve_real *x, nerve_real *y, int64_t outer, int64_t len,
                       int64_t inner);
void nerve_ref_softmax_backward(const nerve_real *y, const nerve_real *dy, nerve_real *dx,
                                int64_t outer, int64_t len, int64_t inner);
void nerve_ref_log_softmax(const nerve_real *x, nerve_real *y, int64_t outer, int64_t len,
                           int64_t inner);
void nerve_ref_log_softmax_backward(const nerve_real *y, const nerve_real *dy, nerve_real *dx,
                                    int64_t outer, int64_t len, int64_t inner);
double nerve_ref_cross_entropy(const nerve_real *logits, const nerve_real *labels,
                               const nerve_real *weights, nerve_real smoothing, nerve_real *prob,
                               int64_t rows, int64_t cols, double *weight_sum);
void nerve_ref_cross_entropy_backward(const nerve_real *prob, const nerve_real *labels,
                                      const nerve_real *weights, nerve_real smoothing,
                                      nerve_real scale, nerve_real *dlogits, int64_t rows,
                                      int64_t cols);
double nerve_ref_nll(const nerve_real *log_probs, const nerve_real *labels,
                     const nerve_real *weights, int64_t rows, int64_t cols, double *weight_sum);
void nerve_ref_nll_backward(const nerve_real *labels, const nerve_real *weights, nerve_real scale,
                            nerve_real *dlog_probs, int64_t rows, int64_t cols);
double nerve_ref_focal(const nerve_real *logits, const nerve_real *labels,
                       const nerve_real *alpha, nerve_real gamma, nerve_real *prob,
                       nerve_real *log_pt, int64_t rows, int64_t cols);
void nerve_ref_focal_backward(const nerve_real *prob, const nerve_real *log_pt,
                              const nerve_real *labels, const nerve_real *alpha, nerve_real gamma,
                              nerve_real scale, nerve_real *dlogits, int64_t rows, int64_t cols);
double nerve_ref_distillation(const nerve_real *student, const nerve_real *teacher,
                              nerve_real temperature, nerve_real *student_prob,
                              nerve_real *teacher_prob, int64_t rows, int64_t cols);
void nerve_ref_large_margin_logits(const nerve_real *logits, const nerve_real *x,
                                   const nerve_real *w, const nerve_real *labels, int margin,
                                   nerve_real lambda, nerve_real *out, int64_t rows, int64_t cols,
                                   int64_t dim);
void nerve_ref_large_margin_backward(const nerve_real *logits, const nerve_real *x,
                                     const nerve_real *w, const nerve_real *labels, int margin,
                                     nerve_real lambda, const nerve_real *dout,
                                     nerve_real *dlogits, nerve_real *dx, nerve_real *dw,
                                     int64_t rows, int64_t cols, int64_t dim);
double nerve_ref_squared_error(const nerve_real *a, const nerve_real *b, int64_t n);
void nerve_ref_add_scaled_difference(int64_t n, nerve_real scale, const nerve_real *a,
                                     const nerve_real *b, nerve_real *y);
double nerve_ref_absolute_error(const nerve_real *a, const nerve_real *b, int64_t n);
void nerve_ref_absolute_error_backward(const nerve_real *a, const nerve_real *b, nerve_real scale,
                                       nerve_real *da, int64_t n);
double nerve_ref_smooth_l1(const nerve_real *a, const nerve_real *b, nerve_real beta, int64_t n);
void nerve_ref_smooth_l1_backward(const nerve_real *a, const nerve_real *b, nerve_real beta,
                                  nerve_real scale, nerve_real *da, int64_t n);
double nerve_ref_binary_cross_entropy(const nerve_real *p, const nerve_real *y, int64_t n);
void nerve_ref_binary_cross_entropy_backward(const nerve_real *p, const nerve_real *y,
                                             nerve_real scale, nerve_real *dp, int64_t n);
double nerve_ref_bce_with_logits(const nerve_real *x, const nerve_real *y,
                                 const nerve_real *pos_weight, int64_t rows, int64_t cols);
void nerve_ref_bce_with_logits_backward(const nerve_real *x, const nerve_real *y,
                                        const nerve_real *pos_weight, nerve_real scale,
                                        nerve_real *dx, int64_t rows, int64_t cols);
void nerve_ref_batch_norm_statistics(const nerve_real *x, nerve_real *mean, nerve_real *var,
                                     double momentum, nerve_real *running_mean,
                                     nerve_real *running_var, int64_t outer, int64_t channels,
                                     int64_t inner);
void nerve_ref_batch_norm_forward(const nerve_real *x, const nerve_real *mean,
                                  const nerve_real *var, double eps, const nerve_real *weight,
                                  const nerve_real *bias, nerve_real *y, int64_t outer,
                                  int64_t channels, int64_t inner);
void nerve_ref_batch_norm_backward(const nerve_real *x, const nerve_real *dy,
                                   const nerve_real *mean, const nerve_real *var, double eps,
                                   const nerve_real *weight, bool batch_statistics, nerve_real *dx,
                                   nerve_real *dweight, nerve_real *dbias, int64_t outer,
                                   int64_t channels, int64_t inner);
void nerve_ref_scale_rows(const nerve_real *x, const nerve_real *scale, nerve_real *y,
                          int64_t rows, int64_t inner);
void nerve_ref_scale_rows_backward(const nerve_real *dy, const nerve_real *scale, nerve_real *dx,
                                   int64_t rows, int64_t inner);
void nerve_ref_max_pool2d_forward(const nerve_pool2d_geometry *p, const nerve_real *x,
                                  nerve_real *y, nerve_real *argmax);
void nerve_ref_max_pool2d_backward(const nerve_pool2d_geometry *p, const nerve_real *argmax,
                                   const nerve_real *dy, nerve_real *dx);
void nerve_ref_avg_pool2d_forward(const nerve_pool2d_geometry *p, const nerve_real *x,
                                  nerve_real *y);
void nerve_ref_avg_pool2d_backward(const nerve_pool2d_geometry *p, const nerve_real *dy,
                                   nerve_real *dx);
void nerve_ref_mean_rows(const nerve_real *x, nerve_real *y, int64_t rows, int64_t size);
void nerve_ref_mean_rows_backward(const nerve_real *dy, nerve_real *dx, int64_t rows,
                                  int64_t size);
void nerve_ref_add_forward(const nerve_real *const *x, int count, nerve_real *y, int64_t n);
void nerve_ref_copy_block(int64_t rows, int64_t cols, const nerve_real *src, int64_t src_stride,
                          nerve_real *dst, int64_t dst_stride);
void nerve_ref_add_block(int64_t rows, int64_t cols, const nerve_real *src, int64_t src_stride,
                         nerve_real *dst, int64_t dst_stride);
int64_t nerve_ref_conv_workspace(const nerve_conv_geometry *geo, int64_t batch);
void nerve_ref_conv_columns(const nerve_conv_geometry *geo, int64_t batch, const nerve_real *image,
                            const nerve_real *weight, const nerve_real *bias, bool accumulate,
                            nerve_real *cols, nerve_real *workspace, int64_t workspace_size);
void nerve_ref_conv_image(const nerve_conv_geometry *geo, int64_t batch, const nerve_real *cols,
                          const nerve_real *weight, const nerve_real *bias, bool accumulate,
                          nerve_real *image, nerve_real *workspace, int64_t workspace_size);
void nerve_ref_conv_weight_gradient(const nerve_conv_geometry *geo, int64_t batch,
                                    const nerve_real *image, const nerve_real *cols,
                                    nerve_real *dweight, nerve_real *workspace,
                                    int64_t workspace_size);
void nerve_ref_sum_channels(const nerve_real *x, nerve_real *db, int64_t batch, int64_t channels,
                            int64_t plane);
int64_t nerve_ref_recurrent_workspace(nerve_recurrent_cell cell, int64_t batch, int64_t steps,
                                      int64_t features, int64_t hidden);
void nerve_ref_recurrent_forward(const nerve_recurrent_sequence *s);
void nerve_ref_recurrent_backward(const nerve_recurrent_sequence *s);
void nerve_ref_embedding_forward(const nerve_real *ids, const nerve_real *table, nerve_real *y,
                                 int64_t rows, int64_t vocab, int64_t dim);
void nerve_ref_embedding_backward(const nerve_real *ids, const nerve_real *dy, nerve_real *dtable,
                                  int64_t rows, int64_t vocab, int64_t dim, int64_t skip);
void nerve_ref_one_hot(const nerve_real *ids, nerve_real *y, int64_t rows, int64_t classes);

#endif
