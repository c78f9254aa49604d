/* Charts drawn with cairo: line charts (several series, linear or log y,
 * ticks, legend, reference lines) and heat maps, written atomically as PNG
 * or SVG (chosen by the file's extension). */
#ifndef NERVE_CLI_PLOT_DRAW_H
#define NERVE_CLI_PLOT_DRAW_H

#include <stdbool.h>
#include <stdint.h>

#include "nerve.h"

typedef struct plot_series {
    const double *x, *y; /* n points; a NaN in either breaks the line there */
    int64_t n;
    const char *label;   /* in the legend; NULL: not listed */
    int colour, dash;    /* indices into the palette and the dash patterns */
} plot_series;

typedef struct plot_chart {
    const char *title, *x_label, *y_label; /* NULL: none */
    bool log_y;         /* points with y <= 0 are left out */
    int width, height;  /* pixels (SVG: points) */
    const double *hlines; /* horizontal reference lines, dashed grey */
    int hline_count;
} plot_chart;

/* Whether path ends in .png or .svg (case-insensitive), the formats written. */
bool plot_format_known(const char *path);
nerve_status plot_lines(const plot_chart *c, const plot_series *series, int count,
                        const char *path, nerve_error *err);
/* A rows x columns matrix (row-major, NaN cells blank) as coloured cells
 * with their values, a colour bar, and the rows' and columns' names (NULL:
 * their indices). */
nerve_status plot_heatmap(const plot_chart *c, const double *matrix, int rows, int columns,
                          char *const *row_names, char *const *column_names, const char *path,
                          nerve_error *err);

#endif
