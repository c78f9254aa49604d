/* PNG and JPEG images as samples: decoded by stb_image, converted to the
 * channels a network takes and resized to its height and width. Used by
 * [data] format = folder and by nerve predict. */
#ifndef NERVE_DATA_IMAGE_H
#define NERVE_DATA_IMAGE_H

#include <stdbool.h>

#include "nerve.h"

/* The largest width or height decoded: far above any network input, so that
 * a corrupt header cannot ask for gigabytes. */
#define NERVE_IMAGE_MAX_SIDE (1 << 13)

/* True when the file starts with the PNG or JPEG signature. */
bool nerve_image_is_image(const char *path);
/* True when the file name ends in .png, .jpg or .jpeg (any case). */
bool nerve_image_named_like_one(const char *path);
/* The channels, height and width of an image shape: CxHxW (C 1 to 4) or
 * HxW (one channel). False for any other shape. */
bool nerve_image_layout(const nerve_shape *shape, int *channels, int *height, int *width);
/* The size and channel count stored in the image's header. */
nerve_status nerve_image_info(const char *path, int *width, int *height, int *channels,
                              nerve_error *err);
/* Decodes the image at path into out (channels * height * width floats,
 * channel-major as an NCHW tensor, pixel values 0..255 so that [data] scale
 * and normalize apply as to other data): converted to `channels` (colour to
 * grey by luminance, grey to colour by copying) and resized to height x
 * width. invert: 255 - each value (for a dark object on a light ground
 * given to a network trained on light-on-dark images). */
nerve_status nerve_image_read(const char *path, int channels, int height, int width, bool invert,
                              float *out, nerve_error *err);

#endif
