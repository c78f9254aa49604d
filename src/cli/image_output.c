#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/image_output.h"

/* stb's encoder: defined here only (the nerve program, not the library). */
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#endif
#include <stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

static void write_to_stream(void *stream, void *data, int size)
{
    fwrite(data, 1, (size_t)size, stream);
}

nerve_status cli_png_write(FILE *stream, const char *path, const unsigned char *pixels, int width,
                           int height, int channels, nerve_error *err)
{
    if (!stbi_write_png_to_func(write_to_stream, stream, width, height, channels, pixels,
                                width * channels))
        return nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory encoding the PNG", path);
    if (ferror(stream))
        return nerve_error_set(err, NERVE_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    return NERVE_OK;
}

/* Pixels between tiles, and their grey. */
#define GRID_GAP 2
#define GRID_BACKGROUND 128

static int64_t grid_side(int64_t tiles, int64_t tile)
{
    return tiles * tile + (tiles - 1) * GRID_GAP;
}

cli_grid cli_grid_layout(int64_t rows, int64_t columns, int64_t channels, int64_t height,
                         int64_t width, int64_t zoom)
{
    cli_grid l = {.rows = rows, .columns = columns, .channels = channels, .height = height,
                  .width = width, .zoom = zoom};
    l.out_channels = channels == 3 ? 3 : 1;
    l.pixel_width = grid_side(columns, width * zoom);
    l.pixel_height = grid_side(rows, height * zoom);
    return l;
}

unsigned char *cli_grid_canvas(const cli_grid *l)
{
    size_t size = (size_t)(l->pixel_width * l->pixel_height * l->out_channels);
    unsigned char *pixels = malloc(size);
    if (pixels) memset(pixels, GRID_BACKGROUND, size);
    return pixels;
}

void cli_grid_draw(const cli_grid *l, const nerve_real *image, int64_t row, int64_t column,
                   double low, double high, unsigned char *pixels)
{
    int64_t plane = l->height * l->width;
    double to_byte = 255.0 / (high - low);
    int64_t top = row * (l->height * l->zoom + GRID_GAP);
    int64_t left = column * (l->width * l->zoom + GRID_GAP);
    for (int64_t y = 0; y < l->height * l->zoom; y++) {
        for (int64_t x = 0; x < l->width * l->zoom; x++) {
            int64_t at = (y / l->zoom) * l->width + x / l->zoom;
            unsigned char *out =
                pixels + ((top + y) * l->pixel_width + left + x) * l->out_channels;
            for (int k = 0; k < l->out_channels; k++) {
                double v = 0;
                if (l->out_channels == 3) {
                    v = image[k * plane + at];
                } else {
                    for (int64_t c = 0; c < l->channels; c++) v += image[c * plane + at];
                    v /= (double)l->channels;
                }
                double byte = (v - low) * to_byte + 0.5;
                out[k] = (unsigned char)(byte < 0 ? 0 : byte > 255 ? 255 : byte);
            }
        }
    }
}
