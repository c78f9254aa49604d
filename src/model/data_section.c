/* The [data] section: where the samples come from. Each format reads its own
 * keys; a key of another format is an error saying which formats take it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/data_format.h"
#include "model/model_internal.h"

/* Each key and the group (data_format.h) it belongs to. */
static const struct data_key {
    const char *key;
    unsigned group;
} data_keys[] = {
    {"train", DATA_KEYS_FILES},
    {"test", DATA_KEYS_FILES},
    {"train_labels", DATA_KEYS_LABEL_FILES},
    {"test_labels", DATA_KEYS_LABEL_FILES},
    {"validation_labels", DATA_KEYS_LABEL_FILES},
    {"validation_file", DATA_KEYS_SAMPLES},
    {"validation_split", DATA_KEYS_SAMPLES},
    {"scale", DATA_KEYS_SAMPLES},
    {"normalize", DATA_KEYS_SAMPLES},
    {"train_limit", DATA_KEYS_SAMPLES},
    {"test_limit", DATA_KEYS_SAMPLES},
    {"class_limit", DATA_KEYS_SAMPLES},
    {"class_names", DATA_KEYS_SAMPLES},
    {"label_column", DATA_KEYS_CSV},
    {"header", DATA_KEYS_CSV},
    {"targets", DATA_KEYS_CSV},
    {"sequence_column", DATA_KEYS_CSV},
    {"length", DATA_KEYS_GENERATED},
    {"train_samples", DATA_KEYS_GENERATED},
    {"test_samples", DATA_KEYS_GENERATED},
};

/* A key of another format: the message lists the formats that read it. */
static bool key_of_another_format(cfg_reader *r, const char *key, unsigned group)
{
    char names[128] = "";
    int count = 0, listed = 0;
    for (int i = 0; nerve_data_format_at(i); i++) count += !!(nerve_data_format_at(i)->keys & group);
    for (int i = 0; nerve_data_format_at(i); i++) {
        const data_format *f = nerve_data_format_at(i);
        if (!(f->keys & group)) continue;
        listed++;
        const char *joint = listed == 1 ? "" : listed == count ? " and " : ", ";
        size_t used = strlen(names);
        snprintf(names + used, sizeof names - used, "%s%s", joint, f->name);
    }
    return cfg_fail(r, key, "only applies to [data] format %s", names);
}

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

/* class_limit = CLASS:LIMIT, ...: CLASS a class index or `*` (every class
 * not listed), LIMIT a count (an integer, at most that many samples) or a
 * fraction in (0, 1] (written with a decimal point). */
