/* Inputs as files, for parsers that read a path (fuzz_support.h). */
#define _GNU_SOURCE
#include "fuzz_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

int fuzz_file_open(const uint8_t *data, size_t size, char path[FUZZ_PATH_SIZE])
{
    int fd = memfd_create("nerve-fuzz", MFD_CLOEXEC);
    if (fd < 0) return -1;
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)n;
    }
    snprintf(path, FUZZ_PATH_SIZE, "/proc/self/fd/%d", fd);
    return fd;
}

void fuzz_file_close(int fd)
{
    if (fd >= 0) close(fd);
}

uint8_t *fuzz_gzip(const uint8_t *data, size_t size, size_t *compressed_size)
{
    z_stream z = {0};
    /* 15 + 16: a gzip wrapper, as the .gz files nerve reads. */
    if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return NULL;
    uLong bound = deflateBound(&z, (uLong)size);
    uint8_t *out = malloc(bound);
    if (!out) {
        deflateEnd(&z);
        return NULL;
    }
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)size;
    z.next_out = out;
    z.avail_out = (uInt)bound;
    int done = deflate(&z, Z_FINISH);
    *compressed_size = z.total_out;
    deflateEnd(&z);
    if (done != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}
