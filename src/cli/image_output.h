/* Writing PNG images, for nerve augment's grid. */
#ifndef NERVE_CLI_IMAGE_OUTPUT_H
#define NERVE_CLI_IMAGE_OUTPUT_H

#include <stdio.h>

#include "nerve.h"

/* Encodes width x height pixels of `channels` bytes each (1 grey, 3 RGB),
 * row after row, as a PNG into stream; path names the file in messages. */
nerve_status cli_png_write(FILE *stream, const char *path, const unsigned char *pixels, int width,
                           int height, int channels, nerve_error *err);

#endif
