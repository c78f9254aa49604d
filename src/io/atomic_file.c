#include "io/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void release(nerve_atomic_file *file)
{
    free(file->path);
    free(file->temp_path);
    file->path = NULL;
    file->temp_path = NULL;
    file->stream = NULL;
}

nerve_status nerve_atomic_file_open(nerve_atomic_file *file, const char *path, nerve_error *err)
{
    /* Unique within the process by the counter, across processes by the pid;
     * O_EXCL makes a stale file of an earlier crash a retry, not a clobber. */
    static atomic_uint counter;
    memset(file, 0, sizeof *file);
    size_t size = strlen(path) + 64;
    file->path = malloc(strlen(path) + 1);
    file->temp_path = malloc(size);
    if (!file->path || !file->temp_path) {
        release(file);
        return nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory", path);
    }
    strcpy(file->path, path);
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        snprintf(file->temp_path, size, "%s.tmp%ld.%u", path, (long)getpid(),
                 atomic_fetch_add(&counter, 1));
        /* 0666 so that the umask decides, as for any newly created file. */
        fd = open(file->temp_path, O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        nerve_status status = nerve_error_set(err, NERVE_ERR_IO, "%s: cannot create %s: %s", path,
                                              file->temp_path, strerror(errno));
        release(file);
        return status;
    }
    file->stream = fdopen(fd, "wb");
    if (!file->stream) {
        nerve_status status = nerve_error_set(err, NERVE_ERR_IO, "%s: cannot open a stream: %s",
                                              path, strerror(errno));
        close(fd);
        unlink(file->temp_path);
        release(file);
        return status;
    }
    return NERVE_OK;
}

void nerve_atomic_file_abort(nerve_atomic_file *file)
{
    if (file->stream) fclose(file->stream);
    if (file->temp_path) unlink(file->temp_path);
    release(file);
}

/* The rename is durable only once the directory entry itself is synced. */
static int sync_directory_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    if (!slash) {
        dir = strdup(".");
    } else if (slash == path) {
        dir = strdup("/");
    } else {
        dir = strndup(path, (size_t)(slash - path));
    }
    if (!dir) return ENOMEM;
    int result = 0;
    int fd = open(dir, O_RDONLY);
    if (fd < 0) {
        result = errno;
    } else {
        /* Some file systems cannot sync a directory; there is nothing more to do there. */
        if (fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP) result = errno;
        close(fd);
    }
    free(dir);
    return result;
}

nerve_status nerve_atomic_file_commit(nerve_atomic_file *file, nerve_error *err)
{
    FILE *stream = file->stream;
    file->stream = NULL;
    if (ferror(stream) || fflush(stream) != 0 || fsync(fileno(stream)) != 0) {
        int saved = errno;
        fclose(stream);
        nerve_status status =
            nerve_error_set(err, NERVE_ERR_IO, "%s: write failed: %s", file->path, strerror(saved));
        nerve_atomic_file_abort(file);
        return status;
    }
    if (fclose(stream) != 0) {
        nerve_status status =
            nerve_error_set(err, NERVE_ERR_IO, "%s: write failed: %s", file->path, strerror(errno));
        nerve_atomic_file_abort(file);
        return status;
    }
    if (rename(file->temp_path, file->path) != 0) {
        nerve_status status = nerve_error_set(err, NERVE_ERR_IO, "%s: cannot replace: %s",
                                              file->path, strerror(errno));
        nerve_atomic_file_abort(file);
        return status;
    }
    int sync_error = sync_directory_of(file->path);
    nerve_status status = NERVE_OK;
    if (sync_error)
        status =
            nerve_error_set(err, NERVE_ERR_IO, "%s: written, but syncing its directory failed: %s",
                            file->path, strerror(sync_error));
    release(file);
    return status;
}
