/* The [data] section: where the samples come from. Each format reads its own
 * keys; a key of another format is an error saying which formats take it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_internal.h"

enum { FORMAT_IDX, FORMAT_CSV, FORMAT_TEXT, FORMAT_ADDING };
#define FORMAT_BIT(format) (1u << (format))
#define FILE_FORMATS (FORMAT_BIT(FORMAT_IDX) | FORMAT_BIT(FORMAT_CSV) | FORMAT_BIT(FORMAT_TEXT))
#define TABLE_FORMATS (FORMAT_BIT(FORMAT_IDX) | FORMAT_BIT(FORMAT_CSV))

static const struct data_key {
    const char *key;
    unsigned formats;
    const char *names;
} data_keys[] = {
    {"train", FILE_FORMATS, "idx, csv and text"},
    {"test", FILE_FORMATS, "idx, csv and text"},
    {"train_labels", FORMAT_BIT(FORMAT_IDX), "idx"},
    {"test_labels", FORMAT_BIT(FORMAT_IDX), "idx"},
    {"validation_file", TABLE_FORMATS, "idx and csv"},
    {"validation_labels", FORMAT_BIT(FORMAT_IDX), "idx"},
    {"validation_split", TABLE_FORMATS, "idx and csv"},
    {"scale", TABLE_FORMATS, "idx and csv"},
    {"normalize", TABLE_FORMATS, "idx and csv"},
    {"train_limit", TABLE_FORMATS, "idx and csv"},
    {"test_limit", TABLE_FORMATS, "idx and csv"},
    {"label_column", FORMAT_BIT(FORMAT_CSV), "csv"},
    {"header", FORMAT_BIT(FORMAT_CSV), "csv"},
    {"targets", FORMAT_BIT(FORMAT_CSV), "csv"},
    {"sequence_column", FORMAT_BIT(FORMAT_CSV), "csv"},
    {"length", FORMAT_BIT(FORMAT_ADDING), "adding"},
    {"train_samples", FORMAT_BIT(FORMAT_ADDING), "adding"},
    {"test_samples", FORMAT_BIT(FORMAT_ADDING), "adding"},
};

/* label_column = last or a 0-based index. */
static bool read_label_column(cfg_reader *r, nerve_csv_options *csv)
{
    char text[32];
    if (!cfg_read_string(r, "label_column", false, "last", text, sizeof text)) return false;
    if (strcmp(text, "last") == 0) {
        csv->label_column = -1;
        return true;
    }
    char *end;
    long c = strtol(text, &end, 10);
    if (end == text || *end || c < 0 || c > 1 << 20)
        return cfg_fail(r, "label_column", "'%s' is neither 'last' nor a column index", text);
    csv->label_column = (int)c;
    return true;
}

static bool read_csv_keys(cfg_reader *r, nerve_csv_options *csv)
{
    int64_t targets, sequence_column;
    bool header;
    if (!read_label_column(r, csv) || !cfg_read_bool(r, "header", false, &header) ||
        !cfg_read_int(r, "targets", false, 0, 0, 1 << 20, &targets) ||
        !cfg_read_int(r, "sequence_column", false, -1, 0, 1 << 20, &sequence_column))
        return false;
    csv->header = header;
    csv->targets = (int)targets;
    csv->sequences = sequence_column >= 0;
    csv->sequence_column = csv->sequences ? (int)sequence_column : 0;
    return true;
}

/* A path written in the cfg file, relative, is taken from the cfg's folder,
 * so that a project folder works from anywhere; a --set path (line 0) is
 * the command line's, from the current directory. */
static bool resolve_path(cfg_reader *r, const char *key, char *path, size_t size,
                         char origin[NERVE_DATA_ORIGIN_MAX])
{
    int line = cfg_line(r, key);
    char where[NERVE_DATA_ORIGIN_MAX - 64];
    cfg_location(r, line, where, sizeof where);
    snprintf(origin, NERVE_DATA_ORIGIN_MAX, "%s: [data] %s", where, key);
    const char *slash = strrchr(r->file, '/');
    if (!path[0] || path[0] == '/' || line <= 0 || !slash) return true;
    int folder = (int)(slash - r->file) + 1;
    if (strlen(path) + (size_t)folder >= size)
        return cfg_fail(r, key, "the path from the cfg's folder is longer than %zu characters",
                        size - 1);
    memmove(path + folder, path, strlen(path) + 1);
    memcpy(path, r->file, (size_t)folder);
    return true;
}

