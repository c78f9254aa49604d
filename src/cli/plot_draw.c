#include <cairo-svg.h>
#include <cairo.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli/plot_draw.h"
#include "io/atomic_file.h"

/* matplotlib's "tab10": distinct in colour and in grey. */
static const double palette[][3] = {
    {0.122, 0.467, 0.706}, {1.000, 0.498, 0.055}, {0.173, 0.627, 0.173}, {0.839, 0.153, 0.157},
    {0.580, 0.404, 0.741}, {0.549, 0.337, 0.294}, {0.890, 0.467, 0.761}, {0.498, 0.498, 0.498},
    {0.737, 0.741, 0.133}, {0.090, 0.745, 0.812}};
#define PALETTE_SIZE (int)(sizeof palette / sizeof palette[0])
static const double dashes[][2] = {{0, 0}, {8, 4}, {2, 3}, {12, 3}};
#define DASH_COUNT (int)(sizeof dashes / sizeof dashes[0])

#define FONT_SIZE 13.0
#define PI 3.14159265358979323846
#define MAX_TICKS 12

/* One axis: the data range it shows and its ticks. */
typedef struct axis {
    double low, high;
    bool log;
    double ticks[MAX_TICKS * 3];
    int tick_count;
} axis;

/* 1, 2 or 5 times a power of ten, near span / target. */
static double nice_step(double span, int target)
{
    double raw = span / target, magnitude = pow(10, floor(log10(raw)));
    double f = raw / magnitude;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * magnitude;
}

/* Linear: the range widened to whole steps. Log: to whole decades, ticks at
 * the decades (and at 2 and 5 within them when the range is short). */
static void axis_fit(axis *a, double low, double high, bool log_scale)
{
    a->log = log_scale;
    a->tick_count = 0;
    if (!(low <= high)) low = log_scale ? 1 : 0, high = log_scale ? 10 : 1;
    if (log_scale) {
        int first = (int)floor(log10(low)), last = (int)ceil(log10(high));
        if (last == first) last++;
        a->low = pow(10, first);
        a->high = pow(10, last);
        /* Every value stays on the axis (a clipped run's gradient norms of
         * 1..100 beside an unclipped one's 1e19); wide ranges thin the ticks. */
        int every = last - first > 8 ? (last - first + MAX_TICKS - 1) / MAX_TICKS : 1;
        if (last - first > 8 && every < 2) every = 2;
        for (int e = first; e <= last; e += every) {
            a->ticks[a->tick_count++] = pow(10, e);
            if (last - first <= 2 && e < last) {
                a->ticks[a->tick_count++] = 2 * pow(10, e);
                a->ticks[a->tick_count++] = 5 * pow(10, e);
            }
        }
        return;
    }
    if (high == low) {
        double pad = low == 0 ? 1 : fabs(low) * 0.1;
        low -= pad;
        high += pad;
    }
    double step = nice_step(high - low, 6);
    a->low = floor(low / step + 1e-9) * step;
    a->high = ceil(high / step - 1e-9) * step;
    for (double k = round(a->low / step); k <= round(a->high / step) && a->tick_count < MAX_TICKS * 3;
         k++) {
        double v = k * step;
        a->ticks[a->tick_count++] = fabs(v) < step * 1e-9 ? 0 : v;
    }
}

/* The fraction of the axis at v, 0 at low and 1 at high. */
static double axis_fraction(const axis *a, double v)
{
    if (a->log) return (log10(v) - log10(a->low)) / (log10(a->high) - log10(a->low));
    return (v - a->low) / (a->high - a->low);
}

/* The plot area in device units. */
typedef struct frame {
    double left, top, width, height;
    axis x, y;
} frame;

static double frame_x(const frame *f, double v) { return f->left + axis_fraction(&f->x, v) * f->width; }
static double frame_y(const frame *f, double v)
{
    return f->top + (1 - axis_fraction(&f->y, v)) * f->height;
}

static double text_width(cairo_t *cr, const char *s)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    return e.x_advance;
}

/* Text with its anchor at (x, y): h and v are 0 (left/top), 0.5 or 1. */
static void text_at(cairo_t *cr, const char *s, double x, double y, double h, double v)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    cairo_move_to(cr, x - h * e.x_advance, y + (1 - v) * FONT_SIZE * 0.75);
    cairo_show_text(cr, s);
}

static void tick_label(char *buf, size_t size, double v)
{
    snprintf(buf, size, "%.6g", v);
}

/* The surface for path's format; SVG writes into the stream as it goes. */
static cairo_status_t write_stream(void *closure, const unsigned char *data, unsigned int length)
{
    return fwrite(data, 1, length, closure) == length ? CAIRO_STATUS_SUCCESS
                                                      : CAIRO_STATUS_WRITE_ERROR;
}

