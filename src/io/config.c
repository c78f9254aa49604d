/* The .cfg network format: darknet's INI dialect, parsed strictly. Every
 * section and entry keeps its line so that readers can point at it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/config.h"
#include "nerve.h"

/* Far beyond any sensible line or network; anything larger is not a .cfg. */
#define LINE_LIMIT (64 * 1024)
#define FILE_LIMIT (16 * 1024 * 1024)

typedef struct section_slot {
    nerve_config_section section;
    int entry_capacity;
} section_slot;

struct nerve_config {
    char *filename;
    section_slot *slots;
    int section_count, section_capacity;
};

void nerve_config_free(nerve_config *cfg)
{
    if (!cfg) return;
    for (int i = 0; i < cfg->section_count; i++) {
        nerve_config_section *section = &cfg->slots[i].section;
        for (int k = 0; k < section->entry_count; k++) {
            free((char *)section->entries[k].key);
            free((char *)section->entries[k].value);
        }
        free(section->entries);
        free((char *)section->type);
    }
    free(cfg->slots);
    free(cfg->filename);
    free(cfg);
}

const char *nerve_config_filename(const nerve_config *cfg) { return cfg->filename; }
int nerve_config_section_count(const nerve_config *cfg) { return cfg->section_count; }

nerve_config_section *nerve_config_section_at(nerve_config *cfg, int i)
{
    return i >= 0 && i < cfg->section_count ? &cfg->slots[i].section : NULL;
}

/* ---------------------------------------------------------------- building */

/* A [begin, end) piece of a line. */
typedef struct span {
    const char *begin, *end;
} span;

static size_t span_length(span s) { return (size_t)(s.end - s.begin); }

static bool span_equals(span s, const char *text)
{
    return strlen(text) == span_length(s) && memcmp(s.begin, text, span_length(s)) == 0;
}

/* Lengths for "%.*s" when quoting user text in a message: at most 80 bytes. */
static int quoted_length(span s) { return span_length(s) > 80 ? 80 : (int)span_length(s); }

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

static span trim(span s)
{
    while (s.begin < s.end && is_blank(*s.begin)) s.begin++;
    while (s.end > s.begin && is_blank(s.end[-1])) s.end--;
    return s;
}

/* Section types and keys: letters, digits, '_' and '-'. The dot is left out
 * because --set splits "section.key" at it. */
