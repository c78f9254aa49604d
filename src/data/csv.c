/* Numeric CSV: comma-separated numbers, one sample per line, or one sample
 * per block of lines (a sequence, its time steps one per line); the class
 * labels may be names instead of numbers. No quoting (a
 * quoted field is not a number); spaces and tabs around a number are allowed,
 * lines may end in CRLF, blank lines are skipped. Messages count lines and
 * columns from 1, as editors do. */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "core/options.h"
#include "nerve.h"

/* Labels become float targets and num_classes an int: a larger class index
 * is a mistaken column rather than a real class. */
#define CSV_MAX_LABEL (1 << 24)
/* The row buffers start at about this many bytes and double: a file of one
 * wide row costs no more than it holds. */
#define CSV_INITIAL_BYTES ((size_t)1 << 16)
/* A row of one column where more were expected is likely another delimiter. */
#define DELIMITER_HINT " (is the delimiter ','? nerve reads comma-separated values)"
/* Longest excerpt of a bad field quoted in a message. */
#define CSV_QUOTE_LIMIT 40

typedef struct csv_reader {
    const char *path;
    const nerve_csv_options *options;
    char delimiter;   /* the option's 0 resolved to ',' */
    int columns;      /* fixed by the first data row */
    int label_column; /* 0-based, the option's -1 resolved; -1 for regression */
    int sequence_column; /* 0-based; -1 when every row is a sample */
    int64_t rows, row_capacity;
    int64_t features, target_size;
    float *inputs, *targets;
    double *sequence_ids; /* sequences: each row's id, and the line it is on */
    int64_t *lines;
    int max_label;
    /* Labels that are names (the first row's label is not a number): the
     * distinct names in the order met; a target is an index into them
     * until sort_names orders them. */
    bool named;
    char **names;
    int name_count, name_capacity;
    nerve_error *err;
} csv_reader;

static bool is_blank(char c) { return c == ' ' || c == '\t'; }

static bool line_is_blank(const char *line)
{
    while (is_blank(*line)) line++;
    return *line == '\0';
}

static int count_fields(const char *line, char delimiter)
{
    int fields = 1;
    for (; *line; line++)
        if (*line == delimiter) fields++;
    return fields;
}

/* Parses the field [begin, end) as a finite float32 number (kept in double,
 * as a sequence id wants every digit). */
static nerve_status parse_number(const csv_reader *reader, int64_t line, int column,
                                 const char *begin, const char *end, double *value)
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
    /* Text in the first row of a file read without a header is a header. */
    bool word = isalpha((unsigned char)*begin) || *begin == '"' || *begin == '_';
    const char *hint = reader->rows == 0 && !reader->options->header && word
                           ? " (the first row looks like a header: set [data] header = 1)"
                           : "";
    if (stop != end)
        return nerve_error_set(reader->err, NERVE_ERR_FORMAT,
                               "%s:%lld:%d: '%.*s' is not a number%s", reader->path,
                               (long long)line, column, shown, begin, hint);
    if (!isfinite(parsed) || fabs(parsed) > FLT_MAX)
        return nerve_error_set(reader->err, NERVE_ERR_FORMAT,
                               "%s:%lld:%d: '%.*s' is not a finite float32 number", reader->path,
                               (long long)line, column, shown, begin);
    *value = parsed;
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

/* The field [begin, end) without the blanks around it. */
static void trim_field(const char **begin, const char **end)
{
    while (*begin < *end && is_blank(**begin)) (*begin)++;
    while (*end > *begin && is_blank((*end)[-1])) (*end)--;
}

/* A label that is a name: text that is not a number (an empty field is
 * neither: it stays the numeric reader's "empty value"). */
static bool field_is_name(const char *begin, const char *end)
{
    trim_field(&begin, &end);
    char *stop;
    strtod(begin, &stop);
    return begin < end && stop != end;
}

