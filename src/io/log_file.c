#include "io/log_file.h"

nerve_status nerve_log_file_close(FILE **file, const char *path, const char *what,
                                  nerve_error *err)
{
    if (!*file) return NERVE_OK;
    int failed = ferror(*file) | fclose(*file);
    *file = NULL;
    if (failed) return nerve_error_set(err, NERVE_ERR_IO, "%s: writing %s failed", path, what);
    return NERVE_OK;
}
