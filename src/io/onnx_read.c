/* Reading ONNX ModelProto files (onnx.h) with the hand-written wire reader
 * (protobuf.c). Every length is checked against the bytes that are there,
 * so nothing is allocated beyond what the file holds; fields nerve has no
 * use for are skipped, and those it cannot honour (external data, subgraphs,
 * sparse initializers) are errors. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/onnx.h"

typedef struct reader {
    const char *source;
    nerve_error *err;
} reader;

static nerve_status fail(reader *rd, const char *fmt, ...)
{
    char text[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return nerve_error_set(rd->err, NERVE_ERR_FORMAT, "%s: %s", rd->source, text);
}

static nerve_status nomem(reader *rd)
{
    return nerve_error_set(rd->err, NERVE_ERR_NOMEM, "%s: out of memory", rd->source);
}

static char *copy_string(const pb_field *f)
{
    char *s = malloc(f->len + 1);
    if (!s) return NULL;
    memcpy(s, f->data, f->len);
    s[f->len] = 0;
    return s;
}

/* Appends to a growing array of items of `size` bytes; false when out of memory. */
static bool grow(void **items, int *count, size_t size)
{
    if (*count >= (1 << 24)) return false;
    void *p = realloc(*items, (size_t)(*count + 1) * size);
    if (!p) return false;
    memset((char *)p + (size_t)*count * size, 0, size);
    *items = p;
    (*count)++;
    return true;
}

static bool push_string(char ***list, int *count, const pb_field *f)
{
    char *s = copy_string(f);
    if (!s || !grow((void **)list, count, sizeof **list)) {
        free(s);
        return false;
    }
    (*list)[*count - 1] = s;
    return true;
}

/* Reads the message in f with `each` called per field; a malformed field is
 * an error naming `what`. */
#define FOR_EACH_FIELD(rd, bytes, len, what, f, body)                                        \
    do {                                                                                     \
        pb_reader r_ = pb_reader_of((bytes), (len));                                         \
        const char *why_ = NULL;                                                             \
        int got_;                                                                            \
        while ((got_ = pb_next(&r_, &(f), &why_)) == 1) {                                    \
            body                                                                             \
        }                                                                                    \
        if (got_ < 0) return fail((rd), "%s: %s", (what), why_);                             \
    } while (0)

static bool wire_is(const pb_field *f, int wire) { return f->wire == wire; }

/* ---------------------------------------------------------------- tensors */

void onnx_tensor_free(onnx_tensor *t)
{
    if (!t) return;
    free(t->name);
    free(t->f);
    free(t->i);
    memset(t, 0, sizeof *t);
}

static int element_size(int data_type)
{
    switch (data_type) {
    case ONNX_FLOAT: case ONNX_INT32: return 4;
    case ONNX_INT64: case ONNX_DOUBLE: return 8;
    case ONNX_BOOL: case ONNX_UINT8: case ONNX_INT8: return 1;
    default: return 0;
    }
}

static bool is_float_type(int t) { return t == ONNX_FLOAT || t == ONNX_DOUBLE; }

static int64_t load_le(const unsigned char *b, int n)
{
    uint64_t v = 0;
    for (int k = n - 1; k >= 0; k--) v = v << 8 | b[k];
    if (n < 8 && (v >> (8 * n - 1)) & 1) v |= ~(uint64_t)0 << (8 * n); /* sign-extend */
    return (int64_t)v;
}

/* The values of raw_data, converted to float or int64. */
static nerve_status from_raw(reader *rd, onnx_tensor *t, const pb_field *raw)
{
    int size = element_size(t->data_type);
    if ((uint64_t)raw->len != (uint64_t)t->count * (uint64_t)size)
        return fail(rd, "tensor '%s': raw_data holds %zu bytes, its shape needs %lld", t->name,
                    raw->len, (long long)(t->count * size));
    size_t n = (size_t)t->count ? (size_t)t->count : 1;
    if (is_float_type(t->data_type)) {
        if (!(t->f = malloc(n * sizeof *t->f))) return nomem(rd);
        if (t->data_type == ONNX_FLOAT) { /* little-endian float32, as nerve's */
            memcpy(t->f, raw->data, raw->len);
            return NERVE_OK;
        }
        for (int64_t k = 0; k < t->count; k++) {
            const unsigned char *b = raw->data + k * size;
            if (t->data_type == ONNX_FLOAT) {
                memcpy(&t->f[k], b, 4);
            } else {
                double d;
                memcpy(&d, b, 8);
                t->f[k] = (float)d;
            }
        }
    } else {
        if (!(t->i = malloc(n * sizeof *t->i))) return nomem(rd);
        for (int64_t k = 0; k < t->count; k++)
            t->i[k] = t->data_type == ONNX_UINT8 || t->data_type == ONNX_BOOL
                          ? raw->data[k * size]
                          : load_le(raw->data + k * size, size);
    }
    return NERVE_OK;
}

