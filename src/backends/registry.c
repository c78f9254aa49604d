/* The devices built in, and the choice of one by name: the graph asks here
 * (nerve_graph_new, nerve_graph_set_backend) instead of naming one. "cuda"
 * (where built) also answers to "cuda:N", GPU N; it is a module loaded
 * when first asked for (cuda_module.c), so listing the names loads nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/registry.h"

/* Built in, in the order nerve_backend_name lists them; "cuda" follows. */
static const nerve_device *(*const devices[])(void) = {
    nerve_device_cpu,
    nerve_device_ref,
#if NERVE_HAVE_SEALED
    nerve_device_sealed,
#endif
};
#define DEVICE_COUNT (int)(sizeof devices / sizeof devices[0])
#ifdef NERVE_WITH_CUDA
#define CUDA_BUILT 1
#else
#define CUDA_BUILT 0
/* A build without the CUDA backend sees no GPU. */
int nerve_cuda_device_count(void) { return 0; }

nerve_status nerve_cuda_device_describe(int ordinal, char *text, size_t size)
{
    (void)ordinal;
    if (size) snprintf(text, size, "this nerve was built without the CUDA backend");
    return NERVE_ERR_INVALID;
}
#endif

int nerve_backend_count(void) { return DEVICE_COUNT + CUDA_BUILT; }

const char *nerve_backend_name(int i)
{
    if (i >= 0 && i < DEVICE_COUNT) return devices[i]()->name;
    return CUDA_BUILT && i == DEVICE_COUNT ? "cuda" : NULL;
}

/* name is "base:N" for a device called base: *ordinal = N (else -1). */
static bool split_ordinal(const char *name, const char *base, int *ordinal)
{
    size_t n = strlen(base);
    *ordinal = -1;
    if (strncmp(name, base, n) != 0) return false;
    if (name[n] == '\0') return true;
    if (name[n] != ':' || name[n + 1] < '0' || name[n + 1] > '9') return false;
    char *end;
    long value = strtol(name + n + 1, &end, 10);
    if (*end || value > 1000) return false;
    *ordinal = (int)value;
    return true;
}

/* Whether name is "cuda" or "cuda:N" in a build with the backend (*ordinal: N or -1). */
static bool names_cuda(const char *name, int *ordinal)
{
    return CUDA_BUILT && split_ordinal(name, "cuda", ordinal);
}

bool nerve_device_known(const char *name)
{
    int ordinal;
    for (int i = 0; i < DEVICE_COUNT; i++)
        if (strcmp(devices[i]()->name, name) == 0) return true;
    return names_cuda(name, &ordinal);
}

const nerve_device *nerve_device_find(const char *name)
{
    for (int i = 0; i < DEVICE_COUNT; i++)
        if (strcmp(devices[i]()->name, name) == 0) return devices[i]();
#ifdef NERVE_WITH_CUDA
    int ordinal;
    if (names_cuda(name, &ordinal)) return nerve_cuda_module_device(NULL);
#endif
    return NULL;
}

bool nerve_device_usable(const nerve_device *device)
{
    if (!device) return false; /* nerve_device_find's answer where cuda's module is missing */
#ifdef NERVE_WITH_CUDA
    /* by name: asking about another device loads nothing */
    if (strcmp(device->name, "cuda") == 0) return nerve_cuda_module_open(-1, NULL) == NERVE_OK;
#endif
    return true;
}

nerve_status nerve_device_lookup(const char *name, const char *where, const nerve_device **out,
                                 nerve_error *err)
{
#ifdef NERVE_WITH_CUDA
    /* Choosing a GPU loads the module and opens the GPU: a missing module,
     * library or GPU is one line now, not a failure later. */
    int ordinal;
    if (names_cuda(name, &ordinal)) {
        nerve_status st = nerve_cuda_module_open(ordinal, err);
        *out = st == NERVE_OK ? nerve_cuda_module_device(err) : NULL;
        return st;
    }
#endif
    *out = nerve_device_find(name);
    if (*out) return NERVE_OK;
    char list[128] = "";
    for (int i = 0; i < nerve_backend_count(); i++) {
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", nerve_backend_name(i));
    }
    return nerve_error_set(err, NERVE_ERR_INVALID, "%s: unknown backend '%s' (available: %s)",
                           where, name, list);
}