/* A name label: its index among the names met so far, adding it when new. */
static nerve_status name_label(csv_reader *reader, int64_t line, int column, const char *begin,
                               const char *end, float *value)
{
    trim_field(&begin, &end);
    size_t length = (size_t)(end - begin);
    if (length == 0)
        return nerve_error_set(reader->err, NERVE_ERR_FORMAT, "%s:%lld:%d: empty label",
                               reader->path, (long long)line, column);
    for (int i = reader->name_count - 1; i >= 0; i--)
        if (strlen(reader->names[i]) == length && memcmp(reader->names[i], begin, length) == 0) {
            *value = (float)i;
            return NERVE_OK;
        }
    if (reader->name_count >= CSV_MAX_LABEL)
        return nerve_error_set(reader->err, NERVE_ERR_FORMAT,
                               "%s:%lld:%d: more than %d distinct labels", reader->path,
                               (long long)line, column, CSV_MAX_LABEL);
    if (reader->name_count == reader->name_capacity) {
        int capacity = reader->name_capacity ? 2 * reader->name_capacity : 16;
        char **names = realloc(reader->names, (size_t)capacity * sizeof *names);
        if (!names)
            return nerve_error_set(reader->err, NERVE_ERR_NOMEM, "%s: out of memory for labels",
                                   reader->path);
        reader->names = names;
        reader->name_capacity = capacity;
    }
    char *name = malloc(length + 1);
    if (!name)
        return nerve_error_set(reader->err, NERVE_ERR_NOMEM, "%s: out of memory for labels",
                               reader->path);
    memcpy(name, begin, length);
    name[length] = '\0';
    reader->names[reader->name_count] = name;
    *value = (float)reader->name_count++;
    return NERVE_OK;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names sorted, and every target renumbered to match: the classes do
 * not depend on the order of the rows. */
static nerve_status sort_names(csv_reader *reader)
{
    int n = reader->name_count;
    char **sorted = malloc((size_t)n * sizeof *sorted);
    int *map = malloc((size_t)n * sizeof *map);
    if (!sorted || !map) {
        free(sorted);
        free(map);
        return nerve_error_set(reader->err, NERVE_ERR_NOMEM, "%s: out of memory for labels",
                               reader->path);
    }
    memcpy(sorted, reader->names, (size_t)n * sizeof *sorted);
    qsort(sorted, (size_t)n, sizeof *sorted, compare_names);
    for (int i = 0; i < n; i++) {
        char **at = bsearch(&reader->names[i], sorted, (size_t)n, sizeof *sorted, compare_names);
        map[i] = (int)(at - sorted);
    }
    for (int64_t i = 0; i < reader->rows; i++)
        reader->targets[i] = (float)map[(int)reader->targets[i]];
    free(map);
    free(reader->names);
    reader->names = sorted;
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
                                   "%s:%lld: a label and a feature need 2 columns, found %d%s",
                                   reader->path, (long long)line, columns,
                                   reader->delimiter == ',' ? DELIMITER_HINT : "");
        if (label >= columns)
            return nerve_error_set(reader->err, NERVE_ERR_INVALID,
                                   "%s:%lld: label column %d is out of range for %d columns",
                                   reader->path, (long long)line, options->label_column, columns);
        reader->label_column = label;
        reader->target_size = 1;
    }
    reader->features = columns - reader->target_size;
    reader->sequence_column = -1;
    if (options->sequences) {
        int id = options->sequence_column;
        if (id < 0 || id >= columns)
            return nerve_error_set(reader->err, NERVE_ERR_INVALID,
                                   "%s:%lld: sequence column %d is out of range for %d columns",
                                   reader->path, (long long)line, id, columns);
        if (id == reader->label_column || (reader->label_column < 0 &&
                                           id >= columns - reader->target_size))
            return nerve_error_set(reader->err, NERVE_ERR_INVALID,
                                   "%s:%lld: sequence column %d is also the label or a target",
                                   reader->path, (long long)line, id);
        if (reader->features < 2)
            return nerve_error_set(reader->err, NERVE_ERR_FORMAT,
                                   "%s:%lld: %d columns leave no feature beside the sequence id "
                                   "and the label or targets", reader->path, (long long)line,
                                   columns);
        reader->sequence_column = id;
        reader->features--;
    }
    return NERVE_OK;
}