static bool is_svg(const char *path)
{
    size_t n = strlen(path);
    return n >= 4 && strcasecmp(path + n - 4, ".svg") == 0;
}

bool plot_format_known(const char *path)
{
    size_t n = strlen(path);
    return is_svg(path) || (n >= 4 && strcasecmp(path + n - 4, ".png") == 0);
}

typedef struct canvas {
    nerve_atomic_file file;
    cairo_surface_t *surface;
    cairo_t *cr;
} canvas;

static nerve_status canvas_open(canvas *c, const plot_chart *chart, const char *path,
                                nerve_error *err)
{
    memset(c, 0, sizeof *c);
    nerve_status st = nerve_atomic_file_open(&c->file, path, err);
    if (st) return st;
    c->surface = is_svg(path) ? cairo_svg_surface_create_for_stream(
                                    write_stream, c->file.stream, chart->width, chart->height)
                              : cairo_image_surface_create(CAIRO_FORMAT_RGB24, chart->width,
                                                           chart->height);
    c->cr = cairo_create(c->surface);
    cairo_status_t status = cairo_status(c->cr);
    if (status) {
        cairo_destroy(c->cr);
        cairo_surface_destroy(c->surface);
        nerve_atomic_file_abort(&c->file);
        return nerve_error_set(err, NERVE_ERR_NOMEM, "%s: cannot draw: %s", path,
                               cairo_status_to_string(status));
    }
    cairo_set_source_rgb(c->cr, 1, 1, 1);
    cairo_paint(c->cr);
    cairo_select_font_face(c->cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(c->cr, FONT_SIZE);
    return NERVE_OK;
}

/* Finishes the drawing and renames the file into place. */
static nerve_status canvas_commit(canvas *c, const char *path, nerve_error *err)
{
    cairo_status_t status = cairo_status(c->cr);
    cairo_destroy(c->cr);
    if (!status && !is_svg(path))
        status = cairo_surface_write_to_png_stream(c->surface, write_stream, c->file.stream);
    cairo_surface_finish(c->surface);
    if (!status) status = cairo_surface_status(c->surface);
    cairo_surface_destroy(c->surface);
    if (status) {
        nerve_atomic_file_abort(&c->file);
        return nerve_error_set(err, status == CAIRO_STATUS_WRITE_ERROR ? NERVE_ERR_IO : NERVE_ERR_NOMEM,
                               "%s: cannot write the plot: %s", path,
                               cairo_status_to_string(status));
    }
    return nerve_atomic_file_commit(&c->file, err);
}

/* Title, frame, ticks with their labels and grid lines, axis labels. The
 * plot area leaves room for the widest y tick label. */
static void draw_axes(cairo_t *cr, const plot_chart *chart, frame *f)
{
    char label[32];
    double widest = 0;
    for (int i = 0; i < f->y.tick_count; i++) {
        tick_label(label, sizeof label, f->y.ticks[i]);
        double w = text_width(cr, label);
        if (w > widest) widest = w;
    }
    f->left = widest + 14 + (chart->y_label ? FONT_SIZE + 8 : 0);
    f->top = chart->title ? FONT_SIZE * 2.5 : 12;
    f->width = chart->width - f->left - 16;
    f->height = chart->height - f->top - FONT_SIZE * 2 - (chart->x_label ? FONT_SIZE + 8 : 0);
    cairo_set_line_width(cr, 1);
    for (int i = 0; i < f->y.tick_count; i++) {
        double y = round(frame_y(f, f->y.ticks[i])) + 0.5;
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, f->left, y);
        cairo_line_to(cr, f->left + f->width, y);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, f->left - 5, y);
        cairo_line_to(cr, f->left, y);
        cairo_stroke(cr);
        tick_label(label, sizeof label, f->y.ticks[i]);
        text_at(cr, label, f->left - 8, y, 1, 0.5);
    }
    for (int i = 0; i < f->x.tick_count; i++) {
        double x = round(frame_x(f, f->x.ticks[i])) + 0.5;
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, x, f->top);
        cairo_line_to(cr, x, f->top + f->height);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, x, f->top + f->height);
        cairo_line_to(cr, x, f->top + f->height + 5);
        cairo_stroke(cr);
        tick_label(label, sizeof label, f->x.ticks[i]);
        text_at(cr, label, x, f->top + f->height + 8, 0.5, 0);
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_rectangle(cr, round(f->left) + 0.5, round(f->top) + 0.5, round(f->width),
                    round(f->height));
    cairo_stroke(cr);
    if (chart->title) text_at(cr, chart->title, chart->width / 2.0, FONT_SIZE * 0.7, 0.5, 0);
    if (chart->x_label)
        text_at(cr, chart->x_label, f->left + f->width / 2, chart->height - FONT_SIZE * 1.4, 0.5,
                0);
    if (chart->y_label) {
        cairo_save(cr);
        cairo_translate(cr, 6, f->top + f->height / 2);
        cairo_rotate(cr, -PI / 2);
        text_at(cr, chart->y_label, 0, 0, 0.5, 0);
        cairo_restore(cr);
    }
}

