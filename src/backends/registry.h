/* The devices built in, chosen by name: "cpu" (oneDNN and OpenMP), "ref"
 * (src/backends/ref, the portable reference) and, where POSIX memory
 * protection is, "sealed" (src/backends/sealed: the reference's core over
 * memory the host cannot touch, a check of the seam). The public API calls
 * them backends (nerve_backend_name). */
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
/* The device called name, or NULL. */
const nerve_device *nerve_device_find(const char *name);
/* The same, or an error "<where>: unknown backend 'x' (available: cpu, ref)". */
nerve_status nerve_device_lookup(const char *name, const char *where, const nerve_device **out,
                                 nerve_error *err);

#endif
