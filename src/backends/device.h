/* The device interface: the one seam between the engine and whatever runs
 * its numbers. A device owns memory (the graph's arena and its flat
 * parameter and gradient buffers come from it, and only it writes them) and
 * a kernel table (kernels.h). The engine never touches tensor memory
 * directly: it asks the device to set, copy, upload and download it, and
 * the kernels to compute on it. Every call returns a status; a failing one
 * writes its message where the context says (ctx->err). */
#ifndef NERVE_DEVICE_H
#define NERVE_DEVICE_H

#include <stddef.h>

#include "backends/kernels.h"

typedef struct nerve_device nerve_device;

/* Passed to every kernel and memory call. */
struct nerve_kernel_ctx {
    const nerve_device *device;
    const nerve_kernels *kernels; /* the device's table, composites completed */
    nerve_error *err;             /* where a failing call writes its message; may be NULL */
    void *state;                  /* the device's own (streams, handles); NULL on the CPU */
};

struct nerve_device {
    const char *name;
    /* Its memory is host memory: a pointer into it may be read and written
     * by the host directly (nerve_node_value is valid only then). */
    bool host_memory;
    /* Its kernels, as the backend wrote them; composites may be NULL. */
    const nerve_kernels *kernels;
    /* Memory: `bytes` bytes aligned for any kernel, or an error. */
    nerve_status (*allocate)(const nerve_kernel_ctx *ctx, size_t bytes, void **memory);
    void (*release)(const nerve_kernel_ctx *ctx, void *memory);
    /* dst[0..bytes) = byte. */
    nerve_status (*set)(const nerve_kernel_ctx *ctx, void *dst, int byte, size_t bytes);
    /* Host to device, device to host, device to device. */
    nerve_status (*upload)(const nerve_kernel_ctx *ctx, void *dst, const void *src, size_t bytes);
    nerve_status (*download)(const nerve_kernel_ctx *ctx, void *dst, const void *src, size_t bytes);
    nerve_status (*copy)(const nerve_kernel_ctx *ctx, void *dst, const void *src, size_t bytes);
    /* Returns when every call made so far has finished. */
    nerve_status (*synchronize)(const nerve_kernel_ctx *ctx);
    /* Threads for the kernels (NULL where the device has none to set). */
    void (*set_threads)(int n);
};

/* The devices built in. */
const nerve_device *nerve_device_cpu(void);

/* How a device runs a kernel: its own, the generic composite, or not at all. */
typedef enum nerve_kernel_support {
    NERVE_KERNEL_NATIVE,
    NERVE_KERNEL_GENERIC,
    NERVE_KERNEL_MISSING
} nerve_kernel_support;

nerve_kernel_support nerve_device_supports(const nerve_device *device, nerve_kernel_id kernel);

/* *table = the device's kernels with every composite it leaves NULL filled
 * by its generic implementation (generic*.c). Core kernels it lacks stay
 * NULL: calling them through NERVE_KERNEL fails cleanly. */
void nerve_kernels_complete(const nerve_device *device, nerve_kernels *table);
/* *table = the device's core kernels and the generic version of every
 * composite, native or not: the device as a backend that wrote only the
 * core would run (tests/test_backend_ops.c checks it). */
void nerve_kernels_core_only(const nerve_device *device, nerve_kernels *table);

/* Fails a call: formats the message into ctx->err and returns status. */
nerve_status nerve_kernel_fail(const nerve_kernel_ctx *ctx, nerve_status status, const char *fmt,
                               ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* The failure of a kernel the device lacks: "device 'D' has no kernel 'K'". */
nerve_status nerve_kernel_missing(const nerve_kernel_ctx *ctx, const char *kernel);

/* Calls kernel `name` of ctx's table, or fails naming it and the device. */
#define NERVE_KERNEL(ctx, name, ...)                                                               \
    ((ctx)->kernels->name ? (ctx)->kernels->name((ctx), __VA_ARGS__)                               \
                          : nerve_kernel_missing((ctx), #name))

/* Returns from the calling function with expr's status unless it is NERVE_OK. */
#define NERVE_TRY(expr)                                                                            \
    do {                                                                                           \
        nerve_status nerve_try_status_ = (expr);                                                   \
        if (nerve_try_status_ != NERVE_OK) return nerve_try_status_;                               \
    } while (0)

#endif