static bool point_shown(const plot_chart *c, double x, double y)
{
    return isfinite(x) && isfinite(y) && (!c->log_y || y > 0);
}

static void set_style(cairo_t *cr, int colour, int dash)
{
    const double *rgb = palette[colour % PALETTE_SIZE];
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    const double *d = dashes[dash % DASH_COUNT];
    cairo_set_dash(cr, d, d[0] > 0 ? 2 : 0, 0);
}

static void draw_series(cairo_t *cr, const plot_chart *c, const frame *f, const plot_series *s)
{
    cairo_save(cr);
    cairo_rectangle(cr, f->left, f->top, f->width, f->height);
    cairo_clip(cr);
    set_style(cr, s->colour, s->dash);
    cairo_set_line_width(cr, 2);
    bool drawing = false;
    int64_t shown = 0;
    for (int64_t i = 0; i < s->n; i++) {
        if (!point_shown(c, s->x[i], s->y[i])) {
            drawing = false;
            continue;
        }
        double x = frame_x(f, s->x[i]), y = frame_y(f, s->y[i]);
        if (drawing)
            cairo_line_to(cr, x, y);
        else
            cairo_move_to(cr, x, y);
        drawing = true;
        shown++;
    }
    cairo_stroke(cr);
    /* Few points: mark each, so a sweep's measured values stand out. */
    if (shown <= 40) {
        for (int64_t i = 0; i < s->n; i++) {
            if (!point_shown(c, s->x[i], s->y[i])) continue;
            cairo_new_sub_path(cr);
            cairo_arc(cr, frame_x(f, s->x[i]), frame_y(f, s->y[i]), 3, 0, 2 * PI);
        }
        cairo_fill(cr);
    }
    cairo_restore(cr);
}

static void draw_legend(cairo_t *cr, const frame *f, const plot_series *series, int count)
{
    double widest = 0;
    int listed = 0;
    for (int i = 0; i < count; i++) {
        if (!series[i].label) continue;
        double w = text_width(cr, series[i].label);
        if (w > widest) widest = w;
        listed++;
    }
    if (!listed) return;
    double line = FONT_SIZE * 1.4, width = widest + 44, height = listed * line + 8;
    double left = f->left + f->width - width - 8, top = f->top + 8;
    cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
    cairo_rectangle(cr, left, top, width, height);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
    int row = 0;
    for (int i = 0; i < count; i++) {
        if (!series[i].label) continue;
        double y = top + 4 + (row++ + 0.5) * line;
        set_style(cr, series[i].colour, series[i].dash);
        cairo_set_line_width(cr, 2);
        cairo_move_to(cr, left + 6, y);
        cairo_line_to(cr, left + 32, y);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        cairo_set_source_rgb(cr, 0, 0, 0);
        text_at(cr, series[i].label, left + 38, y, 0, 0.5);
    }
}

nerve_status plot_lines(const plot_chart *c, const plot_series *series, int count,
                        const char *path, nerve_error *err)
{
    double x_low = INFINITY, x_high = -INFINITY, y_low = INFINITY, y_high = -INFINITY;
    for (int k = 0; k < count; k++)
        for (int64_t i = 0; i < series[k].n; i++) {
            double x = series[k].x[i], y = series[k].y[i];
            if (!point_shown(c, x, y)) continue;
            x_low = fmin(x_low, x), x_high = fmax(x_high, x);
            y_low = fmin(y_low, y), y_high = fmax(y_high, y);
        }
    if (!(x_low <= x_high))
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "%s: nothing to draw: no row has both values%s", path,
                               c->log_y ? " (and a positive y for --log-y)" : "");
    for (int i = 0; i < c->hline_count; i++)
        if (point_shown(c, x_low, c->hlines[i]))
            y_low = fmin(y_low, c->hlines[i]), y_high = fmax(y_high, c->hlines[i]);
    frame f;
    axis_fit(&f.x, x_low, x_high, false);
    axis_fit(&f.y, y_low, y_high, c->log_y);
    canvas cv;
    nerve_status st = canvas_open(&cv, c, path, err);
    if (st) return st;
    draw_axes(cv.cr, c, &f);
    cairo_set_line_width(cv.cr, 1.5);
    for (int i = 0; i < c->hline_count; i++) {
        if (!point_shown(c, x_low, c->hlines[i])) continue;
        static const double dash[] = {6, 4};
        cairo_set_source_rgb(cv.cr, 0.35, 0.35, 0.35);
        cairo_set_dash(cv.cr, dash, 2, 0);
        cairo_move_to(cv.cr, f.left, frame_y(&f, c->hlines[i]));
        cairo_line_to(cv.cr, f.left + f.width, frame_y(&f, c->hlines[i]));
        cairo_stroke(cv.cr);
        cairo_set_dash(cv.cr, NULL, 0, 0);
    }
    for (int k = 0; k < count; k++) draw_series(cv.cr, c, &f, &series[k]);
    draw_legend(cv.cr, &f, series, count);
    return canvas_commit(&cv, path, err);
}