static nerve_status parse_tensor(reader *rd, const unsigned char *data, size_t size,
                                 onnx_tensor *t)
{
    memset(t, 0, sizeof *t);
    pb_field f, raw = {0}, floats = {0}, doubles = {0};
    bool have_raw = false, external = false;
    /* int64_data and int32_data may come in several unpacked pieces */
    int64_t *ints = NULL;
    size_t int_count = 0;
    nerve_status st = NERVE_OK;
    pb_reader r = pb_reader_of(data, size);
    const char *why = NULL;
    int got;
    while (st == NERVE_OK && (got = pb_next(&r, &f, &why)) == 1) {
        size_t n = 0;
        switch (f.number) {
        case ONNX_TENSOR_DIMS:
            if (!pb_read_int64s(&f, NULL, &n) || t->ndim + n > ONNX_MAX_DIMS) {
                st = fail(rd, "tensor: malformed dims or more than %d of them", ONNX_MAX_DIMS);
                break;
            }
            pb_read_int64s(&f, t->dims + t->ndim, &n);
            t->ndim += (int)n;
            break;
        case ONNX_TENSOR_DATA_TYPE:
            if (!wire_is(&f, PB_VARINT)) st = fail(rd, "tensor: data_type is not a varint");
            t->data_type = (int)f.varint;
            break;
        case ONNX_TENSOR_NAME:
            if (!wire_is(&f, PB_BYTES)) {
                st = fail(rd, "tensor: name is not a string");
                break;
            }
            free(t->name);
            if (!(t->name = copy_string(&f))) st = nomem(rd);
            break;
        case ONNX_TENSOR_RAW_DATA:
            if (!wire_is(&f, PB_BYTES)) st = fail(rd, "tensor: raw_data is not bytes");
            raw = f;
            have_raw = true;
            break;
        case ONNX_TENSOR_FLOAT_DATA:
            if (!pb_read_floats(&f, NULL, &n)) st = fail(rd, "tensor: malformed float_data");
            if (floats.data || floats.wire == PB_FIXED32)
                st = fail(rd, "tensor: float_data in pieces (write it packed)");
            floats = f;
            break;
        case ONNX_TENSOR_DOUBLE_DATA:
            if (f.wire != PB_BYTES || f.len % 8) st = fail(rd, "tensor: malformed double_data");
            doubles = f;
            break;
        case ONNX_TENSOR_INT64_DATA:
        case ONNX_TENSOR_INT32_DATA: {
            if (!pb_read_int64s(&f, NULL, &n)) {
                st = fail(rd, "tensor: malformed integer data");
                break;
            }
            int64_t *more = realloc(ints, (int_count + n + 1) * sizeof *ints);
            if (!more) {
                st = nomem(rd);
                break;
            }
            ints = more;
            pb_read_int64s(&f, ints + int_count, &n);
            if (f.number == ONNX_TENSOR_INT32_DATA) /* int32 values are varints of the int32 */
                for (size_t k = 0; k < n; k++) ints[int_count + k] = (int32_t)ints[int_count + k];
            int_count += n;
            break;
        }
        case ONNX_TENSOR_EXTERNAL_DATA:
            external = true;
            break;
        case ONNX_TENSOR_DATA_LOCATION:
            if (f.varint == 1) external = true;
            break;
        default: break;
        }
    }
    if (st == NERVE_OK && got < 0) st = fail(rd, "tensor: %s", why);
    const char *name = t->name ? t->name : "";
    if (st == NERVE_OK && external)
        st = fail(rd, "tensor '%s': its data is external (in another file), which nerve does "
                      "not read",
                  name);
    if (st == NERVE_OK && !element_size(t->data_type))
        st = fail(rd, "tensor '%s': element type %d is not one nerve reads (float, double, "
                      "int64, int32, int8, uint8, bool)",
                  name, t->data_type);
    t->count = 1;
    for (int d = 0; st == NERVE_OK && d < t->ndim; d++) {
        if (t->dims[d] < 0 || (t->dims[d] && t->count > ((int64_t)1 << 40) / t->dims[d]))
            st = fail(rd, "tensor '%s': dimension %d is %lld", name, d, (long long)t->dims[d]);
        else
            t->count *= t->dims[d];
    }
    if (st == NERVE_OK && have_raw) {
        st = from_raw(rd, t, &raw);
    } else if (st == NERVE_OK && is_float_type(t->data_type)) {
        size_t n = t->data_type == ONNX_FLOAT ? floats.len / 4 : doubles.len / 8;
        if ((int64_t)n != t->count)
            st = fail(rd, "tensor '%s': %zu values for a shape of %lld", name, n,
                      (long long)t->count);
        else if (!(t->f = malloc((n ? n : 1) * sizeof *t->f)))
            st = nomem(rd);
        for (size_t k = 0; st == NERVE_OK && k < n; k++) {
            if (t->data_type == ONNX_FLOAT) {
                memcpy(&t->f[k], floats.data + 4 * k, 4);
            } else {
                double d;
                memcpy(&d, doubles.data + 8 * k, 8);
                t->f[k] = (float)d;
            }
        }
    } else if (st == NERVE_OK) {
        if ((int64_t)int_count != t->count)
            st = fail(rd, "tensor '%s': %zu values for a shape of %lld", name, int_count,
                      (long long)t->count);
        else {
            t->i = ints;
            ints = NULL;
            if (!t->i && !(t->i = malloc(sizeof *t->i))) st = nomem(rd);
        }
    }
    free(ints);
    if (st == NERVE_OK && !t->name && !(t->name = calloc(1, 1))) st = nomem(rd);
    if (st) onnx_tensor_free(t);
    return st;
}

