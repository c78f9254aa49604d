/* The devices built in, chosen by name: "cpu" (oneDNN and OpenMP), "ref"
 * (src/backends/ref, the portable reference), where POSIX memory protection
 * is, "sealed" (src/backends/sealed: the reference's core over memory the
 * host cannot touch, a check of the seam) and, in a build with CUDA, "cuda"
 * or "cuda:N" (src/backends/cuda, GPU N, a module loaded when first asked
 * for). The public API calls them backends (nerve_backend_name). */
#ifndef NERVE_REGISTRY_H
#define NERVE_REGISTRY_H

#include "backends/device.h"

const nerve_device *nerve_device_ref(void);
#if defined(__unix__) || defined(__APPLE__)
#define NERVE_HAVE_SEALED 1
const nerve_device *nerve_device_sealed(void);
#else
#define NERVE_HAVE_SEALED 0
#endif
/* In a build with the CUDA backend (NERVE_WITH_CUDA), its module
 * (cuda_module.c), loaded on the first call: the device, or NULL with *err
 * saying which file could not be loaded and why; and GPU `ordinal` opened
 * (-1: the one opened before, else 0), or one line saying why not. */
const nerve_device *nerve_cuda_module_device(nerve_error *err);
nerve_status nerve_cuda_module_open(int ordinal, nerve_error *err);
/* Whether name is a backend's ("cuda:N" is "cuda"), without loading one. */
bool nerve_device_known(const char *name);
/* The device called name ("cuda:N" is "cuda", which loads its module), or
 * NULL. */
const nerve_device *nerve_device_find(const char *name);
/* The same, or an error "<where>: unknown backend 'x' (available: cpu, ref)";
 * a GPU is opened here, so that a machine without one fails with one line
 * ("cuda: no CUDA GPU is available (...)"). */
nerve_status nerve_device_lookup(const char *name, const char *where, const nerve_device **out,
                                 nerve_error *err);
/* Whether the device can run here (false: a GPU backend with no GPU, or
 * NULL). */
bool nerve_device_usable(const nerve_device *device);

#endif
