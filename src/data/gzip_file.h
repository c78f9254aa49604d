/* Opening a data file that may or may not be gzip-compressed (zlib reads
 * both through one gzFile, recognising gzip by its magic). */
#ifndef NERVE_GZIP_FILE_H
#define NERVE_GZIP_FILE_H

#include <stdint.h>
#include <zlib.h>

#include "nerve.h"

/* Opens path, which must be a regular file, as a zlib stream; *file_size is
 * its size on disk. Errors name the path. */
nerve_status nerve_gzip_open(const char *path, gzFile *stream, int64_t *file_size,
                             nerve_error *err);

#endif
