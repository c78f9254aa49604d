/* nerve plot: line charts, histograms and heat maps of CSV tables (metrics
 * logs above all), drawn with cairo into PNG or SVG. */
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/plot_draw.h"
#include "cli/plot_table.h"

#define MAX_FILES 32
#define MAX_SERIES 64
/* A heat map draws cells, not lines: a recurrent layer's per-time-step
 * gradients (dh:OP:t) give one column per step of the sequence. */
#define MAX_HEATMAP_COLUMNS 4096
#define MAX_HLINES 8

static const cli_command plot_command = {
    "plot", "FILE.csv [FILE2.csv ...]",
    "Draws columns of CSV tables (metrics logs of nerve train --log, lab tables) into\n"
    "a PNG or SVG file, written atomically.",
    "A line chart by default: --y against --x, one line per column and file, files\n"
    "told apart by colour and columns by dash. In a metrics log, --x step uses the\n"
    "step rows (--log-every) when there are any, anything else the epoch rows\n"
    "(--rows chooses); --x seconds is the elapsed time. --y takes column names,\n"
    "comma-separated, and NAME* for every column starting with NAME\n"
    "(grad_norm:*). --hist draws the histogram of the --y values instead, --heatmap\n"
    "the --y columns of every row as a matrix of coloured cells (their log10 with\n"
    "--log-y)."};

typedef struct plot_flags {
    const char *x, *y, *out, *title, *labels, *rows, *x_label, *y_label, *size, *hlines;
    bool log_y, hist, heatmap;
    int64_t bins;
    double smooth;
} plot_flags;

/* Splits a comma-separated list into words, in place; returns the count, or
 * -1 for more than capacity or an empty word. */
static int split_list(char *text, char **words, int capacity)
{
    int n = 0;
    for (char *p = text;; p++) {
        if (n == capacity) return -1;
        words[n++] = p;
        p += strcspn(p, ",");
        if (words[n - 1] == p) return -1;
        if (!*p) return n;
        *p = '\0';
    }
}

/* The y columns: names and NAME* prefixes, expanded over the first table. */
static int select_columns(const plot_table *t, char **patterns, int count, char **out,
                          int capacity)
{
    int n = 0;
    for (int i = 0; i < count; i++) {
        size_t length = strlen(patterns[i]);
        bool prefix = patterns[i][length - 1] == '*';
        int before = n;
        for (int c = 0; c < t->columns; c++) {
            bool match = prefix ? strncmp(t->names[c], patterns[i], length - 1) == 0
                                : strcmp(t->names[c], patterns[i]) == 0;
            if (!match) continue;
            if (n == capacity) return -2;
            out[n++] = t->names[c];
        }
        if (n == before) {
            fprintf(stderr, "nerve: %s:1: no column %s'%s' (the columns: ", t->path,
                    prefix ? "starting with " : "", patterns[i]);
            for (int c = 0; c < t->columns; c++)
                fprintf(stderr, "%s%s", c ? "," : "", t->names[c]);
            fprintf(stderr, ")\n");
            return -1;
        }
    }
    return n;
}

/* Which rows of a metrics log to draw: 'e' (epoch), 's' (step), 'v' (eval),
 * 't' (target) or 0 (all). */
static char row_kind(const plot_table *t, const char *x, const char *rows)
{
    if (!t->kinds || (rows && strcmp(rows, "all") == 0)) return 0;
    if (rows) return strcmp(rows, "eval") == 0 ? 'v' : rows[0];
    if (strcmp(x, "step") == 0)
        for (int64_t i = 0; i < t->rows; i++)
            if (t->kinds[i] == 's') return 's';
    return 'e';
}

/* A column's values over the chosen rows, NaN where absent. x "seconds"
 * is the elapsed column, or in older logs the running sum of the epochs'
 * seconds. */
static double *column_values(const plot_table *t, const char *name, char kind, int64_t *n)
{
    int c = plot_table_column(t, name);
    bool running_sum = false;
    if (strcmp(name, "seconds") == 0 && plot_table_column(t, "elapsed") >= 0)
        c = plot_table_column(t, "elapsed");
    else if (strcmp(name, "seconds") == 0)
        running_sum = true;
    double *v = malloc((size_t)t->rows * sizeof *v);
    if (!v) return NULL;
    double sum = 0;
    *n = 0;
    for (int64_t i = 0; i < t->rows; i++) {
        if (kind && t->kinds[i] != kind) continue;
        double value = c >= 0 ? t->values[i * t->columns + c] : NAN;
        if (running_sum && isfinite(value)) value = sum += value;
        v[(*n)++] = value;
    }
    return v;
}

