/* The initialisers' cfg spelling ([dense] init = kaiming_normal(mode=fan_out),
 * docs/config.md): a name, then arguments in torch's positional order or
 * by keyword. The maths they name is src/layers/init.c's. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/init.h"

typedef enum arg_type { ARG_NUMBER, ARG_GAIN, ARG_MODE, ARG_NONLINEARITY } arg_type;

typedef struct init_arg {
    const char *name; /* torch's argument name, also the nerve_init field */
    arg_type type;
    size_t offset;    /* into nerve_init */
} init_arg;

#define INIT_MAX_ARGS 3

typedef struct init_spec {
    const char *name;
    nerve_init_kind kind;
    int required; /* how many leading arguments must be given */
    init_arg args[INIT_MAX_ARGS];
} init_spec;

#define NUMBER_ARG(field) {#field, ARG_NUMBER, offsetof(nerve_init, field)}
#define GAIN_ARG {"gain", ARG_GAIN, offsetof(nerve_init, gain)}
#define KAIMING_ARGS                                                                              \
    {NUMBER_ARG(a), {"mode", ARG_MODE, offsetof(nerve_init, mode)},                               \
     {"nonlinearity", ARG_NONLINEARITY, offsetof(nerve_init, nonlinearity)}}

/* Arguments in torch's positional order. The first spelling of a kind is its
 * name; he_* are the names the examples used before kaiming_* existed. */
static const init_spec init_specs[] = {
    {"default", NERVE_INIT_DEFAULT, 0, {{0}}},
    {"zeros", NERVE_INIT_ZEROS, 0, {{0}}},
    {"ones", NERVE_INIT_ONES, 0, {{0}}},
    {"constant", NERVE_INIT_CONSTANT, 1, {NUMBER_ARG(val)}},
    {"uniform", NERVE_INIT_UNIFORM, 0, {NUMBER_ARG(a), NUMBER_ARG(b)}},
    {"normal", NERVE_INIT_NORMAL, 0, {NUMBER_ARG(mean), NUMBER_ARG(std)}},
    {"xavier_uniform", NERVE_INIT_XAVIER_UNIFORM, 0, {GAIN_ARG}},
    {"xavier_normal", NERVE_INIT_XAVIER_NORMAL, 0, {GAIN_ARG}},
    {"kaiming_uniform", NERVE_INIT_KAIMING_UNIFORM, 0, KAIMING_ARGS},
    {"kaiming_normal", NERVE_INIT_KAIMING_NORMAL, 0, KAIMING_ARGS},
    {"he_uniform", NERVE_INIT_KAIMING_UNIFORM, 0, KAIMING_ARGS},
    {"he_normal", NERVE_INIT_KAIMING_NORMAL, 0, KAIMING_ARGS},
    {"lecun_uniform", NERVE_INIT_LECUN_UNIFORM, 0, {{0}}},
    {"lecun_normal", NERVE_INIT_LECUN_NORMAL, 0, {{0}}},
    {"orthogonal", NERVE_INIT_ORTHOGONAL, 0, {GAIN_ARG}},
    {"eye", NERVE_INIT_EYE, 0, {{0}}},
};
#define INIT_SPEC_COUNT (int)(sizeof init_specs / sizeof init_specs[0])

static const char *const mode_names[] = {"fan_in", "fan_out", NULL};
/* torch's calculate_gain('leaky_relu') without a parameter. */
#define DEFAULT_LEAKY_RELU_SLOPE 0.01

static int arg_count(const init_spec *spec)
{
    int n = 0;
    while (n < INIT_MAX_ARGS && spec->args[n].name) n++;
    return n;
}

static int find_name(const char *const *names, const char *name)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], name) == 0) return i;
    return -1;
}

/* "a, b, c" into buf. */
static const char *join(const char *const *names, char *buf, size_t size)
{
    buf[0] = '\0';
    for (int i = 0; names[i]; i++) {
        size_t used = strlen(buf);
        snprintf(buf + used, size - used, "%s%s", i ? ", " : "", names[i]);
    }
    return buf;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = '\0';
    return s;
}

static bool is_identifier(const char *s)
{
    if (!*s || (*s >= '0' && *s <= '9')) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

static bool parse_number(const char *text, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(text, &end);
    if (end == text || *end || errno == ERANGE || !isfinite(x)) return false;
    *out = x;
    return true;
}

/* Stores one argument's value into init. */
static nerve_status parse_value(const init_spec *spec, const init_arg *arg, const char *value,
                                nerve_init *init, nerve_error *err)
{
    char list[128];
    void *field = (char *)init + arg->offset;
    int k;
    switch (arg->type) {
    case ARG_NUMBER:
        if (parse_number(value, (double *)field)) return NERVE_OK;
        return nerve_error_set(err, NERVE_ERR_INVALID, "%s: %s: '%s' is not a finite number",
                               spec->name, arg->name, value);
    case ARG_GAIN:
        if (parse_number(value, (double *)field)) return NERVE_OK;
        if ((k = find_name(nerve_nonlinearity_names, value)) >= 0) {
            *(double *)field = nerve_init_gain((nerve_nonlinearity)k, DEFAULT_LEAKY_RELU_SLOPE);
            return NERVE_OK;
        }
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "%s: %s: '%s' is neither a number nor a nonlinearity (%s)",
                               spec->name, arg->name, value,
                               join(nerve_nonlinearity_names, list, sizeof list));
    case ARG_MODE:
        if ((k = find_name(mode_names, value)) >= 0) {
            *(nerve_fan_mode *)field = (nerve_fan_mode)k;
            return NERVE_OK;
        }
        return nerve_error_set(err, NERVE_ERR_INVALID, "%s: %s: '%s' is not one of: %s",
                               spec->name, arg->name, value, join(mode_names, list, sizeof list));
    case ARG_NONLINEARITY:
        if ((k = find_name(nerve_nonlinearity_names, value)) >= 0) {
            *(nerve_nonlinearity *)field = (nerve_nonlinearity)k;
            return NERVE_OK;
        }
        return nerve_error_set(err, NERVE_ERR_INVALID, "%s: %s: '%s' is not one of: %s",
                               spec->name, arg->name, value,
                               join(nerve_nonlinearity_names, list, sizeof list));
    }
    return nerve_error_set(err, NERVE_ERR_INVALID, "%s: bad argument type", spec->name);
}

