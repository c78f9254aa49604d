/* The kernel table, declared once. Every kernel a backend can provide is one
 * line of an X-macro list below: X(name, (parameters)). The lists generate
 * the table struct (nerve_kernels), the kernel ids (nerve_kernel_id), the
 * names, and each backend's prototypes and table, so a signature is written
 * here and nowhere else.
 *
 * How a backend provides its entries:
 *   - every kernel takes the device's context first (const nerve_kernel_ctx
 *     *ctx: the device, its completed table, where to write an error) and
 *     returns a nerve_status; a kernel that cannot run writes a message
 *     with nerve_kernel_fail(ctx, ...) and returns its status;
 *   - pointers are device memory, allocated by the same device (see
 *     device.h); scalars by value are host values;
 *   - a backend declares its functions and fills its table with the lists:
 *
 *         #define MY_DECLARE(name, params) nerve_status my_##name params;
 *         NERVE_CORE_KERNELS(MY_DECLARE)
 *         #define MY_ENTRY(name, params) .name = my_##name,
 *         static const nerve_kernels my_kernels = {NERVE_CORE_KERNELS(MY_ENTRY)
 *                                                  .fill_rows = my_fill_rows};
 *
 *     NERVE_CORE_KERNELS are the kernels every backend writes. Every
 *     other kernel is a composite with a generic implementation on top of
 *     the core (src/backends/generic*.c): NERVE_COMPOSITE_KERNELS (shared
 *     building blocks) and NERVE_OP_KERNELS (the kernels of one op each:
 *     losses, crelu, one_hot). A backend writes a composite only to make it
 *     faster and leaves the others NULL, which nerve_kernels_complete fills
 *     with the generic ones.
 *
 * Losses: a forward writes its value, already reduced and scaled, to a
 * device scalar `loss` (loss[0] = sum * scale, in double before the final
 * rounding); a backward reads the loss's gradient from the device scalar
 * `dloss` and accumulates dloss[0] * scale * d(sum). Labels are class
 * indices stored as reals; `weights` are per class (NULL: all 1). */
#ifndef NERVE_KERNELS_H
#define NERVE_KERNELS_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "backends/optimizer_step.h"
#include "core/noise.h"
#include "nerve.h"

typedef struct nerve_kernel_ctx nerve_kernel_ctx;

/* Where the windows of a 2-D pooling lie: x is [planes, in_h, in_w] (planes =
 * N * C of NCHW), y [planes, out_h, out_w]; window (oh, ow) starts at
 * (oh * stride_h - pad_h, ow * stride_w - pad_w) and takes every dilation-th
 * element of kernel_h x kernel_w. */
typedef struct nerve_pool2d_geometry {
    int64_t planes, in_h, in_w, out_h, out_w;
    int64_t kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w;
    bool count_include_pad;   /* avg: padded positions count in the divisor */
    int64_t divisor_override; /* avg: the divisor of every window; 0: none */
} nerve_pool2d_geometry;
/* A 2-D convolution as the kernels see it, per sample: an image [channels,
 * height, width] and the columns [col_channels, col_height, col_width] that
 * the kernel's windows over the zero-padded image produce, through a weight
 * [col_channels, channels / groups, kernel_h, kernel_w]. conv2d maps its
 * input (the image) to its output (the columns); conv_transpose2d is the
 * same map run backwards, its input being the columns. */
typedef struct nerve_conv_geometry {
    int64_t channels, height, width;
    int64_t col_channels, col_height, col_width;
    int64_t kernel[2], stride[2], padding[2] /* top, left */, dilation[2];
    int64_t groups;
    /* 1 where the image (cols) is in the backend's own layout rather than
     * NCHW: set only where conv_hand_over said yes, for the forward kernels
     * (conv_columns, conv_columns_relu) of the pair it was asked about (a
     * backend's own composites may set them for its own kernels too).
     * int32_t, not bool: the struct has no padding, so that the backends'
     * caches can compare geometries byte for byte. */
    int32_t image_private, cols_private;
} nerve_conv_geometry;

/* The batch norm of conv_batch_norm_forward and _backward, over the
 * convolution's output viewed as [batch, channels, inner] (batch
 * statistics; see batch_norm_statistics, batch_norm_forward and
 * batch_norm_backward for what each field means there). */
typedef struct nerve_batch_norm_pass {
    nerve_real *mean, *var; /* [channels]: the forward writes, the backward reads */
    double momentum, eps;
    nerve_real *running_mean, *running_var, *counter; /* moved where not NULL */
    const nerve_real *weight, *bias;                  /* NULL: 1 and 0 */
    bool relu;                   /* y is max(0, the batch norm's output) */
    nerve_real *y;               /* the forward's output; the backward's z with relu */
    nerve_real *dy;              /* backward: y's gradient (a kernel may overwrite it) */
    nerve_real *dweight, *dbias; /* backward: += where not NULL */
} nerve_batch_norm_pass;

/* One direction of a recurrent layer over a batch of N sequences of T steps
 * of F features, H hidden units, G gates (nerve_recurrent_cell): all a
 * backend needs to run it whole. Tensors are batch-first, [N, T, ...]: step
 * t of sequence n is row n * T + t. */
