/* One way to open the data files, plain or gzip (gzip_file.h). */
#include "data/gzip_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

nerve_status nerve_gzip_open(const char *path, gzFile *stream, int64_t *file_size,
                             nerve_error *err)
{
    *stream = NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return nerve_error_set(err, NERVE_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat info;
    /* A directory or a pipe would make gzread fail or block later, with a
     * worse message. */
    if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        close(fd);
        return nerve_error_set(err, NERVE_ERR_IO, "%s: not a regular file", path);
    }
    if (file_size) *file_size = info.st_size;
    *stream = gzdopen(fd, "rb");
    if (!*stream) {
        close(fd);
        return nerve_error_set(err, NERVE_ERR_NOMEM, "%s: cannot allocate a zlib stream", path);
    }
    /* zlib reads its input 8 KiB at a time by default: 3,300 reads for
     * Fashion-MNIST's training images; 128 KiB makes them 200. */
    gzbuffer(*stream, 128 * 1024);
    return NERVE_OK;
}
