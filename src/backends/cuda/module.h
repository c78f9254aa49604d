/* The CUDA backend as a module loaded at run time (docs/cuda.md, "The
 * module"): src/backends/cuda is built into its own shared object,
 * libnerve_cuda.so, which alone links cudart, cuBLAS and cuDNN. libnerve
 * opens it with dlopen only when a program asks for the cuda device
 * (src/backends/cuda_module.c), so a CPU run never maps the CUDA libraries.
 *
 * This header is the whole contract between the two: the module exports
 * one function, NERVE_CUDA_MODULE_ENTRY, which receives the few engine
 * functions it calls (the module does not link libnerve: a program may
 * hold nerve as a static library, whose functions are not exported) and
 * returns its device and GPU queries. Both sides are built from the same
 * tree; the entry refuses a caller whose version or structure sizes differ. */
#ifndef NERVE_CUDA_MODULE_H
#define NERVE_CUDA_MODULE_H

#include "backends/device.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The module's file name, and the entry point it exports. */
#define NERVE_CUDA_MODULE_FILE "libnerve_cuda.so"
#define NERVE_CUDA_MODULE_ENTRY "nerve_cuda_module_entry"

/* The sizes of the structures the two sides pass to each other: a module
 * built from another tree is refused instead of misreading them. */
#define NERVE_CUDA_LAYOUT                                                                          \
    {sizeof(nerve_device), sizeof(nerve_kernels), sizeof(nerve_kernel_ctx), sizeof(nerve_error),   \
     sizeof(nerve_conv_geometry), sizeof(nerve_recurrent_sequence), sizeof(nerve_optim_step),      \
     sizeof(nerve_real)}
#define NERVE_CUDA_LAYOUT_COUNT 8

/* What libnerve lends the module: its version, layout, and the engine
 * functions the module calls. */
typedef struct nerve_cuda_engine {
    const char *version; /* NERVE_VERSION */
    size_t layout[NERVE_CUDA_LAYOUT_COUNT];
    nerve_status (*error_set)(nerve_error *err, nerve_status status, const char *fmt, ...);
    nerve_status (*kernel_fail)(const nerve_kernel_ctx *ctx, nerve_status status,
                                const char *fmt, ...);
} nerve_cuda_engine;

/* What the module gives back (backend_cuda.c): the device, and the GPUs. */
typedef struct nerve_cuda_module {
    const nerve_device *device;
    /* Opens GPU `ordinal` (-1: the one opened before, else 0); one line
     * where there is none ("cuda: no CUDA GPU is available (...)"). */
    nerve_status (*open)(int ordinal, nerve_error *err);
    /* nerve_cuda_device_count and nerve_cuda_device_describe (nerve.h). */
    int (*device_count)(void);
    nerve_status (*describe)(int ordinal, char *text, size_t size);
} nerve_cuda_module;

/* The entry (NERVE_CUDA_MODULE_ENTRY, defined in backend_cuda.c): the
 * module's table, or NULL with *err set where the engine is not the one it
 * was built with. */
__attribute__((visibility("default"))) const nerve_cuda_module *
nerve_cuda_module_entry(const nerve_cuda_engine *engine, nerve_error *err);
typedef const nerve_cuda_module *(*nerve_cuda_module_entry_fn)(const nerve_cuda_engine *engine,
                                                                nerve_error *err);

#ifdef __cplusplus
}
#endif

#endif