typedef struct nerve_recurrent_sequence {
    nerve_recurrent_cell cell;
    int64_t batch, steps, features, hidden;
    bool reverse;                /* steps run from T - 1 down to 0 */
    const nerve_real *x;         /* [N, T, F] */
    const nerve_real *weight_ih; /* [G H, F] */
    const nerve_real *weight_hh; /* [G H, H] */
    /* [G H]: the biases every step adds, b_ih + b_hh but for a GRU's n
     * gate b_in alone; gru: b_hn [H], the n gate's b_hh, which the reset
     * gate multiplies. Zeros without biases. */
    const nerve_real *bias, *bias_hn;
    /* [N, T, G H]: forward leaves the gates' activations (rnn: the
     * pre-activations' input share) for backward, which overwrites them. */
    nerve_real *gates;
    nerve_real *h;             /* [N, T, H]: forward writes h_t */
    nerve_real *h_prev;        /* [N, T, H]: forward writes the state entering step t */
    const nerve_real *h0, *c0; /* [N, H]: the initial state (c0: lstm) */
    bool initial_zero;         /* h0 and c0 are zero: the first step skips its GEMM */
    nerve_real *c, *tanh_c;    /* lstm: [N, T, H], c_t and tanh(c_t) */
    nerve_real *hidden_n;      /* gru: [N, T, H], W_hn h_prev + b_hn */
    /* Backward: the output's gradient, [N, T, H], or with dy_last_only
     * [N, H] for the last step run (the final state) alone. */
    const nerve_real *dy;
    bool dy_last_only;
    /* Backward accumulates into these, each NULL where not wanted: dx [N, T,
     * F], dweight_ih [G H, F], dweight_hh [G H, H], dbias_ih and dbias_hh
     * [G H]. No gradient flows into h0 and c0. */
    nerve_real *dx, *dweight_ih, *dweight_hh, *dbias_ih, *dbias_hh;
    /* [N, T, H] or NULL: backward writes dL/dh_t, the whole gradient
     * reaching each step's output state (its own dy and what flows back from
     * the later steps), for the per-time-step gradient norms (ops/recurrent.h). */
    nerve_real *dh_steps;
    nerve_real *workspace; /* recurrent_workspace(...) elements */
} nerve_recurrent_sequence;

/* The element-wise operations of the map kernel, the generic composites'
 * arithmetic: y[i] = op(a[i], b_i), computed in double and rounded once,
 * where b_i = b[i * b_step] (b_step 0: one device scalar b[0]) or, with b
 * NULL, the host constant `value`. The unary ones ignore b_i. */
typedef enum nerve_map_op {
    NERVE_MAP_ADD,    /* a + b */
    NERVE_MAP_SUB,    /* a - b */
    NERVE_MAP_RSUB,   /* b - a */
    NERVE_MAP_MUL,    /* a * b */
    NERVE_MAP_DIV,    /* a / b */
    NERVE_MAP_RDIV,   /* b / a */
    NERVE_MAP_POW,    /* pow(a, b) */
    NERVE_MAP_MAX,    /* b > a ? b : a (a NaN a stays NaN) */
    NERVE_MAP_MIN,    /* b < a ? b : a */
    NERVE_MAP_EQ,     /* 1 where a == b, else 0 (NaN: 0); LT, LE, GT, GE alike */
    NERVE_MAP_LT,
    NERVE_MAP_LE,
    NERVE_MAP_GT,
    NERVE_MAP_GE,
    NERVE_MAP_SELECT, /* y = a != 0 ? b : y (y is read: a masked copy) */
    NERVE_MAP_ABS,    /* the unary ones, of a */
    NERVE_MAP_SIGN,   /* 1, -1, or 0 (also for NaN) */
    NERVE_MAP_EXP,
    NERVE_MAP_EXPM1,
    NERVE_MAP_LOG,
    NERVE_MAP_LOG1P,
    NERVE_MAP_SQRT,
    NERVE_MAP_ACOS,
    NERVE_MAP_COS,
    NERVE_MAP_SIN,
    NERVE_MAP_FLOOR
} nerve_map_op;

/* A function every backend shares, the CUDA backend's device code (and its
 * module, which does not link libnerve) included. */
#ifdef __CUDACC__
#define NERVE_SHARED_INLINE __host__ __device__ static inline
#else
#define NERVE_SHARED_INLINE static inline
#endif

/* The gates per hidden unit of a cell (nerve_recurrent_gate_count). */
NERVE_SHARED_INLINE int64_t nerve_cell_gates(nerve_recurrent_cell cell)
{
    return cell == NERVE_CELL_LSTM ? 4 : cell == NERVE_CELL_GRU ? 3 : 1;
}

/* One element of the map kernel. */
NERVE_SHARED_INLINE double nerve_map_apply(nerve_map_op op, double a, double b, double y)
{
    switch (op) {
    case NERVE_MAP_ADD: return a + b;
    case NERVE_MAP_SUB: return a - b;
    case NERVE_MAP_RSUB: return b - a;
    case NERVE_MAP_MUL: return a * b;
    case NERVE_MAP_DIV: return a / b;
    case NERVE_MAP_RDIV: return b / a;
    case NERVE_MAP_POW: return pow(a, b);
    case NERVE_MAP_MAX: return b > a ? b : a;
    case NERVE_MAP_MIN: return b < a ? b : a;
    case NERVE_MAP_EQ: return a == b;
    case NERVE_MAP_LT: return a < b;
    case NERVE_MAP_LE: return a <= b;
    case NERVE_MAP_GT: return a > b;
    case NERVE_MAP_GE: return a >= b;
    case NERVE_MAP_SELECT: return a != 0 ? b : y;
    case NERVE_MAP_ABS: return fabs(a);
    case NERVE_MAP_SIGN: return a > 0 ? 1 : a < 0 ? -1 : 0;
    case NERVE_MAP_EXP: return exp(a);
    case NERVE_MAP_EXPM1: return expm1(a);
    case NERVE_MAP_LOG: return log(a);
    case NERVE_MAP_LOG1P: return log1p(a);
    case NERVE_MAP_SQRT: return sqrt(a);
    case NERVE_MAP_ACOS: return acos(a);
    case NERVE_MAP_COS: return cos(a);
    case NERVE_MAP_SIN: return sin(a);
    case NERVE_MAP_FLOOR: return floor(a);
    }
    return NAN;
}

