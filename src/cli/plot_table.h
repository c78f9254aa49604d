/* The tables nerve plot draws: a CSV file with a header row, every field a
 * number or empty (missing), except a text column named "kind" (the metrics
 * log's epoch/step rows). */
#ifndef NERVE_CLI_PLOT_TABLE_H
#define NERVE_CLI_PLOT_TABLE_H

#include <stdint.h>

#include "nerve.h"

typedef struct plot_table {
    char *path;
    int columns;
    char **names;    /* the header's fields */
    int64_t rows;
    double *values;  /* rows x columns, NaN where a field is empty or text */
    char *kinds;     /* per row: 'e' (epoch), 's' (step) or 0; NULL without a kind column */
} plot_table;

/* Reads path. A row with another number of fields than the header, or a
 * field that is not a number, is an error naming path:line and the column. */
nerve_status plot_table_read(const char *path, plot_table *t, nerve_error *err);
void plot_table_free(plot_table *t);
/* The column's index, or -1. */
int plot_table_column(const plot_table *t, const char *name);

#endif
