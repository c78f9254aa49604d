/* The protobuf wire format (protobuf.h). Little-endian host assumed for
 * floats, as the rest of nerve's file formats do (safetensors). */
#include "io/protobuf.h"

#include <stdlib.h>
#include <string.h>

void pb_buf_free(pb_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

static bool reserve(pb_buf *b, size_t n)
{
    if (b->failed) return false;
    if (b->len + n <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n) {
        if (cap > SIZE_MAX / 2) {
            b->failed = true;
            return false;
        }
        cap *= 2;
    }
    unsigned char *data = realloc(b->data, cap);
    if (!data) {
        b->failed = true;
        return false;
    }
    b->data = data;
    b->cap = cap;
    return true;
}

void pb_raw(pb_buf *b, const void *bytes, size_t n)
{
    if (n == 0 || !reserve(b, n)) return;
    memcpy(b->data + b->len, bytes, n);
    b->len += n;
}

void pb_varint(pb_buf *b, uint64_t v)
{
    unsigned char bytes[10];
    size_t n = 0;
    do {
        unsigned char byte = v & 0x7f;
        v >>= 7;
        bytes[n++] = byte | (v ? 0x80 : 0);
    } while (v);
    pb_raw(b, bytes, n);
}

static void tag(pb_buf *b, int field, int wire) { pb_varint(b, (uint64_t)field << 3 | (unsigned)wire); }

void pb_field_varint(pb_buf *b, int field, uint64_t v)
{
    tag(b, field, PB_VARINT);
    pb_varint(b, v);
}

void pb_field_int64(pb_buf *b, int field, int64_t v) { pb_field_varint(b, field, (uint64_t)v); }

void pb_field_float(pb_buf *b, int field, float v)
{
    tag(b, field, PB_FIXED32);
    pb_raw(b, &v, 4);
}

void pb_field_bytes(pb_buf *b, int field, const void *bytes, size_t n)
{
    tag(b, field, PB_BYTES);
    pb_varint(b, n);
    pb_raw(b, bytes, n);
}

void pb_field_string(pb_buf *b, int field, const char *s) { pb_field_bytes(b, field, s, strlen(s)); }

void pb_field_message(pb_buf *b, int field, pb_buf *sub)
{
    if (sub->failed) b->failed = true;
    pb_field_bytes(b, field, sub->data, sub->len);
    pb_buf_free(sub);
}

void pb_field_packed_int64(pb_buf *b, int field, const int64_t *v, size_t n)
{
    if (n == 0) return;
    pb_buf sub = {0};
    for (size_t i = 0; i < n; i++) pb_varint(&sub, (uint64_t)v[i]);
    pb_field_message(b, field, &sub);
}

void pb_field_packed_float(pb_buf *b, int field, const float *v, size_t n)
{
    if (n == 0) return;
    tag(b, field, PB_BYTES);
    pb_varint(b, n * 4);
    pb_raw(b, v, n * 4);
}

/* ---------------------------------------------------------------- reading */

static bool read_varint(const unsigned char **p, const unsigned char *end, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (*p >= end) return false;
        unsigned char byte = *(*p)++;
        v |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false; /* more than 10 bytes */
}

int pb_next(pb_reader *r, pb_field *f, const char **why)
{
    if (r->p >= r->end) return 0;
    uint64_t key;
    if (!read_varint(&r->p, r->end, &key)) {
        *why = "truncated or overlong field tag";
        return -1;
    }
    memset(f, 0, sizeof *f);
    if ((key >> 3) == 0 || (key >> 3) > 0x1fffffff) {
        *why = "field number 0 or beyond 2^29";
        return -1;
    }
    f->number = (uint32_t)(key >> 3);
    f->wire = (int)(key & 7);
    size_t left;
    switch (f->wire) {
    case PB_VARINT:
        if (!read_varint(&r->p, r->end, &f->varint)) {
            *why = "truncated or overlong varint";
            return -1;
        }
        return 1;
    case PB_FIXED64:
    case PB_FIXED32: {
        size_t n = f->wire == PB_FIXED64 ? 8 : 4;
        if ((size_t)(r->end - r->p) < n) {
            *why = "truncated fixed-size value";
            return -1;
        }
        for (size_t i = 0; i < n; i++) f->varint |= (uint64_t)r->p[i] << (8 * i);
        r->p += n;
        return 1;
    }
    case PB_BYTES:
        if (!read_varint(&r->p, r->end, &f->varint)) {
            *why = "truncated length";
            return -1;
        }
        left = (size_t)(r->end - r->p);
        if (f->varint > left) {
            *why = "length beyond the end of the data";
            return -1;
        }
        f->data = r->p;
        f->len = (size_t)f->varint;
        r->p += f->len;
        return 1;
    default:
        *why = "unsupported wire type (groups or invalid)";
        return -1;
    }
}

bool pb_read_int64s(const pb_field *f, int64_t *out, size_t *count)
{
    if (f->wire == PB_VARINT) {
        if (out) out[0] = (int64_t)f->varint;
        *count = 1;
        return true;
    }
    if (f->wire != PB_BYTES) return false;
    const unsigned char *p = f->data, *end = f->data + f->len;
    size_t n = 0;
    while (p < end) {
        uint64_t v;
        if (!read_varint(&p, end, &v)) return false;
        if (out) out[n] = (int64_t)v;
        n++;
    }
    *count = n;
    return true;
}

bool pb_read_floats(const pb_field *f, float *out, size_t *count)
{
    if (f->wire == PB_FIXED32) {
        if (out) out[0] = pb_float_of(f);
        *count = 1;
        return true;
    }
    if (f->wire != PB_BYTES || f->len % 4) return false;
    if (out) memcpy(out, f->data, f->len);
    *count = f->len / 4;
    return true;
}

float pb_float_of(const pb_field *f)
{
    uint32_t bits = (uint32_t)f->varint;
    float v;
    memcpy(&v, &bits, 4);
    return v;
}
