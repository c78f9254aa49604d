#include "model/config_reader.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cfg_reader cfg_reader_begin(const nerve_config *cfg, nerve_config_section *section, nerve_error *err)
{
    cfg_reader r = {nerve_config_filename(cfg), section, err, NERVE_OK, {0}, 0, NULL};
    for (int i = 0; i < nerve_config_section_count(cfg); i++) {
        const nerve_config_section *net = nerve_config_section_at((nerve_config *)cfg, i);
        if (strcmp(net->type, "net") != 0) continue;
        for (int k = 0; k < net->entry_count; k++)
            if (strcmp(net->entries[k].key, "init") == 0) r.default_init = net->entries[k].value;
    }
    return r;
}

static void note_asked(cfg_reader *r, const char *key)
{
    for (int i = 0; i < r->asked_count; i++)
        if (strcmp(r->asked[i], key) == 0) return;
    if (r->asked_count < CFG_READER_KEYS_MAX) r->asked[r->asked_count++] = key;
}

static nerve_config_entry *find_entry(const cfg_reader *r, const char *key)
{
    for (int i = 0; i < r->section->entry_count; i++)
        if (strcmp(r->section->entries[i].key, key) == 0) return &r->section->entries[i];
    return NULL;
}

bool cfg_has(const cfg_reader *r, const char *key) { return find_entry(r, key) != NULL; }

int cfg_line(const cfg_reader *r, const char *key)
{
    const nerve_config_entry *e = find_entry(r, key);
    return e ? e->line : -1;
}

/* "file:12" for a line of the file, "file (--set)" for a command-line override. */
void cfg_location(const cfg_reader *r, int line, char *buf, size_t size)
{
    if (line > 0)
        snprintf(buf, size, "%s:%d", r->file, line);
    else
        snprintf(buf, size, "%s (--set)", r->file);
}

bool cfg_fail(cfg_reader *r, const char *key, const char *fmt, ...)
{
    if (r->status != NERVE_OK) return false;
    const nerve_config_entry *e = key ? find_entry(r, key) : NULL;
    char where[1100], what[400];
    cfg_location(r, e ? e->line : r->section->line, where, sizeof where);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (key)
        r->status = nerve_error_set(r->err, NERVE_ERR_INVALID, "%s: [%s] %s: %s", where,
                                    r->section->type, key, what);
    else
        r->status = nerve_error_set(r->err, NERVE_ERR_INVALID, "%s: [%s] %s", where,
                                    r->section->type, what);
    return false;
}

static nerve_status unknown_key(cfg_reader *r, const nerve_config_entry *e, const char *suggestion)
{
    char where[1100], hint[120] = "";
    cfg_location(r, e->line, where, sizeof where);
    if (suggestion) snprintf(hint, sizeof hint, ", did you mean '%s'?", suggestion);
    return r->status = nerve_error_set(r->err, NERVE_ERR_INVALID,
                                       "%s: unknown key '%s' in [%s]%s (see docs/config.md)",
                                       where, e->key, r->section->type, hint);
}

/* A required key is missing: an unread entry spelt nearly like it is the
 * mistake to report (unit = 256 for units), with its own line. */
static void missing_key(cfg_reader *r, const char *key)
{
    for (int i = 0; i < r->section->entry_count; i++) {
        const nerve_config_entry *e = &r->section->entries[i];
        const char *const names[] = {key};
        if (!e->used && nerve_closest_name(e->key, names, 1)) {
            unknown_key(r, e, key);
            return;
        }
    }
    cfg_fail(r, NULL, "requires the key '%s'", key);
}

/* The entry's value, marking it used; NULL (and an error if required) when absent. */
static const char *take(cfg_reader *r, const char *key, bool required)
{
    if (r->status != NERVE_OK) return NULL;
    note_asked(r, key);
    nerve_config_entry *e = find_entry(r, key);
    if (!e) {
        if (required) missing_key(r, key);
        return NULL;
    }
    e->used = true;
    return e->value;
}