#define NERVE_KERNEL_CTX const nerve_kernel_ctx *ctx

/* ---------------------------------------------------------------- core
 * What every backend writes. */
#define NERVE_CORE_KERNELS(X)                                                                      \
    /* C = alpha * op(A) op(B) + beta * C, row-major; op(X) = X^T if trans_x. */                   \
    X(gemm, (NERVE_KERNEL_CTX, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,        \
             nerve_real alpha, const nerve_real *a, int64_t lda, const nerve_real *b, int64_t ldb, \
             nerve_real beta, nerve_real *c, int64_t ldc))                                         \
    /* y[i] = op(a[i], b_i) for i < n (nerve_map_op); y may be a or b. */                          \
    X(map, (NERVE_KERNEL_CTX, nerve_map_op op, const nerve_real *a, const nerve_real *b,           \
            int64_t b_step, double value, nerve_real *y, int64_t n))                               \
    /* y = f(x), element-wise. */                                                                  \
    X(activation_forward,                                                                          \
      (NERVE_KERNEL_CTX, nerve_activation kind, const nerve_activation_params *params,             \
       const nerve_real *x, nerve_real *y, int64_t n))                                             \
    /* dx = (accumulate ? dx : 0) + f'(x) * dy (without accumulate dx is not                       \
     * read: it may hold anything); kernels may use x or y, whichever is cheaper. */               \
    X(activation_backward,                                                                         \
      (NERVE_KERNEL_CTX, nerve_activation kind, const nerve_activation_params *params,             \
       const nerve_real *x, const nerve_real *y, const nerve_real *dy, bool accumulate,            \
       nerve_real *dx, int64_t n))                                                                 \
    /* Softmax along the middle axis of x viewed as [outer, len, inner]                            \
     * (inner = 1 for the last axis), max-subtracted. */                                           \
    X(softmax, (NERVE_KERNEL_CTX, const nerve_real *x, nerve_real *y, int64_t outer, int64_t len,  \
                int64_t inner))                                                                    \
    /* y = x - max - log(sum(exp(x - max))) along the axis. */                                     \
    X(log_softmax, (NERVE_KERNEL_CTX, const nerve_real *x, nerve_real *y, int64_t outer,           \
                    int64_t len, int64_t inner))                                                   \
    /* Row blocks of matrices with row strides: dst[r, c] = src[r, c], or                          \
     * dst[r, c] += src[r, c], for r < rows, c < cols (concat, add's backward).                    \
     * A stride of 0 repeats one row. */                                                           \
    X(copy_block, (NERVE_KERNEL_CTX, int64_t rows, int64_t cols, const nerve_real *src,            \
                   int64_t src_stride, nerve_real *dst, int64_t dst_stride))                       \
    X(add_block, (NERVE_KERNEL_CTX, int64_t rows, int64_t cols, const nerve_real *src,             \
                  int64_t src_stride, nerve_real *dst, int64_t dst_stride))                        \
    /* y[r, i] = x[r, i] * scale[r] over rows x inner: a dropout mask, one                         \
     * scale per element (inner 1) or per channel. */                                              \
    X(scale_rows, (NERVE_KERNEL_CTX, const nerve_real *x, const nerve_real *scale, nerve_real *y,  \
                   int64_t rows, int64_t inner))                                                   \
    /* db[c] += sum of x[n, c, :] over n, x viewed as [batch, channels, plane]. */                 \
    X(sum_channels, (NERVE_KERNEL_CTX, const nerve_real *x, nerve_real *db, int64_t batch,         \
                     int64_t channels, int64_t plane))                                             \
    /* Max pooling, as torch's CPU max_pool2d: padding is -inf, the first                          \
     * maximum in row-major order wins a tie (a NaN wins over any number), and                     \
     * argmax holds its index within the plane (in_h * in_w), as a real. */                        \
    X(max_pool2d_forward, (NERVE_KERNEL_CTX, const nerve_pool2d_geometry *p, const nerve_real *x,  \
                           nerve_real *y, nerve_real *argmax))                                     \
    /* dx[plane, argmax] += dy, for every output; overlapping windows add up. */                   \
    X(max_pool2d_backward, (NERVE_KERNEL_CTX, const nerve_pool2d_geometry *p,                      \
                            const nerve_real *argmax, const nerve_real *dy, nerve_real *dx))       \
    /* Average pooling, as torch's avg_pool2d (divisor: docs/reference.md). */                     \
    X(avg_pool2d_forward,                                                                          \
      (NERVE_KERNEL_CTX, const nerve_pool2d_geometry *p, const nerve_real *x, nerve_real *y))      \
    /* dx += dy / divisor over each window. */                                                     \
    X(avg_pool2d_backward,                                                                         \
      (NERVE_KERNEL_CTX, const nerve_pool2d_geometry *p, const nerve_real *dy, nerve_real *dx))    \
    /* Batch normalisation of x viewed as [outer, channels, inner], per                            \
     * channel over its count = outer * inner values. The mean and biased                          \
     * variance of each channel; where running_mean is not NULL and count > 1,                     \
     * also running = (1 - momentum) * running + momentum * batch, with the                        \
     * unbiased variance for running_var, and counter[0] += 1 where counter                        \
     * (num_batches_tracked) is not NULL. */                                                       \
    X(batch_norm_statistics,                                                                       \
      (NERVE_KERNEL_CTX, const nerve_real *x, nerve_real *mean, nerve_real *var, double momentum,  \
       nerve_real *running_mean, nerve_real *running_var, nerve_real *counter, int64_t outer,      \
       int64_t channels, int64_t inner))                                                           \
    /* With xhat = (x - mean) / sqrt(var + eps): dbias += sum dy, dweight +=                       \
     * sum dy * xhat, and dx = (accumulate ? dx : 0) + weight / sqrt(var + eps)                    \
     * * (dy - (sum dy + xhat * sum dy * xhat) / count), the last term (only                       \
     * with batch_statistics) what flows through the batch's mean and variance.                    \
     * weight may be NULL (1); dx, dweight and dbias may be NULL. */                               \
    X(batch_norm_backward,                                                                         \
      (NERVE_KERNEL_CTX, const nerve_real *x, const nerve_real *dy, const nerve_real *mean,        \
       const nerve_real *var, double eps, const nerve_real *weight, bool batch_statistics,         \
       bool accumulate, nerve_real *dx, nerve_real *dweight, nerve_real *dbias, int64_t outer,     \
       int64_t channels, int64_t inner))                                                           \
    /* 2-D convolution over `batch` samples (nerve_conv_geometry). Each kernel                     \
     * gets a scratch buffer of workspace_size elements, at least                                  \
     * conv_workspace(geo, batch) for full speed; with less it runs slower.                        \
     * cols = (accumulate ? cols : 0) + bias + weight * windows(image); bias                       \
     * per column channel, or NULL. */                                                             \
    X(conv_columns,                                                                                \
      (NERVE_KERNEL_CTX, const nerve_conv_geometry *geo, int64_t batch, const nerve_real *image,   \
       const nerve_real *weight, const nerve_real *bias, bool accumulate, nerve_real *cols,        \
       nerve_real *workspace, int64_t workspace_size))                                             \
    /* The adjoint: image = (accumulate ? image : 0) + bias + the sum of                           \
     * weight^T * cols over each window's pixels; bias per image channel, or NULL. */              \
    X(conv_image,                                                                                  \
      (NERVE_KERNEL_CTX, const nerve_conv_geometry *geo, int64_t batch, const nerve_real *cols,    \
       const nerve_real *weight, const nerve_real *bias, bool accumulate, nerve_real *image,       \
       nerve_real *workspace, int64_t workspace_size))                                             \
    /* dweight += sum over samples of cols * windows(image)^T. */                                  \
    X(conv_weight_gradient, (NERVE_KERNEL_CTX, const nerve_conv_geometry *geo, int64_t batch,      \
                             const nerve_real *image, const nerve_real *cols, nerve_real *dweight, \
                             nerve_real *workspace, int64_t workspace_size))                       \
    /* Token ids (reals, as class labels) of `rows` positions: embedding                           \
     * looks up y[r, :] = table[ids[r], :] in table [vocab, dim]; an id                            \
     * outside [0, vocab) gives a row of NaN. */                                                   \
    X(embedding_forward, (NERVE_KERNEL_CTX, const nerve_real *ids, const nerve_real *table,        \
                          nerve_real *y, int64_t rows, int64_t vocab, int64_t dim))                \
    /* dtable[ids[r], :] += dy[r, :] (repeated ids add up), except for ids                         \
     * outside [0, vocab) and the id `skip` (padding; -1 for none). */                             \
    X(embedding_backward,                                                                          \
      (NERVE_KERNEL_CTX, const nerve_real *ids, const nerve_real *dy, nerve_real *dtable,          \
       int64_t rows, int64_t vocab, int64_t dim, int64_t skip))                                    \
    /* Recurrent layers (nerve_recurrent_sequence). Forward: the input's                           \
     * share of every step, x W_ih^T, then the time loop, each step one GEMM                       \
     * h_prev W_hh^T and the cell's gates and state. Backward                                      \
     * (backpropagation through time): the loop from the last step run to                          \
     * the first, then the weights' gradients over all steps. Both need a                          \
     * scratch workspace of *size elements, which recurrent_workspace gives. */                    \
    X(recurrent_workspace, (NERVE_KERNEL_CTX, nerve_recurrent_cell cell, int64_t batch,            \
                            int64_t steps, int64_t features, int64_t hidden, int64_t * size))      \
    /* One optimizer step as step describes it (optimizer_step.h: the                              \
     * update, its constants, the segments and state, in this device's                             \
     * memory), clip_grad_norm_'s global norm measured first when it clips                         \
     * by norm: sets step->grad_scale and step->grad_norm, the 2-norm of the                       \
     * trainable raw gradients. Host-memory devices forward it to                                  \
     * nerve_host_optimizer_step, the portable loops. */                                           \
    X(optimizer_step, (NERVE_KERNEL_CTX, nerve_optim_step * step))                                 \
    X(recurrent_forward, (NERVE_KERNEL_CTX, const nerve_recurrent_sequence *s))                    \
    X(recurrent_backward, (NERVE_KERNEL_CTX, const nerve_recurrent_sequence *s))