static bool read_class_limit(cfg_reader *r, nerve_class_limit *out)
{
    char text[1024];
    if (!cfg_read_string(r, "class_limit", false, "", text, sizeof text)) return false;
    out->count = 0;
    for (char *entry = text; *entry;) {
        char *comma = strchr(entry, ',');
        if (comma) *comma = '\0';
        char *colon = strchr(entry, ':');
        if (!colon)
            return cfg_fail(r, "class_limit", "'%s' is not CLASS:LIMIT (e.g. 0:5000, 1:0.1 or "
                                              "*:300)", entry);
        *colon = '\0';
        char *name = entry + strspn(entry, " \t"), *value = colon + 1, *end;
        for (end = name + strlen(name); end > name && (end[-1] == ' ' || end[-1] == '\t');)
            *--end = '\0';
        int cls = -1;
        if (strcmp(name, "*") != 0) {
            long c = strtol(name, &end, 10);
            if (end == name || *end || c < 0 || c >= 1 << 20)
                return cfg_fail(r, "class_limit", "'%s' is neither a class index nor '*'", name);
            cls = (int)c;
        }
        for (int i = 0; i < out->count; i++)
            if (out->classes[i] == cls)
                return cfg_fail(r, "class_limit", "class %s is limited twice", name);
        if (out->count == NERVE_CLASS_LIMITS)
            return cfg_fail(r, "class_limit", "more than %d classes listed (use '*' for the "
                                              "rest)", NERVE_CLASS_LIMITS);
        double limit = strtod(value, &end);
        while (*end == ' ' || *end == '\t') end++;
        bool fraction = strchr(value, '.') != NULL;
        if (end == value || *end || !(limit >= 0) ||
            (fraction ? !(limit > 0 && limit <= 1) : !(limit <= 1e15) || limit != floor(limit)))
            return cfg_fail(r, "class_limit",
                            "class %s: '%s' is neither a count (a whole number) nor a fraction "
                            "in (0, 1]", name, value);
        out->classes[out->count] = cls;
        out->value[out->count] = limit;
        out->fraction[out->count++] = fraction;
        if (!comma) break;
        entry = comma + 1;
    }
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

/* class_names = a, b, c: the classes' names in label order, each trimmed;
 * no name may be empty or given twice. */
static bool read_class_names(cfg_reader *r, nerve_class_names *out)
{
    char text[4096];
    if (!cfg_read_string(r, "class_names", false, "", text, sizeof text)) return false;
    if (!text[0]) return true;
    for (char *begin = text;;) {
        char *end = strchr(begin, ',');
        char *stop = end ? end : begin + strlen(begin);
        while (begin < stop && (*begin == ' ' || *begin == '\t')) begin++;
        while (stop > begin && (stop[-1] == ' ' || stop[-1] == '\t')) stop--;
        *stop = '\0';
        if (!*begin) return cfg_fail(r, "class_names", "class %d has an empty name",
                                     out->count);
        for (int i = 0; i < out->count; i++)
            if (strcmp(out->names[i], begin) == 0)
                return cfg_fail(r, "class_names", "'%s' is named twice (classes %d and %d)",
                                begin, i, out->count);
        if (!nerve_class_names_add(out, begin))
            return cfg_fail(r, "class_names", "out of memory");
        if (!end) return true;
        begin = end + 1;
    }
}

nerve_status nerve_read_data_section(cfg_reader *r, nerve_data_settings *d,
                                     char origin[DATA_PATH_COUNT][NERVE_DATA_ORIGIN_MAX],
                                     nerve_class_names *class_names)
{
    static const char *const normalizations[] = {"scale", "standardize", "minus_one_one", NULL};
    const char *formats[16] = {NULL};
    for (int i = 0; nerve_data_format_at(i) && i < 15; i++)
        formats[i] = nerve_data_format_at(i)->name;
    int format_index, normalize;
    if (!cfg_read_choice(r, "format", formats, 0, &format_index)) return r->status;
    const data_format *format = nerve_data_format_at(format_index);
    for (size_t i = 0; i < sizeof data_keys / sizeof data_keys[0]; i++)
        if (cfg_has(r, data_keys[i].key) && !(format->keys & data_keys[i].group))
            return key_of_another_format(r, data_keys[i].key, data_keys[i].group), r->status;
    snprintf(d->format, sizeof d->format, "%s", format->name);
    if (!cfg_read_string(r, "train", false, "", d->train, sizeof d->train) ||
        !cfg_read_string(r, "test", false, "", d->test, sizeof d->test) ||
        !cfg_read_double(r, "scale", false, 1, 1e-30, 1e30, &d->scale) ||
        !cfg_read_choice(r, "normalize", normalizations, 0, &normalize) ||
        !cfg_read_int(r, "validation", false, 0, 0, INT64_MAX, &d->validation) ||
        !cfg_read_int(r, "train_limit", false, 0, 0, INT64_MAX, &d->train_limit) ||
        !cfg_read_int(r, "test_limit", false, 0, 0, INT64_MAX, &d->test_limit))
        return r->status;
    d->normalize = (nerve_normalize)normalize;
    if ((format->keys & DATA_KEYS_LABEL_FILES) &&
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
    if (format->keys & DATA_KEYS_SAMPLES) {
        static const char *const splits[] = {"end", "random", "stratified", NULL};
        int split;
        if (!cfg_read_choice(r, "validation_split", splits, 0, &split) ||
            !cfg_read_string(r, "validation_file", false, "", d->validation_file,
                             sizeof d->validation_file) ||
            ((format->keys & DATA_KEYS_LABEL_FILES) &&
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
    if ((format->keys & DATA_KEYS_CSV) && !read_csv_keys(r, &d->csv)) return r->status;
    if ((format->keys & DATA_KEYS_SAMPLES) &&
        (!read_class_names(r, class_names) || !read_class_limit(r, &d->class_limit)))
        return r->status;
    if ((format->keys & DATA_KEYS_GENERATED) &&
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
    const data_format *format = nerve_data_format_find(s->data.format);
    if (!format || !format->characters)
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