/* Exponential moving average, as TensorBoard's smoothing: s = a s + (1 - a) y,
 * debiased over the first points. */
static void smooth(double *y, int64_t n, double a)
{
    double s = 0, weight = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(y[i])) continue;
        s = a * s + (1 - a) * y[i];
        weight = a * weight + (1 - a);
        y[i] = s / weight;
    }
}

/* Histogram of values as a staircase: 2 points per bin. */
static void histogram(const double *values, int64_t n, double low, double high, int bins,
                      double *x, double *y)
{
    double width = (high - low) / bins;
    for (int b = 0; b < bins; b++) {
        x[2 * b] = low + b * width;
        x[2 * b + 1] = low + (b + 1) * width;
        y[2 * b] = y[2 * b + 1] = 0;
    }
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(values[i])) continue;
        int b = width > 0 ? (int)((values[i] - low) / width) : 0;
        if (b >= bins) b = bins - 1;
        y[2 * b]++;
        y[2 * b + 1]++;
    }
}

typedef struct plot_job {
    plot_table tables[MAX_FILES];
    int table_count;
    plot_series series[MAX_SERIES];
    double *buffers[2 * MAX_SERIES];
    int buffer_count;
    char labels[MAX_SERIES][160];
} plot_job;

static void job_free(plot_job *j)
{
    for (int i = 0; i < j->table_count; i++) plot_table_free(&j->tables[i]);
    for (int i = 0; i < j->buffer_count; i++) free(j->buffers[i]);
}

static double *job_keep(plot_job *j, double *buffer)
{
    if (buffer) j->buffers[j->buffer_count++] = buffer;
    return buffer;
}

static int out_of_memory(void)
{
    fprintf(stderr, "nerve: out of memory\n");
    return CLI_EXIT_FAILURE;
}

static int heatmap(plot_job *j, const plot_flags *f, const plot_chart *chart, char **columns,
                   int count)
{
    const plot_table *t = &j->tables[0];
    double *m = job_keep(j, malloc((size_t)(t->rows * count) * sizeof *m));
    if (!m) return out_of_memory();
    for (int64_t r = 0; r < t->rows; r++)
        for (int k = 0; k < count; k++) {
            double v = t->values[r * t->columns + plot_table_column(t, columns[k])];
            /* Gradients that vanish span decades: --log-y colours their log. */
            m[r * count + k] = !f->log_y ? v : v > 0 ? log10(v) : NAN;
        }
    nerve_error err = {0};
    nerve_status st = plot_heatmap(chart, m, (int)t->rows, count, NULL, columns, f->out, &err);
    return st ? cli_fail(&err, st == NERVE_ERR_INVALID ? CLI_EXIT_INPUT : CLI_EXIT_FAILURE) : 0;
}

