/* The size field of the structs a caller fills: what makes adding a field
 * to one safe for programs built against an older nerve.h (docs/api.md,
 * "Compatibility"). */
#include "core/options.h"

#include <string.h>

bool nerve_options_read(void *out, size_t full, const void *in, size_t base, const char *what,
                        nerve_error *err)
{
    memset(out, 0, full);
    if (!in) {
        memcpy(out, &full, sizeof full);
        return true;
    }
    size_t size;
    memcpy(&size, in, sizeof size);
    if (size == 0) size = base;
    if (size < base || size > full) {
        nerve_error_set(err, NERVE_ERR_INVALID,
                        "%s: options of %zu bytes, this libnerve %s takes %zu to %zu (%s): "
                        "start them from NERVE_SIZED(type) or the defaults function, and build "
                        "against the nerve.h of the libnerve you run",
                        what, size, nerve_version(), base, full,
                        size > full ? "a newer nerve.h?" : "not a nerve options struct");
        return false;
    }
    memcpy(out, in, size);
    memcpy(out, &full, sizeof full);
    return true;
}

void nerve_options_write(void *out, size_t size, const void *value, size_t full)
{
    if (size < sizeof size) return;
    memset(out, 0, size);
    memcpy(out, value, size < full ? size : full);
    memcpy(out, &size, sizeof size);
}