bool cfg_read_int(cfg_reader *r, const char *key, bool required, int64_t def, int64_t min,
                  int64_t max, int64_t *out)
{
    const char *v = take(r, key, required);
    if (r->status != NERVE_OK) return false;
    if (!v) {
        *out = def;
        return true;
    }
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (end == v || *end || errno == ERANGE) return cfg_fail(r, key, "'%s' is not an integer", v);
    if (x < min || x > max)
        return cfg_fail(r, key, "%lld is out of range [%lld, %lld]", x, (long long)min,
                        (long long)max);
    *out = x;
    return true;
}

bool cfg_read_int_or(cfg_reader *r, const char *key, const char *word, int64_t word_value,
                     int64_t def, int64_t min, int64_t max, int64_t *out)
{
    nerve_config_entry *e = find_entry(r, key);
    if (r->status != NERVE_OK || !e || strcmp(e->value, word) != 0)
        return cfg_read_int(r, key, false, def, min, max, out);
    e->used = true;
    *out = word_value;
    return true;
}

bool cfg_read_double(cfg_reader *r, const char *key, bool required, double def, double min,
                     double max, double *out)
{
    const char *v = take(r, key, required);
    if (r->status != NERVE_OK) return false;
    if (!v) {
        *out = def;
        return true;
    }
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || *end || errno == ERANGE || !isfinite(x))
        return cfg_fail(r, key, "'%s' is not a finite number", v);
    if (x < min || x > max) return cfg_fail(r, key, "%g is out of range [%g, %g]", x, min, max);
    *out = x;
    return true;
}

bool cfg_read_string(cfg_reader *r, const char *key, bool required, const char *def, char *out,
                     size_t size)
{
    const char *v = take(r, key, required);
    if (r->status != NERVE_OK) return false;
    if (!v) v = def ? def : "";
    if (strlen(v) >= size) return cfg_fail(r, key, "value longer than %zu characters", size - 1);
    strcpy(out, v);
    return true;
}

bool cfg_read_bool(cfg_reader *r, const char *key, bool def, bool *out)
{
    const nerve_config_entry *e = find_entry(r, key);
    if (r->status == NERVE_OK && e &&
        (strcmp(e->value, "true") == 0 || strcmp(e->value, "false") == 0)) {
        *out = take(r, key, false)[0] == 't';
        return true;
    }
    int64_t x;
    if (!cfg_read_int(r, key, false, def ? 1 : 0, 0, 1, &x)) return false;
    *out = x != 0;
    return true;
}

bool cfg_read_choice(cfg_reader *r, const char *key, const char *const *choices, int def, int *out)
{
    const char *v = take(r, key, def < 0);
    if (r->status != NERVE_OK) return false;
    if (!v) {
        *out = def;
        return true;
    }
    char list[400] = "";
    for (int i = 0; choices[i]; i++) {
        if (strcmp(v, choices[i]) == 0) {
            *out = i;
            return true;
        }
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", choices[i]);
    }
    return cfg_fail(r, key, "'%s' is not one of: %s", v, list);
}

bool cfg_read_init(cfg_reader *r, const char *key, nerve_init *init)
{
    char text[256];
    nerve_error parse_err = {0};
    bool inherited = !cfg_has(r, key) && strcmp(key, "init") == 0 && r->default_init;
    if (!cfg_read_string(r, key, false, inherited ? r->default_init : "default", text,
                         sizeof text))
        return false;
    if (nerve_init_parse(text, init, &parse_err) == NERVE_OK) return true;
    return cfg_fail(r, key, "%s%s", parse_err.message, inherited ? " (from [net] init)" : "");
}

bool cfg_read_bias_init(cfg_reader *r, bool bias, int64_t units, nerve_init *init)
{
    if (!cfg_read_init(r, "bias_init", init)) return false;
    if (init->kind == NERVE_INIT_DEFAULT) return true;
    if (!bias) return cfg_fail(r, "bias_init", "the layer has no bias (bias = 0)");
    nerve_init law;
    nerve_error shape_err = {0};
    if (nerve_init_resolve(init, nerve_shape_1d(units), &law, &shape_err) == NERVE_OK) return true;
    return cfg_fail(r, "bias_init", "%s", shape_err.message);
}

