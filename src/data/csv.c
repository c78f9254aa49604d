/* Numeric CSV: comma-separated numbers, one sample per line. No quoting (a
 * quoted field is not a number); spaces and tabs around a number are allowed,
 * lines may end in CRLF, blank lines are skipped. Messages count lines and
 * columns from 1, as editors do. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "nerve.h"

/* Labels become float targets and num_classes an int: a larger class index
 * is a mistaken column rather than a real class. */
#define CSV_MAX_LABEL (1 << 24)
/* Longest excerpt of a bad field quoted in a message. */
#define CSV_QUOTE_LIMIT 40

typedef struct csv_reader {
    const char *path;
    const nerve_csv_options *options;
    int columns;      /* fixed by the first data row */
    int label_column; /* 0-based, the option's -1 resolved; -1 for regression */
    int64_t rows, row_capacity;
    int64_t features, target_size;
    float *inputs, *targets;
    int max_label;
    nerve_error *err;
} csv_reader;

static bool is_blank(char c) { return c == ' ' || c == '\t'; }

static bool line_is_blank(const char *line)
{
    while (is_blank(*line)) line++;
    return *line == '\0';
}

static int count_fields(const char *line)
{
    int fields = 1;
    for (; *line; line++)
        if (*line == ',') fields++;
    return fields;
}

/* Parses the field [begin, end) as a finite float. */
static nerve_status parse_number(const csv_reader *reader, int64_t line, int column,
                                 const char *begin, const char *end, float *value)
{
    while (begin < end && is_blank(*begin)) begin++;
    while (end > begin && is_blank(end[-1])) end--;
    int length = (int)(end - begin);
    if (length == 0)
        return nerve_error_set(reader->err, NERVE_ERR_FORMAT, "%s:%lld:%d: empty value",
                               reader->path, (long long)line, column);
    /* strtod stops at the blank, comma or end of line that bounds the field. */
    char *stop;
    double parsed = strtod(begin, &stop);
    int shown = length < CSV_QUOTE_LIMIT ? length : CSV_QUOTE_LIMIT;
    if (stop != end)
        return nerve_error_set(reader->err, NERVE_ERR_FORMAT, "%s:%lld:%d: '%.*s' is not a number",
                               reader->path, (long long)line, column, shown, begin);
    if (!isfinite(parsed) || fabs(parsed) > FLT_MAX)
        return nerve_error_set(reader->err, NERVE_ERR_FORMAT,
                               "%s:%lld:%d: '%.*s' is not a finite float32 number", reader->path,
                               (long long)line, column, shown, begin);
    *value = (float)parsed;
    return NERVE_OK;
}

static nerve_status check_label(csv_reader *reader, int64_t line, int column, float value)
{
    if (!(value >= 0) || value != floorf(value) || value >= CSV_MAX_LABEL)
        return nerve_error_set(reader->err, NERVE_ERR_FORMAT,
                               "%s:%lld:%d: label %g is not a non-negative integer below %d",
                               reader->path, (long long)line, column, value, CSV_MAX_LABEL);
    if ((int)value > reader->max_label) reader->max_label = (int)value;
    return NERVE_OK;
}

/* The first data row fixes the column count; the options are checked against it. */
static nerve_status set_columns(csv_reader *reader, int64_t line, int columns)
{
    const nerve_csv_options *options = reader->options;
    reader->columns = columns;
    if (options->targets > 0) {
        if (columns <= options->targets)
            return nerve_error_set(reader->err, NERVE_ERR_FORMAT,
                                   "%s:%lld: %d columns leave no feature beside %d targets",
                                   reader->path, (long long)line, columns, options->targets);
        reader->label_column = -1;
        reader->target_size = options->targets;
    } else if (options->label_column == NERVE_CSV_NO_LABEL) {
        reader->label_column = -1;
        reader->target_size = 0;
    } else {
        int label = options->label_column == -1 ? columns - 1 : options->label_column;
        if (columns < 2)
            return nerve_error_set(reader->err, NERVE_ERR_FORMAT,
                                   "%s:%lld: a label and a feature need 2 columns, found %d",
                                   reader->path, (long long)line, columns);
        if (label >= columns)
            return nerve_error_set(reader->err, NERVE_ERR_INVALID,
                                   "%s:%lld: label column %d is out of range for %d columns",
                                   reader->path, (long long)line, options->label_column, columns);
        reader->label_column = label;
        reader->target_size = 1;
    }
    reader->features = columns - reader->target_size;
    return NERVE_OK;
}

static nerve_status reserve_row(csv_reader *reader)
{
    if (reader->rows < reader->row_capacity) return NERVE_OK;
    int64_t capacity = reader->row_capacity ? reader->row_capacity * 2 : 1024;
    size_t row_bytes = (size_t)reader->columns * sizeof(float);
    if ((uint64_t)capacity > SIZE_MAX / row_bytes)
        return nerve_error_set(reader->err, NERVE_ERR_NOMEM, "%s: too many rows", reader->path);
    size_t input_bytes = (size_t)capacity * (size_t)reader->features * sizeof(float);
    size_t target_bytes = (size_t)capacity * (size_t)reader->target_size * sizeof(float);
    float *inputs = realloc(reader->inputs, input_bytes);
    if (inputs) reader->inputs = inputs;
    /* + 1: a features-only file has no targets, and realloc(p, 0) may return NULL. */
    float *targets = inputs ? realloc(reader->targets, target_bytes + 1) : NULL;
    if (targets) reader->targets = targets;
    if (!inputs || !targets)
        return nerve_error_set(reader->err, NERVE_ERR_NOMEM, "%s: cannot allocate %lld rows",
                               reader->path, (long long)capacity);
    reader->row_capacity = capacity;
    return NERVE_OK;
}