/* ---------------------------------------------------------------- composites
 * Building blocks with a generic implementation on top of the core
 * (generic.c); a backend may leave any of them NULL. */
#define NERVE_COMPOSITE_KERNELS(X)                                                                 \
    /* batch_norm_forward's y, then max(0, y): a batch norm and the ReLU after                     \
     * it in one pass (core/fold.c). */                                                            \
    X(batch_norm_relu_forward,                                                                     \
      (NERVE_KERNEL_CTX, const nerve_real *x, const nerve_real *mean, const nerve_real *var,       \
       double eps, const nerve_real *weight, const nerve_real *bias, nerve_real *y, int64_t outer, \
       int64_t channels, int64_t inner))                                                           \
    /* Its backward: batch_norm_backward with dy = dz where z > 0, else 0 (z the                   \
     * ReLU's output, dz its gradient, which a kernel may overwrite). */                           \
    X(batch_norm_relu_backward,                                                                    \
      (NERVE_KERNEL_CTX, const nerve_real *x, const nerve_real *z, nerve_real *dz,                 \
       const nerve_real *mean, const nerve_real *var, double eps, const nerve_real *weight,        \
       bool batch_statistics, bool accumulate, nerve_real *dx, nerve_real *dweight,                \
       nerve_real *dbias, int64_t outer, int64_t channels, int64_t inner))                         \
    /* dx += y * (dy - sum(dy * y)) along the axis. */                                             \
    X(softmax_backward, (NERVE_KERNEL_CTX, const nerve_real *y, const nerve_real *dy,              \
                         nerve_real *dx, int64_t outer, int64_t len, int64_t inner))               \
    /* dx += dy - exp(y) * sum(dy) along the axis. */                                              \
    X(log_softmax_backward, (NERVE_KERNEL_CTX, const nerve_real *y, const nerve_real *dy,          \
                             nerve_real *dx, int64_t outer, int64_t len, int64_t inner))           \
    /* dx[r, i] += dy[r, i] * scale[r]. */                                                         \
    X(scale_rows_backward, (NERVE_KERNEL_CTX, const nerve_real *dy, const nerve_real *scale,       \
                            nerve_real *dx, int64_t rows, int64_t inner))                          \
    /* y[r, :] = row for each of rows rows (bias before an accumulating GEMM). */                  \
    X(fill_rows,                                                                                   \
      (NERVE_KERNEL_CTX, nerve_real * y, const nerve_real *row, int64_t rows, int64_t cols))       \
    /* db += sum over rows of dy. */                                                               \
    X(sum_rows,                                                                                    \
      (NERVE_KERNEL_CTX, const nerve_real *dy, nerve_real *db, int64_t rows, int64_t cols))        \
    /* y[p] = mean of x[p, 0..size); backward dx[p, i] += dy[p] / size. */                         \
    X(mean_rows,                                                                                   \
      (NERVE_KERNEL_CTX, const nerve_real *x, nerve_real *y, int64_t rows, int64_t size))          \
    X(mean_rows_backward,                                                                          \
      (NERVE_KERNEL_CTX, const nerve_real *dy, nerve_real *dx, int64_t rows, int64_t size))        \
    /* y = x[0] + ... + x[count - 1], n elements each. */                                          \
    X(add_forward,                                                                                 \
      (NERVE_KERNEL_CTX, const nerve_real *const *x, int count, nerve_real *y, int64_t n))         \
    /* conv_columns's cols (not accumulating), then max(0, cols): a convolution                    \
     * and the ReLU after it (or after the batch norm folded into it) in one                       \
     * pass, in inference plans (core/fold.c). */                                                  \
    X(conv_columns_relu,                                                                           \
      (NERVE_KERNEL_CTX, const nerve_conv_geometry *geo, int64_t batch, const nerve_real *image,   \
       const nerve_real *weight, const nerve_real *bias, nerve_real *cols, nerve_real *workspace,  \
       int64_t workspace_size))                                                                    \
    /* add_forward's y, then max(0, y): a sum and the ReLU after it in one                         \
     * pass (core/fold.c). */                                                                      \
    X(add_relu_forward,                                                                            \
      (NERVE_KERNEL_CTX, const nerve_real *const *x, int count, nerve_real *y, int64_t n))         \
    /* Its backward into count inputs at once: dx[k] = (accumulate[k] ?                            \
     * dx[k] : 0) + (y > 0 ? dy : 0), y the ReLU's output (activation_backward's                   \
     * ReLU for each; one pass reads y and dy once). */                                            \
    X(add_relu_backward,                                                                           \
      (NERVE_KERNEL_CTX, const nerve_real *y, const nerve_real *dy, nerve_real *const *dx,         \
       const bool *accumulate, int count, int64_t n))                                              \
    /* y[g] = max of the g-th run of `pieces` values of x; argmax[g] is the                        \
     * first maximum's index within the run (stored as a real). */                                 \
    X(maxout_forward, (NERVE_KERNEL_CTX, const nerve_real *x, nerve_real *y, nerve_real *argmax,   \
                       int64_t groups, int64_t pieces))                                            \
    /* dx[g * pieces + argmax[g]] += dy[g]. */                                                     \
    X(maxout_backward, (NERVE_KERNEL_CTX, const nerve_real *argmax, const nerve_real *dy,          \
                        nerve_real *dx, int64_t groups, int64_t pieces))                           \
    /* Whether convolution `producer`'s output may go to convolution                               \
     * `consumer` (its only reader, through folds that run in place) in the                        \
     * backend's own layout at `batch` samples with workspace_size of scratch                      \
     * (cols_private on the one, image_private on the other): both forwards,                       \
     * with or without bias and ReLU, run in that layout. The generic answer                       \
     * is no (inference plans: core/fold.c). */                                                    \
    X(conv_hand_over, (NERVE_KERNEL_CTX, const nerve_conv_geometry *producer,                      \
                       const nerve_conv_geometry *consumer, int64_t batch,                         \
                       int64_t workspace_size, bool *ok))                                          \
    /* The scratch elements the convolution kernels run fastest with, for                          \
     * `batch` samples (0: none needed). Called when a graph is planned: a                         \
     * backend may prepare its kernels for that batch size then. */                                \
    X(conv_workspace,                                                                              \
      (NERVE_KERNEL_CTX, const nerve_conv_geometry *geo, int64_t batch, int64_t *size))            \
    /* A convolution's backward pass over its columns' gradient dcols: conv_image's                \
     * (no bias) into dimage, accumulating or not, conv_weight_gradient's into                      \
     * dweight and sum_channels' into dbias (+=); any may be NULL. One kernel, so                   \
     * that a backend can share the work (oneDNN's passes: dcols reordered to its                   \
     * layout once). */                                                                             \
    X(conv_backward,                                                                               \
      (NERVE_KERNEL_CTX, const nerve_conv_geometry *geo, int64_t batch, const nerve_real *image,   \
       const nerve_real *weight, const nerve_real *dcols, bool accumulate, nerve_real *dimage,     \
       nerve_real *dweight, nerve_real *dbias, nerve_real *workspace, int64_t workspace_size))     \
    /* A convolution and the training batch norm after it (batch statistics,                       \
     * nerve_batch_norm_pass), in one kernel (core/fold.c): conv_columns into                      \
     * cols (no accumulating), batch_norm_statistics of cols, then                                 \
     * batch_norm_forward (or batch_norm_relu_forward) into bn->y. cols is left                    \
     * in a layout of the backend's choosing (the CPU's: oneDNN's blocked one,                     \
     * so that no reorder runs between the two) that only the backward reads.                     \
     * conv_batch_norm_backward: batch_norm(_relu)_backward into dcols (same                       \
     * layout, not accumulating), then conv_backward over it; bias is the                          \
     * forward's (the layout may depend on it). */                                                 \
    X(conv_batch_norm_forward,                                                                     \
      (NERVE_KERNEL_CTX, const nerve_conv_geometry *geo, int64_t batch, const nerve_real *image,   \
       const nerve_real *weight, const nerve_real *bias, nerve_real *cols,                         \
       const nerve_batch_norm_pass *bn, nerve_real *workspace, int64_t workspace_size))            \
    X(conv_batch_norm_backward,                                                                    \
      (NERVE_KERNEL_CTX, const nerve_conv_geometry *geo, int64_t batch, const nerve_real *image,   \
       const nerve_real *weight, const nerve_real *bias, const nerve_real *cols,                   \
       nerve_real *dcols, const nerve_batch_norm_pass *bn, bool accumulate, nerve_real *dimage,    \
       nerve_real *dweight, nerve_real *dbias, nerve_real *workspace, int64_t workspace_size))     \
    /* Counter-based noise (core/noise.h, which defines the values): inverted                      \
     * dropout's mask, and U(low, high) values, for rows samples of per_sample                     \
     * values each, row i being global sample at->first_sample + i. The generic                    \
     * versions compute them on the host and upload them. */                                       \
    X(dropout_mask, (NERVE_KERNEL_CTX, const nerve_noise_at *at, int64_t rows, int64_t per_sample, \
                     double p, nerve_real *mask))                                                  \
    X(uniform_noise, (NERVE_KERNEL_CTX, const nerve_noise_at *at, int64_t rows,                    \
                      int64_t per_sample, double low, double high, nerve_real *out))               \
    /* *finite (a host bool: the one value a training step reads back besides                      \
     * its loss) = every x[i] with mask[i] != 0 (mask NULL: every x[i]) is                         \
     * finite: the trainer's non-finite gradient check. */                                         \
    X(all_finite,                                                                                  \
      (NERVE_KERNEL_CTX, const nerve_real *x, const unsigned char *mask, int64_t n, bool *finite))

