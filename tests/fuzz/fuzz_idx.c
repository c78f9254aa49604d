/* IDX images and labels, plain and gzip (src/data/idx.c, gzip_file.c).
 * Input: a mode byte, a 4-byte little-endian length L, L bytes of the images
 * file, then the labels file. Mode bit 0: load images and labels (else the
 * images alone); bit 1: gzip both parts first, so that the gzip path sees
 * every header the plain path does (seeds also hold real .gz files). */
#include <stdlib.h>

#include "fuzz_support.h"

#include "nerve.h"

static void load(const uint8_t *images, size_t images_size, const uint8_t *labels,
                 size_t labels_size, bool with_labels)
{
    char images_path[FUZZ_PATH_SIZE], labels_path[FUZZ_PATH_SIZE];
    int images_fd = fuzz_file_open(images, images_size, images_path);
    int labels_fd = fuzz_file_open(labels, labels_size, labels_path);
    if (images_fd >= 0 && labels_fd >= 0) {
        nerve_dataset ds;
        nerve_error err = {0};
        nerve_status status = with_labels ? nerve_idx_load(images_path, labels_path, &ds, &err)
                                          : nerve_idx_load_images(images_path, &ds, &err);
        if (status == NERVE_OK) nerve_dataset_free(&ds);
    }
    fuzz_file_close(images_fd);
    fuzz_file_close(labels_fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5) return 0;
    unsigned mode = data[0];
    size_t split = (size_t)data[1] | (size_t)data[2] << 8 | (size_t)data[3] << 16 |
                   (size_t)data[4] << 24;
    data += 5;
    size -= 5;
    if (split > size) split = size;
    const uint8_t *images = data, *labels = data + split;
    size_t images_size = split, labels_size = size - split;
    if (!(mode & 2)) {
        load(images, images_size, labels, labels_size, mode & 1);
        return 0;
    }
    size_t gz_images_size = 0, gz_labels_size = 0;
    uint8_t *gz_images = fuzz_gzip(images, images_size, &gz_images_size);
    uint8_t *gz_labels = fuzz_gzip(labels, labels_size, &gz_labels_size);
    if (gz_images && gz_labels) load(gz_images, gz_images_size, gz_labels, gz_labels_size, mode & 1);
    free(gz_images);
    free(gz_labels);
    return 0;
}
