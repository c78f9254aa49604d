/* The CPU backend's kernels, one file per family. */
#ifndef NERVE_CPU_H
#define NERVE_CPU_H

#include "backends/backend.h"

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

double nerve_cpu_cross_entropy(const nerve_real *logits, const nerve_real *labels,
                               const nerve_real *weights, nerve_real smoothing, nerve_real *prob,
                               int64_t rows, int64_t cols, double *weight_sum);
void nerve_cpu_cross_entropy_backward(const nerve_real *prob, const nerve_real *labels,
                                      const nerve_real *weights, nerve_real smoothing,
                                      nerve_real scale, nerve_real *dlogits, int64_t rows,
                                      int64_t cols);
double nerve_cpu_nll(const nerve_real *log_probs, const nerve_real *labels,
                     const nerve_real *weights, int64_t rows, int64_t cols, double *weight_sum);
void nerve_cpu_nll_backward(const nerve_real *labels, const nerve_real *weights, nerve_real scale,
                            nerve_real *dlog_probs, int64_t rows, int64_t cols);
double nerve_cpu_focal(const nerve_real *logits, const nerve_real *labels,
                       const nerve_real *alpha, nerve_real gamma, nerve_real *prob,
                       nerve_real *log_pt, int64_t rows, int64_t cols);
void nerve_cpu_focal_backward(const nerve_real *prob, const nerve_real *log_pt,
                              const nerve_real *labels, const nerve_real *alpha, nerve_real gamma,
                              nerve_real scale, nerve_real *dlogits, int64_t rows, int64_t cols);
double nerve_cpu_distillation(const nerve_real *student, const nerve_real *teacher,
                              nerve_real temperature, nerve_real *student_prob,
                              nerve_real *teacher_prob, int64_t rows, int64_t cols);
void nerve_cpu_large_margin_logits(const nerve_real *logits, const nerve_real *x,
                                   const nerve_real *w, const nerve_real *labels, int margin,
                                   nerve_real lambda, nerve_real *out, int64_t rows, int64_t cols,
                                   int64_t dim);
void nerve_cpu_large_margin_backward(const nerve_real *logits, const nerve_real *x,
                                     const nerve_real *w, const nerve_real *labels, int margin,
                                     nerve_real lambda, const nerve_real *dout,
                                     nerve_real *dlogits, nerve_real *dx, nerve_real *dw,
                                     int64_t rows, int64_t cols, int64_t dim);
double nerve_cpu_squared_error(const nerve_real *a, const nerve_real *b, int64_t n);
void nerve_cpu_add_scaled_difference(int64_t n, nerve_real scale, const nerve_real *a,
                                     const nerve_real *b, nerve_real *y);
double nerve_cpu_absolute_error(const nerve_real *a, const nerve_real *b, int64_t n);
void nerve_cpu_absolute_error_backward(const nerve_real *a, const nerve_real *b, nerve_real scale,
                                       nerve_real *da, int64_t n);
double nerve_cpu_smooth_l1(const nerve_real *a, const nerve_real *b, nerve_real beta, int64_t n);
void nerve_cpu_smooth_l1_backward(const nerve_real *a, const nerve_real *b, nerve_real beta,
                                  nerve_real scale, nerve_real *da, int64_t n);
double nerve_cpu_binary_cross_entropy(const nerve_real *p, const nerve_real *y, int64_t n);
void nerve_cpu_binary_cross_entropy_backward(const nerve_real *p, const nerve_real *y,
                                             nerve_real scale, nerve_real *dp, int64_t n);
double nerve_cpu_bce_with_logits(const nerve_real *x, const nerve_real *y,
                                 const nerve_real *pos_weight, int64_t rows, int64_t cols);
void nerve_cpu_bce_with_logits_backward(const nerve_real *x, const nerve_real *y,
                                        const nerve_real *pos_weight, nerve_real scale,
                                        nerve_real *dx, int64_t rows, int64_t cols);
void nerve_cpu_batch_norm_statistics(const nerve_real *x, nerve_real *mean, nerve_real *var,
                                     double momentum, nerve_real *running_mean,
                                     nerve_real *running_var, int64_t outer, int64_t channels,
                                     int64_t inner);
void nerve_cpu_batch_norm_forward(const nerve_real *x, const nerve_real *mean,
                                  const nerve_real *var, double eps, const nerve_real *weight,
                                  const nerve_real *bias, nerve_real *y, int64_t outer,
                                  int64_t channels, int64_t inner);
