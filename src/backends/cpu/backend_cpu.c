/* The CPU device: host memory (64-byte aligned, for the vector loops and
 * oneDNN) and the CPU kernels, every one of them native. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu.h"

#define CPU_ALIGNMENT 64

#define NERVE_CPU_ENTRY(name, params) .name = nerve_cpu_##name,
static const nerve_kernels cpu_kernels = {NERVE_ALL_KERNELS(NERVE_CPU_ENTRY)};
#undef NERVE_CPU_ENTRY

static nerve_status cpu_allocate(const nerve_kernel_ctx *ctx, size_t bytes, void **memory)
{
    /* Rounded up so that aligned_alloc's size rule holds and a zero-sized
     * buffer is still a distinct pointer. */
    size_t size = (bytes + CPU_ALIGNMENT - 1) / CPU_ALIGNMENT * CPU_ALIGNMENT + CPU_ALIGNMENT;
    if (size < bytes || posix_memalign(memory, CPU_ALIGNMENT, size) != 0) {
        *memory = NULL;
        return nerve_kernel_fail(ctx, NERVE_ERR_NOMEM, "cpu: out of memory for %zu bytes", bytes);
    }
    return NERVE_OK;
}

static void cpu_release(const nerve_kernel_ctx *ctx, void *memory) { free(memory); }

/* A gradient a pooling layer scatters into is zeroed every step (core/graph.c):
 * a large buffer is split over the threads, in the static schedule's halves
 * that the kernels after it read, rather than stored by one core alone; on
 * the threads a busy machine leaves free (team.c). */
static nerve_status cpu_set(const nerve_kernel_ctx *ctx, void *dst, int byte, size_t bytes)
{
    if (bytes < NERVE_CPU_PARALLEL_MIN * sizeof(nerve_real)) {
        if (bytes) memset(dst, byte, bytes);
        return NERVE_OK;
    }
    const size_t lines = (bytes + CPU_ALIGNMENT - 1) / CPU_ALIGNMENT;
#pragma omp parallel num_threads(nerve_cpu_team())
    {
        size_t threads = (size_t)omp_get_num_threads(), t = (size_t)omp_get_thread_num();
        size_t first = lines * t / threads * CPU_ALIGNMENT;
        size_t last = lines * (t + 1) / threads * CPU_ALIGNMENT;
        if (last > bytes) last = bytes;
        if (last > first) memset((char *)dst + first, byte, last - first);
    }
    return NERVE_OK;
}

/* Host and device memory are the same: every copy is a memcpy (memmove
 * where a device copy may overlap). */
static nerve_status cpu_upload(const nerve_kernel_ctx *ctx, void *dst, const void *src,
                               size_t bytes)
{
    if (bytes) memcpy(dst, src, bytes);
    return NERVE_OK;
}

static nerve_status cpu_copy(const nerve_kernel_ctx *ctx, void *dst, const void *src, size_t bytes)
{
    if (bytes) memmove(dst, src, bytes);
    return NERVE_OK;
}

static nerve_status cpu_synchronize(const nerve_kernel_ctx *ctx) { return NERVE_OK; }

static void cpu_set_threads(int n) { omp_set_num_threads(n); }

static const nerve_device cpu_device = {
    .name = "cpu",
    .host_memory = true,
    .kernels = &cpu_kernels,
    .allocate = cpu_allocate,
    .release = cpu_release,
    .set = cpu_set,
    .upload = cpu_upload,
    .download = cpu_upload,
    .copy = cpu_copy,
    .synchronize = cpu_synchronize,
    .set_threads = cpu_set_threads,
};

const nerve_device *nerve_device_cpu(void) { return &cpu_device; }

static int thread_count;

void nerve_set_threads(int n)
{
    if (n < 1) n = 1;
    thread_count = n;
    cpu_device.set_threads(n);
}

int nerve_get_threads(void) { return thread_count ? thread_count : omp_get_max_threads(); }