nerve_status onnx_tensor_parse(const unsigned char *data, size_t size, const char *source,
                               onnx_tensor *out, nerve_error *err)
{
    reader rd = {source, err};
    return parse_tensor(&rd, data, size, out);
}

/* ---------------------------------------------------------------- attributes and nodes */

static void attr_free(onnx_attr *a)
{
    free(a->name);
    free(a->s);
    free(a->ints);
    free(a->floats);
    for (int64_t k = 0; k < a->strings_count; k++) free(a->strings[k]);
    free(a->strings);
    if (a->t) onnx_tensor_free(a->t);
    free(a->t);
}

static nerve_status parse_attr(reader *rd, const pb_field *in, onnx_attr *a)
{
    pb_field f;
    FOR_EACH_FIELD(rd, in->data, in->len, "attribute", f, {
        size_t n = 0;
        switch (f.number) {
        case ONNX_ATTR_NAME:
            if (f.wire != PB_BYTES) return fail(rd, "attribute: name is not a string");
            free(a->name);
            if (!(a->name = copy_string(&f))) return nomem(rd);
            break;
        case ONNX_ATTR_TYPE: a->type = (int)f.varint; break;
        case ONNX_ATTR_F:
            if (f.wire != PB_FIXED32) return fail(rd, "attribute: f is not a float");
            a->f = pb_float_of(&f);
            break;
        case ONNX_ATTR_I: a->i = (int64_t)f.varint; break;
        case ONNX_ATTR_S:
            if (f.wire != PB_BYTES) return fail(rd, "attribute: s is not bytes");
            free(a->s);
            if (!(a->s = copy_string(&f))) return nomem(rd);
            break;
        case ONNX_ATTR_T: {
            if (f.wire != PB_BYTES) return fail(rd, "attribute: t is not a tensor");
            if (a->t) return fail(rd, "attribute: two tensors");
            if (!(a->t = calloc(1, sizeof *a->t))) return nomem(rd);
            nerve_status st = parse_tensor(rd, f.data, f.len, a->t);
            if (st) {
                free(a->t);
                a->t = NULL;
                return st;
            }
            break;
        }
        case ONNX_ATTR_G:
        case 11: /* graphs */
            return fail(rd, "attribute '%s': a subgraph (If, Loop, Scan), which nerve does not "
                            "express",
                        a->name ? a->name : "");
        case ONNX_ATTR_INTS: {
            if (!pb_read_int64s(&f, NULL, &n)) return fail(rd, "attribute: malformed ints");
            int64_t *more = realloc(a->ints, (size_t)(a->ints_count + (int64_t)n + 1) * sizeof *more);
            if (!more) return nomem(rd);
            a->ints = more;
            pb_read_int64s(&f, a->ints + a->ints_count, &n);
            a->ints_count += (int64_t)n;
            break;
        }
        case ONNX_ATTR_FLOATS: {
            if (!pb_read_floats(&f, NULL, &n)) return fail(rd, "attribute: malformed floats");
            float *more = realloc(a->floats, (size_t)(a->floats_count + (int64_t)n + 1) * sizeof *more);
            if (!more) return nomem(rd);
            a->floats = more;
            pb_read_floats(&f, a->floats + a->floats_count, &n);
            a->floats_count += (int64_t)n;
            break;
        }
        case ONNX_ATTR_STRINGS: {
            int count = (int)a->strings_count;
            if (f.wire != PB_BYTES) return fail(rd, "attribute: strings are not strings");
            if (!push_string(&a->strings, &count, &f)) return nomem(rd);
            a->strings_count = count;
            break;
        }
        default: break;
        }
    });
    if (!a->name && !(a->name = calloc(1, 1))) return nomem(rd);
    return NERVE_OK;
}

