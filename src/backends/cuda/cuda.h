/* The CUDA device (docs/cuda.md): its state, shared by the C11 side (memory,
 * cuBLAS, the orchestration of convolutions, recurrent layers and optimizer
 * steps) and the .cu files (the hand-written kernels, each behind an
 * extern "C" function). Everything runs in order on one stream of one GPU,
 * chosen once per process ("cuda" is GPU 0, "cuda:N" GPU N). float32 only:
 * the float64 engine of the gradient checks never includes this backend.
 * It is built as a module of its own, libnerve_cuda.so (module.h). */
#ifndef NERVE_CUDA_H
#define NERVE_CUDA_H

#include <cuda_runtime_api.h>

#include "backends/cuda/module.h"
#include "backends/device.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The most GPUs a process addresses by ordinal ("cuda:0" .. "cuda:7"). */
#define NERVE_CUDA_MAX_DEVICES 8

/* Opens GPU `ordinal` for this process (-1: the one chosen before, else 0):
 * its stream, cuBLAS handle and scratch. Fails with NERVE_ERR_INVALID and
 * one line ("cuda: no CUDA GPU is available (...)") where there is none,
 * and when another ordinal was opened already (one GPU per process). */
nerve_status nerve_cuda_open(int ordinal, nerve_error *err);
/* The engine's functions the module calls (module.h), lent by libnerve
 * when it opened the module. */
extern const nerve_cuda_engine *nerve_engine;

/* The open GPU's stream, every call's, and its cuBLAS handle
 * (cublasHandle_t). Valid after a successful nerve_cuda_open. */
cudaStream_t nerve_cuda_stream(void);
void *nerve_cuda_blas(void);
/* Device scratch for reductions' results: 64 doubles, reused by each call
 * (calls are ordered on the stream). */
double *nerve_cuda_scratch(void);

/* The status of the kernels just launched: NERVE_OK, or a failure naming
 * the kernel and CUDA's message. */
nerve_status nerve_cuda_launched(const nerve_kernel_ctx *ctx, const char *kernel);
/* The same for a runtime call's result. */
nerve_status nerve_cuda_check(const nerve_kernel_ctx *ctx, cudaError_t e, const char *what);

/* Threads per block of the element-wise kernels, and the blocks covering n. */
#define NERVE_CUDA_THREADS 256
static inline unsigned nerve_cuda_blocks(int64_t n)
{
    int64_t b = (n + NERVE_CUDA_THREADS - 1) / NERVE_CUDA_THREADS;
    return (unsigned)(b < 1 ? 1 : b > 65535 * 16 ? 65535 * 16 : b);
}

/* The backend's kernels, nerve_cuda_<kernel>: the core, and those of the
 * other lists it writes natively (backend_cuda.c's table names them). */
#define NERVE_CUDA_DECLARE(name, params) nerve_status nerve_cuda_##name params;
NERVE_ALL_KERNELS(NERVE_CUDA_DECLARE)
#undef NERVE_CUDA_DECLARE

/* Launchers of the kernels the C side orchestrates (conv.cu, recurrent.cu,
 * optimizer.cu), each on the open stream. */

/* Columns of `count` samples for group `group`: out[s][k][p], k over
 * (channel of the group, kh, kw), p over the output positions; taps outside
 * the image read zero. */
void nerve_cuda_im2col(const nerve_conv_geometry *geo, const float *image, int64_t count,
                       int64_t group, float *out);
/* The adjoint, gathered per image pixel: image[s][c of group][h][w] +=
 * the sum of the columns out[s][k][p] that read it. */
void nerve_cuda_col2im(const nerve_conv_geometry *geo, const float *columns, int64_t count,
                       int64_t group, float *image);
/* x[s][c][p] = (keep ? x : 0) + (bias ? bias[c] : 0) over count samples of
 * channels x plane. */
void nerve_cuda_bias_planes(float *x, const float *bias, bool keep, int64_t count,
                            int64_t channels, int64_t plane);

/* A convolution pass through cuDNN (conv_cudnn.c): forward cols = conv(image,
 * weight) + beta cols; backward data image = conv^T(cols, weight) + beta
 * image; backward filter weight = dconv(image, cols) + beta weight. True
 * when cuDNN ran it (*status its result); false when it cannot here (built
 * without cuDNN, NERVE_CUDA_CUDNN=0, a geometry it sizes otherwise, too
 * little workspace): the im2col + cuBLAS kernels then run. The pointers
 * are not written through where the pass only reads them. */
typedef enum nerve_cuda_dnn_pass {
    NERVE_CUDA_DNN_FORWARD,
    NERVE_CUDA_DNN_BACKWARD_DATA,
    NERVE_CUDA_DNN_BACKWARD_FILTER
} nerve_cuda_dnn_pass;
bool nerve_cuda_dnn_run(const nerve_kernel_ctx *ctx, nerve_cuda_dnn_pass pass,
                        const nerve_conv_geometry *geo, int64_t batch, float *image,
                        float *weight, float *cols, float beta, float *workspace,
                        int64_t workspace_size, nerve_status *status);
/* The workspace elements cuDNN's preferred algorithms want at batch (0
 * without cuDNN). */
int64_t nerve_cuda_dnn_workspace(const nerve_conv_geometry *geo, int64_t batch);

/* The recurrent gates of one step for every sequence (recurrent.c). */
typedef struct nerve_cuda_step {
    const nerve_recurrent_sequence *s;
    int64_t k, t, previous; /* step of the run, its time, the previous step's (or -1) */
    const float *hidden;    /* [N, G H]: h_prev W_hh^T, or NULL (zero) */
    float *dh, *dc, *dgh;   /* backward: [N, H], [N, H], [N, G H] */
    float *gru_hidden_n;    /* backward, gru: [N, T, H] */
} nerve_cuda_step;
void nerve_cuda_recurrent_step_forward(const nerve_cuda_step *step);
void nerve_cuda_recurrent_step_backward(const nerve_cuda_step *step);
/* db[c] += sum over rows of x[r * ld + c], c < cols. */
void nerve_cuda_column_sums(const float *x, int64_t rows, int64_t cols, int64_t ld, float *db);

/* One optimizer update over [begin, end) of the flat buffers (optimizer.c
 * copies the step's description, optimizer_step.h); adds the squared raw
 * gradients to *squares (device). */
typedef enum nerve_cuda_optim_kind {
    NERVE_CUDA_SGD,
    NERVE_CUDA_ADAGRAD,
    NERVE_CUDA_RMSPROP,
    NERVE_CUDA_ADAM,
    NERVE_CUDA_MEASURE /* the norm alone */
} nerve_cuda_optim_kind;
typedef struct nerve_cuda_optim {
    nerve_cuda_optim_kind kind;
    bool regularised, with_l1, momentum, centered, amsgrad;
    float *p, *s0, *s1, *s2;
    const float *grad;
    const unsigned char *trainable;
    int64_t begin, end;
    float l1, clip, scale, decay; /* optim_terms */
    /* nerve_optim_constants' array (sgd: lr, kept, undamped, along_d,
     * along_b; adagrad: clr, eps; rmsprop: lr, alpha, new_weight, eps,
     * momentum; adam: step_size, correction2, beta1, new_weight1, beta2,
     * new_weight2, eps), and adam's optim_kept in a[7]. */
    float a[8];
} nerve_cuda_optim;
void nerve_cuda_optim_update(const nerve_cuda_optim *u, double *squares);

#ifdef __cplusplus
}
#endif

#endif
