/* The devices built in, and the choice of one by name: the graph asks here
 * (nerve_graph_new, nerve_graph_set_backend) instead of naming one. */
#include <stdio.h>
#include <string.h>

#include "backends/registry.h"

static const nerve_device *device_at(int i)
{
    switch (i) {
    case 0: return nerve_device_cpu();
    case 1: return nerve_device_ref();
#if NERVE_HAVE_SEALED
    case 2: return nerve_device_sealed();
#endif
    default: return NULL;
    }
}

int nerve_backend_count(void) { return 2 + NERVE_HAVE_SEALED; }

const char *nerve_backend_name(int i)
{
    const nerve_device *d = device_at(i);
    return d ? d->name : NULL;
}

const nerve_device *nerve_device_find(const char *name)
{
    for (int i = 0; i < nerve_backend_count(); i++)
        if (strcmp(device_at(i)->name, name) == 0) return device_at(i);
    return NULL;
}

nerve_status nerve_device_lookup(const char *name, const char *where, const nerve_device **out,
                                 nerve_error *err)
{
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
