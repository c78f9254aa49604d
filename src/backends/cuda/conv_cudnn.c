/* Convolutions through cuDNN, where the build found it (NERVE_WITH_CUDNN),
 * as PyTorch runs them: forward, backward data and backward filter of
 * NCHW float32 tensors, the algorithm chosen by cuDNN's heuristics among
 * those whose scratch fits the workspace. A plan (descriptors and the
 * algorithms ranked for each pass) is made once per geometry and batch
 * size and kept in a process-wide cache. Whatever cuDNN cannot run (a
 * geometry it sizes differently, too little workspace, an error creating
 * a plan), and everything with NERVE_CUDA_CUDNN=0, goes to the im2col +
 * cuBLAS kernels of conv.c instead. TF32 stays off (CUDNN_FMA_MATH) unless
 * NERVE_CUDA_TF32=1. */
#include <stdlib.h>
#include <string.h>

#include "backends/cuda/cuda.h"

#ifdef NERVE_WITH_CUDNN
#include <cudnn.h>

#define PLAN_CACHE 64
#define ALGOS 8

typedef struct dnn_plan {
    nerve_conv_geometry geo;
    int64_t batch;
    bool usable; /* false: cuDNN declined this geometry; the fallback runs */
    cudnnTensorDescriptor_t image, cols;
    cudnnFilterDescriptor_t weight;
    cudnnConvolutionDescriptor_t conv;
    /* per pass, the algorithms in cuDNN's order of preference and the bytes
     * of scratch each needs */
    int count[3];
    int algo[3][ALGOS];
    size_t memory[3][ALGOS];
} dnn_plan;

static struct {
    bool tried, on;
    cudnnHandle_t handle;
    dnn_plan plans[PLAN_CACHE];
    int plan_count, next_evicted;
} dnn;

static bool dnn_on(void)
{
    if (dnn.tried) return dnn.on;
    dnn.tried = true;
    const char *use = getenv("NERVE_CUDA_CUDNN");
    if (use && strcmp(use, "0") == 0) return false;
    if (cudnnCreate(&dnn.handle) != CUDNN_STATUS_SUCCESS) return false;
    if (cudnnSetStream(dnn.handle, nerve_cuda_stream()) != CUDNN_STATUS_SUCCESS) {
        cudnnDestroy(dnn.handle);
        return false;
    }
    dnn.on = true;
    return true;
}

static bool tensor(cudnnTensorDescriptor_t *d, int64_t n, int64_t c, int64_t h, int64_t w)
{
    return cudnnCreateTensorDescriptor(d) == CUDNN_STATUS_SUCCESS &&
           cudnnSetTensor4dDescriptor(*d, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, (int)n, (int)c,
                                      (int)h, (int)w) == CUDNN_STATUS_SUCCESS;
}

/* The descriptors and the ranked algorithms of geo at batch; false where
 * cuDNN cannot run it as nerve defines it. */
static bool make_plan(dnn_plan *p)
{
    const nerve_conv_geometry *g = &p->geo;
    const char *tf32 = getenv("NERVE_CUDA_TF32");
    cudnnMathType_t math = tf32 && strcmp(tf32, "1") == 0 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
    if (!tensor(&p->image, p->batch, g->channels, g->height, g->width) ||
        !tensor(&p->cols, p->batch, g->col_channels, g->col_height, g->col_width) ||
        cudnnCreateFilterDescriptor(&p->weight) != CUDNN_STATUS_SUCCESS ||
        cudnnSetFilter4dDescriptor(p->weight, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW,
                                   (int)g->col_channels, (int)(g->channels / g->groups),
                                   (int)g->kernel[0], (int)g->kernel[1]) != CUDNN_STATUS_SUCCESS ||
        cudnnCreateConvolutionDescriptor(&p->conv) != CUDNN_STATUS_SUCCESS ||
        cudnnSetConvolution2dDescriptor(p->conv, (int)g->padding[0], (int)g->padding[1],
                                        (int)g->stride[0], (int)g->stride[1], (int)g->dilation[0],
                                        (int)g->dilation[1], CUDNN_CROSS_CORRELATION,
                                        CUDNN_DATA_FLOAT) != CUDNN_STATUS_SUCCESS ||
        cudnnSetConvolutionGroupCount(p->conv, (int)g->groups) != CUDNN_STATUS_SUCCESS ||
        cudnnSetConvolutionMathType(p->conv, math) != CUDNN_STATUS_SUCCESS)
        return false;
    /* nerve's padding is top/left, the bottom/right whatever the output's
     * size leaves: cuDNN pads symmetrically, so the sizes must agree */
    int n, c, h, w;
    if (cudnnGetConvolution2dForwardOutputDim(p->conv, p->image, p->weight, &n, &c, &h, &w) !=
            CUDNN_STATUS_SUCCESS ||
        n != p->batch || c != g->col_channels || h != g->col_height || w != g->col_width)
        return false;
    cudnnConvolutionFwdAlgoPerf_t fwd[ALGOS];
    cudnnConvolutionBwdDataAlgoPerf_t data[ALGOS];
    cudnnConvolutionBwdFilterAlgoPerf_t filter[ALGOS];
    int got[3] = {0, 0, 0};
    if (cudnnGetConvolutionForwardAlgorithm_v7(dnn.handle, p->image, p->weight, p->conv, p->cols,
                                               ALGOS, &got[0], fwd) != CUDNN_STATUS_SUCCESS ||
        cudnnGetConvolutionBackwardDataAlgorithm_v7(dnn.handle, p->weight, p->cols, p->conv,
                                                    p->image, ALGOS, &got[1],
                                                    data) != CUDNN_STATUS_SUCCESS ||
        cudnnGetConvolutionBackwardFilterAlgorithm_v7(dnn.handle, p->image, p->cols, p->conv,
                                                      p->weight, ALGOS, &got[2],
                                                      filter) != CUDNN_STATUS_SUCCESS)
        return false;
#define KEEP(pass, perf)                                                                           \
    for (int i = 0; i < got[pass]; i++)                                                            \
        if (perf[i].status == CUDNN_STATUS_SUCCESS) {                                              \
            p->algo[pass][p->count[pass]] = (int)perf[i].algo;                                     \
            p->memory[pass][p->count[pass]++] = perf[i].memory;                                    \
        }
    KEEP(0, fwd)
    KEEP(1, data)
    KEEP(2, filter)
#undef KEEP
    return p->count[0] > 0 && p->count[1] > 0 && p->count[2] > 0;
}