void nerve_cpu_batch_norm_backward(const nerve_real *x, const nerve_real *dy,
                                   const nerve_real *mean, const nerve_real *var, double eps,
                                   const nerve_real *weight, bool batch_statistics, nerve_real *dx,
                                   nerve_real *dweight, nerve_real *dbias, int64_t outer,
                                   int64_t channels, int64_t inner);
void nerve_cpu_scale_rows(const nerve_real *x, const nerve_real *scale, nerve_real *y,
                          int64_t rows, int64_t inner);
void nerve_cpu_scale_rows_backward(const nerve_real *dy, const nerve_real *scale, nerve_real *dx,
                                   int64_t rows, int64_t inner);

void nerve_cpu_max_pool2d_forward(const nerve_pool2d_geometry *p, const nerve_real *x,
                                  nerve_real *y, nerve_real *argmax);
void nerve_cpu_max_pool2d_backward(const nerve_pool2d_geometry *p, const nerve_real *argmax,
                                   const nerve_real *dy, nerve_real *dx);
void nerve_cpu_avg_pool2d_forward(const nerve_pool2d_geometry *p, const nerve_real *x,
                                  nerve_real *y);
void nerve_cpu_avg_pool2d_backward(const nerve_pool2d_geometry *p, const nerve_real *dy,
                                   nerve_real *dx);
void nerve_cpu_mean_rows(const nerve_real *x, nerve_real *y, int64_t rows, int64_t size);
void nerve_cpu_mean_rows_backward(const nerve_real *dy, nerve_real *dx, int64_t rows,
                                  int64_t size);
void nerve_cpu_add_forward(const nerve_real *const *x, int count, nerve_real *y, int64_t n);
void nerve_cpu_copy_block(int64_t rows, int64_t cols, const nerve_real *src, int64_t src_stride,
                          nerve_real *dst, int64_t dst_stride);
void nerve_cpu_add_block(int64_t rows, int64_t cols, const nerve_real *src, int64_t src_stride,
                         nerve_real *dst, int64_t dst_stride);

int64_t nerve_cpu_conv_workspace(const nerve_conv_geometry *geo, int64_t batch);
void nerve_cpu_conv_columns(const nerve_conv_geometry *geo, int64_t batch, const nerve_real *image,
                            const nerve_real *weight, const nerve_real *bias, bool accumulate,
                            nerve_real *cols, nerve_real *workspace, int64_t workspace_size);
void nerve_cpu_conv_image(const nerve_conv_geometry *geo, int64_t batch, const nerve_real *cols,
                          const nerve_real *weight, const nerve_real *bias, bool accumulate,
                          nerve_real *image, nerve_real *workspace, int64_t workspace_size);
void nerve_cpu_conv_weight_gradient(const nerve_conv_geometry *geo, int64_t batch,
                                    const nerve_real *image, const nerve_real *cols,
                                    nerve_real *dweight, nerve_real *workspace,
                                    int64_t workspace_size);
void nerve_cpu_sum_channels(const nerve_real *x, nerve_real *db, int64_t batch, int64_t channels,
                            int64_t plane);
/* y[c, r] = x[r, c] (or +=) for r < rows, c < cols, with row strides;
 * single-threaded: callers split the work. */
void nerve_cpu_transpose_block(int64_t rows, int64_t cols, const nerve_real *x, int64_t x_ld,
                               nerve_real *y, int64_t y_ld, bool accumulate);
int64_t nerve_cpu_recurrent_workspace(nerve_recurrent_cell cell, int64_t batch, int64_t steps,
                                      int64_t features, int64_t hidden);
void nerve_cpu_recurrent_forward(const nerve_recurrent_sequence *s);
void nerve_cpu_recurrent_backward(const nerve_recurrent_sequence *s);


void nerve_cpu_embedding_forward(const nerve_real *ids, const nerve_real *table, nerve_real *y,
                                 int64_t rows, int64_t vocab, int64_t dim);
void nerve_cpu_embedding_backward(const nerve_real *ids, const nerve_real *dy, nerve_real *dtable,
                                  int64_t rows, int64_t vocab, int64_t dim, int64_t skip);
void nerve_cpu_one_hot(const nerve_real *ids, nerve_real *y, int64_t rows, int64_t classes);

#endif
