/* The reference device: host memory from the C library (aligned_alloc, so
 * that it builds wherever C11 does) and the reference kernels, single
 * threaded. */
#include <stdlib.h>
#include <string.h>

#include "backends/ref/ref.h"
#include "backends/registry.h"

#define REF_ALIGNMENT 64

#define NERVE_REF_ENTRY(name, params) .name = nerve_ref_##name,
static const nerve_kernels ref_kernels = {NERVE_CORE_KERNELS(NERVE_REF_ENTRY)
                                              NERVE_OP_KERNELS(NERVE_REF_ENTRY)
                                                  REF_COMPOSITES(NERVE_REF_ENTRY)};
#undef NERVE_REF_ENTRY

static nerve_status ref_allocate(const nerve_kernel_ctx *ctx, size_t bytes, void **memory)
{
    /* aligned_alloc wants a multiple of the alignment; never 0 bytes. */
    size_t size = (bytes / REF_ALIGNMENT + 1) * REF_ALIGNMENT;
    *memory = size > bytes ? aligned_alloc(REF_ALIGNMENT, size) : NULL;
    if (!*memory)
        return nerve_kernel_fail(ctx, NERVE_ERR_NOMEM, "ref: out of memory for %zu bytes", bytes);
    return NERVE_OK;
}

static void ref_release(const nerve_kernel_ctx *ctx, void *memory) { free(memory); }

static nerve_status ref_set(const nerve_kernel_ctx *ctx, void *dst, int byte, size_t bytes)
{
    if (bytes) memset(dst, byte, bytes);
    return NERVE_OK;
}

/* Host memory both sides: upload, download and copy are one memmove. */
static nerve_status ref_move(const nerve_kernel_ctx *ctx, void *dst, const void *src,
                             size_t bytes)
{
    if (bytes) memmove(dst, src, bytes);
    return NERVE_OK;
}

static nerve_status ref_synchronize(const nerve_kernel_ctx *ctx) { return NERVE_OK; }

static const nerve_device ref_device = {
    .name = "ref",
    .host_memory = true,
    .kernels = &ref_kernels,
    .allocate = ref_allocate,
    .release = ref_release,
    .set = ref_set,
    .upload = ref_move,
    .download = ref_move,
    .copy = ref_move,
    .synchronize = ref_synchronize,
};

const nerve_device *nerve_device_ref(void) { return &ref_device; }
