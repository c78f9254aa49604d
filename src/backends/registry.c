/* The devices built in, and the choice of one by name: the graph asks here
 * (nerve_graph_new, nerve_graph_set_backend) instead of naming one. "cuda"
 * (where built) also answers to "cuda:N", GPU N. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/registry.h"
#ifdef NERVE_WITH_CUDA
#include "backends/cuda/cuda.h"
#endif

/* Built in, in the order nerve_backend_name lists them. */
static const nerve_device *(*const devices[])(void) = {
    nerve_device_cpu,
    nerve_device_ref,
#if NERVE_HAVE_SEALED
    nerve_device_sealed,
#endif
#ifdef NERVE_WITH_CUDA
    nerve_device_cuda,
#endif
};
#define DEVICE_COUNT (int)(sizeof devices / sizeof devices[0])

static const nerve_device *device_at(int i)
{
    return i >= 0 && i < DEVICE_COUNT ? devices[i]() : NULL;
}

int nerve_backend_count(void) { return DEVICE_COUNT; }

#ifndef NERVE_WITH_CUDA
/* A build without the CUDA backend sees no GPU. */
int nerve_cuda_device_count(void) { return 0; }

nerve_status nerve_cuda_device_describe(int ordinal, char *text, size_t size)
{
    (void)ordinal;
    if (size) text[0] = '\0';
    return NERVE_ERR_INVALID;
}
#endif

const char *nerve_backend_name(int i)
{
    const nerve_device *d = device_at(i);
    return d ? d->name : NULL;
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

const nerve_device *nerve_device_find(const char *name)
{
    for (int i = 0; i < nerve_backend_count(); i++) {
        const nerve_device *d = device_at(i);
        int ordinal;
        if (strcmp(d->name, name) == 0) return d;
        /* an ordinal only where there can be several: the GPUs */
        if (!d->host_memory && split_ordinal(name, d->name, &ordinal)) return d;
    }
    return NULL;
}

bool nerve_device_usable(const nerve_device *device)
{
#ifdef NERVE_WITH_CUDA
    if (device == nerve_device_cuda()) return nerve_cuda_usable();
#endif
    return true;
}

nerve_status nerve_device_lookup(const char *name, const char *where, const nerve_device **out,
                                 nerve_error *err)
{
    *out = nerve_device_find(name);
#ifdef NERVE_WITH_CUDA
    /* Choosing a GPU opens it: no GPU is one line now, not a failure later. */
    int ordinal;
    if (*out == nerve_device_cuda() && split_ordinal(name, "cuda", &ordinal)) {
        nerve_status st = nerve_cuda_open(ordinal, err);
        if (st != NERVE_OK) *out = NULL;
        return st;
    }
#endif
    if (*out) return NERVE_OK;
    char list[128] = "";
    for (int i = 0; i < nerve_backend_count(); i++) {
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", nerve_backend_name(i));
    }
    return nerve_error_set(err, NERVE_ERR_INVALID, "%s: unknown backend '%s' (available: %s)",
                           where, name, list);
}