/* "takes no arguments" / "takes at most 2 arguments (a, b)". */
static const char *describe_arguments(const init_spec *spec, char *buf, size_t size)
{
    int n = arg_count(spec);
    if (n == 0) return "takes no arguments";
    int used = snprintf(buf, size, "takes at most %d argument%s (", n, n > 1 ? "s" : "");
    for (int i = 0; i < n; i++)
        used += snprintf(buf + used, size - (size_t)used, "%s%s", i ? ", " : "",
                         spec->args[i].name);
    snprintf(buf + used, size - (size_t)used, ")");
    return buf;
}

/* The comma-separated arguments between the parentheses (list is writable). */
static nerve_status parse_arguments(const init_spec *spec, char *list, nerve_init *init,
                                    bool given[INIT_MAX_ARGS], nerve_error *err)
{
    char about[128];
    int count = arg_count(spec), position = 0;
    bool keywords = false;
    if (!*trim(list)) return NERVE_OK;
    for (char *item = list, *next; item; item = next) {
        next = strchr(item, ',');
        if (next) *next++ = '\0';
        item = trim(item);
        if (!*item)
            return nerve_error_set(err, NERVE_ERR_INVALID, "%s: an argument is empty", spec->name);
        char *equals = strchr(item, '=');
        const char *value = item;
        int index;
        if (equals) {
            *equals = '\0';
            const char *key = trim(item);
            value = trim(equals + 1);
            for (index = 0; index < count && strcmp(spec->args[index].name, key) != 0; index++) {}
            if (index == count)
                return nerve_error_set(err, NERVE_ERR_INVALID, "%s has no argument '%s' (it %s)",
                                       spec->name, key,
                                       describe_arguments(spec, about, sizeof about));
            if (!*value)
                return nerve_error_set(err, NERVE_ERR_INVALID, "%s: %s: no value after '='",
                                       spec->name, key);
            keywords = true;
        } else {
            if (keywords)
                return nerve_error_set(err, NERVE_ERR_INVALID,
                                       "%s: positional argument '%s' after a keyword argument",
                                       spec->name, item);
            if (position == count)
                return nerve_error_set(err, NERVE_ERR_INVALID, "%s %s; '%s' is one too many",
                                       spec->name, describe_arguments(spec, about, sizeof about),
                                       item);
            index = position++;
        }
        if (given[index])
            return nerve_error_set(err, NERVE_ERR_INVALID, "%s: argument '%s' given twice",
                                   spec->name, spec->args[index].name);
        given[index] = true;
        nerve_status st = parse_value(spec, &spec->args[index], value, init, err);
        if (st != NERVE_OK) return st;
    }
    return NERVE_OK;
}

nerve_status nerve_init_parse(const char *text, nerve_init *out, nerve_error *err)
{
    char buf[256], names[400];
    if (strlen(text) >= sizeof buf)
        return nerve_error_set(err, NERVE_ERR_INVALID, "initialiser longer than %zu characters",
                               sizeof buf - 1);
    strcpy(buf, text);
    char *open = strchr(buf, '('), *list = NULL;
    if (open) {
        char *close = strchr(open, ')');
        if (!close)
            return nerve_error_set(err, NERVE_ERR_INVALID, "'%s': missing ')'", text);
        if (*trim(close + 1))
            return nerve_error_set(err, NERVE_ERR_INVALID, "'%s': unexpected '%s' after ')'", text,
                                   trim(close + 1));
        *open = *close = '\0';
        list = open + 1;
    }
    const char *name = trim(buf);
    const init_spec *spec = NULL;
    for (int i = 0; i < INIT_SPEC_COUNT && !spec; i++)
        if (strcmp(init_specs[i].name, name) == 0) spec = &init_specs[i];
    if (!spec) {
        const char *all[INIT_SPEC_COUNT + 1];
        for (int i = 0; i < INIT_SPEC_COUNT; i++) all[i] = init_specs[i].name;
        all[INIT_SPEC_COUNT] = NULL;
        return nerve_error_set(err, NERVE_ERR_INVALID, "unknown initialiser '%s' (one of: %s)",
                               is_identifier(name) ? name : text, join(all, names, sizeof names));
    }
    nerve_init init = nerve_init_of(spec->kind);
    bool given[INIT_MAX_ARGS] = {false};
    nerve_status st = list ? parse_arguments(spec, list, &init, given, err) : NERVE_OK;
    for (int i = 0; st == NERVE_OK && i < spec->required; i++)
        if (!given[i])
            st = nerve_error_set(err, NERVE_ERR_INVALID, "%s requires the argument '%s'",
                                 spec->name, spec->args[i].name);
    if (st == NERVE_OK) st = nerve_init_check(&init, spec->name, err);
    if (st == NERVE_OK) *out = init;
    return st;
}
