/* The sealed device: the reference backend's core kernels (every composite
 * the generic one) over memory the host cannot touch. Its memory is one
 * reserved region that is inaccessible (PROT_NONE) except while the device
 * itself runs: a kernel, a set, an upload, a download or a copy. Any other
 * read or write of tensor memory by the engine faults at once, where a
 * device-memory backend (a GPU's) would read garbage or crash later: it is
 * the check that everything goes through the device interface, and that a
 * backend writing only the core runs everything. POSIX only (mmap and
 * mprotect); slow on purpose. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include "backends/registry.h"

#if NERVE_HAVE_SEALED

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backends/ref/ref.h"

#define SEALED_RESERVE ((size_t)1 << 32) /* address space, not memory */
#define SEALED_ALIGNMENT 64
#define SEALED_BLOCKS 4096

/* The region, its allocations (a stack: a block is reclaimed once every
 * block above it is released) and how deep the device's calls are nested. */
static struct {
    unsigned char *base;
    size_t used, open_bytes;
    int depth;
    int count;
    struct block {
        size_t offset;
        bool live;
    } blocks[SEALED_BLOCKS];
} region;

static size_t page_round(size_t bytes)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return (bytes + page - 1) / page * page;
}

/* Makes the region's used part accessible while the device runs. */
static void unseal(void)
{
    if (region.depth++ > 0 || region.used == 0) return;
    region.open_bytes = page_round(region.used);
    (void)mprotect(region.base, region.open_bytes, PROT_READ | PROT_WRITE);
}

static void seal(void)
{
    if (--region.depth > 0 || region.open_bytes == 0) return;
    (void)mprotect(region.base, region.open_bytes, PROT_NONE);
    region.open_bytes = 0;
}

static nerve_status sealed_allocate(const nerve_kernel_ctx *ctx, size_t bytes, void **memory)
{
    *memory = NULL;
    if (!region.base) {
        void *base = mmap(NULL, SEALED_RESERVE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                          -1, 0);
        if (base == MAP_FAILED)
            return nerve_kernel_fail(ctx, NERVE_ERR_NOMEM, "sealed: cannot reserve its region");
        region.base = base;
    }
    size_t size = (bytes / SEALED_ALIGNMENT + 1) * SEALED_ALIGNMENT;
    if (region.count == SEALED_BLOCKS) { /* forget released blocks below live ones */
        int kept = 0;
        for (int i = 0; i < region.count; i++)
            if (region.blocks[i].live) region.blocks[kept++] = region.blocks[i];
        region.count = kept;
    }
    if (region.count == SEALED_BLOCKS || size > SEALED_RESERVE - region.used)
        return nerve_kernel_fail(ctx, NERVE_ERR_NOMEM, "sealed: out of memory for %zu bytes",
                                 bytes);
    region.blocks[region.count++] = (struct block){.offset = region.used, .live = true};
    *memory = region.base + region.used;
    region.used += size;
    if (region.depth > 0) { /* allocated from within a call: open it too */
        region.open_bytes = page_round(region.used);
        (void)mprotect(region.base, region.open_bytes, PROT_READ | PROT_WRITE);
    }
    return NERVE_OK;
}

static void sealed_release(const nerve_kernel_ctx *ctx, void *memory)
{
    for (int i = region.count - 1; i >= 0; i--)
        if (region.base + region.blocks[i].offset == memory) region.blocks[i].live = false;
    while (region.count > 0 && !region.blocks[region.count - 1].live)
        region.used = region.blocks[--region.count].offset;
}

static nerve_status sealed_set(const nerve_kernel_ctx *ctx, void *dst, int byte, size_t bytes)
{
    unseal();
    if (bytes) memset(dst, byte, bytes);
    seal();
    return NERVE_OK;
}

static nerve_status sealed_move(const nerve_kernel_ctx *ctx, void *dst, const void *src,
                                size_t bytes)
{
    unseal();
    if (bytes) memmove(dst, src, bytes);
    seal();
    return NERVE_OK;
}

static nerve_status sealed_synchronize(const nerve_kernel_ctx *ctx) { return NERVE_OK; }

/* Each core kernel: the reference's, with the region open. The argument
 * lists repeat kernels.h's parameter names (a mismatch does not compile). */
#define ARGS_gemm (ctx, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
#define ARGS_map (ctx, op, a, b, b_step, value, y, n)
#define ARGS_activation_forward (ctx, kind, params, x, y, n)
#define ARGS_activation_backward (ctx, kind, params, x, y, dy, accumulate, dx, n)
#define ARGS_softmax (ctx, x, y, outer, len, inner)
#define ARGS_log_softmax (ctx, x, y, outer, len, inner)
#define ARGS_copy_block (ctx, rows, cols, src, src_stride, dst, dst_stride)
#define ARGS_add_block (ctx, rows, cols, src, src_stride, dst, dst_stride)
#define ARGS_scale_rows (ctx, x, scale, y, rows, inner)
#define ARGS_sum_channels (ctx, x, db, batch, channels, plane)
#define ARGS_max_pool2d_forward (ctx, p, x, y, argmax)
#define ARGS_max_pool2d_backward (ctx, p, argmax, dy, dx)
#define ARGS_avg_pool2d_forward (ctx, p, x, y)
#define ARGS_avg_pool2d_backward (ctx, p, dy, dx)
#define ARGS_batch_norm_statistics                                                                 \
    (ctx, x, mean, var, momentum, running_mean, running_var, counter, outer, channels, inner)
#define ARGS_batch_norm_backward                                                                   \
    (ctx, x, dy, mean, var, eps, weight, batch_statistics, accumulate, dx, dweight, dbias, outer,  \
     channels, inner)
#define ARGS_conv_columns                                                                          \
    (ctx, geo, batch, image, weight, bias, accumulate, cols, workspace, workspace_size)
#define ARGS_conv_image                                                                            \
    (ctx, geo, batch, cols, weight, bias, accumulate, image, workspace, workspace_size)
#define ARGS_conv_weight_gradient (ctx, geo, batch, image, cols, dweight, workspace, workspace_size)
#define ARGS_embedding_forward (ctx, ids, table, y, rows, vocab, dim)
#define ARGS_embedding_backward (ctx, ids, dy, dtable, rows, vocab, dim, skip)
#define ARGS_recurrent_workspace (ctx, cell, batch, steps, features, hidden, size)
#define ARGS_optimizer_step (ctx, step)
#define ARGS_recurrent_forward (ctx, s)
#define ARGS_recurrent_backward (ctx, s)

#define SEALED_KERNEL(name, params)                                                                \
    static nerve_status sealed_##name params                                                       \
    {                                                                                              \
        unseal();                                                                                  \
        nerve_status st = nerve_ref_##name ARGS_##name;                                            \
        seal();                                                                                    \
        return st;                                                                                 \
    }
NERVE_CORE_KERNELS(SEALED_KERNEL)
#undef SEALED_KERNEL

#define SEALED_ENTRY(name, params) .name = sealed_##name,
static const nerve_kernels sealed_kernels = {NERVE_CORE_KERNELS(SEALED_ENTRY)};
#undef SEALED_ENTRY

static const nerve_device sealed_device = {
    .name = "sealed",
    .host_memory = false,
    .kernels = &sealed_kernels,
    .allocate = sealed_allocate,
    .release = sealed_release,
    .set = sealed_set,
    .upload = sealed_move,
    .download = sealed_move,
    .copy = sealed_move,
    .synchronize = sealed_synchronize,
};

const nerve_device *nerve_device_sealed(void) { return &sealed_device; }

#endif