/* The series: each file's columns, or their histograms. */
static int build_series(plot_job *j, const plot_flags *f, char **columns, int count,
                        char **labels, int *series_count)
{
    int n = 0;
    double low = INFINITY, high = -INFINITY;
    for (int t = 0; t < j->table_count && f->hist; t++)
        for (int k = 0; k < count; k++) {
            int c = plot_table_column(&j->tables[t], columns[k]);
            for (int64_t i = 0; c >= 0 && i < j->tables[t].rows; i++) {
                double v = j->tables[t].values[i * j->tables[t].columns + c];
                if (isfinite(v)) low = fmin(low, v), high = fmax(high, v);
            }
        }
    if (f->hist && !(low <= high)) {
        fprintf(stderr, "nerve: %s: no finite value to make a histogram of\n", j->tables[0].path);
        return CLI_EXIT_INPUT;
    }
    if (f->hist && high == low) high = low + 1;
    for (int t = 0; t < j->table_count; t++) {
        const plot_table *table = &j->tables[t];
        char kind = row_kind(table, f->x, f->rows);
        for (int k = 0; k < count; k++) {
            if (plot_table_column(table, columns[k]) < 0) {
                fprintf(stderr, "nerve: %s:1: no column '%s'\n", table->path, columns[k]);
                return CLI_EXIT_INPUT;
            }
            if (n == MAX_SERIES) {
                fprintf(stderr, "nerve: more than %d lines to draw\n", MAX_SERIES);
                return CLI_EXIT_USAGE;
            }
            plot_series *s = &j->series[n];
            int64_t rows;
            double *y = job_keep(j, column_values(table, columns[k], kind, &rows));
            if (!y) return out_of_memory();
            if (f->hist) {
                double *x = job_keep(j, malloc((size_t)(4 * f->bins) * sizeof *x));
                double *counts = x ? x + 2 * f->bins : NULL;
                if (!x) return out_of_memory();
                histogram(y, rows, low, high, (int)f->bins, x, counts);
                s->x = x, s->y = counts, s->n = 2 * f->bins;
            } else {
                if (plot_table_column(table, f->x) < 0 && strcmp(f->x, "seconds") != 0) {
                    fprintf(stderr, "nerve: %s:1: no column '%s' for --x\n", table->path, f->x);
                    return CLI_EXIT_INPUT;
                }
                double *x = job_keep(j, column_values(table, f->x, kind, &rows));
                if (!x) return out_of_memory();
                if (f->smooth > 0) smooth(y, rows, f->smooth);
                s->x = x, s->y = y, s->n = rows;
            }
            const char *file_label = labels ? labels[t] : table->path;
            if (j->table_count > 1 && count > 1)
                snprintf(j->labels[n], sizeof j->labels[n], "%s %s", file_label, columns[k]);
            else
                snprintf(j->labels[n], sizeof j->labels[n], "%s",
                         j->table_count > 1 ? file_label : columns[k]);
            s->label = j->table_count > 1 || count > 1 || labels ? j->labels[n] : NULL;
            s->colour = j->table_count > 1 ? t : k;
            s->dash = j->table_count > 1 ? k : 0;
            n++;
        }
    }
    *series_count = n;
    return 0;
}

static int check_flags(plot_flags *f, int *width, int *height)
{
    if (!plot_format_known(f->out))
        return cli_usage_error(&plot_command, "--out %s: the file must end in .png or .svg",
                               f->out);
    if (f->hist && f->heatmap)
        return cli_usage_error(&plot_command, "--hist and --heatmap draw different charts");
    if (f->rows && strcmp(f->rows, "epoch") && strcmp(f->rows, "step") && strcmp(f->rows, "eval") &&
        strcmp(f->rows, "target") && strcmp(f->rows, "all"))
        return cli_usage_error(&plot_command,
                               "--rows must be epoch, step, eval, target or all, not '%s'",
                               f->rows);
    if (f->smooth >= 1)
        return cli_usage_error(&plot_command, "--smooth must be below 1, not %g", f->smooth);
    if (sscanf(f->size, "%dx%d", width, height) != 2 || *width < 100 || *height < 100 ||
        *width > 8000 || *height > 8000)
        return cli_usage_error(&plot_command, "--size must be WxH, each 100..8000, not '%s'",
                               f->size);
    return -1;
}

/* The --hline values, into values; the count, or -1 for a malformed list. */
static int parse_hlines(char *text, double *values)
{
    char *words[MAX_HLINES];
    int n = split_list(text, words, MAX_HLINES);
    for (int i = 0; i < n; i++) {
        char *end;
        values[i] = strtod(words[i], &end);
        if (*end || !isfinite(values[i])) return -1;
    }
    return n;
}