/* The plan of geo at batch, made on first use; NULL where cuDNN is off. */
static const dnn_plan *plan_of(const nerve_conv_geometry *geo, int64_t batch)
{
    if (!dnn_on()) return NULL;
    for (int i = 0; i < dnn.plan_count; i++)
        if (dnn.plans[i].batch == batch && memcmp(&dnn.plans[i].geo, geo, sizeof *geo) == 0)
            return dnn.plans[i].usable ? &dnn.plans[i] : NULL;
    dnn_plan *p;
    if (dnn.plan_count < PLAN_CACHE) {
        p = &dnn.plans[dnn.plan_count++];
    } else { /* the oldest plan goes (its descriptors destroyed) */
        p = &dnn.plans[dnn.next_evicted];
        dnn.next_evicted = (dnn.next_evicted + 1) % PLAN_CACHE;
        if (p->image) cudnnDestroyTensorDescriptor(p->image);
        if (p->cols) cudnnDestroyTensorDescriptor(p->cols);
        if (p->weight) cudnnDestroyFilterDescriptor(p->weight);
        if (p->conv) cudnnDestroyConvolutionDescriptor(p->conv);
    }
    memset(p, 0, sizeof *p);
    p->geo = *geo;
    p->batch = batch;
    p->usable = make_plan(p);
    return p->usable ? p : NULL;
}

int64_t nerve_cuda_dnn_workspace(const nerve_conv_geometry *geo, int64_t batch)
{
    const dnn_plan *p = batch > 0 ? plan_of(geo, batch) : NULL;
    size_t most = 0;
    for (int pass = 0; p && pass < 3; pass++)
        if (p->memory[pass][0] > most) most = p->memory[pass][0];
    return (int64_t)((most + sizeof(float) - 1) / sizeof(float));
}

bool nerve_cuda_dnn_run(const nerve_kernel_ctx *ctx, nerve_cuda_dnn_pass pass,
                        const nerve_conv_geometry *geo, int64_t batch, float *image,
                        float *weight, float *cols, float beta, float *workspace,
                        int64_t workspace_size, nerve_status *status)
{
    const dnn_plan *p = plan_of(geo, batch);
    if (!p) return false;
    size_t bytes = (size_t)workspace_size * sizeof(float);
    int k = 0;
    while (k < p->count[pass] && p->memory[pass][k] > bytes) k++;
    if (k == p->count[pass]) return false;
    const float one = 1;
    cudnnStatus_t st;
    switch (pass) {
    case NERVE_CUDA_DNN_FORWARD:
        st = cudnnConvolutionForward(dnn.handle, &one, p->image, image, p->weight, weight, p->conv,
                                     (cudnnConvolutionFwdAlgo_t)p->algo[pass][k], workspace,
                                     bytes, &beta, p->cols, cols);
        break;
    case NERVE_CUDA_DNN_BACKWARD_DATA:
        st = cudnnConvolutionBackwardData(dnn.handle, &one, p->weight, weight, p->cols, cols,
                                          p->conv, (cudnnConvolutionBwdDataAlgo_t)p->algo[pass][k],
                                          workspace, bytes, &beta, p->image, image);
        break;
    default:
        st = cudnnConvolutionBackwardFilter(dnn.handle, &one, p->image, image, p->cols, cols,
                                            p->conv,
                                            (cudnnConvolutionBwdFilterAlgo_t)p->algo[pass][k],
                                            workspace, bytes, &beta, p->weight, weight);
        break;
    }
    *status = st == CUDNN_STATUS_SUCCESS
                  ? nerve_cuda_launched(ctx, "cudnn convolution")
                  : nerve_engine->kernel_fail(ctx, NERVE_ERR_INVALID, "cuda: cuDNN convolution: %s",
                                      cudnnGetErrorString(st));
    return true;
}

#else

int64_t nerve_cuda_dnn_workspace(const nerve_conv_geometry *geo, int64_t batch) { return 0; }

bool nerve_cuda_dnn_run(const nerve_kernel_ctx *ctx, nerve_cuda_dnn_pass pass,
                        const nerve_conv_geometry *geo, int64_t batch, float *image,
                        float *weight, float *cols, float beta, float *workspace,
                        int64_t workspace_size, nerve_status *status)
{
    return false;
}

#endif