static nerve_status reserve_row(csv_reader *reader)
{
    if (reader->rows < reader->row_capacity) return NERVE_OK;
    size_t row_bytes = (size_t)reader->columns * sizeof(float);
    int64_t first = CSV_INITIAL_BYTES / row_bytes ? (int64_t)(CSV_INITIAL_BYTES / row_bytes) : 1;
    int64_t capacity = reader->row_capacity ? reader->row_capacity * 2 : first;
    if ((uint64_t)capacity > SIZE_MAX / row_bytes)
        return nerve_error_set(reader->err, NERVE_ERR_NOMEM, "%s: too many rows", reader->path);
    size_t input_bytes = (size_t)capacity * (size_t)reader->features * sizeof(float);
    size_t target_bytes = (size_t)capacity * (size_t)reader->target_size * sizeof(float);
    float *inputs = realloc(reader->inputs, input_bytes);
    if (inputs) reader->inputs = inputs;
    /* + 1: a features-only file has no targets, and realloc(p, 0) may return NULL. */
    float *targets = inputs ? realloc(reader->targets, target_bytes + 1) : NULL;
    if (targets) reader->targets = targets;
    bool sequences = reader->sequence_column >= 0;
    double *ids = targets && sequences ? realloc(reader->sequence_ids,
                                                 (size_t)capacity * sizeof *ids) : NULL;
    if (ids) reader->sequence_ids = ids;
    int64_t *lines = ids ? realloc(reader->lines, (size_t)capacity * sizeof *lines) : NULL;
    if (lines) reader->lines = lines;
    if (!inputs || !targets || (sequences && !lines))
        return nerve_error_set(reader->err, NERVE_ERR_NOMEM, "%s: cannot allocate %lld rows",
                               reader->path, (long long)capacity);
    reader->row_capacity = capacity;
    return NERVE_OK;
}

