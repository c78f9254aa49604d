/* The CUDA device: one process-wide GPU (opened on first use, or when a
 * graph chooses "cuda[:N]"), one stream that every call is ordered on, and
 * device memory from cudaMalloc for the arena, the flat buffers and
 * everything else the engine allocates. Uploads go through pinned staging
 * buffers so that the host returns before the copy ends (a batch's upload
 * overlaps the previous step's kernels); downloads wait for the stream, since
 * the host reads what they bring back. This file is also the module's
 * entry (module.h): libnerve opens libnerve_cuda.so and calls
 * nerve_cuda_module_entry, the one symbol it exports. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cublas_v2.h>

#include "backends/cuda/cuda.h"
#include "backends/cuda/module.h"

/* Uploads up to this size are staged through pinned memory (larger ones,
 * whole datasets, are rare and copied directly). */
#define STAGING_LIMIT ((size_t)64 << 20)
#define STAGING_SLOTS 2

typedef struct staging {
    void *host; /* pinned */
    size_t size;
    cudaEvent_t done; /* recorded after its last copy */
    bool used;
} staging;

const nerve_cuda_engine *nerve_engine;

static struct {
    bool open;
    int ordinal;
    cudaStream_t stream;
    cublasHandle_t blas;
    double *scratch;
    staging slots[STAGING_SLOTS];
    int next_slot;
} cuda;

nerve_status nerve_cuda_open(int ordinal, nerve_error *err)
{
    if (cuda.open) {
        if (ordinal < 0 || ordinal == cuda.ordinal) return NERVE_OK;
        return nerve_engine->error_set(err, NERVE_ERR_INVALID,
                               "cuda:%d: this process already runs on cuda:%d (one GPU per "
                               "process)",
                               ordinal, cuda.ordinal);
    }
    if (ordinal < 0) ordinal = 0;
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0)
        return nerve_engine->error_set(err, NERVE_ERR_INVALID,
                                       "cuda: no CUDA GPU is available (%s)",
                                       e != cudaSuccess ? cudaGetErrorString(e) : "no device found");
    if (ordinal >= count)
        return nerve_engine->error_set(err, NERVE_ERR_INVALID,
                               "cuda:%d: no such GPU (this machine has %d: cuda:0..cuda:%d)",
                               ordinal, count, count - 1);
    if ((e = cudaSetDevice(ordinal)) != cudaSuccess ||
        (e = cudaStreamCreateWithFlags(&cuda.stream, cudaStreamNonBlocking)) != cudaSuccess ||
        (e = cudaMalloc((void **)&cuda.scratch, 64 * sizeof(double))) != cudaSuccess)
        return nerve_engine->error_set(err, NERVE_ERR_INVALID, "cuda:%d: cannot start: %s",
                                       ordinal, cudaGetErrorString(e));
    cublasStatus_t b = cublasCreate(&cuda.blas);
    if (b == CUBLAS_STATUS_SUCCESS) b = cublasSetStream(cuda.blas, cuda.stream);
    /* TF32 stays off (float32 products, as the CPU's) unless asked for:
     * NERVE_CUDA_TF32=1 lets cuBLAS round the inputs to 10-bit mantissas
     * on the tensor cores (docs/cuda.md). */
    const char *tf32 = getenv("NERVE_CUDA_TF32");
    cublasMath_t math = tf32 && strcmp(tf32, "1") == 0 ? CUBLAS_TF32_TENSOR_OP_MATH
                                                       : CUBLAS_PEDANTIC_MATH;
    if (b == CUBLAS_STATUS_SUCCESS) b = cublasSetMathMode(cuda.blas, math);
    if (b != CUBLAS_STATUS_SUCCESS)
        return nerve_engine->error_set(err, NERVE_ERR_INVALID,
                                       "cuda:%d: cannot start cuBLAS (%s)", ordinal,
                                       cublasGetStatusString(b));
    for (int i = 0; i < STAGING_SLOTS; i++)
        if ((e = cudaEventCreateWithFlags(&cuda.slots[i].done, cudaEventDisableTiming)) !=
            cudaSuccess)
            return nerve_engine->error_set(err, NERVE_ERR_INVALID, "cuda:%d: cannot start: %s",
                                           ordinal, cudaGetErrorString(e));
    cuda.ordinal = ordinal;
    cuda.open = true;
    return NERVE_OK;
}

