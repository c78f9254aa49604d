/* What the fuzz targets share: the parsers take paths, so each input is
 * written to an in-memory file first. */
#ifndef NERVE_FUZZ_SUPPORT_H
#define NERVE_FUZZ_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

/* Room for "/proc/self/fd/<n>". */
#define FUZZ_PATH_SIZE 64

/* A file holding size bytes of data, named by path (a memfd, so nothing
 * touches the disk); returns its descriptor for fuzz_file_close, or -1. */
int fuzz_file_open(const uint8_t *data, size_t size, char path[FUZZ_PATH_SIZE]);
void fuzz_file_close(int fd);

/* data gzip-compressed (level 1), malloc'ed, or NULL when out of memory. */
uint8_t *fuzz_gzip(const uint8_t *data, size_t size, size_t *compressed_size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