static bool is_identifier(span s)
{
    if (s.begin == s.end) return false;
    for (const char *p = s.begin; p < s.end; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

static nerve_config_section *add_section(nerve_config *cfg, span type, int line)
{
    if (cfg->section_count == cfg->section_capacity) {
        int capacity = cfg->section_capacity ? 2 * cfg->section_capacity : 16;
        section_slot *slots = realloc(cfg->slots, (size_t)capacity * sizeof *slots);
        if (!slots) return NULL;
        cfg->slots = slots;
        cfg->section_capacity = capacity;
    }
    char *copy = strndup(type.begin, span_length(type));
    if (!copy) return NULL;
    section_slot *slot = &cfg->slots[cfg->section_count++];
    memset(slot, 0, sizeof *slot);
    slot->section.type = copy;
    slot->section.line = line;
    return &slot->section;
}

static nerve_config_entry *find_entry(nerve_config_section *section, span key)
{
    for (int i = 0; i < section->entry_count; i++)
        if (span_equals(key, section->entries[i].key)) return &section->entries[i];
    return NULL;
}

static bool add_entry(section_slot *slot, span key, span value, int line)
{
    nerve_config_section *section = &slot->section;
    if (section->entry_count == slot->entry_capacity) {
        int capacity = slot->entry_capacity ? 2 * slot->entry_capacity : 8;
        nerve_config_entry *entries = realloc(section->entries, (size_t)capacity * sizeof *entries);
        if (!entries) return false;
        section->entries = entries;
        slot->entry_capacity = capacity;
    }
    char *key_copy = strndup(key.begin, span_length(key));
    char *value_copy = strndup(value.begin, span_length(value));
    if (!key_copy || !value_copy) {
        free(key_copy);
        free(value_copy);
        return false;
    }
    section->entries[section->entry_count++] =
        (nerve_config_entry){.key = key_copy, .value = value_copy, .line = line, .used = false};
    return true;
}

/* ---------------------------------------------------------------- parsing */

/* A comment starts at # or ; at the start of a line or after whitespace, so
 * that "units = 256  # hidden" is 256 while a value such as "a#b" stays whole. */
static const char *comment_start(span line)
{
    for (const char *p = line.begin; p < line.end; p++)
        if ((*p == '#' || *p == ';') && (p == line.begin || is_blank(p[-1]))) return p;
    return line.end;
}

static nerve_status parse_line(nerve_config *cfg, span line, int number, nerve_error *err)
{
    const char *file = cfg->filename;
    for (const char *p = line.begin; p < line.end; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
            return nerve_error_set(err, NERVE_ERR_FORMAT,
                                   "%s:%d: control character 0x%02x (not a text file?)", file,
                                   number, c);
    }
    line.end = comment_start(line);
    line = trim(line);
    if (line.begin == line.end) return NERVE_OK;

    if (*line.begin == '[') {
        if (line.end[-1] != ']' || span_length(line) < 2)
            return nerve_error_set(err, NERVE_ERR_FORMAT,
                                   "%s:%d: expected ']' at the end of '%.*s'", file, number,
                                   quoted_length(line), line.begin);
        span type = trim((span){line.begin + 1, line.end - 1});
        if (type.begin == type.end)
            return nerve_error_set(err, NERVE_ERR_FORMAT, "%s:%d: empty section name", file,
                                   number);
        if (!is_identifier(type))
            return nerve_error_set(err, NERVE_ERR_FORMAT,
                                   "%s:%d: invalid section name '%.*s' (letters, digits, '_' and "
                                   "'-' only)",
                                   file, number, quoted_length(type), type.begin);
        if (!add_section(cfg, type, number))
            return nerve_error_set(err, NERVE_ERR_NOMEM, "%s:%d: out of memory", file, number);
        return NERVE_OK;
    }

    const char *equals = memchr(line.begin, '=', span_length(line));
    if (!equals)
        return nerve_error_set(err, NERVE_ERR_FORMAT,
                               "%s:%d: expected '[section]' or 'key = value', got '%.*s'", file,
                               number, quoted_length(line), line.begin);
    span key = trim((span){line.begin, equals});
    span value = trim((span){equals + 1, line.end});
    if (key.begin == key.end)
        return nerve_error_set(err, NERVE_ERR_FORMAT, "%s:%d: empty key before '='", file, number);
    if (!is_identifier(key))
        return nerve_error_set(err, NERVE_ERR_FORMAT,
                               "%s:%d: invalid key '%.*s' (letters, digits, '_' and '-' only)",
                               file, number, quoted_length(key), key.begin);
    if (value.begin == value.end)
        return nerve_error_set(err, NERVE_ERR_FORMAT, "%s:%d: key '%.*s' has no value", file,
                               number, (int)span_length(key), key.begin);
    if (cfg->section_count == 0)
        return nerve_error_set(err, NERVE_ERR_FORMAT, "%s:%d: key '%.*s' before any [section]",
                               file, number, (int)span_length(key), key.begin);
    section_slot *slot = &cfg->slots[cfg->section_count - 1];
    const nerve_config_entry *previous = find_entry(&slot->section, key);
    if (previous)
        return nerve_error_set(err, NERVE_ERR_FORMAT, "%s:%d: key '%s' already set at line %d",
                               file, number, previous->key, previous->line);
    if (!add_entry(slot, key, value, number))
        return nerve_error_set(err, NERVE_ERR_NOMEM, "%s:%d: out of memory", file, number);
    return NERVE_OK;
}

nerve_status nerve_config_parse(const char *text, const char *filename, nerve_config **out,
                                nerve_error *err)
{
    *out = NULL;
    nerve_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg) return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory");
    cfg->filename = strdup(filename ? filename : "<string>");
    if (!cfg->filename) {
        free(cfg);
        return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory");
    }
    const char *p = text;
    if (strncmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3; /* a UTF-8 byte order mark */
    nerve_status status = NERVE_OK;
    for (int number = 1; !status; number++) {
        const char *end = strchr(p, '\n');
        if (!end) end = p + strlen(p);
        if (end - p > LINE_LIMIT)
            status = nerve_error_set(err, NERVE_ERR_FORMAT, "%s:%d: line longer than %d bytes",
                                     cfg->filename, number, LINE_LIMIT);
        else
            status = parse_line(cfg, (span){p, end}, number, err);
        if (!*end) break;
        p = end + 1;
    }
    if (status) {
        nerve_config_free(cfg);
        return status;
    }
    *out = cfg;
    return NERVE_OK;
}

nerve_status nerve_config_load(const char *path, nerve_config **out, nerve_error *err)
{
    *out = NULL;
    FILE *file = fopen(path, "rb");
    if (!file) return nerve_error_set(err, NERVE_ERR_IO, "%s: %s", path, strerror(errno));
    size_t size = 0, capacity = 4096;
    char *text = malloc(capacity);
    nerve_status status = NERVE_OK;
    while (!status) {
        if (!text) {
            status = nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory", path);
            break;
        }
        size += fread(text + size, 1, capacity - 1 - size, file);
        if (ferror(file))
            status =
                nerve_error_set(err, NERVE_ERR_IO, "%s: read failed: %s", path, strerror(errno));
        else if (feof(file))
            break;
        else if (capacity >= FILE_LIMIT)
            status = nerve_error_set(err, NERVE_ERR_FORMAT,
                                     "%s: larger than %d MiB, not a network config", path,
                                     FILE_LIMIT >> 20);
        else {
            char *grown = realloc(text, 2 * capacity);
            if (!grown) free(text);
            text = grown;
            capacity *= 2;
        }
    }
    fclose(file);
    if (!status) {
        text[size] = '\0';
        /* The parser sees a C string: a NUL inside would silently end the file. */
        const char *nul = memchr(text, '\0', size);
        if (nul) {
            int line = 1;
            for (const char *p = text; p < nul; p++) line += *p == '\n';
            status = nerve_error_set(err, NERVE_ERR_FORMAT, "%s:%d: NUL byte (not a text file?)",
                                     path, line);
        }
    }
    if (!status) status = nerve_config_parse(text, path, out, err);
    free(text);
    return status;
}

/* ---------------------------------------------------------------- overrides */

static const char *entry_value(const nerve_config_section *section, const char *key)
{
    for (int i = 0; i < section->entry_count; i++)
        if (strcmp(section->entries[i].key, key) == 0) return section->entries[i].value;
    return NULL;
}

const char *nerve_config_section_name(const nerve_config *cfg, int i, char *buf, size_t size)
{
    const nerve_config_section *section = &cfg->slots[i].section;
    const char *name = entry_value(section, "name");
    if (name) return name;
    int index = 0;
    for (int k = 0; k < i; k++) index += strcmp(cfg->slots[k].section.type, section->type) == 0;
    snprintf(buf, size, "%s%d", section->type, index);
    return buf;
}

nerve_config_section *nerve_config_add_section(nerve_config *cfg, const char *type, nerve_error *err)
{
    span s = {type, type + strlen(type)};
    if (!is_identifier(s)) {
        nerve_error_set(err, NERVE_ERR_INVALID, "'%s' is not a valid section name", type);
        return NULL;
    }
    nerve_config_section *section = add_section(cfg, s, 0);
    if (!section) nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory adding [%s]", type);
    return section;
}

/* "--set fc9.units=3: no section or layer named 'fc9', did you mean 'fc1'?
 * (the layers: fc1, fc2, out; settings: net, ...)". */
static nerve_status no_such_section(const nerve_config *cfg, span target, const char *assignment,
                                    nerve_error *err)
{
    static const char *const settings[] = {"net", "data", "optimizer", "schedule", "loss", "augment",
                                         "train"};
    enum { SETTINGS = sizeof settings / sizeof *settings };
    char (*names)[NERVE_CONFIG_NAME_MAX] = calloc((size_t)cfg->section_count + 1, sizeof *names);
    const char **all = calloc((size_t)cfg->section_count + SETTINGS, sizeof *all);
    char word[NERVE_CONFIG_NAME_MAX], layers[600] = "";
    snprintf(word, sizeof word, "%.*s", quoted_length(target), target.begin);
    int n = 0;
    for (int k = 0; all && k < SETTINGS; k++) all[n++] = settings[k];
    size_t used = 0;
    for (int i = 0; names && all && i < cfg->section_count; i++) {
        const char *type = cfg->slots[i].section.type;
        bool is_setting = false;
        for (int k = 0; k < SETTINGS; k++) is_setting |= strcmp(type, settings[k]) == 0;
        if (is_setting) continue;
        const char *name = nerve_config_section_name(cfg, i, names[i], sizeof names[i]);
        if (name != names[i]) snprintf(names[i], sizeof names[i], "%s", name);
        all[n++] = names[i];
        if (used < sizeof layers)
            used += (size_t)snprintf(layers + used, sizeof layers - used, "%s%s",
                                     used ? ", " : "", names[i]);
    }
    const char *closest = all ? nerve_closest_name(word, all, n) : NULL;
    char hint[NERVE_CONFIG_NAME_MAX + 32] = "";
    if (closest) snprintf(hint, sizeof hint, ", did you mean '%s'?", closest);
    nerve_status st = nerve_error_set(err, NERVE_ERR_INVALID,
                                      "--set %s: no section or layer named '%s'%s (layers: %s; "
                                      "settings: net, data, optimizer, schedule, loss, augment, "
                                      "train)",
                                      assignment, word, hint, used ? layers : "none");
    free(names);
    free(all);
    return st;
}

/* The one section whose type (if unique) or name (explicit, or the default
 * type-plus-index) is target. */
static nerve_status resolve_section(nerve_config *cfg, span target, const char *assignment,
                                    int *index, nerve_error *err)
{
    int type_count = 0, type_index = -1;
    for (int i = 0; i < cfg->section_count; i++)
        if (span_equals(target, cfg->slots[i].section.type)) {
            type_count++;
            type_index = i;
        }
    int found = type_count == 1 ? type_index : -1;
    for (int i = 0; i < cfg->section_count; i++) {
        const char *name = entry_value(&cfg->slots[i].section, "name");
        if (!name || !span_equals(target, name) || i == found) continue;
        if (found >= 0)
            return nerve_error_set(err, NERVE_ERR_INVALID,
                                   "--set %s: '%.*s' matches the sections at lines %d and %d",
                                   assignment, quoted_length(target), target.begin,
                                   cfg->slots[found].section.line, cfg->slots[i].section.line);
        found = i;
    }
    for (int i = 0; found < 0 && i < cfg->section_count; i++) {
        char buf[NERVE_CONFIG_NAME_MAX];
        if (!entry_value(&cfg->slots[i].section, "name") &&
            span_equals(target, nerve_config_section_name(cfg, i, buf, sizeof buf)))
            found = i;
    }
    *index = found;
    if (found >= 0) return NERVE_OK;
    if (type_count > 1)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "--set %s: %d sections are [%.*s]; give the layer a name "
                               "(name = ...) and use that",
                               assignment, type_count, quoted_length(target), target.begin);
    return no_such_section(cfg, target, assignment, err);
}

nerve_status nerve_config_override(nerve_config *cfg, const char *assignment, nerve_error *err)
{
    span whole = {assignment, assignment + strlen(assignment)};
    const char *equals = memchr(whole.begin, '=', span_length(whole));
    const char *dot = NULL;
    for (const char *p = whole.begin; equals && p < equals; p++)
        if (*p == '.') dot = p;
    if (!equals || !dot)
        return nerve_error_set(err, NERVE_ERR_INVALID, "--set %s: expected section.key=value",
                               assignment);
    span target = trim((span){whole.begin, dot});
    span key = trim((span){dot + 1, equals});
    span value = trim((span){equals + 1, whole.end});
    if (target.begin == target.end || !is_identifier(key) || value.begin == value.end)
        return nerve_error_set(err, NERVE_ERR_INVALID, "--set %s: expected section.key=value",
                               assignment);
    for (const char *p = value.begin; p < value.end; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return nerve_error_set(err, NERVE_ERR_INVALID,
                                   "--set %s: control character in the value", assignment);
    int index = -1;
    nerve_status status = resolve_section(cfg, target, assignment, &index, err);
    if (status) return status;
    section_slot *slot = &cfg->slots[index];
    nerve_config_entry *entry = find_entry(&slot->section, key);
    if (!entry) {
        if (!add_entry(slot, key, value, 0))
            return nerve_error_set(err, NERVE_ERR_NOMEM, "--set %s: out of memory", assignment);
        return NERVE_OK;
    }
    char *copy = strndup(value.begin, span_length(value));
    if (!copy) return nerve_error_set(err, NERVE_ERR_NOMEM, "--set %s: out of memory", assignment);
    free((char *)entry->value);
    entry->value = copy;
    entry->line = 0;
    entry->used = false;
    return NERVE_OK;
}
