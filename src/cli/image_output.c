#include <errno.h>
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
