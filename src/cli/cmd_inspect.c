/* nerve inspect: what a weights file holds, tensor by tensor: statistics,
 * how many rows are distinct (symmetry that training never broke), and
 * image grids of filters or of dense units' input weights. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/image_output.h"
#include "io/atomic_file.h"

/* Rows closer than this (largest absolute difference) count as one. */
#define SAME_ROW 1e-6
/* Distinct rows are counted pairwise: beyond this many rows, not at all. */
#define MAX_ROWS_COMPARED 8192
#define GRID_MAX_SIDE 16384

static const cli_command inspect_command = {
    "inspect", "W.safetensors",
    "Per-tensor statistics of a weights file (or checkpoint): shape, mean, standard\n"
    "deviation, minimum, maximum, 2-norm, the fraction of exact zeros, and the number\n"
    "of distinct rows (dimension 0: units or filters; rows within 1e-6 of each other\n"
    "count once, so a layer whose units never broke symmetry shows 1).",
    "--grid TENSOR --out F.png draws the tensor as an image grid: a conv weight\n"
    "[filters, channels, kh, kw] as one tile per filter and channel (colour tiles for\n"
    "3 channels), a dense weight [units, inputs] as one tile per unit with --tile HxW\n"
    "(H x W = inputs, e.g. 28x28). Grey levels span -max|w| (black) to +max|w| (white)."};

typedef struct tensor_stats {
    double mean, std, min, max, norm, zeros;
    int64_t rows, distinct; /* distinct: -1 when not counted */
} tensor_stats;

static bool rows_equal(const float *a, const float *b, int64_t size)
{
    for (int64_t i = 0; i < size; i++)
        if (fabs((double)a[i] - (double)b[i]) > SAME_ROW) return false;
    return true;
}

static tensor_stats measure(const float *v, const nerve_shape *shape)
{
    tensor_stats s = {0, 0, INFINITY, -INFINITY, 0, 0, 0, -1};
    int64_t n = nerve_shape_numel(shape);
    double sum = 0, squares = 0;
    for (int64_t i = 0; i < n; i++) {
        sum += v[i];
        squares += (double)v[i] * v[i];
        s.min = fmin(s.min, v[i]);
        s.max = fmax(s.max, v[i]);
        s.zeros += v[i] == 0;
    }
    s.mean = n ? sum / n : NAN;
    s.std = n ? sqrt(fmax(squares / n - s.mean * s.mean, 0)) : NAN;
    s.norm = sqrt(squares);
    s.zeros = n ? s.zeros / n : NAN;
    s.rows = shape->ndim >= 2 ? shape->dim[0] : 0;
    if (s.rows == 0 || s.rows > MAX_ROWS_COMPARED) return s;
    int64_t size = n / s.rows;
    /* A row is new unless it equals an earlier distinct one. */
    int64_t *firsts = malloc((size_t)s.rows * sizeof *firsts);
    if (!firsts) return s;
    s.distinct = 0;
    for (int64_t r = 0; r < s.rows; r++) {
        bool seen = false;
        for (int64_t k = 0; k < s.distinct && !seen; k++)
            seen = rows_equal(v + r * size, v + firsts[k] * size, size);
        if (!seen) firsts[s.distinct++] = r;
    }
    free(firsts);
    return s;
}

static int print_stats(const nerve_safetensors *st, bool json)
{
    json_t *list = json ? json_array() : NULL;
    if (!json)
        printf("%-28s %-14s %10s %10s %10s %10s %10s %10s %6s %9s\n", "tensor", "shape", "mean",
               "std", "min", "max", "norm", "zeros", "rows", "distinct");
    for (int i = 0; i < nerve_safetensors_count(st); i++) {
        const char *name = nerve_safetensors_name(st, i);
        nerve_shape shape;
        const float *v = nerve_safetensors_get(st, name, &shape);
        char text[64];
        nerve_shape_format(&shape, text, sizeof text);
        tensor_stats s = measure(v, &shape);
        if (json) {
            json_t *o = json_object();
            json_object_set_new(o, "name", json_string(name));
            json_t *dims = json_array();
            for (int d = 0; d < shape.ndim; d++) json_array_append_new(dims, json_integer(shape.dim[d]));
            json_object_set_new(o, "shape", dims);
            json_object_set_new(o, "mean", cli_json_number(s.mean));
            json_object_set_new(o, "std", cli_json_number(s.std));
            json_object_set_new(o, "min", cli_json_number(s.min));
            json_object_set_new(o, "max", cli_json_number(s.max));
            json_object_set_new(o, "norm", cli_json_number(s.norm));
            json_object_set_new(o, "zero_fraction", cli_json_number(s.zeros));
            json_object_set_new(o, "rows", json_integer(s.rows));
            json_object_set_new(o, "distinct_rows", s.distinct >= 0 ? json_integer(s.distinct)
                                                                     : json_null());
            json_array_append_new(list, o);
            continue;
        }
        char rows[24] = "-", distinct[24] = "-";
        if (s.rows) snprintf(rows, sizeof rows, "%lld", (long long)s.rows);
        if (s.distinct >= 0) snprintf(distinct, sizeof distinct, "%lld", (long long)s.distinct);
        printf("%-28s %-14s %10.4g %10.4g %10.4g %10.4g %10.4g %10.4g %6s %9s\n", name, text,
               s.mean, s.std, s.min, s.max, s.norm, s.zeros, rows, distinct);
    }
    return json ? cli_json_print(list) : CLI_EXIT_OK;
}

