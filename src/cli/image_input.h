/* PNG and JPEG files as one sample of a network's input, for nerve predict. */
#ifndef NERVE_CLI_IMAGE_INPUT_H
#define NERVE_CLI_IMAGE_INPUT_H

#include <stdbool.h>

#include "nerve.h"

/* Reads the image at path into a malloc'ed sample of numel(input) floats,
 * pixel values 0..255 (so that [data] scale and normalize apply as to the
 * training data), 255 - value with invert:
 *   - input CxHxW (C 1 to 4) or HxW (one channel): the image is converted to
 *     C channels (colour to grey by luminance) and resized to HxW; the
 *     sample is channel-major, as NCHW tensors are;
 *   - input N (flat) and an image shape CxHxW or HxW of N values (the
 *     training images', saved with the weights: nerve_model_image_shape):
 *     converted and resized to that shape, as above;
 *   - input N (flat) and no such shape: the image is taken as it is when
 *     W*H*channels == N, or converted to grey when W*H == N. */
nerve_status cli_image_input(const char *path, const nerve_shape *input,
                             const nerve_shape *image_shape, bool invert, float **out,
                             nerve_error *err);

#endif