/* ---------------------------------------------------------------- op-specific
 * Composites of one op each; their generic versions: generic_*.c. */
#define NERVE_OP_KERNELS(X)                                                                        \
    /* Swish's gradient w.r.t. its beta (a device scalar): dbeta[0] += the                         \
     * sum of dy * x^2 * s * (1 - s), s = sigmoid(beta * x), over n elements. */                   \
    X(swish_beta_gradient, (NERVE_KERNEL_CTX, const nerve_real *x, const nerve_real *beta,         \
                            const nerve_real *dy, int64_t n, nerve_real *dbeta))                   \
    /* x viewed as [outer, channels, inner]: y = x where x > 0, else                               \
     * slope[c] * x (PReLU; RReLU is one channel per element). */                                  \
    X(prelu_forward, (NERVE_KERNEL_CTX, const nerve_real *x, const nerve_real *slope,              \
                      nerve_real *y, int64_t outer, int64_t channels, int64_t inner))              \
    /* dx += (x > 0 ? 1 : slope[c]) * dy and dslope[c] += sum of x * dy where                      \
     * x <= 0; either of dx and dslope may be NULL. */                                             \
    X(prelu_backward,                                                                              \
      (NERVE_KERNEL_CTX, const nerve_real *x, const nerve_real *slope, const nerve_real *dy,       \
       nerve_real *dx, nerve_real *dslope, int64_t outer, int64_t channels, int64_t inner))        \
    /* y = (x - mean) / sqrt(var + eps) * weight + bias; weight and bias may                       \
     * be NULL (1 and 0). */                                                                       \
    X(batch_norm_forward,                                                                          \
      (NERVE_KERNEL_CTX, const nerve_real *x, const nerve_real *mean, const nerve_real *var,       \
       double eps, const nerve_real *weight, const nerve_real *bias, nerve_real *y, int64_t outer, \
       int64_t channels, int64_t inner))                                                           \
    /* Softmax cross-entropy with label smoothing s (torch CrossEntropyLoss):                      \
     * prob = softmax(logits); row loss = -sum_c q_c log prob_c with                               \
     * q_c = (1 - s) w_y [c == y] + (s / C) w_c. The factor f = scale, or                          \
     * scale / sum of w_y with per_weight (a weighted mean); loss[0] = f * sum                     \
     * and, where factor is not NULL, factor[0] = f for the backward. */                           \
    X(cross_entropy,                                                                               \
      (NERVE_KERNEL_CTX, const nerve_real *logits, const nerve_real *labels,                       \
       const nerve_real *weights, nerve_real smoothing, nerve_real *prob, int64_t rows,            \
       int64_t cols, double scale, bool per_weight, nerve_real *loss, nerve_real *factor))         \
    /* dlogits += dloss[0] * factor[0] * (prob * sum(q) - q). */                                   \
    X(cross_entropy_backward,                                                                      \
      (NERVE_KERNEL_CTX, const nerve_real *prob, const nerve_real *labels,                         \
       const nerve_real *weights, nerve_real smoothing, const nerve_real *dloss,                   \
       const nerve_real *factor, nerve_real *dlogits, int64_t rows, int64_t cols))                 \
    /* y [rows, 2 cols] = [relu(x), relu(-x)] per row of x [rows, cols]. */                        \
    X(crelu_forward,                                                                               \
      (NERVE_KERNEL_CTX, const nerve_real *x, nerve_real *y, int64_t rows, int64_t cols))          \
    X(crelu_backward, (NERVE_KERNEL_CTX, const nerve_real *x, const nerve_real *dy,                \
                       nerve_real *dx, int64_t rows, int64_t cols))                                \
    /* y[r, :] = the one-hot vector of ids[r] over `classes`; NaN outside. */                      \
    X(one_hot,                                                                                     \
      (NERVE_KERNEL_CTX, const nerve_real *ids, nerve_real *y, int64_t rows, int64_t classes))     \
    /* Row loss -w_y log_probs[y]; factor and loss as cross_entropy. */                            \
    X(nll, (NERVE_KERNEL_CTX, const nerve_real *log_probs, const nerve_real *labels,               \
            const nerve_real *weights, int64_t rows, int64_t cols, double scale, bool per_weight,  \
            nerve_real *loss, nerve_real *factor))                                                 \
    /* dlog_probs[y] -= dloss[0] * factor[0] * w_y. */                                             \
    X(nll_backward, (NERVE_KERNEL_CTX, const nerve_real *labels, const nerve_real *weights,        \
                     const nerve_real *dloss, const nerve_real *factor, nerve_real *dlog_probs,    \
                     int64_t rows, int64_t cols))                                                  \
    /* Focal loss: prob = softmax(logits), log_pt[r] = log prob[y]; row loss                       \
     * -alpha_y (1 - p_y)^gamma log p_y. */                                                        \
    X(focal, (NERVE_KERNEL_CTX, const nerve_real *logits, const nerve_real *labels,                \
              const nerve_real *alpha, nerve_real gamma, nerve_real *prob, nerve_real *log_pt,     \
              int64_t rows, int64_t cols, double scale, nerve_real *loss))                         \
    X(focal_backward, (NERVE_KERNEL_CTX, const nerve_real *prob, const nerve_real *log_pt,         \
                       const nerve_real *labels, const nerve_real *alpha, nerve_real gamma,        \
                       const nerve_real *dloss, nerve_real scale, nerve_real *dlogits,             \
                       int64_t rows, int64_t cols))                                                \
    /* Sum over rows of KL(softmax(teacher / T) || softmax(student / T));                          \
     * writes both probabilities (backward is add_scaled_difference). */                           \
    X(distillation, (NERVE_KERNEL_CTX, const nerve_real *student, const nerve_real *teacher,       \
                     nerve_real temperature, nerve_real *student_prob, nerve_real *teacher_prob,   \
                     int64_t rows, int64_t cols, double scale, nerve_real *loss))                  \
    /* L-Softmax: out = logits [rows, cols] = x W^T with each row's target                         \
     * logit W_y.x = |W_y||x| cos(theta) replaced by                                               \
     * (lambda W_y.x + |W_y||x| psi(theta)) / (1 + lambda). x [rows, dim], W [cols, dim]. */       \
    X(large_margin_logits,                                                                         \
      (NERVE_KERNEL_CTX, const nerve_real *logits, const nerve_real *x, const nerve_real *w,       \
       const nerve_real *labels, int margin, nerve_real lambda, nerve_real *out, int64_t rows,     \
       int64_t cols, int64_t dim))                                                                 \
    /* Backward of large_margin_logits, given dout = d(loss)/d(out): adds to                       \
     * dlogits what flows through the plain logits (all of dout but the target                     \
     * entries' margin share), and that share's gradient to dx and dw (either                      \
     * may be NULL). */                                                                            \
    X(large_margin_backward,                                                                       \
      (NERVE_KERNEL_CTX, const nerve_real *logits, const nerve_real *x, const nerve_real *w,       \
       const nerve_real *labels, int margin, nerve_real lambda, const nerve_real *dout,            \
       nerve_real *dlogits, nerve_real *dx, nerve_real *dw, int64_t rows, int64_t cols,            \
       int64_t dim))                                                                               \
    /* Sum of (a - b)^2 over n elements. */                                                        \
    X(squared_error, (NERVE_KERNEL_CTX, const nerve_real *a, const nerve_real *b, int64_t n,       \
                      double scale, nerve_real *loss))                                             \
    /* y += s * (a - b), s = scale times dloss[0] (dloss NULL: 1). */                              \
    X(add_scaled_difference,                                                                       \
      (NERVE_KERNEL_CTX, int64_t n, const nerve_real *dloss, nerve_real scale,                     \
       const nerve_real *a, const nerve_real *b, nerve_real *y))                                   \
    /* Sum of |a - b|; backward da += dloss[0] * scale * sign(a - b) (0 where equal). */           \
    X(absolute_error, (NERVE_KERNEL_CTX, const nerve_real *a, const nerve_real *b, int64_t n,      \
                       double scale, nerve_real *loss))                                            \
    X(absolute_error_backward,                                                                     \
      (NERVE_KERNEL_CTX, const nerve_real *a, const nerve_real *b, const nerve_real *dloss,        \
       nerve_real scale, nerve_real *da, int64_t n))                                               \
    /* Sum of smooth L1 (torch SmoothL1Loss): d = a - b, 0.5 d^2 / beta where                      \
     * |d| < beta, else |d| - 0.5 beta; backward                                                   \
     * da += dloss[0] * scale * clamp(d / beta, -1, 1). */                                         \
    X(smooth_l1, (NERVE_KERNEL_CTX, const nerve_real *a, const nerve_real *b, nerve_real beta,     \
                  int64_t n, double scale, nerve_real *loss))                                      \
    X(smooth_l1_backward,                                                                          \
      (NERVE_KERNEL_CTX, const nerve_real *a, const nerve_real *b, nerve_real beta,                \
       const nerve_real *dloss, nerve_real scale, nerve_real *da, int64_t n))                      \
    /* Sum of -(y log p + (1 - y) log(1 - p)), logs clamped at -100 (torch BCELoss). */            \
    X(binary_cross_entropy, (NERVE_KERNEL_CTX, const nerve_real *p, const nerve_real *y,           \
                             int64_t n, double scale, nerve_real *loss))                           \
    /* dp += dloss[0] * scale * (p - y) / max(p (1 - p), 1e-12), as torch. */                      \
    X(binary_cross_entropy_backward,                                                               \
      (NERVE_KERNEL_CTX, const nerve_real *p, const nerve_real *y, const nerve_real *dloss,        \
       nerve_real scale, nerve_real *dp, int64_t n))                                               \
    /* Sum of (1 - y) x + (1 + (pw - 1) y) log(1 + exp(-x)) over rows x cols,                      \
     * pw = pos_weight[col] (NULL: 1), in a form stable for any finite x. */                       \
    X(bce_with_logits,                                                                             \
      (NERVE_KERNEL_CTX, const nerve_real *x, const nerve_real *y, const nerve_real *pos_weight,   \
       int64_t rows, int64_t cols, double scale, nerve_real *loss))                                \
    /* dx += dloss[0] * scale * ((1 + (pw - 1) y) sigmoid(x) - pw y). */                           \
    X(bce_with_logits_backward,                                                                    \
      (NERVE_KERNEL_CTX, const nerve_real *x, const nerve_real *y, const nerve_real *pos_weight,   \
       const nerve_real *dloss, nerve_real scale, nerve_real *dx, int64_t rows, int64_t cols))

