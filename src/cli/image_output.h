/* Writing PNG images: the grids of nerve augment and nerve gan. */
#ifndef NERVE_CLI_IMAGE_OUTPUT_H
#define NERVE_CLI_IMAGE_OUTPUT_H

#include <stdio.h>

#include "nerve.h"

/* Encodes width x height pixels of `channels` bytes each (1 grey, 3 RGB),
 * row after row, as a PNG into stream; path names the file in messages. */
nerve_status cli_png_write(FILE *stream, const char *path, const unsigned char *pixels, int width,
                           int height, int channels, nerve_error *err);

/* A grid of image tiles (C x H x W each, magnified zoom times) with a grey
 * gap between them: grey for 1 channel or the mean of several, colour for 3. */
typedef struct cli_grid {
    int64_t rows, columns;
    int64_t channels, height, width, zoom;
    int64_t pixel_width, pixel_height;
    int out_channels; /* of the PNG: 3 for colour images, else 1 */
} cli_grid;

cli_grid cli_grid_layout(int64_t rows, int64_t columns, int64_t channels, int64_t height,
                         int64_t width, int64_t zoom);
/* The grid's pixels, all the gap's grey (free() them), or NULL. */
unsigned char *cli_grid_canvas(const cli_grid *l);
/* Draws image as the tile at (row, column); values map from [low, high] to
 * 0..255, clamped. */
void cli_grid_draw(const cli_grid *l, const nerve_real *image, int64_t row, int64_t column,
                   double low, double high, unsigned char *pixels);

#endif
