/* The state protocol's list and the text form of its values. */
#include "core/state.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for one more element of `size` bytes in *items; false (and the list
 * marked failed) when out of memory. */
static bool grow(state_list *s, void **items, int count, int *capacity, size_t size)
{
    if (s->failed) return false;
    if (count < *capacity) return true;
    int next = *capacity ? 2 * *capacity : 32;
    void *grown = realloc(*items, (size_t)next * size);
    if (!grown) {
        s->failed = true;
        return false;
    }
    *items = grown;
    *capacity = next;
    return true;
}

static state_scalar *add_scalar(state_list *s, const char *key, state_kind kind,
                                state_role role, void *value)
{
    if (!grow(s, (void **)&s->scalars, s->scalar_count, &s->scalar_capacity, sizeof *s->scalars))
        return NULL;
    state_scalar *scalar = &s->scalars[s->scalar_count++];
    memset(scalar, 0, sizeof *scalar);
    snprintf(scalar->key, sizeof scalar->key, "%s", key);
    scalar->kind = kind;
    scalar->role = role;
    scalar->value = value;
    return scalar;
}

void state_add(state_list *s, const char *key, state_kind kind, state_role role, void *value)
{
    add_scalar(s, key, kind, role, value);
}

state_value *state_add_computed(state_list *s, const char *key, state_kind kind, state_role role)
{
    state_scalar *scalar = add_scalar(s, key, kind, role, NULL);
    return scalar ? &scalar->own : NULL;
}

void state_add_tensor(state_list *s, nerve_shape shape, nerve_real *data, const char *format, ...)
{
    if (!grow(s, (void **)&s->tensors, s->tensor_count, &s->tensor_capacity, sizeof *s->tensors))
        return;
    state_tensor *t = &s->tensors[s->tensor_count++];
    va_list args;
    va_start(args, format);
    vsnprintf(t->name, sizeof t->name, format, args);
    va_end(args);
    t->shape = shape;
    t->data = data;
}

int state_find(const state_list *s, const char *key)
{
    for (int i = 0; i < s->scalar_count; i++)
        if (strcmp(s->scalars[i].key, key) == 0) return i;
    return -1;
}

const void *state_value_of(const state_scalar *scalar)
{
    return scalar->value ? scalar->value : (const void *)&scalar->own;
}

void state_format(state_kind kind, const void *value, char *buf, size_t size)
{
    switch (kind) {
    case STATE_INT: snprintf(buf, size, "%" PRId64, *(const int64_t *)value); break;
    case STATE_INT32: snprintf(buf, size, "%d", *(const int *)value); break;
    case STATE_BOOL: snprintf(buf, size, "%d", *(const bool *)value ? 1 : 0); break;
    case STATE_U64: snprintf(buf, size, "%" PRIu64, *(const uint64_t *)value); break;
    case STATE_REAL: snprintf(buf, size, "%.17g", *(const double *)value); break;
    case STATE_RNG: {
        const uint64_t *w = ((const nerve_rng *)value)->s;
        snprintf(buf, size, "%016" PRIx64 " %016" PRIx64 " %016" PRIx64 " %016" PRIx64, w[0],
                 w[1], w[2], w[3]);
        break;
    }
    case STATE_TEXT: snprintf(buf, size, "%s", (const char *)value); break;
    }
}

bool state_parse(state_kind kind, const char *text, state_value *out)
{
    char *end = NULL;
    memset(out, 0, sizeof *out);
    switch (kind) {
    case STATE_INT: out->i = strtoll(text, &end, 10); break;
    case STATE_INT32: {
        long long v = strtoll(text, &end, 10);
        if (v < INT32_MIN || v > INT32_MAX) return false;
        out->i32 = (int)v;
        break;
    }
    case STATE_BOOL:
        if (strcmp(text, "0") != 0 && strcmp(text, "1") != 0) return false;
        out->b = text[0] == '1';
        return true;
    case STATE_U64:
        if (text[0] == '-') return false;
        out->u = strtoull(text, &end, 10);
        break;
    case STATE_REAL: out->real = strtod(text, &end); break;
    case STATE_RNG:
        end = (char *)text;
        for (int k = 0; k < 4; k++) {
            const char *start = end;
            out->rng.s[k] = strtoull(start, &end, 16);
            if (end == start) return false;
        }
        return *end == '\0';
    case STATE_TEXT:
        if (strlen(text) >= STATE_TEXT_MAX) return false;
        strcpy(out->text, text);
        return true;
    }
    return end != text && *end == '\0';
}

void state_store(const state_scalar *scalar, const state_value *value)
{
    /* In state_kind's order. */
    static const size_t sizes[] = {sizeof(int64_t), sizeof(int),       sizeof(bool),
                                   sizeof(uint64_t), sizeof(double), sizeof(nerve_rng),
                                   STATE_TEXT_MAX};
    if (scalar->value) memcpy(scalar->value, value, sizes[scalar->kind]);
}

void state_list_free(state_list *s)
{
    free(s->scalars);
    free(s->tensors);
    memset(s, 0, sizeof *s);
}
