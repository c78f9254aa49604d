/* The devices built in, chosen by name: "cpu" (oneDNN and OpenMP), "ref"
 * (src/backends/ref, the portable reference), where POSIX memory protection
 * is, "sealed" (src/backends/sealed: the reference's core over memory the
 * host cannot touch, a check of the seam) and, in a build with CUDA, "cuda"
 * or "cuda:N" (src/backends/cuda, GPU N). The public API calls them
 * backends (nerve_backend_name). */#ifndef NERVE_REGISTRY_H
#define NERVE_REGISTRY_H

#include "backends/device.h"

const nerve_device *nerve_device_ref(void);
#if defined(__unix__) || defined(__APPLE__)
#define NERVE_HAVE_SEALED 1
const nerve_device *nerve_device_sealed(void);
#else
#define NERVE_HAVE_SEALED 0
#endif
/* The CUDA device; only in a build with it (NERVE_WITH_CUDA). */
const nerve_device *nerve_device_cuda(void);
/* The device called name ("cuda:N" is "cuda"), or NULL. */
const nerve_device *nerve_device_find(const char *name);
/* The same, or an error "<where>: unknown backend 'x' (available: cpu, ref)";
 * a GPU is opened here, so that a machine without one fails with one line
 * ("cuda: no CUDA GPU is available (...)"). */
nerve_status nerve_device_lookup(const char *name, const char *where, const nerve_device **out,
                                 nerve_error *err);
/* Whether the device can run here (false: a GPU backend with no GPU). */
bool nerve_device_usable(const nerve_device *device);

#endif