nerve_status nerve_read_data_section(cfg_reader *r, nerve_data_settings *d,
                                     char origin[DATA_PATH_COUNT][NERVE_DATA_ORIGIN_MAX])
{
    static const char *const formats[] = {"idx", "csv", "text", "adding", NULL};
    static const char *const normalizations[] = {"scale", "standardize", "minus_one_one", NULL};
    int format, normalize;
    if (!cfg_read_choice(r, "format", formats, FORMAT_IDX, &format)) return r->status;
    for (size_t i = 0; i < sizeof data_keys / sizeof data_keys[0]; i++)
        if (cfg_has(r, data_keys[i].key) && !(data_keys[i].formats & FORMAT_BIT(format)))
            return cfg_fail(r, data_keys[i].key, "only applies to [data] format %s",
                            data_keys[i].names), r->status;
    strcpy(d->format, formats[format]);
    if (!cfg_read_string(r, "train", false, "", d->train, sizeof d->train) ||
        !cfg_read_string(r, "test", false, "", d->test, sizeof d->test) ||
        !cfg_read_double(r, "scale", false, 1, 1e-30, 1e30, &d->scale) ||
        !cfg_read_choice(r, "normalize", normalizations, 0, &normalize) ||
        !cfg_read_int(r, "validation", false, 0, 0, INT64_MAX, &d->validation) ||
        !cfg_read_int(r, "train_limit", false, 0, 0, INT64_MAX, &d->train_limit) ||
        !cfg_read_int(r, "test_limit", false, 0, 0, INT64_MAX, &d->test_limit))
        return r->status;
    d->normalize = (nerve_normalize)normalize;
    if (format == FORMAT_IDX &&
        (!cfg_read_string(r, "train_labels", d->train[0] != 0, "", d->train_labels,
                          sizeof d->train_labels) ||
         !cfg_read_string(r, "test_labels", d->test[0] != 0, "", d->test_labels,
                          sizeof d->test_labels)))
        return r->status;
    if (!resolve_path(r, "train", d->train, sizeof d->train, origin[DATA_TRAIN]) ||
        !resolve_path(r, "train_labels", d->train_labels, sizeof d->train_labels,
                      origin[DATA_TRAIN_LABELS]) ||
        !resolve_path(r, "test", d->test, sizeof d->test, origin[DATA_TEST]) ||
        !resolve_path(r, "test_labels", d->test_labels, sizeof d->test_labels,
                      origin[DATA_TEST_LABELS]))
        return r->status;
    if (format == FORMAT_IDX || format == FORMAT_CSV) {
        static const char *const splits[] = {"end", "random", "stratified", NULL};
        int split;
        if (!cfg_read_choice(r, "validation_split", splits, 0, &split) ||
            !cfg_read_string(r, "validation_file", false, "", d->validation_file,
                             sizeof d->validation_file) ||
            (format == FORMAT_IDX &&
             !cfg_read_string(r, "validation_labels", d->validation_file[0] != 0, "",
                              d->validation_labels, sizeof d->validation_labels)) ||
            !resolve_path(r, "validation_file", d->validation_file, sizeof d->validation_file,
                          origin[DATA_VALIDATION]) ||
            !resolve_path(r, "validation_labels", d->validation_labels,
                          sizeof d->validation_labels, origin[DATA_VALIDATION_LABELS]))
            return r->status;
        d->validation_split = (nerve_split)split;
        if (d->validation_file[0] && d->validation > 0)
            return cfg_fail(r, "validation_file",
                            "a validation file replaces validation = N: set one of them"),
                   r->status;
        if (cfg_has(r, "validation_split") && d->validation == 0)
            return cfg_fail(r, "validation_split", "only applies with validation = N"),
                   r->status;
    }
    if (format == FORMAT_CSV && !read_csv_keys(r, &d->csv)) return r->status;
    if (format == FORMAT_ADDING &&
        (!cfg_read_int(r, "length", true, 0, 2, 1 << 20, &d->length) ||
         !cfg_read_int(r, "train_samples", false, 10000, 1, 1 << 24, &d->train_samples) ||
         !cfg_read_int(r, "test_samples", false, 1000, 0, 1 << 24, &d->test_samples)))
        return r->status;
    return cfg_reader_finish(r);
}

/* [net] bptt cuts a text into lanes, one per batch row: it needs text data
 * and a batch that is a number. The message points at the bptt line. */
nerve_status nerve_check_bptt(nerve_config *cfg, const nerve_model_settings *s, nerve_error *err)
{
    if (s->bptt == 0) return NERVE_OK;
    const char *problem = NULL;
    if (strcmp(s->data.format, "text") != 0)
        problem = "cuts a text stream into lanes: it needs [data] format = text";
    else if (s->batch == 0)
        problem = "makes every batch row a lane of the text: batch = full has no lane count";
    if (!problem) return NERVE_OK;
    for (int i = 0; i < nerve_config_section_count(cfg); i++) {
        nerve_config_section *sec = nerve_config_section_at(cfg, i);
        if (strcmp(sec->type, "net") != 0) continue;
        cfg_reader r = cfg_reader_begin(cfg, sec, err);
        cfg_fail(&r, "bptt", "%s", problem);
        return r.status;
    }
    return nerve_error_set(err, NERVE_ERR_INVALID, "[net] bptt %s", problem);
}
