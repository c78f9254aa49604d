/* The protobuf wire format, as much of it as ONNX files need: varints,
 * tags, 32- and 64-bit fixed values, length-delimited fields (strings,
 * bytes, nested messages, packed repeated numbers). Hand-written rather than
 * generated (docs/dependencies.md, "Protobuf"): the writer emits fields in
 * the order it is called, so output is deterministic, and the reader checks
 * every length against the bytes left, so a hostile file cannot make it read
 * outside its buffer or allocate what the file does not hold. */
#ifndef NERVE_PROTOBUF_H
#define NERVE_PROTOBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { PB_VARINT = 0, PB_FIXED64 = 1, PB_BYTES = 2, PB_FIXED32 = 5 };

/* A growing output buffer. An allocation failure sets `failed` and makes
 * every later write a no-op, so writers check once at the end. */
typedef struct pb_buf {
    unsigned char *data;
    size_t len, cap;
    bool failed;
} pb_buf;

void pb_buf_free(pb_buf *b);
void pb_raw(pb_buf *b, const void *bytes, size_t n);
void pb_varint(pb_buf *b, uint64_t v);
void pb_field_varint(pb_buf *b, int field, uint64_t v);
/* int64 fields are varints of the two's complement (10 bytes when negative). */
void pb_field_int64(pb_buf *b, int field, int64_t v);
void pb_field_float(pb_buf *b, int field, float v);
void pb_field_bytes(pb_buf *b, int field, const void *bytes, size_t n);
void pb_field_string(pb_buf *b, int field, const char *s);
/* A nested message: `sub`'s bytes as a length-delimited field; sub is freed. */
void pb_field_message(pb_buf *b, int field, pb_buf *sub);
void pb_field_packed_int64(pb_buf *b, int field, const int64_t *v, size_t n);
void pb_field_packed_float(pb_buf *b, int field, const float *v, size_t n);

/* Reading: a cursor over one message's bytes. */
typedef struct pb_reader {
    const unsigned char *p, *end;
} pb_reader;

typedef struct pb_field {
    uint32_t number;
    int wire;
    uint64_t varint;           /* PB_VARINT; PB_FIXED32/64: the raw bits */
    const unsigned char *data; /* PB_BYTES */
    size_t len;
} pb_field;

static inline pb_reader pb_reader_of(const void *data, size_t len)
{
    pb_reader r = {(const unsigned char *)data, (const unsigned char *)data + len};
    return r;
}

/* The next field: 1, 0 at the end of the message, -1 on malformed bytes
 * (a truncated varint or field, a varint of more than 10 bytes, field number
 * 0, the deprecated group wire types or an unknown one); *why then says
 * which. */
int pb_next(pb_reader *r, pb_field *f, const char **why);
/* A packed repeated int64 field (or one unpacked element, PB_VARINT): its
 * values into out (NULL: only counted) and their number into *count; false
 * on a malformed payload. */
bool pb_read_int64s(const pb_field *f, int64_t *out, size_t *count);
/* The same for a packed repeated float field (or one PB_FIXED32 element):
 * a payload whose length is not a multiple of 4 is malformed. */
bool pb_read_floats(const pb_field *f, float *out, size_t *count);
float pb_float_of(const pb_field *f);

#endif
