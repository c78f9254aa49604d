/* stb_image's PNG and JPEG decoders and stb_image_resize, compiled into the
 * library here only (static: the nerve program's own stb files cannot
 * clash with them). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/image.h"

#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_MAX_DIMENSIONS NERVE_IMAGE_MAX_SIDE
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_STATIC
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#if defined(__GNUC__)
/* stb declares, static, functions its implementation leaves out with
 * STBI_ONLY_*: reported at the end of the file, so not popped. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#endif
#include <stb_image.h>
#include <stb_image_resize.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

bool nerve_image_is_image(const char *path)
{
    static const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    static const unsigned char jpeg[3] = {0xff, 0xd8, 0xff};
    unsigned char head[8];
    FILE *file = fopen(path, "rb");
    if (!file) return false;
    size_t n = fread(head, 1, sizeof head, file);
    fclose(file);
    return (n >= sizeof png && memcmp(head, png, sizeof png) == 0) ||
           (n >= sizeof jpeg && memcmp(head, jpeg, sizeof jpeg) == 0);
}

bool nerve_image_named_like_one(const char *path)
{
    static const char *const extensions[] = {"png", "jpg", "jpeg"};
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash)) return false;
    for (size_t i = 0; i < sizeof extensions / sizeof *extensions; i++) {
        const char *e = extensions[i], *s = dot + 1;
        while (*e && *s && tolower((unsigned char)*s) == *e) e++, s++;
        if (!*e && !*s) return true;
    }
    return false;
}

bool nerve_image_layout(const nerve_shape *shape, int *channels, int *height, int *width)
{
    const int64_t *d = shape->dim;
    int first = shape->ndim == 3 ? 1 : 0;
    if (shape->ndim == 3 && (d[0] < 1 || d[0] > 4)) return false;
    if (shape->ndim != 2 && shape->ndim != 3) return false;
    if (d[first] < 1 || d[first + 1] < 1 || d[first] > NERVE_IMAGE_MAX_SIDE ||
        d[first + 1] > NERVE_IMAGE_MAX_SIDE)
        return false;
    *channels = shape->ndim == 3 ? (int)d[0] : 1;
    *height = (int)d[first];
    *width = (int)d[first + 1];
    return true;
}

nerve_status nerve_image_info(const char *path, int *width, int *height, int *channels,
                              nerve_error *err)
{
    if (!stbi_info(path, width, height, channels))
        return nerve_error_set(err, NERVE_ERR_FORMAT,
                               "%s: not a readable PNG or JPEG image (stb_image: %s)", path,
                               stbi_failure_reason());
    return NERVE_OK;
}

nerve_status nerve_image_read(const char *path, int channels, int height, int width, bool invert,
                              float *out, nerve_error *err)
{
    int file_width, file_height, file_channels;
    unsigned char *pixels = stbi_load(path, &file_width, &file_height, &file_channels, channels);
    if (!pixels)
        return nerve_error_set(err, NERVE_ERR_FORMAT,
                               "%s: not a readable PNG or JPEG image (stb_image: %s)", path,
                               stbi_failure_reason());
    size_t plane = (size_t)width * (size_t)height;
    unsigned char *resized = pixels;
    if (file_width != width || file_height != height) {
        resized = malloc(plane * (size_t)channels);
        if (resized && !stbir_resize_uint8(pixels, file_width, file_height, 0, resized, width,
                                           height, 0, channels)) {
            free(resized);
            resized = NULL;
        }
    }
    if (resized) {
        /* Interleaved HWC pixels to channel-major CHW. */
        for (size_t c = 0; c < (size_t)channels; c++)
            for (size_t i = 0; i < plane; i++) {
                float v = (float)resized[i * (size_t)channels + c];
                out[c * plane + i] = invert ? 255.0f - v : v;
            }
    }
    if (resized != pixels) free(resized);
    stbi_image_free(pixels);
    if (!resized)
        return nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory resizing %dx%d to %dx%d",
                               path, file_width, file_height, width, height);
    return NERVE_OK;
}