static nerve_status parse_row(csv_reader *reader, int64_t line_number, const char *line)
{
    int columns = count_fields(line);
    nerve_status status = NERVE_OK;
    if (reader->columns == 0) status = set_columns(reader, line_number, columns);
    if (status != NERVE_OK) return status;
    if (columns != reader->columns)
        return nerve_error_set(reader->err, NERVE_ERR_FORMAT,
                               "%s:%lld: expected %d columns, found %d", reader->path,
                               (long long)line_number, reader->columns, columns);
    status = reserve_row(reader);
    if (status != NERVE_OK) return status;

    float *inputs = reader->inputs + reader->rows * reader->features;
    float *targets = reader->targets + reader->rows * reader->target_size;
    int first_target = reader->columns - (int)reader->target_size;
    const char *begin = line;
    for (int column = 0; column < columns; column++) {
        const char *end = strchr(begin, ',');
        if (!end) end = begin + strlen(begin);
        float value = 0;
        status = parse_number(reader, line_number, column + 1, begin, end, &value);
        if (status != NERVE_OK) return status;
        if (column == reader->label_column) {
            status = check_label(reader, line_number, column + 1, value);
            if (status != NERVE_OK) return status;
            *targets = value;
        } else if (reader->label_column < 0 && column >= first_target) {
            targets[column - first_target] = value;
        } else {
            *inputs++ = value;
        }
        begin = end + 1;
    }
    reader->rows++;
    return NERVE_OK;
}

/* Strips the line ending (LF or CRLF) and, on the first line, a UTF-8
 * byte-order mark (spreadsheets write one). */
static char *trim_line(char *line, ssize_t length, int64_t line_number)
{
    if (length > 0 && line[length - 1] == '\n') line[--length] = '\0';
    if (length > 0 && line[length - 1] == '\r') line[--length] = '\0';
    if (line_number == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0) line += 3;
    return line;
}

static nerve_status read_rows(csv_reader *reader, FILE *file)
{
    char *buffer = NULL;
    size_t buffer_size = 0;
    ssize_t length;
    int64_t line_number = 0;
    bool header_pending = reader->options->header;
    nerve_status status = NERVE_OK;
    errno = 0;
    while (status == NERVE_OK && (length = getline(&buffer, &buffer_size, file)) >= 0) {
        char *line = trim_line(buffer, length, ++line_number);
        if (line_is_blank(line)) continue;
        if (header_pending) {
            header_pending = false;
            continue;
        }
        status = parse_row(reader, line_number, line);
    }
    if (status == NERVE_OK && ferror(file))
        status = nerve_error_set(reader->err, NERVE_ERR_IO, "%s: read failed: %s", reader->path,
                                 strerror(errno));
    free(buffer);
    return status;
}

static nerve_status check_options(const char *path, const nerve_csv_options *options,
                                  nerve_error *err)
{
    if (options->targets < 0)
        return nerve_error_set(err, NERVE_ERR_INVALID, "%s: targets must be >= 0, got %d", path,
                               options->targets);
    if (options->targets == 0 && options->label_column < -1 &&
        options->label_column != NERVE_CSV_NO_LABEL)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "%s: label_column must be >= 0, -1 (last) or NERVE_CSV_NO_LABEL, got %d", path,
                               options->label_column);
    return NERVE_OK;
}

nerve_status nerve_csv_load(const char *path, const nerve_csv_options *options,
                            nerve_dataset *out, nerve_error *err)
{
    memset(out, 0, sizeof *out);
    nerve_status status = check_options(path, options, err);
    if (status != NERVE_OK) return status;
    FILE *file = fopen(path, "r");
    if (!file)
        return nerve_error_set(err, NERVE_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    csv_reader reader = {.path = path, .options = options, .err = err};
    status = read_rows(&reader, file);
    fclose(file);
    if (status == NERVE_OK && reader.rows == 0)
        status = nerve_error_set(err, NERVE_ERR_FORMAT, "%s: no data rows%s", path,
                                 options->header ? " after the header" : "");
    if (status != NERVE_OK) {
        free(reader.inputs);
        free(reader.targets);
        return status;
    }
    out->count = reader.rows;
    out->sample_shape = nerve_shape_1d(reader.features);
    out->sample_size = reader.features;
    out->inputs = reader.inputs;
    out->target_size = reader.target_size;
    out->targets = reader.target_size ? reader.targets : NULL;
    if (!reader.target_size) free(reader.targets);
    out->num_classes = reader.label_column >= 0 ? reader.max_label + 1 : 0;
    return NERVE_OK;
}
