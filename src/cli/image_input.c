#include <stdio.h>
#include <stdlib.h>

#include "cli/image_input.h"
#include "data/image.h"

/* The channels, height and width the image must be read at, or false when
 * the input cannot take this image. */
static bool target_layout(const nerve_shape *input, const nerve_shape *image_shape, int width,
                          int height, int channels, int *want_channels, int *want_height,
                          int *want_width)
{
    if (nerve_image_layout(input, want_channels, want_height, want_width)) return true;
    if (input->ndim != 1) return false;
    if (image_shape && nerve_shape_numel(image_shape) == input->dim[0] &&
        nerve_image_layout(image_shape, want_channels, want_height, want_width))
        return true;
    int64_t pixels = (int64_t)width * height;
    *want_height = height;
    *want_width = width;
    if (pixels * channels == input->dim[0])
        *want_channels = channels;
    else if (pixels == input->dim[0])
        *want_channels = 1;
    else
        return false;
    return true;
}

nerve_status cli_image_input(const char *path, const nerve_shape *input,
                             const nerve_shape *image_shape, bool invert, float **out,
                             nerve_error *err)
{
    *out = NULL;
    int width, height, channels;
    nerve_status status = nerve_image_info(path, &width, &height, &channels, err);
    if (status) return status;
    int want_channels, want_height, want_width;
    char shape[64];
    if (!target_layout(input, image_shape, width, height, channels, &want_channels, &want_height,
                       &want_width))
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "%s: a %dx%d image with %d channels does not fit the network "
                               "input %s (an image input is CxHxW or HxW; a flat input of N "
                               "is resized to the training images' shape when the weights "
                               "record it, else needs width*height*channels = N)",
                               path, width, height, channels,
                               nerve_shape_format(input, shape, sizeof shape));
    size_t size = (size_t)want_channels * (size_t)want_height * (size_t)want_width;
    float *sample = malloc(size * sizeof *sample);
    if (!sample)
        return nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory for a %dx%d image", path,
                               want_width, want_height);
    status = nerve_image_read(path, want_channels, want_height, want_width, invert, sample, err);
    if (status) {
        free(sample);
        return status;
    }
    *out = sample;
    return NERVE_OK;
}