bool cfg_read_list(cfg_reader *r, const char *key, double min, double max, float **values,
                   int64_t *count)
{
    *values = NULL;
    *count = 0;
    const char *v = take(r, key, false);
    if (r->status != NERVE_OK || !v) return r->status == NERVE_OK;
    int64_t n = 1;
    for (const char *p = v; *p; p++) n += *p == ',';
    float *list = malloc((size_t)n * sizeof *list);
    if (!list) return cfg_fail(r, key, "out of memory for %lld values", (long long)n);
    const char *p = v;
    for (int64_t i = 0; i < n; i++) {
        char *end;
        errno = 0;
        double x = strtod(p, &end);
        while (*end == ' ' || *end == '\t') end++;
        if (end == p || (*end && *end != ',') || errno == ERANGE || !isfinite(x)) {
            free(list);
            return cfg_fail(r, key, "'%s' is not a comma-separated list of numbers", v);
        }
        if (x < min || x > max) {
            free(list);
            return cfg_fail(r, key, "value %lld, %g, is out of range [%g, %g]", (long long)i + 1,
                            x, min, max);
        }
        list[i] = (float)x;
        p = end + (*end == ',');
    }
    *values = list;
    *count = n;
    return true;
}

bool cfg_read_pair(cfg_reader *r, const char *key, bool required, int64_t min, int64_t max,
                   int64_t out[2])
{
    const char *v = take(r, key, required);
    if (r->status != NERVE_OK || !v) return r->status == NERVE_OK;
    long long pair[2];
    const char *p = v;
    int count = 0;
    for (;;) {
        char *end;
        errno = 0;
        pair[count++] = strtoll(p, &end, 10);
        while (*end == ' ' || *end == '\t') end++;
        if (end == p || errno == ERANGE || (*end && (*end != ',' || count == 2)))
            return cfg_fail(r, key, "'%s' is not N or H,W", v);
        if (!*end) break;
        p = end + 1;
    }
    if (count == 1) pair[1] = pair[0];
    for (int a = 0; a < 2; a++) {
        if (pair[a] < min || pair[a] > max)
            return cfg_fail(r, key, "%lld is out of range [%lld, %lld]", pair[a], (long long)min,
                            (long long)max);
        out[a] = pair[a];
    }
    return true;
}

bool cfg_read_shape(cfg_reader *r, const char *key, bool required, nerve_shape *out)
{
    const char *v = take(r, key, required);
    if (r->status != NERVE_OK || !v) return r->status == NERVE_OK;
    nerve_shape s = {0};
    const char *p = v;
    while (*p) {
        if (s.ndim == NERVE_MAX_DIMS - 1)
            return cfg_fail(r, key, "'%s' has more than %d dimensions", v, NERVE_MAX_DIMS - 1);
        char *end;
        errno = 0;
        long long d = strtoll(p, &end, 10);
        if (end == p || d < 1 || d > (1LL << 31) || errno == ERANGE || (*end && *end != 'x'))
            return cfg_fail(r, key, "'%s' is not a shape like 784 or 1x28x28", v);
        s.dim[s.ndim++] = d;
        p = *end ? end + 1 : end;
        if (*end == 'x' && !*p) return cfg_fail(r, key, "'%s' is not a shape like 784 or 1x28x28", v);
    }
    if (s.ndim == 0 || nerve_shape_numel(&s) > (1LL << 31))
        return cfg_fail(r, key, "'%s' is not a valid shape", v);
    *out = s;
    return true;
}

nerve_status cfg_reader_finish(cfg_reader *r)
{
    if (r->status != NERVE_OK) return r->status;
    for (int i = 0; i < r->section->entry_count; i++) {
        const nerve_config_entry *e = &r->section->entries[i];
        if (e->used) continue;
        return unknown_key(r, e, nerve_closest_name(e->key, r->asked, r->asked_count));
    }
    return NERVE_OK;
}
