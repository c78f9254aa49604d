/* What every device shares: its kernel table completed with the generic
 * composites, the question whether it runs a kernel, and failure messages. */
#include <stdarg.h>
#include <stdio.h>

#include "backends/device.h"
#include "backends/generic.h"

#define NERVE_KERNEL_NAME(name, params) #name,
static const char *const kernel_names[] = {NERVE_ALL_KERNELS(NERVE_KERNEL_NAME)};
#undef NERVE_KERNEL_NAME

const char *nerve_kernel_name(nerve_kernel_id id)
{
    return (unsigned)id < (unsigned)NERVE_KERNEL_COUNT ? kernel_names[id] : "unknown";
}

/* Whether the table holds kernel id. */
static bool has_kernel(const nerve_kernels *table, nerve_kernel_id id)
{
    switch (id) {
#define NERVE_KERNEL_CASE(name, params)                                                            \
    case NERVE_KERNEL_##name: return table->name != NULL;
        NERVE_ALL_KERNELS(NERVE_KERNEL_CASE)
#undef NERVE_KERNEL_CASE
    case NERVE_KERNEL_COUNT: break;
    }
    return false;
}

/* Every kernel but the core has a generic version. */
static bool is_composite(nerve_kernel_id id)
{
    switch (id) {
#define NERVE_KERNEL_CASE(name, params)                                                            \
    case NERVE_KERNEL_##name: return false;
        NERVE_CORE_KERNELS(NERVE_KERNEL_CASE)
#undef NERVE_KERNEL_CASE
    default: return id < NERVE_KERNEL_COUNT;
    }
}

nerve_kernel_support nerve_device_supports(const nerve_device *device, nerve_kernel_id kernel)
{
    if (has_kernel(device->kernels, kernel)) return NERVE_KERNEL_NATIVE;
    return is_composite(kernel) ? NERVE_KERNEL_GENERIC : NERVE_KERNEL_MISSING;
}

#define NERVE_KERNEL_FILL(name, params)                                                            \
    if (!table->name) table->name = nerve_generic_##name;

void nerve_kernels_complete(const nerve_device *device, nerve_kernels *table)
{
    *table = *device->kernels;
    NERVE_COMPOSITE_KERNELS(NERVE_KERNEL_FILL)
    NERVE_OP_KERNELS(NERVE_KERNEL_FILL)
}

void nerve_kernels_core_only(const nerve_device *device, nerve_kernels *table)
{
    *table = (nerve_kernels){0};
#define NERVE_KERNEL_CORE(name, params) table->name = device->kernels->name;
    NERVE_CORE_KERNELS(NERVE_KERNEL_CORE)
#undef NERVE_KERNEL_CORE
    NERVE_COMPOSITE_KERNELS(NERVE_KERNEL_FILL)
    NERVE_OP_KERNELS(NERVE_KERNEL_FILL)
}
#undef NERVE_KERNEL_FILL

nerve_status nerve_kernel_fail(const nerve_kernel_ctx *ctx, nerve_status status, const char *fmt,
                               ...)
{
    if (ctx && ctx->err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ctx->err->message, sizeof ctx->err->message, fmt, ap);
        va_end(ap);
        ctx->err->status = status;
    }
    return status;
}

nerve_status nerve_kernel_missing(const nerve_kernel_ctx *ctx, const char *kernel)
{
    return nerve_kernel_fail(ctx, NERVE_ERR_INVALID,
                             "device '%s' has no kernel '%s' (a core kernel: every device needs it)",
                             ctx->device->name, kernel);
}