static int draw(plot_job *j, plot_flags *f, const char **files, int file_count)
{
    int width, height, code = check_flags(f, &width, &height);
    if (code >= 0) return code;
    char y_text[4096], label_text[4096], hline_text[512];
    char *patterns[MAX_SERIES], *columns[MAX_HEATMAP_COLUMNS], *labels[MAX_FILES];
    double hlines[MAX_HLINES];
    snprintf(y_text, sizeof y_text, "%s", f->y);
    int pattern_count = split_list(y_text, patterns, MAX_SERIES);
    if (pattern_count < 0)
        return cli_usage_error(&plot_command, "--y: a list of at most %d column names", MAX_SERIES);
    int hline_count = 0;
    if (f->hlines) {
        snprintf(hline_text, sizeof hline_text, "%s", f->hlines);
        hline_count = parse_hlines(hline_text, hlines);
        if (hline_count < 0)
            return cli_usage_error(&plot_command, "--hline: a list of at most %d numbers",
                                   MAX_HLINES);
    }
    if (f->labels) {
        snprintf(label_text, sizeof label_text, "%s", f->labels);
        if (split_list(label_text, labels, MAX_FILES) != file_count)
            return cli_usage_error(&plot_command, "--labels needs one label per file (%d)",
                                   file_count);
    }
    for (int i = 0; i < file_count; i++) {
        nerve_error err = {0};
        nerve_status st = plot_table_read(files[i], &j->tables[i], &err);
        j->table_count = i + 1;
        if (st) return cli_fail(&err, cli_exit_code(st));
    }
    int capacity = f->heatmap ? MAX_HEATMAP_COLUMNS : MAX_SERIES;
    int count = select_columns(&j->tables[0], patterns, pattern_count, columns, capacity);
    if (count == -2)
        return cli_usage_error(&plot_command, "--y selects more than %d columns%s", capacity,
                               f->heatmap ? "" : " (a --heatmap takes more)");
    if (count < 0) return CLI_EXIT_INPUT;
    plot_chart chart = {f->title, f->x_label, f->y_label, f->log_y, width, height, hlines,
                        hline_count};
    if (f->heatmap) return heatmap(j, f, &chart, columns, count);
    if (!chart.x_label) chart.x_label = f->hist ? (count == 1 ? columns[0] : "value") : f->x;
    if (!chart.y_label) chart.y_label = f->hist ? "count" : count == 1 ? columns[0] : NULL;
    int series_count;
    code = build_series(j, f, columns, count, f->labels ? labels : NULL, &series_count);
    if (code) return code;
    nerve_error err = {0};
    nerve_status st = plot_lines(&chart, j->series, series_count, f->out, &err);
    return st ? cli_fail(&err, st == NERVE_ERR_INVALID ? CLI_EXIT_INPUT : CLI_EXIT_FAILURE) : 0;
}

int cmd_plot(int argc, char **argv)
{
    plot_flags f = {.x = "epoch", .size = "800x500", .bins = 30};
    cli_option options[] = {
        CLI_STRING("--y", "COLUMNS", &f.y, "the columns to draw, comma-separated (required)"),
        CLI_STRING("--x", "COLUMN", &f.x, "the x axis: epoch, step, seconds or any column "
                                           "(default: epoch)"),
        CLI_STRING("--out", "FILE", &f.out, "the image, .png or .svg (required)"),
        CLI_FLAG("--log-y", &f.log_y, "logarithmic y axis (default: linear)"),
        CLI_STRING("--title", "TEXT", &f.title, "title above the chart (default: none)"),
        CLI_STRING("--labels", "A,B,...", &f.labels,
                   "the files' names in the legend (default: their paths)"),
        CLI_STRING("--rows", "epoch|step|eval|target|all", &f.rows,
                   "a metrics log's rows to draw (default: step rows for --x step, else epoch)"),
        CLI_STRING("--xlabel", "TEXT", &f.x_label, "x axis label (default: the --x column)"),
        CLI_STRING("--ylabel", "TEXT", &f.y_label, "y axis label (default: the --y column)"),
        CLI_STRING("--hline", "Y,...", &f.hlines, "dashed reference lines at these y values"),
        CLI_REAL("--smooth", "A", &f.smooth,
                 "exponential moving average of each line, 0 < A < 1 (default: none)"),
        CLI_FLAG("--hist", &f.hist, "histogram of the --y values (default: a line chart)"),
        CLI_INT("--bins", "N", &f.bins, 1, 1000, "histogram bins (default: 30)"),
        CLI_FLAG("--heatmap", &f.heatmap, "the --y columns of every row as coloured cells"),
        CLI_STRING("--size", "WxH", &f.size, "image size in pixels (default: 800x500)"),
    };
    const int option_count = (int)(sizeof options / sizeof options[0]);
    const char *files[MAX_FILES];
    int file_count;
    int code = cli_parse_many(&plot_command, options, option_count, argc, argv, files, MAX_FILES,
                              &file_count);
    if (code >= 0) return code;
    if (!f.y) return cli_usage_error(&plot_command, "missing --y COLUMNS");
    if (!f.out) return cli_usage_error(&plot_command, "missing --out FILE");
    plot_job *j = calloc(1, sizeof *j);
    if (!j) return out_of_memory();
    code = draw(j, &f, files, file_count);
    job_free(j);
    free(j);
    /* cairo's font caches and fontconfig's configuration live until exit:
     * released here so that leak checkers see a clean process. */
    cairo_debug_reset_static_data();
    FcFini();
    return code;
}