cudaStream_t nerve_cuda_stream(void) { return cuda.stream; }
void *nerve_cuda_blas(void) { return cuda.blas; }
double *nerve_cuda_scratch(void) { return cuda.scratch; }

nerve_status nerve_cuda_check(const nerve_kernel_ctx *ctx, cudaError_t e, const char *what)
{
    if (e == cudaSuccess) return NERVE_OK;
    return nerve_engine->kernel_fail(ctx, NERVE_ERR_INVALID, "cuda: %s: %s", what,
                                     cudaGetErrorString(e));
}

nerve_status nerve_cuda_launched(const nerve_kernel_ctx *ctx, const char *kernel)
{
    return nerve_cuda_check(ctx, cudaGetLastError(), kernel);
}

/* Every memory call opens the GPU first: a graph chosen by NERVE_BACKEND
 * meets a missing GPU at its first allocation, with the same message. */
static nerve_status opened(const nerve_kernel_ctx *ctx)
{
    if (cuda.open) return NERVE_OK;
    nerve_error err = {0};
    if (nerve_cuda_open(-1, &err) == NERVE_OK) return NERVE_OK;
    return nerve_engine->kernel_fail(ctx, err.status, "%s", err.message);
}

static nerve_status cuda_allocate(const nerve_kernel_ctx *ctx, size_t bytes, void **memory)
{
    *memory = NULL;
    NERVE_TRY(opened(ctx));
    cudaError_t e = cudaMalloc(memory, bytes ? bytes : 1);
    if (e == cudaSuccess) return NERVE_OK;
    *memory = NULL;
    return nerve_engine->kernel_fail(ctx, NERVE_ERR_NOMEM,
                                     "cuda: cannot allocate %zu bytes of GPU memory (%s)", bytes,
                                     cudaGetErrorString(e));
}

static void cuda_release(const nerve_kernel_ctx *ctx, void *memory)
{
    /* cudaFree waits for the work that may still use it. */
    if (memory) cudaFree(memory);
}

static nerve_status cuda_set(const nerve_kernel_ctx *ctx, void *dst, int byte, size_t bytes)
{
    NERVE_TRY(opened(ctx));
    if (!bytes) return NERVE_OK;
    return nerve_cuda_check(ctx, cudaMemsetAsync(dst, byte, bytes, cuda.stream), "memset");
}

/* The host copy goes into the next pinned slot (waiting for that slot's
 * previous copy, two uploads ago, to end), and the copy to the GPU is
 * queued on the stream: the kernels after it see the data, the host goes on. */
static nerve_status cuda_upload(const nerve_kernel_ctx *ctx, void *dst, const void *src,
                                size_t bytes)
{
    NERVE_TRY(opened(ctx));
    if (!bytes) return NERVE_OK;
    if (bytes > STAGING_LIMIT) {
        NERVE_TRY(nerve_cuda_check(
            ctx, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, cuda.stream), "upload"));
        return nerve_cuda_check(ctx, cudaStreamSynchronize(cuda.stream), "upload");
    }
    staging *slot = &cuda.slots[cuda.next_slot];
    cuda.next_slot = (cuda.next_slot + 1) % STAGING_SLOTS;
    if (slot->used) NERVE_TRY(nerve_cuda_check(ctx, cudaEventSynchronize(slot->done), "upload"));
    if (slot->size < bytes) {
        if (slot->host) cudaFreeHost(slot->host);
        slot->host = NULL;
        slot->size = 0;
        size_t size = bytes < 4096 ? 4096 : bytes + bytes / 2;
        if (size > STAGING_LIMIT) size = STAGING_LIMIT;
        NERVE_TRY(nerve_cuda_check(ctx, cudaMallocHost(&slot->host, size), "pinned memory"));
        slot->size = size;
    }
    memcpy(slot->host, src, bytes);
    NERVE_TRY(nerve_cuda_check(
        ctx, cudaMemcpyAsync(dst, slot->host, bytes, cudaMemcpyHostToDevice, cuda.stream),
        "upload"));
    slot->used = true;
    return nerve_cuda_check(ctx, cudaEventRecord(slot->done, cuda.stream), "upload");
}