static void node_free(onnx_node *n)
{
    free(n->name);
    free(n->op_type);
    free(n->domain);
    for (int k = 0; k < n->input_count; k++) free(n->inputs[k]);
    for (int k = 0; k < n->output_count; k++) free(n->outputs[k]);
    free(n->inputs);
    free(n->outputs);
    for (int k = 0; k < n->attr_count; k++) attr_free(&n->attrs[k]);
    free(n->attrs);
}

static nerve_status set_string(reader *rd, char **target, const pb_field *f, const char *what)
{
    if (f->wire != PB_BYTES) return fail(rd, "%s is not a string", what);
    free(*target);
    *target = copy_string(f);
    return *target ? NERVE_OK : nomem(rd);
}

static nerve_status parse_node(reader *rd, const pb_field *in, onnx_node *n)
{
    pb_field f;
    nerve_status st;
    FOR_EACH_FIELD(rd, in->data, in->len, "node", f, {
        switch (f.number) {
        case ONNX_NODE_INPUT:
        case ONNX_NODE_OUTPUT:
            if (f.wire != PB_BYTES) return fail(rd, "node: an input or output is not a string");
            if (!(f.number == ONNX_NODE_INPUT ? push_string(&n->inputs, &n->input_count, &f)
                                              : push_string(&n->outputs, &n->output_count, &f)))
                return nomem(rd);
            break;
        case ONNX_NODE_NAME:
            if ((st = set_string(rd, &n->name, &f, "node name"))) return st;
            break;
        case ONNX_NODE_OP_TYPE:
            if ((st = set_string(rd, &n->op_type, &f, "node op_type"))) return st;
            break;
        case ONNX_NODE_DOMAIN:
            if ((st = set_string(rd, &n->domain, &f, "node domain"))) return st;
            break;
        case ONNX_NODE_ATTRIBUTE:
            if (f.wire != PB_BYTES) return fail(rd, "node: an attribute is not a message");
            if (!grow((void **)&n->attrs, &n->attr_count, sizeof *n->attrs)) return nomem(rd);
            if ((st = parse_attr(rd, &f, &n->attrs[n->attr_count - 1]))) return st;
            break;
        default: break;
        }
    });
    if (!n->name && !(n->name = calloc(1, 1))) return nomem(rd);
    if (!n->op_type && !(n->op_type = calloc(1, 1))) return nomem(rd);
    if (!n->domain && !(n->domain = calloc(1, 1))) return nomem(rd);
    return NERVE_OK;
}

const onnx_attr *onnx_node_attr(const onnx_node *n, const char *name)
{
    for (int k = 0; k < n->attr_count; k++)
        if (strcmp(n->attrs[k].name, name) == 0) return &n->attrs[k];
    return NULL;
}

/* ---------------------------------------------------------------- values, graphs, models */