/* viridis, by five of its colours. */
static void colour_map(double t, double rgb[3])
{
    static const double stops[5][3] = {{0.267, 0.005, 0.329}, {0.231, 0.322, 0.545},
                                       {0.129, 0.569, 0.549}, {0.369, 0.788, 0.384},
                                       {0.993, 0.906, 0.144}};
    t = fmin(fmax(t, 0), 1) * 4;
    int i = t >= 4 ? 3 : (int)t;
    double u = t - i;
    for (int k = 0; k < 3; k++) rgb[k] = stops[i][k] * (1 - u) + stops[i + 1][k] * u;
}

nerve_status plot_heatmap(const plot_chart *c, const double *matrix, int rows, int columns,
                          char *const *row_names, char *const *column_names, const char *path,
                          nerve_error *err)
{
    double low = INFINITY, high = -INFINITY;
    for (int64_t i = 0; i < (int64_t)rows * columns; i++)
        if (isfinite(matrix[i])) low = fmin(low, matrix[i]), high = fmax(high, matrix[i]);
    if (!(low <= high))
        return nerve_error_set(err, NERVE_ERR_INVALID, "%s: nothing to draw: no finite value",
                               path);
    if (high == low) high = low + 1;
    canvas cv;
    nerve_status st = canvas_open(&cv, c, path, err);
    if (st) return st;
    cairo_t *cr = cv.cr;
    cairo_set_source_rgb(cr, 0, 0, 0); /* the text; canvas_open left the background's white */
    char label[64];
    double widest = 0;
    for (int r = 0; r < rows; r++) {
        if (row_names) snprintf(label, sizeof label, "%s", row_names[r]);
        else snprintf(label, sizeof label, "%d", r);
        widest = fmax(widest, text_width(cr, label));
    }
    double left = widest + 12, top = (c->title ? FONT_SIZE * 2.5 : 12) + FONT_SIZE * 1.6;
    double bar = 70, width = c->width - left - bar - 16, height = c->height - top - 16;
    double cw = width / columns, ch = height / rows;
    if (c->title) text_at(cr, c->title, c->width / 2.0, FONT_SIZE * 0.7, 0.5, 0);
    for (int col = 0; col < columns; col++) {
        if (column_names) snprintf(label, sizeof label, "%s", column_names[col]);
        else snprintf(label, sizeof label, "%d", col);
        if (text_width(cr, label) < cw || col == 0)
            text_at(cr, label, left + (col + 0.5) * cw, top - FONT_SIZE * 1.4, 0.5, 0);
    }
    for (int r = 0; r < rows; r++) {
        if (row_names) snprintf(label, sizeof label, "%s", row_names[r]);
        else snprintf(label, sizeof label, "%d", r);
        cairo_set_source_rgb(cr, 0, 0, 0); /* the last row's cells changed it */
        if (ch >= FONT_SIZE || r == 0) text_at(cr, label, left - 6, top + (r + 0.5) * ch, 1, 0.5);
        for (int col = 0; col < columns; col++) {
            double v = matrix[(int64_t)r * columns + col], rgb[3] = {1, 1, 1};
            if (isfinite(v)) colour_map((v - low) / (high - low), rgb);
            cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
            cairo_rectangle(cr, left + col * cw, top + r * ch, ceil(cw), ceil(ch));
            cairo_fill(cr);
            if (!isfinite(v) || cw < 40 || ch < FONT_SIZE + 4) continue;
            snprintf(label, sizeof label, "%.3g", v);
            double shade = (v - low) / (high - low) > 0.6 ? 0 : 1;
            cairo_set_source_rgb(cr, shade, shade, shade);
            text_at(cr, label, left + (col + 0.5) * cw, top + (r + 0.5) * ch, 0.5, 0.5);
        }
    }
    /* The colour bar, high at the top. */
    double bx = left + width + 16;
    for (int i = 0; i < 100; i++) {
        double rgb[3];
        colour_map(1 - i / 99.0, rgb);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        cairo_rectangle(cr, bx, top + i * height / 100, 14, ceil(height / 100) + 1);
        cairo_fill(cr);
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    snprintf(label, sizeof label, "%.3g", high);
    text_at(cr, label, bx + 18, top, 0, 0);
    snprintf(label, sizeof label, "%.3g", low);
    text_at(cr, label, bx + 18, top + height, 0, 1);
    return canvas_commit(&cv, path, err);
}
