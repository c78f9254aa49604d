/* nerve augment: a PNG grid of training images as the [augment] section
 * changes them, to see what training will see. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/image_output.h"
#include "io/atomic_file.h"

/* The most pixels a side of the grid may have. */
#define GRID_MAX_SIDE 32768

static const cli_command augment_command = {
    "augment", "CFG",
    "Writes a PNG grid of training images augmented as CFG's [augment] section says.",
    "Each row is one training image (the first --rows of [data] train): the original,\n"
    "then --samples augmented versions. Grey levels span the originals' range; colour\n"
    "for 3 channels, otherwise the mean of the channels in grey. The file is written\n"
    "atomically. --seed N is the same as --set net.seed=N."};

/* originals: rows images; augmented: for each row, columns - 1 versions. */
static unsigned char *draw_grid(const cli_grid *l, const nerve_real *originals,
                                const nerve_real *augmented)
{
    int64_t size = l->channels * l->height * l->width;
    unsigned char *pixels = cli_grid_canvas(l);
    if (!pixels) return NULL;
    double low = originals[0], high = originals[0];
    for (int64_t i = 0; i < l->rows * size; i++) {
        if (originals[i] < low) low = originals[i];
        if (originals[i] > high) high = originals[i];
    }
    if (high <= low) high = low + 1;
    for (int64_t r = 0; r < l->rows; r++) {
        cli_grid_draw(l, originals + r * size, r, 0, low, high, pixels);
        for (int64_t c = 1; c < l->columns; c++)
            cli_grid_draw(l, augmented + (r * (l->columns - 1) + c - 1) * size, r, c, low, high,
                          pixels);
    }
    return pixels;
}

/* The grid of the first rows training images, each followed by samples
 * augmented copies, encoded into file. */
static int write_grid(nerve_model *m, const nerve_dataset *train, int64_t rows, int64_t samples,
                      int64_t zoom, const char *out_path, nerve_atomic_file *file)
{
    const nerve_model_settings *s = nerve_model_settings_of(m);
    cli_grid l = cli_grid_layout(rows < train->count ? rows : train->count, samples + 1,
                                 s->input.dim[0], s->input.dim[1], s->input.dim[2], zoom);
    if (l.pixel_width > GRID_MAX_SIDE || l.pixel_height > GRID_MAX_SIDE) {
        return cli_usage_error(&augment_command,
                               "the grid would be %lldx%lld pixels (at most %d a side): ask for "
                               "fewer --rows or --samples, or a smaller --zoom",
                               (long long)l.pixel_width, (long long)l.pixel_height, GRID_MAX_SIDE);
    }
    nerve_error err = {0};
    nerve_augment *augment = nerve_model_augment_new(m, s->seed, &err);
    if (!augment) return cli_fail(&err, cli_exit_code(err.status));
    int64_t size = train->sample_size, count = l.rows * samples;
    nerve_real *augmented = malloc((size_t)(count * size) * sizeof *augmented);
    unsigned char *pixels = NULL;
    if (augmented) {
        for (int64_t i = 0; i < count; i++)
            memcpy(augmented + i * size, train->inputs + (i / samples) * size,
                   (size_t)size * sizeof *augmented);
        nerve_augment_apply(augment, augmented, count, 0, 0);
        pixels = draw_grid(&l, train->inputs, augmented);
    }
    nerve_augment_free(augment);
    free(augmented);
    if (!pixels) {
        fprintf(stderr, "nerve: out of memory for the grid\n");
        return CLI_EXIT_FAILURE;
    }
    nerve_status status = cli_png_write(file->stream, out_path, pixels, (int)l.pixel_width,
                                        (int)l.pixel_height, l.out_channels, &err);
    free(pixels);
    if (status) return cli_fail(&err, CLI_EXIT_FAILURE);
    printf("%s: %lld rows of a training image and %lld augmented versions, %lldx%lld pixels\n",
           out_path, (long long)l.rows, (long long)samples, (long long)l.pixel_width,
           (long long)l.pixel_height);
    return CLI_EXIT_OK;
}

static int augment_grid(nerve_model *m, const char *cfg_path, int64_t rows, int64_t samples,
                        int64_t zoom, const char *out_path)
{
    if (!nerve_augment_enabled(&nerve_model_settings_of(m)->augment)) {
        fprintf(stderr, "nerve: %s: [augment] enables no transform, so there is nothing to show "
                        "(set e.g. flip = 0.5 or crop_padding = 4 in an [augment] section)\n",
                cfg_path);
        return CLI_EXIT_INPUT;
    }
    /* The output is created first, so that an unwritable path fails before
     * the data are read. */
    nerve_atomic_file file;
    nerve_error err = {0};
    nerve_status status = nerve_atomic_file_open(&file, out_path, &err);
    if (status) return cli_fail(&err, CLI_EXIT_FAILURE);
    nerve_dataset train = {0};
    status = nerve_model_load_data(m, &train, NULL, NULL, &err);
    if (status == NERVE_OK) status = nerve_dataset_to_float(&train, &err); /* the grid's pixels */
    int code = status ? cli_fail(&err, cli_exit_code(status))
                      : write_grid(m, &train, rows, samples, zoom, out_path, &file);
    nerve_dataset_free(&train);
    if (code) {
        nerve_atomic_file_abort(&file);
        return code;
    }
    status = nerve_atomic_file_commit(&file, &err);
    return status ? cli_fail(&err, CLI_EXIT_FAILURE) : CLI_EXIT_OK;
}

int cmd_augment(int argc, char **argv)
{
    cli_list sets = {0};
    int64_t samples = 7, rows = 8, seed = 0, zoom = 1, threads = 0;
    const char *out_path = NULL, *cfg_path;
    cli_option options[] = {
        CLI_SET_OPTION(&sets),
        CLI_STRING("--out", "FILE.png", &out_path, "the PNG to write (required)"),
        CLI_INT("--samples", "N", &samples, 1, 64,
            "augmented versions of each image (default: 7)"),
        CLI_INT("--rows", "N", &rows, 1, 1024, "training images, one a row (default: 8)"),
        CLI_INT("--seed", "N", &seed, 0, INT64_MAX, "the augmentation's seed (default: [net] seed)"),
        CLI_INT("--zoom", "N", &zoom, 1, 64, "magnify each pixel N times (default: 1)"),
        CLI_THREADS_OPTION(&threads),
    };
    enum { OPT_SET, OPT_OUT, OPT_SAMPLES, OPT_ROWS, OPT_SEED };
    const int option_count = (int)(sizeof options / sizeof options[0]);
    int code = cli_parse(&augment_command, options, option_count, argc, argv, &cfg_path);
    if (code < 0 && !out_path) code = cli_usage_error(&augment_command, "--out FILE.png is required");
    if (code >= 0) {
        cli_list_free(&sets);
        return code;
    }
    char seed_text[48];
    const char *flag_sets[2] = {NULL};
    if (options[OPT_SEED].given) {
        snprintf(seed_text, sizeof seed_text, "net.seed=%lld", (long long)seed);
        flag_sets[0] = seed_text;
    }
    cli_set_threads(threads);
    nerve_model *m;
    code = cli_load_model(cfg_path, sets.items, flag_sets, &m);
    cli_list_free(&sets);
    if (code) return code;
    code = augment_grid(m, cfg_path, rows, samples, zoom, out_path);
    nerve_model_free(m);
    return code;
}