/* The tensor as tiles: [F, C, kh, kw] gives F x C grey tiles (or F colour
 * tiles for C = 3); [U, I] with tile H x W gives U tiles. */
static int draw_grid(const nerve_safetensors *st, const char *name, const char *tile,
                     int64_t zoom, int64_t columns, const char *out)
{
    nerve_shape shape;
    const float *v = nerve_safetensors_get(st, name, &shape);
    if (!v) {
        fprintf(stderr, "nerve: no tensor '%s' in the file (nerve inspect lists them)\n", name);
        return CLI_EXIT_INPUT;
    }
    int64_t tiles, channels = 1, height, width;
    if (shape.ndim == 4) {
        channels = shape.dim[1] == 3 ? 3 : 1;
        tiles = shape.dim[0] * (shape.dim[1] == 3 ? 1 : shape.dim[1]);
        height = shape.dim[2];
        width = shape.dim[3];
    } else if (shape.ndim == 2 && tile) {
        tiles = shape.dim[0];
        if (sscanf(tile, "%lldx%lld", (long long *)&height, (long long *)&width) != 2 ||
            height < 1 || width < 1 || height * width != shape.dim[1])
            return cli_usage_error(&inspect_command, "--tile %s: H x W must be the %lld inputs "
                                   "of each unit", tile, (long long)shape.dim[1]);
    } else {
        return cli_usage_error(&inspect_command,
                               "--grid draws 4-D conv weights, or 2-D weights with --tile HxW; "
                               "'%s' is %dd", name, shape.ndim);
    }
    if (!columns) columns = (int64_t)ceil(sqrt((double)tiles));
    int64_t rows = (tiles + columns - 1) / columns;
    cli_grid l = cli_grid_layout(rows, columns, channels, height, width, zoom);
    if (l.pixel_width > GRID_MAX_SIDE || l.pixel_height > GRID_MAX_SIDE)
        return cli_usage_error(&inspect_command, "the grid would be %lldx%lld pixels: use a "
                               "smaller --zoom", (long long)l.pixel_width, (long long)l.pixel_height);
    double extent = 0;
    for (int64_t i = 0; i < nerve_shape_numel(&shape); i++) extent = fmax(extent, fabs(v[i]));
    if (extent == 0) extent = 1;
    unsigned char *pixels = cli_grid_canvas(&l);
    nerve_real *image = malloc((size_t)(channels * height * width) * sizeof *image);
    if (!pixels || !image) {
        free(pixels);
        free(image);
        fprintf(stderr, "nerve: out of memory for the grid\n");
        return CLI_EXIT_FAILURE;
    }
    for (int64_t t = 0; t < tiles; t++) {
        for (int64_t i = 0; i < channels * height * width; i++)
            image[i] = (nerve_real)v[t * channels * height * width + i];
        cli_grid_draw(&l, image, t / columns, t % columns, -extent, extent, pixels);
    }
    free(image);
    nerve_error err = {0};
    nerve_atomic_file file;
    nerve_status status = nerve_atomic_file_open(&file, out, &err);
    if (!status) {
        status = cli_png_write(file.stream, out, pixels, (int)l.pixel_width, (int)l.pixel_height,
                               l.out_channels, &err);
        if (status)
            nerve_atomic_file_abort(&file);
        else
            status = nerve_atomic_file_commit(&file, &err);
    }
    free(pixels);
    if (status) return cli_fail(&err, CLI_EXIT_FAILURE);
    printf("%s: %lld tiles of %lldx%lld, %lld a row\n", out, (long long)tiles, (long long)height,
           (long long)width, (long long)columns);
    return CLI_EXIT_OK;
}

int cmd_inspect(int argc, char **argv)
{
    const char *path, *grid = NULL, *out = NULL, *tile = NULL;
    bool json = false;
    int64_t zoom = 4, columns = 0;
    cli_option options[] = {
        CLI_FLAG("--json", &json, "one JSON array on stdout (default: a table)"),
        CLI_STRING("--grid", "TENSOR", &grid, "draw the tensor as an image grid (needs --out)"),
        CLI_STRING("--out", "F.png", &out, "the grid's PNG file, written atomically"),
        CLI_STRING("--tile", "HxW", &tile, "a 2-D weight's tile shape: H x W = its inputs"),
        CLI_INT("--zoom", "N", &zoom, 1, 64, "pixels per weight (default: 4)"),
        CLI_INT("--columns", "N", &columns, 1, 4096, "tiles a row (default: a square grid)"),
    };
    const int option_count = (int)(sizeof options / sizeof options[0]);
    int code = cli_parse(&inspect_command, options, option_count, argc, argv, &path);
    if (code >= 0) return code;
    if (!grid != !out)
        return cli_usage_error(&inspect_command, "--grid and --out go together");
    nerve_safetensors *st;
    nerve_error err = {0};
    nerve_status status = nerve_safetensors_open(path, &st, &err);
    if (status) return cli_fail(&err, cli_exit_code(status));
    code = grid ? draw_grid(st, grid, tile, zoom, columns, out) : print_stats(st, json);
    nerve_safetensors_close(st);
    return code;
}
