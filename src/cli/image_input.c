#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/image_input.h"

/* stb's decoders only for the formats nerve accepts, and a size bound far
 * above any network input, so that a corrupt header cannot ask for
 * gigabytes. */
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_MAX_DIMENSIONS (1 << 13)
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif
#include <stb_image.h>
#include <stb_image_resize.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

bool cli_is_image_file(const char *path)
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

/* The channels, height and width the image must be read at, or 0 channels
 * when the input cannot take this image. */
static void target_layout(const nerve_shape *input, int width, int height, int channels,
                          int *want_channels, int *want_height, int *want_width)
{
    *want_channels = 0;
    if (input->ndim == 3 && input->dim[0] >= 1 && input->dim[0] <= 4 &&
        input->dim[1] <= STBI_MAX_DIMENSIONS && input->dim[2] <= STBI_MAX_DIMENSIONS) {
        *want_channels = (int)input->dim[0];
        *want_height = (int)input->dim[1];
        *want_width = (int)input->dim[2];
    } else if (input->ndim == 2 && input->dim[0] <= STBI_MAX_DIMENSIONS &&
               input->dim[1] <= STBI_MAX_DIMENSIONS) {
        *want_channels = 1;
        *want_height = (int)input->dim[0];
        *want_width = (int)input->dim[1];
    } else if (input->ndim == 1) {
        int64_t pixels = (int64_t)width * height;
        if (pixels * channels == input->dim[0])
            *want_channels = channels;
        else if (pixels == input->dim[0])
            *want_channels = 1;
        *want_height = height;
        *want_width = width;
    }
}

nerve_status cli_image_input(const char *path, const nerve_shape *input, float **out,
                             nerve_error *err)
{
    *out = NULL;
    int width, height, channels;
    if (!stbi_info(path, &width, &height, &channels))
        return nerve_error_set(err, NERVE_ERR_FORMAT,
                               "%s: not a readable PNG or JPEG image (stb_image: %s)", path,
                               stbi_failure_reason());
    int want_channels, want_height, want_width;
    target_layout(input, width, height, channels, &want_channels, &want_height, &want_width);
    char shape[64];
    if (!want_channels)
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "%s: a %dx%d image with %d channels does not fit the network "
                               "input %s (an image input is CxHxW or HxW; a flat input of N "
                               "needs width*height*channels = N)",
                               path, width, height, channels,
                               nerve_shape_format(input, shape, sizeof shape));
    if (want_width < 1 || want_height < 1)
        return nerve_error_set(err, NERVE_ERR_SHAPE, "%s: the network input %s is empty", path,
                               nerve_shape_format(input, shape, sizeof shape));

    unsigned char *pixels = stbi_load(path, &width, &height, &channels, want_channels);
    if (!pixels)
        return nerve_error_set(err, NERVE_ERR_FORMAT,
                               "%s: corrupt or unsupported image (stb_image: %s)", path,
                               stbi_failure_reason());
    size_t plane = (size_t)want_width * (size_t)want_height;
    unsigned char *resized = pixels;
    if (width != want_width || height != want_height) {
        resized = malloc(plane * (size_t)want_channels);
        if (resized && !stbir_resize_uint8(pixels, width, height, 0, resized, want_width,
                                           want_height, 0, want_channels)) {
            free(resized);
            resized = NULL;
        }
    }
    float *sample = resized ? malloc(plane * (size_t)want_channels * sizeof *sample) : NULL;
    if (sample) {
        /* Interleaved HWC pixels to channel-major CHW. */
        size_t channels_out = (size_t)want_channels;
        for (size_t c = 0; c < channels_out; c++)
            for (size_t i = 0; i < plane; i++)
                sample[c * plane + i] = (float)resized[i * channels_out + c];
    }
    if (resized != pixels) free(resized);
    stbi_image_free(pixels);
    if (!sample)
        return nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory resizing to %dx%d", path,
                               want_width, want_height);
    *out = sample;
    return NERVE_OK;
}