/* Every list, for what covers them all (the table, the ids, the names). */
#define NERVE_ALL_KERNELS(X) NERVE_CORE_KERNELS(X) NERVE_COMPOSITE_KERNELS(X) NERVE_OP_KERNELS(X)

#define NERVE_KERNEL_FIELD(name, params) nerve_status(*name) params;
typedef struct nerve_kernels {
    NERVE_ALL_KERNELS(NERVE_KERNEL_FIELD)
} nerve_kernels;
#undef NERVE_KERNEL_FIELD

#define NERVE_KERNEL_ID(name, params) NERVE_KERNEL_##name,
typedef enum nerve_kernel_id {
    NERVE_ALL_KERNELS(NERVE_KERNEL_ID) NERVE_KERNEL_COUNT
} nerve_kernel_id;
#undef NERVE_KERNEL_ID

#define NERVE_KERNEL_ONE(name, params) +1
enum {
    NERVE_CORE_KERNEL_COUNT = 0 NERVE_CORE_KERNELS(NERVE_KERNEL_ONE),
    NERVE_COMPOSITE_KERNEL_COUNT = 0 NERVE_COMPOSITE_KERNELS(NERVE_KERNEL_ONE),
    NERVE_OP_KERNEL_COUNT = 0 NERVE_OP_KERNELS(NERVE_KERNEL_ONE)
};
#undef NERVE_KERNEL_ONE

/* A kernel's name ("gemm"), for messages and the parity table. */
const char *nerve_kernel_name(nerve_kernel_id id);

#endif
