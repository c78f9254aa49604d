/* PNG and JPEG files as one sample of a network's input, for nerve predict. */
#ifndef NERVE_CLI_IMAGE_INPUT_H
#define NERVE_CLI_IMAGE_INPUT_H

#include <stdbool.h>

#include "nerve.h"

/* True when the file starts with the PNG or JPEG signature. */
bool cli_is_image_file(const char *path);

/* Reads the image at path into a malloc'ed sample of numel(input) floats,
 * pixel values 0..255 (so that [data] scale and normalize apply as to the
 * training data):
 *   - input CxHxW (C 1 to 4) or HxW (one channel): the image is converted to
 *     C channels (colour to grey by luminance) and resized to HxW; the
 *     sample is channel-major, as NCHW tensors are;
 *   - input N (flat): the image is taken as it is when W*H*channels == N, or
 *     converted to grey when W*H == N; nothing is resized. */
nerve_status cli_image_input(const char *path, const nerve_shape *input, float **out,
                             nerve_error *err);

#endif