static nerve_status cuda_download(const nerve_kernel_ctx *ctx, void *dst, const void *src,
                                  size_t bytes)
{
    NERVE_TRY(opened(ctx));
    if (!bytes) return NERVE_OK;
    NERVE_TRY(nerve_cuda_check(
        ctx, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, cuda.stream), "download"));
    return nerve_cuda_check(ctx, cudaStreamSynchronize(cuda.stream), "download");
}

static nerve_status cuda_copy(const nerve_kernel_ctx *ctx, void *dst, const void *src,
                              size_t bytes)
{
    NERVE_TRY(opened(ctx));
    if (!bytes || dst == src) return NERVE_OK;
    return nerve_cuda_check(
        ctx, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, cuda.stream), "copy");
}

static nerve_status cuda_synchronize(const nerve_kernel_ctx *ctx)
{
    if (!cuda.open) return NERVE_OK;
    return nerve_cuda_check(ctx, cudaStreamSynchronize(cuda.stream), "synchronize");
}

#define NERVE_CUDA_ENTRY(name, params) .name = nerve_cuda_##name,
static const nerve_kernels cuda_kernels = {
    NERVE_CORE_KERNELS(NERVE_CUDA_ENTRY)
    /* composites written natively: one kernel where the generic version
     * runs several (softmax's and batch norm's passes, the loss), and no
     * host round trip for noise or the finiteness check */
    .softmax_backward = nerve_cuda_softmax_backward,
    .log_softmax_backward = nerve_cuda_log_softmax_backward,
    .scale_rows_backward = nerve_cuda_scale_rows_backward,
    .fill_rows = nerve_cuda_fill_rows,
    .sum_rows = nerve_cuda_sum_rows,
    .add_forward = nerve_cuda_add_forward,
    .conv_workspace = nerve_cuda_conv_workspace,
    .dropout_mask = nerve_cuda_dropout_mask,
    .uniform_noise = nerve_cuda_uniform_noise,
    .all_finite = nerve_cuda_all_finite,
    .swish_beta_gradient = nerve_cuda_swish_beta_gradient,
    .prelu_forward = nerve_cuda_prelu_forward,
    .prelu_backward = nerve_cuda_prelu_backward,
    .batch_norm_forward = nerve_cuda_batch_norm_forward,
    .cross_entropy = nerve_cuda_cross_entropy,
    .cross_entropy_backward = nerve_cuda_cross_entropy_backward,
    .one_hot = nerve_cuda_one_hot,
};
#undef NERVE_CUDA_ENTRY

static const nerve_device cuda_device = {
    .name = "cuda",
    .host_memory = false,
    .kernels = &cuda_kernels,
    .allocate = cuda_allocate,
    .release = cuda_release,
    .set = cuda_set,
    .upload = cuda_upload,
    .download = cuda_download,
    .copy = cuda_copy,
    .synchronize = cuda_synchronize,
};

static int device_count(void)
{
    int count = 0;
    return cudaGetDeviceCount(&count) == cudaSuccess ? count : 0;
}

static nerve_status describe(int ordinal, char *text, size_t size)
{
    struct cudaDeviceProp p;
    if (size) text[0] = '\0';
    cudaError_t e = cudaGetDeviceProperties(&p, ordinal);
    if (e != cudaSuccess) {
        snprintf(text, size, "%s", cudaGetErrorString(e));
        return NERVE_ERR_INVALID;
    }
    snprintf(text, size, "%s, %.1f GiB, compute capability %d.%d", p.name,
             (double)p.totalGlobalMem / (1 << 30), p.major, p.minor);
    return NERVE_OK;
}

static const nerve_cuda_module module = {
    .device = &cuda_device,
    .open = nerve_cuda_open,
    .device_count = device_count,
    .describe = describe,
};

/* The one exported symbol (module.map keeps every other name local). */
const nerve_cuda_module *nerve_cuda_module_entry(const nerve_cuda_engine *engine, nerve_error *err)
{
    static const size_t layout[] = NERVE_CUDA_LAYOUT;
    if (strcmp(engine->version, NERVE_VERSION) != 0 ||
        memcmp(engine->layout, layout, sizeof layout) != 0) {
        snprintf(err->message, sizeof err->message,
                 "built for nerve %s, not this nerve %s (or from another source tree)",
                 NERVE_VERSION, engine->version);
        err->status = NERVE_ERR_INVALID;
        return NULL;
    }
    nerve_engine = engine;
    return &module;
}
