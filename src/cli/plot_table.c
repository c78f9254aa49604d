#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/plot_table.h"

/* Longest line read; a metrics log with a thousand tensors is about 30 KB. */
#define LINE_MAX_BYTES (1 << 20)

static char *copy_string(const char *s, size_t n)
{
    char *c = malloc(n + 1);
    if (c) {
        memcpy(c, s, n);
        c[n] = '\0';
    }
    return c;
}

/* Splits line (its '\n' and '\r' removed) at commas, in place; returns the
 * field count, at most capacity (one more means "too many"). */
static int split(char *line, char **fields, int capacity)
{
    line[strcspn(line, "\r\n")] = '\0';
    int n = 0;
    for (char *p = line;; p++) {
        if (n == capacity) return capacity + 1;
        fields[n++] = p;
        p += strcspn(p, ",");
        if (*p == '\0') return n;
        *p = '\0';
    }
}

static nerve_status read_header(plot_table *t, FILE *f, char *line, nerve_error *err)
{
    if (!fgets(line, LINE_MAX_BYTES, f))
        return nerve_error_set(err, NERVE_ERR_INVALID, "%s:1: empty file: a header row is needed",
                               t->path);
    int count = 1;
    for (const char *p = line; *p; p++) count += *p == ',';
    t->names = calloc((size_t)count, sizeof *t->names);
    char **fields = malloc((size_t)count * sizeof *fields);
    if (!t->names || !fields) {
        free(fields);
        return nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory", t->path);
    }
    t->columns = split(line, fields, count);
    for (int c = 0; c < t->columns; c++) {
        if (!fields[c][0]) {
            free(fields);
            return nerve_error_set(err, NERVE_ERR_INVALID, "%s:1: column %d has no name", t->path,
                                   c + 1);
        }
        t->names[c] = copy_string(fields[c], strlen(fields[c]));
        if (!t->names[c]) {
            free(fields);
            return nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory", t->path);
        }
    }
    free(fields);
    return NERVE_OK;
}

/* Appends one data row; line is the file's line number. */
static nerve_status read_row(plot_table *t, char *text, char **fields, int kind_column,
                             int64_t line, int64_t *capacity, nerve_error *err)
{
    int n = split(text, fields, t->columns);
    if (n != t->columns)
        return nerve_error_set(err, NERVE_ERR_INVALID, "%s:%lld: %s%d fields, the header has %d",
                               t->path, (long long)line, n > t->columns ? "more than " : "",
                               n > t->columns ? t->columns : n, t->columns);
    if (t->rows == *capacity) {
        int64_t grown = *capacity ? 2 * *capacity : 64;
        double *values = realloc(t->values, (size_t)(grown * t->columns) * sizeof *values);
        char *kinds = kind_column >= 0 ? realloc(t->kinds, (size_t)grown) : NULL;
        if (values) t->values = values;
        if (kinds) t->kinds = kinds;
        if (!values || (kind_column >= 0 && !kinds))
            return nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory", t->path);
        *capacity = grown;
    }
    double *row = t->values + t->rows * t->columns;
    for (int c = 0; c < t->columns; c++) {
        const char *field = fields[c];
        row[c] = NAN;
        if (c == kind_column) {
            t->kinds[t->rows] = strcmp(field, "epoch") == 0    ? 'e'
                                : strcmp(field, "step") == 0   ? 's'
                                : strcmp(field, "eval") == 0   ? 'v'
                                : strcmp(field, "target") == 0 ? 't'
                                                               : 0;
            continue;
        }
        if (!field[0]) continue;
        char *end;
        errno = 0;
        row[c] = strtod(field, &end);
        if (*end || end == field || errno == ERANGE)
            return nerve_error_set(err, NERVE_ERR_INVALID,
                                   "%s:%lld: column '%s': '%.40s' is not a number", t->path,
                                   (long long)line, t->names[c], field);
    }
    t->rows++;
    return NERVE_OK;
}

nerve_status plot_table_read(const char *path, plot_table *t, nerve_error *err)
{
    memset(t, 0, sizeof *t);
    t->path = copy_string(path, strlen(path));
    FILE *f = fopen(path, "r");
    if (!t->path || !f) {
        if (f) fclose(f);
        return nerve_error_set(err, t->path ? NERVE_ERR_IO : NERVE_ERR_NOMEM, "%s: cannot read: %s",
                               path, t->path ? strerror(errno) : "out of memory");
    }
    char *line = malloc(LINE_MAX_BYTES);
    nerve_status st = line ? read_header(t, f, line, err)
                           : nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory", path);
    int kind_column = st ? -1 : plot_table_column(t, "kind");
    char **fields = st ? NULL : malloc((size_t)(t->columns + 1) * sizeof *fields);
    if (!st && !fields) st = nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory", path);
    int64_t capacity = 0;
    for (int64_t number = 2; !st && fgets(line, LINE_MAX_BYTES, f); number++) {
        if (!strchr(line, '\n') && !feof(f))
            st = nerve_error_set(err, NERVE_ERR_INVALID, "%s:%lld: line longer than %d bytes",
                                 path, (long long)number, LINE_MAX_BYTES);
        else if (line[strspn(line, "\r\n")] != '\0') /* blank lines are skipped */
            st = read_row(t, line, fields, kind_column, number, &capacity, err);
    }
    if (!st && ferror(f))
        st = nerve_error_set(err, NERVE_ERR_IO, "%s: read error: %s", path, strerror(errno));
    if (!st && t->rows == 0)
        st = nerve_error_set(err, NERVE_ERR_INVALID, "%s: no data rows after the header", path);
    free(fields);
    free(line);
    fclose(f);
    return st;
}

void plot_table_free(plot_table *t)
{
    for (int c = 0; t->names && c < t->columns; c++) free(t->names[c]);
    free(t->names);
    free(t->values);
    free(t->kinds);
    free(t->path);
    memset(t, 0, sizeof *t);
}

int plot_table_column(const plot_table *t, const char *name)
{
    for (int c = 0; c < t->columns; c++)
        if (strcmp(t->names[c], name) == 0) return c;
    return -1;
}