static nerve_status parse_shape(reader *rd, const pb_field *in, onnx_value *v)
{
    pb_field f, g;
    v->ndim = 0;
    FOR_EACH_FIELD(rd, in->data, in->len, "shape", f, {
        if (f.number != ONNX_SHAPE_DIM || f.wire != PB_BYTES) continue;
        if (v->ndim >= ONNX_MAX_DIMS)
            return fail(rd, "value '%s': more than %d dimensions", v->name, ONNX_MAX_DIMS);
        int64_t dim = -1;
        FOR_EACH_FIELD(rd, f.data, f.len, "dimension", g, {
            if (g.number == ONNX_DIM_VALUE && g.wire == PB_VARINT) dim = (int64_t)g.varint;
        });
        v->dims[v->ndim++] = dim < 0 ? -1 : dim;
    });
    return NERVE_OK;
}

static nerve_status parse_value(reader *rd, const pb_field *in, onnx_value *v)
{
    pb_field f, t, u;
    nerve_status st;
    v->ndim = -1;
    FOR_EACH_FIELD(rd, in->data, in->len, "value info", f, {
        if (f.number == ONNX_VALUE_NAME) {
            if ((st = set_string(rd, &v->name, &f, "value name"))) return st;
        } else if (f.number == ONNX_VALUE_TYPE && f.wire == PB_BYTES) {
            FOR_EACH_FIELD(rd, f.data, f.len, "type", t, {
                if (t.number != ONNX_TYPE_TENSOR || t.wire != PB_BYTES) continue;
                FOR_EACH_FIELD(rd, t.data, t.len, "tensor type", u, {
                    if (u.number == ONNX_TENSOR_TYPE_ELEM && u.wire == PB_VARINT)
                        v->elem_type = (int)u.varint;
                    else if (u.number == ONNX_TENSOR_TYPE_SHAPE && u.wire == PB_BYTES &&
                             (st = parse_shape(rd, &u, v)))
                        return st;
                });
            });
        }
    });
    if (!v->name && !(v->name = calloc(1, 1))) return nomem(rd);
    return NERVE_OK;
}

static void graph_free(onnx_graph *g)
{
    for (int k = 0; k < g->node_count; k++) node_free(&g->nodes[k]);
    for (int k = 0; k < g->initializer_count; k++) onnx_tensor_free(&g->initializers[k]);
    for (int k = 0; k < g->input_count; k++) free(g->inputs[k].name);
    for (int k = 0; k < g->output_count; k++) free(g->outputs[k].name);
    free(g->nodes);
    free(g->initializers);
    free(g->inputs);
    free(g->outputs);
    memset(g, 0, sizeof *g);
}

static nerve_status parse_graph(reader *rd, const pb_field *in, onnx_graph *g)
{
    pb_field f;
    nerve_status st;
    FOR_EACH_FIELD(rd, in->data, in->len, "graph", f, {
        if (f.wire != PB_BYTES) continue;
        switch (f.number) {
        case ONNX_GRAPH_NODE:
            if (!grow((void **)&g->nodes, &g->node_count, sizeof *g->nodes)) return nomem(rd);
            if ((st = parse_node(rd, &f, &g->nodes[g->node_count - 1]))) return st;
            break;
        case ONNX_GRAPH_INITIALIZER:
            if (!grow((void **)&g->initializers, &g->initializer_count, sizeof *g->initializers))
                return nomem(rd);
            if ((st = parse_tensor(rd, f.data, f.len, &g->initializers[g->initializer_count - 1]))) {
                g->initializer_count--;
                return st;
            }
            break;
        case ONNX_GRAPH_INPUT:
            if (!grow((void **)&g->inputs, &g->input_count, sizeof *g->inputs)) return nomem(rd);
            if ((st = parse_value(rd, &f, &g->inputs[g->input_count - 1]))) return st;
            break;
        case ONNX_GRAPH_OUTPUT:
            if (!grow((void **)&g->outputs, &g->output_count, sizeof *g->outputs)) return nomem(rd);
            if ((st = parse_value(rd, &f, &g->outputs[g->output_count - 1]))) return st;
            break;
        case ONNX_GRAPH_SPARSE_INITIALIZER:
            return fail(rd, "graph: sparse initializers, which nerve does not read");
        default: break;
        }
    });
    return NERVE_OK;
}