static nerve_status parse_row(csv_reader *reader, int64_t line_number, const char *line)
{
    int columns = count_fields(line, reader->delimiter);
    nerve_status status = NERVE_OK;
    if (reader->columns == 0) status = set_columns(reader, line_number, columns);
    if (status != NERVE_OK) return status;
    if (columns != reader->columns)
        return nerve_error_set(reader->err, NERVE_ERR_FORMAT,
                               "%s:%lld: expected %d columns, found %d%s", reader->path,
                               (long long)line_number, reader->columns, columns,
                               columns == 1 && reader->delimiter == ',' ? DELIMITER_HINT : "");
    status = reserve_row(reader);
    if (status != NERVE_OK) return status;

    float *inputs = reader->inputs + reader->rows * reader->features;
    float *targets = reader->targets + reader->rows * reader->target_size;
    int first_target = reader->columns - (int)reader->target_size;
    const char *begin = line;
    for (int column = 0; column < columns; column++) {
        const char *end = strchr(begin, reader->delimiter);
        if (!end) end = begin + strlen(begin);
        if (column == reader->label_column && reader->rows == 0)
            reader->named = field_is_name(begin, end);
        if (column == reader->label_column && reader->named) {
            status = name_label(reader, line_number, column + 1, begin, end, targets);
            if (status != NERVE_OK) return status;
            begin = end + 1;
            continue;
        }
        double parsed = 0;
        status = parse_number(reader, line_number, column + 1, begin, end, &parsed);
        if (status != NERVE_OK) return status;
        float value = (float)parsed;
        if (column == reader->sequence_column) {
            reader->sequence_ids[reader->rows] = parsed;
            reader->lines[reader->rows] = line_number;
        } else if (column == reader->label_column) {
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
    /* strtod reads digits, signs, points, exponents, blanks, inf and nan. */
    char d = options->delimiter;
    if (d && (strchr("0123456789+-.eEiInNaAfF \"", d) || ((unsigned char)d < 0x20 && d != '\t')))
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "%s: delimiter 0x%02x cannot separate numbers", path,
                               (unsigned)(unsigned char)d);
    return NERVE_OK;
}

typedef struct sequence_block {
    double id;
    int64_t line;
} sequence_block;

static int compare_blocks(const void *a, const void *b)
{
    const sequence_block *x = a, *y = b;
    if (x->id != y->id) return x->id < y->id ? -1 : 1;
    return (x->line > y->line) - (x->line < y->line);
}

/* An id met again after other sequences is a file out of order, not a new
 * sequence: sorting the blocks by id puts the two next to each other. */
static nerve_status check_ids_unique(csv_reader *reader, int64_t count, int64_t steps)
{
    sequence_block *blocks = malloc((size_t)count * sizeof *blocks);
    if (!blocks)
        return nerve_error_set(reader->err, NERVE_ERR_NOMEM, "%s: out of memory", reader->path);
    for (int64_t b = 0; b < count; b++)
        blocks[b] = (sequence_block){reader->sequence_ids[b * steps], reader->lines[b * steps]};
    qsort(blocks, (size_t)count, sizeof *blocks, compare_blocks);
    nerve_status status = NERVE_OK;
    for (int64_t b = 1; b < count && status == NERVE_OK; b++)
        if (blocks[b].id == blocks[b - 1].id)
            status = nerve_error_set(reader->err, NERVE_ERR_FORMAT,
                                     "%s:%lld: sequence %.17g appears again (its rows begin at "
                                     "line %lld): a sequence's rows must be consecutive",
                                     reader->path, (long long)blocks[b].line, blocks[b].id,
                                     (long long)blocks[b - 1].line);
    free(blocks);
    return status;
}

/* Rows become sequences: the rows of a block are already contiguous in
 * inputs, so only the targets move (each block keeps its last row's). */
static nerve_status group_sequences(csv_reader *reader, int64_t *steps_out)
{
    const double *ids = reader->sequence_ids;
    int64_t steps = 1;
    while (steps < reader->rows && ids[steps] == ids[0]) steps++;
    for (int64_t start = 0; start < reader->rows;) {
        int64_t end = start + 1;
        while (end < reader->rows && ids[end] == ids[start]) end++;
        if (end - start != steps)
            return nerve_error_set(reader->err, NERVE_ERR_FORMAT,
                                   "%s:%lld: sequence %.17g has %lld rows, the first (line %lld) "
                                   "has %lld: every sequence must have the same length",
                                   reader->path, (long long)reader->lines[start], ids[start],
                                   (long long)(end - start), (long long)reader->lines[0],
                                   (long long)steps);
        start = end;
    }
    int64_t count = reader->rows / steps;
    nerve_status status = check_ids_unique(reader, count, steps);
    if (status != NERVE_OK) return status;
    int64_t width = reader->target_size;
    reader->max_label = 0;
    for (int64_t b = 0; b < count; b++) {
        const float *last = reader->targets + ((b + 1) * steps - 1) * width;
        memmove(reader->targets + b * width, last, (size_t)width * sizeof *last);
        int label = reader->label_column >= 0 ? (int)reader->targets[b * width] : 0;
        if (label > reader->max_label) reader->max_label = label;
    }
    reader->rows = count;
    *steps_out = steps;
    return NERVE_OK;
}

nerve_status nerve_csv_load(const char *path, const nerve_csv_options *options,
                            nerve_dataset *out, nerve_error *err)
{
    NERVE_OPTIONS_IN(nerve_csv_options, options, sequence_column, "nerve_csv_load",
                     err, NERVE_ERR_INVALID);
    memset(out, 0, sizeof *out);
    nerve_status status = check_options(path, options, err);
    if (status != NERVE_OK) return status;
    FILE *file = fopen(path, "r");
    if (!file)
        return nerve_error_set(err, NERVE_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    csv_reader reader = {.path = path, .options = options, .err = err,
                         .delimiter = options->delimiter ? options->delimiter : ','};
    status = read_rows(&reader, file);
    fclose(file);
    if (status == NERVE_OK && reader.rows == 0)
        status = nerve_error_set(err, NERVE_ERR_FORMAT, "%s: no data rows%s", path,
                                 options->header ? " after the header" : "");
    int64_t steps = 1;
    if (status == NERVE_OK && reader.sequence_column >= 0)
        status = group_sequences(&reader, &steps);
    if (status == NERVE_OK && reader.named) status = sort_names(&reader);
    free(reader.sequence_ids);
    free(reader.lines);
    if (status != NERVE_OK) {
        free(reader.inputs);
        free(reader.targets);
        for (int i = 0; i < reader.name_count; i++) free(reader.names[i]);
        free(reader.names);
        return status;
    }
    out->count = reader.rows;
    if (reader.sequence_column >= 0) {
        int64_t dims[2] = {steps, reader.features};
        out->sample_shape = nerve_shape_make(2, dims);
    } else {
        out->sample_shape = nerve_shape_1d(reader.features);
    }
    out->sample_size = steps * reader.features;
    out->inputs = reader.inputs;
    out->target_size = reader.target_size;
    out->targets = reader.target_size ? reader.targets : NULL;
    if (!reader.target_size) free(reader.targets);
    out->num_classes = reader.label_column >= 0 ? reader.max_label + 1 : 0;
    if (reader.named) {
        out->num_classes = reader.name_count;
        out->class_names = reader.names;
    }
    return NERVE_OK;
}
