#include <stdarg.h>
#include <stdio.h>

#include "nerve.h"

nerve_status nerve_error_set(nerve_error *err, nerve_status status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        err->status = status;
    }
    return status;
}

const char *nerve_status_name(nerve_status status)
{
    switch (status) {
    case NERVE_OK: return "ok";
    case NERVE_ERR_INVALID: return "invalid argument";
    case NERVE_ERR_IO: return "i/o error";
    case NERVE_ERR_FORMAT: return "malformed file";
    case NERVE_ERR_SHAPE: return "shape mismatch";
    case NERVE_ERR_NOMEM: return "out of memory";
    case NERVE_ERR_NUMERIC: return "non-finite value";
    case NERVE_ERR_STOPPED: return "stopped on request";
    case NERVE_ERR_PEER: return "another rank failed";
    }
    return "unknown status";
}