void onnx_model_free(onnx_model *m)
{
    if (!m) return;
    graph_free(&m->graph);
    free(m->producer);
    for (int k = 0; k < m->metadata_count; k++) free(m->metadata[k]);
    free(m->metadata);
    memset(m, 0, sizeof *m);
}

static nerve_status parse_opset(reader *rd, const pb_field *in, onnx_model *m)
{
    pb_field f;
    bool default_domain = true;
    int64_t version = 0;
    FOR_EACH_FIELD(rd, in->data, in->len, "opset_import", f, {
        if (f.number == ONNX_OPSET_DOMAIN && f.wire == PB_BYTES)
            default_domain = f.len == 0 || (f.len == 7 && memcmp(f.data, "ai.onnx", 7) == 0);
        else if (f.number == ONNX_OPSET_VERSION && f.wire == PB_VARINT)
            version = (int64_t)f.varint;
    });
    if (default_domain) m->opset = version;
    return NERVE_OK;
}

static nerve_status parse_entry(reader *rd, const pb_field *in, onnx_model *m)
{
    pb_field f, key = {0}, value = {0};
    FOR_EACH_FIELD(rd, in->data, in->len, "metadata_props", f, {
        if (f.wire != PB_BYTES) continue;
        if (f.number == ONNX_ENTRY_KEY) key = f;
        if (f.number == ONNX_ENTRY_VALUE) value = f;
    });
    if (!push_string(&m->metadata, &m->metadata_count, &key)) return nomem(rd);
    if (!push_string(&m->metadata, &m->metadata_count, &value)) return nomem(rd);
    return NERVE_OK;
}

nerve_status onnx_model_parse(const unsigned char *data, size_t size, const char *source,
                              onnx_model *out, nerve_error *err)
{
    reader rd_ = {source, err}, *rd = &rd_;
    memset(out, 0, sizeof *out);
    pb_field f;
    bool have_graph = false;
    nerve_status st = NERVE_OK;
    pb_reader r = pb_reader_of(data, size);
    const char *why = NULL;
    int got;
    while (st == NERVE_OK && (got = pb_next(&r, &f, &why)) == 1) {
        switch (f.number) {
        case ONNX_MODEL_IR_VERSION: out->ir_version = (int64_t)f.varint; break;
        case ONNX_MODEL_PRODUCER_NAME:
            if (f.wire == PB_BYTES) st = set_string(rd, &out->producer, &f, "producer_name");
            break;
        case ONNX_MODEL_GRAPH:
            if (f.wire != PB_BYTES || have_graph) {
                st = fail(rd, "model: a second graph, or one that is not a message");
                break;
            }
            have_graph = true;
            st = parse_graph(rd, &f, &out->graph);
            break;
        case ONNX_MODEL_OPSET:
            if (f.wire == PB_BYTES) st = parse_opset(rd, &f, out);
            break;
        case ONNX_MODEL_METADATA:
            if (f.wire == PB_BYTES) st = parse_entry(rd, &f, out);
            break;
        default: break;
        }
    }
    if (st == NERVE_OK && got < 0) st = fail(rd, "model: %s", why);
    if (st == NERVE_OK && !have_graph) st = fail(rd, "not an ONNX model: no graph");
    if (st) onnx_model_free(out);
    return st;
}

nerve_status onnx_model_read(const char *path, onnx_model *out, nerve_error *err)
{
    memset(out, 0, sizeof *out);
    FILE *file = fopen(path, "rb");
    if (!file) return nerve_error_set(err, NERVE_ERR_IO, "%s: %s", path, strerror(errno));
    unsigned char *data = NULL;
    size_t size = 0, cap = 0;
    for (;;) {
        if (size == cap) {
            cap = cap ? 2 * cap : 1 << 16;
            unsigned char *more = cap < (size_t)1 << 34 ? realloc(data, cap) : NULL;
            if (!more) {
                free(data);
                fclose(file);
                return nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory", path);
            }
            data = more;
        }
        size_t n = fread(data + size, 1, cap - size, file);
        size += n;
        if (n == 0) break;
    }
    bool failed = ferror(file);
    fclose(file);
    nerve_status st = failed ? nerve_error_set(err, NERVE_ERR_IO, "%s: read failed", path)
                             : onnx_model_parse(data, size, path, out, err);
    free(data);
    return st;
}
