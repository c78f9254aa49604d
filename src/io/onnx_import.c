/* ONNX import (docs/onnx.md): a parsed ONNX graph (onnx_read.c) as a nerve
 * .cfg and its weights. The graph is walked in its order; each value is
 * known as the output of a cfg layer, a constant (an initializer, or one
 * folded from constants), or a step of a recognised pattern (a sequence
 * turned time-major for a recurrent node, that node's outputs on their way
 * back to batch-first). Each operator becomes a layer section, with its
 * weights converted to nerve's (PyTorch's) layout and names; a node that
 * fits none of this is one error naming it, its operator and the opset. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/atomic_file.h"
#include "io/onnx_composite.h"
#include "io/onnx_internal.h"

#define NAME_MAX_LEN 48

typedef enum vkind {
    V_LAYER,      /* a cfg layer's output (or the network input, layer "input") */
    V_CONST,      /* a constant tensor */
    V_IDS,        /* the network input cast to integers: token ids */
    V_TIME_MAJOR, /* a layer's [N, T, F] as [T, N, F] */
    V_RNN_Y,      /* a recurrent node's Y [T, D, N, H] */
    V_RNN_TNDH,   /* Y as [T, N, D, H] */
    V_RNN_YH,     /* its Y_h [D, N, H] */
    V_RNN_NDH,    /* Y_h as [N, D, H] */
    V_ZEROS       /* zeros of a shape that involves the batch (an initial state) */
} vkind;

/* In a folded shape (Shape of a layer's value), the batch dimension. */
#define BATCH_DIM INT64_MIN

typedef struct ival {
    const char *name;
    vkind kind;
    char layer[NAME_MAX_LEN];
    int ndim;
    int64_t dims[ONNX_MAX_DIMS]; /* dims[0] of a layer's value is the batch: -1 */
    const onnx_tensor *t;        /* V_CONST */
    onnx_tensor folded;          /* a constant computed here (owned) */
} ival;

typedef struct importer {
    const onnx_model *model;
    const char *source;
    nerve_error *err;
    ival **vals; /* each allocated apart, so that pointers to them stay valid */
    int val_count, val_cap;
    char *cfg;
    size_t cfg_len, cfg_cap;
    nerve_named_tensor *tensors;
    int tensor_count, tensor_cap;
    int counter;
    const onnx_node *node; /* the node being converted, for messages */
    nerve_status status;
    bool has_softmax_last;
    double gain, offset; /* the input's normalisation, folded into [data] */
    int normalize_stage; /* 0: none seen; 1: Mul seen; 2: Add seen */
    bool *skip;          /* nodes already read (constants, a composite's later nodes) */
    onnx_composite_match attempt; /* the composite that got furthest at the node */
} importer;

/* ---------------------------------------------------------------- errors and text */

static nerve_status refuse(importer *im, const char *fmt, ...)
{
    if (im->status) return im->status;
    char text[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    const onnx_node *n = im->node;
    if (n && n->name[0])
        im->status = nerve_error_set(im->err, NERVE_ERR_INVALID,
                                     "%s: node '%s' (%s, opset %lld): %s", im->source, n->name,
                                     n->op_type, (long long)im->model->opset, text);
    else if (n)
        im->status = nerve_error_set(im->err, NERVE_ERR_INVALID,
                                     "%s: node #%d (%s, opset %lld): %s", im->source,
                                     (int)(n - im->model->graph.nodes), n->op_type,
                                     (long long)im->model->opset, text);
    else
        im->status = nerve_error_set(im->err, NERVE_ERR_INVALID, "%s: %s", im->source, text);
    return im->status;
}

static nerve_status nomem(importer *im)
{
    if (!im->status)
        im->status = nerve_error_set(im->err, NERVE_ERR_NOMEM, "%s: out of memory", im->source);
    return im->status;
}

static void emit(importer *im, const char *fmt, ...)
{
    if (im->status) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (im->cfg_len + (size_t)n + 1 > im->cfg_cap) {
        size_t cap = (im->cfg_cap + (size_t)n + 1) * 2;
        char *more = realloc(im->cfg, cap);
        if (!more) {
            nomem(im);
            return;
        }
        im->cfg = more;
        im->cfg_cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(im->cfg + im->cfg_len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    im->cfg_len += (size_t)n;
}

/* ---------------------------------------------------------------- values */

static ival *find(importer *im, const char *name)
{
    for (int i = im->val_count - 1; i >= 0; i--)
        if (strcmp(im->vals[i]->name, name) == 0) return im->vals[i];
    return NULL;
}

static ival *add_val(importer *im, const char *name, vkind kind)
{
    if (im->status) return NULL;
    if (find(im, name)) {
        refuse(im, "value '%s' is assigned twice", name);
        return NULL;
    }
    if (im->val_count == im->val_cap) {
        int cap = im->val_cap ? 2 * im->val_cap : 64;
        ival **more = realloc(im->vals, (size_t)cap * sizeof *more);
        if (!more) {
            nomem(im);
            return NULL;
        }
        im->vals = more;
        im->val_cap = cap;
    }
    ival *v = calloc(1, sizeof *v);
    if (!v) {
        nomem(im);
        return NULL;
    }
    im->vals[im->val_count++] = v;
    v->name = name;
    v->kind = kind;
    return v;
}

/* Input k of the node, which must exist (and be of the kind, if kind >= 0). */
static ival *arg(importer *im, int k, int kind)
{
    const onnx_node *n = im->node;
    if (k >= n->input_count || !n->inputs[k][0]) {
        refuse(im, "input %d is missing", k);
        return NULL;
    }
    ival *v = find(im, n->inputs[k]);
    if (!v) {
        refuse(im, "input '%s' is not produced by an earlier node, an initializer or a graph "
                   "input (the graph is not in topological order, or has a cycle)",
               n->inputs[k]);
        return NULL;
    }
    if (kind >= 0 && (int)v->kind != kind) {
        refuse(im, kind == V_CONST ? "input '%s' must be a constant (an initializer)"
                                   : "input '%s' is not in a form nerve can follow here",
               n->inputs[k]);
        return NULL;
    }
    return v;
}

static bool has_input(const onnx_node *n, int k) { return k < n->input_count && n->inputs[k][0]; }

/* The largest sample nerve imports (elements after the batch), and the
 * largest size, stride, pad or dilation an attribute may give: far beyond
 * real networks, and small enough that no shape arithmetic overflows. */
#define SAMPLE_LIMIT ((int64_t)1 << 31)
#define ATTR_LIMIT ((int64_t)1 << 20)

static bool sample_fits(int ndim, const int64_t *dims)
{
    int64_t n = 1;
    for (int d = 1; d < ndim; d++) {
        if (dims[d] < 1 || dims[d] > SAMPLE_LIMIT || n > SAMPLE_LIMIT / dims[d]) return false;
        n *= dims[d];
    }
    return true;
}

/* The node's output value k as a layer's output of the given shape. */
static ival *layer_out(importer *im, const char *layer, int ndim, const int64_t *dims)
{
    if (!sample_fits(ndim, dims)) {
        refuse(im, "the output would hold more than 2^31 values per sample");
        return NULL;
    }
    if (im->node->output_count < 1 || !im->node->outputs[0][0]) {
        refuse(im, "no output");
        return NULL;
    }
    ival *v = add_val(im, im->node->outputs[0], V_LAYER);
    if (!v) return NULL;
    snprintf(v->layer, sizeof v->layer, "%s", layer);
    v->ndim = ndim;
    memcpy(v->dims, dims, (size_t)ndim * sizeof *dims);
    return v;
}

static const onnx_tensor *const_of(const ival *v) { return v->t ? v->t : &v->folded; }

/* ---------------------------------------------------------------- attributes */

static int64_t attr_i(const onnx_node *n, const char *name, int64_t fallback)
{
    const onnx_attr *a = onnx_node_attr(n, name);
    return a ? a->i : fallback;
}

static double attr_f(const onnx_node *n, const char *name, double fallback)
{
    const onnx_attr *a = onnx_node_attr(n, name);
    return a ? a->f : fallback;
}

/* A list attribute of exactly `count` values in [0, ATTR_LIMIT] (or the
 * fallback when absent). */
static bool attr_ints(importer *im, const char *name, int count, int64_t *out, int64_t fallback)
{
    const onnx_attr *a = onnx_node_attr(im->node, name);
    if (!a) {
        for (int k = 0; k < count; k++) out[k] = fallback;
        return true;
    }
    if (a->ints_count != count) {
        refuse(im, "attribute %s has %lld values, expected %d", name, (long long)a->ints_count,
               count);
        return false;
    }
    for (int k = 0; k < count; k++)
        if (a->ints[k] < 0 || a->ints[k] > ATTR_LIMIT) {
            refuse(im, "attribute %s: %lld is out of range", name, (long long)a->ints[k]);
            return false;
        }
    memcpy(out, a->ints, (size_t)count * sizeof *out);
    return true;
}

static const char *attr_s(const onnx_node *n, const char *name, const char *fallback)
{
    const onnx_attr *a = onnx_node_attr(n, name);
    return a && a->s ? a->s : fallback;
}

/* Attributes the converter does not read must be absent (or at their
 * defaults, which the handlers check themselves). */
static bool only_attrs(importer *im, const char *const *known)
{
    for (int k = 0; k < im->node->attr_count; k++) {
        const char *name = im->node->attrs[k].name;
        bool ok = false;
        for (int j = 0; known[j]; j++) ok |= strcmp(known[j], name) == 0;
        if (!ok) {
            refuse(im, "attribute '%s' is not supported", name);
            return false;
        }
    }
    return true;
}

/* ---------------------------------------------------------------- layers and tensors */

static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= NAME_MAX_LEN - 8) return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
            return false;
    return true;
}

static bool layer_taken(importer *im, const char *name)
{
    if (strcmp(name, "input") == 0 || strcmp(name, "target") == 0 ||
        strcmp(name, "probabilities") == 0 || strcmp(name, "loss") == 0)
        return true;
    for (int i = 0; i < im->val_count; i++)
        if (im->vals[i]->kind != V_CONST && strcmp(im->vals[i]->layer, name) == 0) return true;
    for (int i = 0; i < im->tensor_count; i++) {
        size_t n = strlen(name);
        if (strncmp(im->tensors[i].name, name, n) == 0 && im->tensors[i].name[n] == '.')
            return true;
    }
    return false;
}

/* The layer's name from its parameter's, "<name><suffix>" (PyTorch's
 * "<name>.weight"); false when the initializer is not named so, or the name
 * is taken. */
static bool named_after(importer *im, const ival *param, const char *suffix,
                        char out[NAME_MAX_LEN])
{
    if (!param || !param->t || !param->t->name) return false;
    const char *w = param->t->name;
    size_t n = strlen(w), s = strlen(suffix);
    if (n <= s || n - s >= NAME_MAX_LEN || strcmp(w + n - s, suffix) != 0) return false;
    memcpy(out, w, n - s);
    out[n - s] = 0;
    return valid_name(out) && !layer_taken(im, out);
}

/* A layer name: the prefix of its weight's name when that is "<name>.weight"
 * (PyTorch's), otherwise the type and a counter. */
static void layer_name(importer *im, const char *type, const ival *weight, char out[NAME_MAX_LEN])
{
    if (named_after(im, weight, ".weight", out)) return;
    do
        snprintf(out, NAME_MAX_LEN, "%s%d", type, im->counter++);
    while (layer_taken(im, out));
}

static void section(importer *im, const char *type, const char *name, const char *input)
{
    emit(im, "\n[%s]\nname = %s\ninput = %s\n", type, name, input);
}

/* Adds a weight: values copied (count of them, shape given). */
static void tensor(importer *im, const char *layer, const char *what, int ndim,
                   const int64_t *dims, const float *values, nerve_dtype dtype)
{
    if (im->status) return;
    if (im->tensor_count == im->tensor_cap) {
        int cap = im->tensor_cap ? 2 * im->tensor_cap : 16;
        nerve_named_tensor *more = realloc(im->tensors, (size_t)cap * sizeof *more);
        if (!more) {
            nomem(im);
            return;
        }
        im->tensors = more;
        im->tensor_cap = cap;
    }
    int64_t count = 1;
    for (int d = 0; d < ndim; d++) count *= dims[d];
    char *name = malloc(strlen(layer) + strlen(what) + 2);
    float *data = malloc((size_t)(count ? count : 1) * sizeof *data);
    if (!name || !data) {
        free(name);
        free(data);
        nomem(im);
        return;
    }
    sprintf(name, "%s.%s", layer, what);
    if (values) memcpy(data, values, (size_t)count * sizeof *data);
    else memset(data, 0, (size_t)count * sizeof *data);
    nerve_named_tensor *t = &im->tensors[im->tensor_count++];
    t->name = name;
    t->shape = nerve_shape_make(ndim, dims);
    t->data = data;
    t->dtype = dtype;
}

static int64_t numel(const onnx_tensor *t) { return t->count; }

/* A float constant's values (an integer one is refused). */
static const float *floats_of(importer *im, const ival *v)
{
    const onnx_tensor *t = const_of(v);
    if (!t->f) {
        refuse(im, "constant '%s' is not floating-point", v->name);
        return NULL;
    }
    return t->f;
}

/* ---------------------------------------------------------------- constant folding */

/* Ops on constants (nerve's own exports reorder recurrent weights with
 * Split, Concat and Unsqueeze; torch's transpose them) are computed here. */
static bool all_const(importer *im)
{
    const onnx_node *n = im->node;
    for (int k = 0; k < n->input_count; k++) {
        if (!n->inputs[k][0]) continue;
        ival *v = find(im, n->inputs[k]);
        if (!v || v->kind != V_CONST) return false;
    }
    return n->input_count > 0;
}

static ival *const_out(importer *im, int k, int ndim, const int64_t *dims, bool is_float)
{
    if (k >= im->node->output_count || !im->node->outputs[k][0]) return NULL;
    ival *v = add_val(im, im->node->outputs[k], V_CONST);
    if (!v) return NULL;
    onnx_tensor *t = &v->folded;
    t->ndim = ndim;
    t->count = 1;
    for (int d = 0; d < ndim; d++) {
        t->dims[d] = dims[d];
        t->count *= dims[d];
    }
    t->data_type = is_float ? ONNX_FLOAT : ONNX_INT64;
    size_t n = (size_t)(t->count ? t->count : 1);
    if (is_float ? !(t->f = calloc(n, sizeof *t->f)) : !(t->i = calloc(n, sizeof *t->i))) {
        nomem(im);
        return NULL;
    }
    return v;
}

static int64_t axis_of(int64_t axis, int ndim) { return axis < 0 ? axis + ndim : axis; }

/* Copies blocks along `axis`: [outer, len, inner] views. */
static void copy_slab(const onnx_tensor *src, int64_t from, onnx_tensor *dst, int64_t to,
                      int64_t len, int axis)
{
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++) outer *= src->dims[d];
    for (int d = axis + 1; d < src->ndim; d++) inner *= src->dims[d];
    for (int64_t o = 0; o < outer; o++) {
        int64_t s = (o * src->dims[axis] + from) * inner, t = (o * dst->dims[axis] + to) * inner;
        if (src->f)
            memcpy(dst->f + t, src->f + s, (size_t)(len * inner) * sizeof *src->f);
        else
            memcpy(dst->i + t, src->i + s, (size_t)(len * inner) * sizeof *src->i);
    }
}

static bool fold(importer *im)
{
    const onnx_node *n = im->node;
    const char *op = n->op_type;
    ival *x = arg(im, 0, V_CONST);
    if (!x) return true;
    const onnx_tensor *t = const_of(x);
    int64_t dims[ONNX_MAX_DIMS];
    memcpy(dims, t->dims, sizeof dims);
    if (strcmp(op, "Identity") == 0 || strcmp(op, "Unsqueeze") == 0 ||
        strcmp(op, "Squeeze") == 0 || strcmp(op, "Reshape") == 0) {
        int ndim = t->ndim;
        if (strcmp(op, "Reshape") == 0) {
            const ival *s = arg(im, 1, V_CONST);
            if (!s || !const_of(s)->i || numel(const_of(s)) > ONNX_MAX_DIMS) {
                refuse(im, "the shape must be an integer constant of at most %d values",
                       ONNX_MAX_DIMS);
                return true;
            }
            ndim = (int)numel(const_of(s));
            int64_t known = 1, unknown = -1;
            for (int d = 0; d < ndim; d++) {
                int64_t v = const_of(s)->i[d];
                dims[d] = v == 0 && d < t->ndim ? t->dims[d] : v;
                if (dims[d] == -1 && unknown < 0) unknown = d;
                else if (dims[d] <= 0 || dims[d] > t->count || known > t->count / dims[d])
                    return refuse(im, "a bad shape for the constant"), true;
                else known *= dims[d];
            }
            if (unknown >= 0) dims[unknown] = known ? t->count / known : 0;
        } else if (strcmp(op, "Identity") != 0) {
            int64_t axes[ONNX_MAX_DIMS];
            int count = 0;
            if (has_input(n, 1)) {
                const ival *a = arg(im, 1, V_CONST);
                if (!a || !const_of(a)->i || numel(const_of(a)) > ONNX_MAX_DIMS) {
                    refuse(im, "axes must be an integer constant");
                    return true;
                }
                count = (int)numel(const_of(a));
                memcpy(axes, const_of(a)->i, (size_t)count * sizeof *axes);
            } else {
                const onnx_attr *a = onnx_node_attr(n, "axes");
                if (!a || a->ints_count > ONNX_MAX_DIMS) return refuse(im, "no axes"), true;
                count = (int)a->ints_count;
                memcpy(axes, a->ints, (size_t)count * sizeof *axes);
            }
            bool squeeze = op[0] == 'S';
            int out_ndim = squeeze ? ndim - count : ndim + count;
            if (out_ndim < 0 || out_ndim > ONNX_MAX_DIMS) return refuse(im, "bad axes"), true;
            int64_t out[ONNX_MAX_DIMS];
            bool mark[ONNX_MAX_DIMS] = {0};
            for (int k = 0; k < count; k++) {
                int64_t a = axis_of(axes[k], squeeze ? ndim : out_ndim);
                if (a < 0 || a >= (squeeze ? ndim : out_ndim) || mark[a] ||
                    (squeeze && t->dims[a] != 1))
                    return refuse(im, "bad axes"), true;
                mark[a] = true;
            }
            for (int d = 0, src = 0, o = 0; d < (squeeze ? ndim : out_ndim); d++) {
                if (squeeze) {
                    if (!mark[d]) out[o++] = t->dims[d];
                } else {
                    out[d] = mark[d] ? 1 : t->dims[src++];
                }
            }
            memcpy(dims, out, (size_t)out_ndim * sizeof *out);
            ndim = out_ndim;
        }
        int64_t count = 1;
        for (int d = 0; d < ndim; d++) count *= dims[d];
        if (count != t->count) return refuse(im, "the shape does not fit the constant"), true;
        ival *v = const_out(im, 0, ndim, dims, t->f != NULL);
        if (v && t->f) memcpy(v->folded.f, t->f, (size_t)count * sizeof *t->f);
        if (v && t->i) memcpy(v->folded.i, t->i, (size_t)count * sizeof *t->i);
        return true;
    }
    if (strcmp(op, "Transpose") == 0 && t->ndim == 2) {
        int64_t perm[2];
        if (!attr_ints(im, "perm", 2, perm, 0)) return true;
        if (!onnx_node_attr(n, "perm")) perm[0] = 1;
        bool swap = perm[0] == 1;
        int64_t out[2] = {t->dims[swap ? 1 : 0], t->dims[swap ? 0 : 1]};
        ival *v = const_out(im, 0, 2, out, t->f != NULL);
        if (!v) return true;
        for (int64_t r = 0; r < t->dims[0]; r++)
            for (int64_t c = 0; c < t->dims[1]; c++) {
                int64_t src = r * t->dims[1] + c, dst = swap ? c * t->dims[0] + r : src;
                if (t->f) v->folded.f[dst] = t->f[src];
                else v->folded.i[dst] = t->i[src];
            }
        return true;
    }
    if (strcmp(op, "Split") == 0) {
        int64_t axis = axis_of(attr_i(n, "axis", 0), t->ndim);
        int parts = n->output_count;
        if (axis < 0 || axis >= t->ndim || parts < 1 || has_input(n, 1) ||
            onnx_node_attr(n, "split") || t->dims[axis] % parts)
            return refuse(im, "only equal splits of a constant are supported"), true;
        int64_t len = t->dims[axis] / parts;
        dims[axis] = len;
        for (int k = 0; k < parts; k++) {
            ival *v = const_out(im, k, t->ndim, dims, t->f != NULL);
            if (v) copy_slab(t, k * len, &v->folded, 0, len, (int)axis);
        }
        return true;
    }
    if (strcmp(op, "Concat") == 0) {
        int64_t axis = axis_of(attr_i(n, "axis", 0), t->ndim), total = 0;
        if (axis < 0 || axis >= t->ndim) return refuse(im, "bad axis"), true;
        for (int k = 0; k < n->input_count; k++) {
            const ival *a = arg(im, k, V_CONST);
            if (!a) return true;
            const onnx_tensor *u = const_of(a);
            if (u->ndim != t->ndim || (u->f == NULL) != (t->f == NULL))
                return refuse(im, "constants of different ranks or types"), true;
            for (int d = 0; d < t->ndim; d++)
                if (d != axis && u->dims[d] != t->dims[d])
                    return refuse(im, "constants of different shapes"), true;
            total += u->dims[axis];
        }
        dims[axis] = total;
        ival *v = const_out(im, 0, t->ndim, dims, t->f != NULL);
        for (int k = 0, at = 0; v && k < n->input_count; k++) {
            const onnx_tensor *u = const_of(arg(im, k, V_CONST));
            copy_slab(u, 0, &v->folded, at, u->dims[axis], (int)axis);
            at += (int)u->dims[axis];
        }
        return true;
    }
    return false;
}


/* Constant, Shape of a layer's value (the batch as BATCH_DIM), Gather of a
 * constant, ConstantOfShape: the pieces torch.onnx.export builds an initial
 * state of zeros from. */
static bool constant(importer *im)
{
    const onnx_node *n = im->node;
    const char *op = n->op_type;
    if (strcmp(op, "Constant") == 0) {
        const onnx_attr *a = n->attr_count == 1 ? &n->attrs[0] : NULL;
        ival *v = NULL;
        if (a && strcmp(a->name, "value") == 0 && a->t) {
            v = const_out(im, 0, a->t->ndim, a->t->dims, a->t->f != NULL);
            if (v && a->t->f) memcpy(v->folded.f, a->t->f, (size_t)a->t->count * sizeof *a->t->f);
            if (v && a->t->i) memcpy(v->folded.i, a->t->i, (size_t)a->t->count * sizeof *a->t->i);
        } else if (a && strcmp(a->name, "value_float") == 0) {
            if ((v = const_out(im, 0, 0, NULL, true))) v->folded.f[0] = a->f;
        } else if (a && strcmp(a->name, "value_int") == 0) {
            if ((v = const_out(im, 0, 0, NULL, false))) v->folded.i[0] = a->i;
        } else if (a && strcmp(a->name, "value_ints") == 0) {
            int64_t count = a->ints_count;
            if ((v = const_out(im, 0, 1, &count, false)))
                memcpy(v->folded.i, a->ints, (size_t)count * sizeof *a->ints);
        } else {
            refuse(im, "only a value, value_float, value_int or value_ints constant");
        }
        if (!v && !im->status) refuse(im, "no output");
        return true;
    }
    if (strcmp(op, "Shape") == 0 && n->input_count == 1) {
        ival *x = arg(im, 0, V_LAYER);
        if (!x) return true;
        if (onnx_node_attr(n, "start") || onnx_node_attr(n, "end"))
            return refuse(im, "start and end are not supported"), true;
        int64_t count = x->ndim;
        ival *v = const_out(im, 0, 1, &count, false);
        for (int d = 0; v && d < x->ndim; d++) v->folded.i[d] = d ? x->dims[d] : BATCH_DIM;
        return true;
    }
    if (strcmp(op, "Gather") == 0 && all_const(im) && n->input_count == 2) {
        const onnx_tensor *t = const_of(arg(im, 0, V_CONST)), *k = const_of(arg(im, 1, V_CONST));
        if (!t->i || t->ndim != 1 || !k->i || k->count != 1 || attr_i(n, "axis", 0) != 0)
            return refuse(im, "only an element of an integer vector"), true;
        int64_t at = k->i[0] < 0 ? k->i[0] + t->count : k->i[0];
        if (at < 0 || at >= t->count) return refuse(im, "index out of range"), true;
        ival *v = const_out(im, 0, k->ndim, k->dims, false);
        if (v) v->folded.i[0] = t->i[at];
        return true;
    }
    if (strcmp(op, "ConstantOfShape") == 0) {
        const ival *s = arg(im, 0, V_CONST);
        const onnx_attr *a = onnx_node_attr(n, "value");
        if (!s) return true;
        const onnx_tensor *t = const_of(s);
        if (!t->i || t->ndim != 1 || t->count > ONNX_MAX_DIMS ||
            (a && (!a->t || a->t->count != 1 || (a->t->f ? a->t->f[0] : a->t->i[0]) != 0)))
            return refuse(im, "only zeros of a constant shape"), true;
        int64_t count = 1;
        bool batch = false;
        for (int64_t d = 0; d < t->count; d++) {
            if (t->i[d] == BATCH_DIM) batch = true;
            else if (t->i[d] < 0 || t->i[d] > (1 << 24) || (count *= t->i[d]) > (1 << 24))
                return refuse(im, "a shape out of range"), true;
        }
        if (batch) {
            ival *v = n->output_count ? add_val(im, n->outputs[0], V_ZEROS) : NULL;
            if (v) snprintf(v->layer, sizeof v->layer, "zeros");
        } else {
            const_out(im, 0, (int)t->count, t->i, true);
        }
        return true;
    }
    return false;
}

/* ---------------------------------------------------------------- operators */

/* The value's per-sample shape as "a x b x c" for [net] input. */
static void format_sample(const ival *v, char *out, size_t size)
{
    out[0] = 0;
    for (int d = 1; d < v->ndim; d++)
        snprintf(out + strlen(out), size - strlen(out), d > 1 ? "x%lld" : "%lld",
                 (long long)v->dims[d]);
}

static bool spatial(importer *im, const ival *x)
{
    if (x->ndim != 4) {
        refuse(im, "input '%s' is not [N, C, H, W]", x->name);
        return false;
    }
    return true;
}

/* Gemm, or MatMul followed by the Add of a bias; with pieces > 0, the linear
 * map of a maxout, whose output is that of node `out_node` (the ReduceMax;
 * the Add for a MatMul; NULL: this node). */
static void dense(importer *im, ival *x, const ival *w, bool transposed, const ival *b,
                  const onnx_node *out_node, int64_t pieces)
{
    const onnx_tensor *wt = const_of(w);
    if (wt->ndim != 2) return (void)refuse(im, "the weight is not a matrix");
    int64_t in = transposed ? wt->dims[1] : wt->dims[0], units = transposed ? wt->dims[0] : wt->dims[1];
    if (x->ndim < 2 || x->dims[x->ndim - 1] != in)
        return (void)refuse(im, "input '%s' does not fit a weight of %lld inputs", x->name,
                            (long long)in);
    const float *wf = floats_of(im, w);
    if (!wf) return;
    if (b && (numel(const_of(b)) != units || !floats_of(im, b)))
        return (void)refuse(im, "the bias does not have %lld values", (long long)units);
    if (pieces && !b) return (void)refuse(im, "a maxout without bias (nerve's maxout has one)");
    char name[NAME_MAX_LEN];
    layer_name(im, pieces ? "maxout" : "dense", w, name);
    section(im, pieces ? "maxout" : "dense", name, x->layer);
    if (pieces)
        emit(im, "units = %lld\npieces = %lld\n", (long long)(units / pieces), (long long)pieces);
    else
        emit(im, "units = %lld\nbias = %d\n", (long long)units, b ? 1 : 0);
    int64_t dims[2] = {units, in};
    float *torch = malloc((size_t)(units * in) * sizeof *torch);
    if (!torch) return (void)nomem(im);
    for (int64_t u = 0; u < units; u++) /* nn.Linear's [out, in] */
        for (int64_t i = 0; i < in; i++)
            torch[u * in + i] = transposed ? wf[u * in + i] : wf[i * units + u];
    tensor(im, name, "weight", 2, dims, torch, NERVE_DTYPE_F32);
    free(torch);
    if (b) tensor(im, name, "bias", 1, &units, floats_of(im, b), NERVE_DTYPE_F32);
    int64_t out[ONNX_MAX_DIMS];
    memcpy(out, x->dims, sizeof out);
    out[x->ndim - 1] = pieces ? units / pieces : units;
    const onnx_node *keep = im->node;
    if (out_node) im->node = out_node; /* the layer's output is that node's */
    layer_out(im, name, x->ndim, out);
    im->node = keep;
}

static int consumers(importer *im, const char *value, const onnx_node **first)
{
    const onnx_graph *g = &im->model->graph;
    int count = 0;
    for (int i = 0; i < g->node_count; i++)
        for (int k = 0; k < g->nodes[i].input_count; k++)
            if (strcmp(g->nodes[i].inputs[k], value) == 0) {
                if (!count && first) *first = &g->nodes[i];
                count++;
            }
    for (int i = 0; i < g->output_count; i++)
        if (strcmp(g->outputs[i].name, value) == 0) count++;
    return count;
}

/* ---------------------------------------------------------------- composites */

/* For the composite matcher (onnx_composite.c): the constant a value holds. */
static const onnx_tensor *constant_value(void *ctx, const char *value)
{
    const ival *v = find(ctx, value);
    return v && v->kind == V_CONST ? const_of(v) : NULL;
}

/* The matched nodes are read with the node being converted: the walk skips
 * them (from `first` on: 1 when the match starts at that node, 0 for a
 * layer's tail). Returns the last, whose output is the layer's. */
static const onnx_node *take(importer *im, const onnx_composite_match *m, int first)
{
    for (int s = first; s < m->steps; s++) im->skip[m->node[s]] = true;
    return &im->model->graph.nodes[m->node[m->steps - 1]];
}

/* A float scalar a composite left free (a beta, a threshold). */
static bool scalar_of(const onnx_composite_match *m, int k, double *out)
{
    const onnx_tensor *t = m->constant[k];
    if (!t || !t->f || t->count != 1 || !isfinite(t->f[0])) return false;
    *out = t->f[0];
    return true;
}

/* Why the nodes from here are not the composite m got furthest in. */
static nerve_status refuse_incomplete(importer *im, const onnx_composite_match *m)
{
    const onnx_graph *g = &im->model->graph;
    char where[160];
    if (m->next == -1)
        snprintf(where, sizeof where, "the graph ends after its node %d", m->steps);
    else if (m->next == m->node[0] && m->steps > 1)
        snprintf(where, sizeof where, "a value between its nodes is read outside it");
    else if (g->nodes[m->next].name[0])
        snprintf(where, sizeof where, "node '%s' (%s) does not fit its step %d",
                 g->nodes[m->next].name, g->nodes[m->next].op_type, m->steps + 1);
    else
        snprintf(where, sizeof where, "node #%d (%s) does not fit its step %d", m->next,
                 g->nodes[m->next].op_type, m->steps + 1);
    return refuse(im, "not a complete %s composite of nerve's export (%s; docs/onnx.md): %s",
                  onnx_composite_name(m->kind), onnx_composite_nodes(m->kind), where);
}

/* The Reshape [-1, units, pieces] and ReduceMax after a Gemm: a maxout,
 * whose ReduceMax node is returned (pieces set); NULL when they are not
 * there, or an error when they are there in part. */
static const onnx_node *maxout_tail(importer *im, const ival *w, int64_t *pieces)
{
    const onnx_graph *g = &im->model->graph;
    const onnx_node *n = im->node;
    onnx_composite_match m;
    const onnx_node *next = NULL;
    if (consumers(im, n->outputs[0], &next) != 1 || !next || strcmp(next->op_type, "Reshape"))
        return NULL;
    if (!onnx_composite_match_kind(g, ONNX_COMPOSITE_MAXOUT, (int)(next - g->nodes),
                                   n->outputs[0], constant_value, im, &m)) {
        if (m.steps == 0 || m.next < 0 || strcmp(g->nodes[m.next].op_type, "ReduceMax"))
            return NULL; /* a Reshape of its own */
        refuse_incomplete(im, &m);
        return NULL;
    }
    const onnx_tensor *shape = m.constant[0];
    const onnx_tensor *wt = const_of(w);
    int64_t units = wt->ndim == 2 ? wt->dims[attr_i(n, "transB", 0) ? 0 : 1] : 0;
    if (!shape->i || shape->count != 3 || (shape->i[0] != -1 && shape->i[0] != 0) ||
        shape->i[1] < 1 || shape->i[2] < 1 || shape->i[1] > units || shape->i[2] > units ||
        shape->i[1] * shape->i[2] != units) {
        refuse(im, "the Reshape before ReduceMax is not [-1, units, pieces] of its %lld "
                   "outputs (nerve's maxout)", (long long)units);
        return NULL;
    }
    *pieces = shape->i[2];
    return take(im, &m, 0);
}

/* MatMul(x, W) and, if its one consumer is the next node, Add(., b): a
 * [dense] over the last dimension (the walk then skips the Add: fused_away). */
static void matmul(importer *im, ival *x)
{
    const ival *w = arg(im, 1, V_CONST);
    if (!w) return;
    const onnx_node *next = NULL;
    const onnx_graph *g = &im->model->graph;
    const onnx_node *n = im->node;
    const ival *b = NULL;
    if (n + 1 < g->nodes + g->node_count && consumers(im, n->outputs[0], &next) == 1 &&
        next == n + 1 && strcmp(next->op_type, "Add") == 0 && next->input_count == 2) {
        const char *other = strcmp(next->inputs[0], n->outputs[0]) == 0 ? next->inputs[1]
                                                                        : next->inputs[0];
        const ival *c = find(im, other);
        if (c && c->kind == V_CONST && const_of(c)->ndim == 1) b = c;
    }
    dense(im, x, w, false, b, b ? n + 1 : NULL, 0);
}

static void gemm(importer *im, ival *x)
{
    static const char *const known[] = {"alpha", "beta", "transA", "transB", NULL};
    if (!only_attrs(im, known)) return;
    if (attr_f(im->node, "alpha", 1) != 1 || attr_f(im->node, "beta", 1) != 1 ||
        attr_i(im->node, "transA", 0) != 0)
        return (void)refuse(im, "only alpha = 1, beta = 1 and transA = 0 are supported");
    if (x->ndim != 2) return (void)refuse(im, "input '%s' is not [N, F]", x->name);
    const ival *w = arg(im, 1, V_CONST);
    const ival *b = has_input(im->node, 2) ? arg(im, 2, V_CONST) : NULL;
    if (w && b && numel(const_of(b)) == 1 && const_of(w)->ndim == 2 &&
        const_of(w)->dims[attr_i(im->node, "transB", 0) ? 0 : 1] != 1)
        return (void)refuse(im, "a bias broadcast from one value is not supported");
    if (!w) return;
    int64_t pieces = 0;
    const onnx_node *out_node = maxout_tail(im, w, &pieces);
    if (!im->status)
        dense(im, x, w, attr_i(im->node, "transB", 0) != 0, b, out_node, pieces);
}

/* pads [b0, b1, e0, e1]: nerve pads both sides alike (conv2d: end may be one more). */
static bool symmetric_pads(importer *im, const int64_t *pads, int64_t *padding, int64_t *extra)
{
    for (int d = 0; d < 2; d++) {
        padding[d] = pads[d];
        int64_t more = pads[d + 2] - pads[d];
        if (pads[d] < 0 || more < 0 || more > (extra ? 1 : 0)) {
            refuse(im, "pads %lld,%lld,%lld,%lld are not the same on both sides",
                   (long long)pads[0], (long long)pads[1], (long long)pads[2],
                   (long long)pads[3]);
            return false;
        }
        if (extra) extra[d] = more;
    }
    return true;
}

static bool no_auto_pad(importer *im)
{
    const char *a = attr_s(im->node, "auto_pad", "NOTSET");
    if (strcmp(a, "NOTSET") == 0 || strcmp(a, "VALID") == 0) return true;
    refuse(im, "auto_pad %s is not supported (give explicit pads)", a);
    return false;
}

static void conv(importer *im, ival *x, bool transpose)
{
    static const char *const known[] = {"auto_pad", "dilations", "group", "kernel_shape",
                                        "pads", "strides", "output_padding", NULL};
    if (!only_attrs(im, known) || !spatial(im, x) || !no_auto_pad(im)) return;
    const ival *w = arg(im, 1, V_CONST);
    const ival *b = has_input(im->node, 2) ? arg(im, 2, V_CONST) : NULL;
    if (!w) return;
    const onnx_tensor *wt = const_of(w);
    int64_t groups = attr_i(im->node, "group", 1);
    if (wt->ndim != 4 || groups < 1) return (void)refuse(im, "the weight is not 4-D");
    int64_t stride[2], dilation[2], pads[4], padding[2], extra[2], outpad[2], kernel[2];
    if (!attr_ints(im, "strides", 2, stride, 1) || !attr_ints(im, "dilations", 2, dilation, 1) ||
        !attr_ints(im, "pads", 4, pads, 0) || !attr_ints(im, "output_padding", 2, outpad, 0) ||
        !attr_ints(im, "kernel_shape", 2, kernel, 0) ||
        !symmetric_pads(im, pads, padding, transpose ? NULL : extra))
        return;
    int64_t cin = x->dims[1], filters = transpose ? wt->dims[1] * groups : wt->dims[0];
    if ((transpose ? wt->dims[0] : wt->dims[1] * groups) != cin || cin % groups)
        return (void)refuse(im, "the weight does not fit %lld input channels", (long long)cin);
    if (onnx_node_attr(im->node, "kernel_shape") &&
        (kernel[0] != wt->dims[2] || kernel[1] != wt->dims[3]))
        return (void)refuse(im, "kernel_shape does not match the weight");
    for (int d = 0; d < 2; d++)
        if (stride[d] < 1 || dilation[d] < 1) return (void)refuse(im, "bad strides or dilations");
    if (b && (numel(const_of(b)) != filters || !floats_of(im, b)))
        return (void)refuse(im, "the bias does not have %lld values", (long long)filters);
    const float *wf = floats_of(im, w);
    if (!wf) return;
    int64_t out[4] = {-1, filters, 0, 0};
    for (int d = 0; d < 2; d++) {
        int64_t k = dilation[d] * (wt->dims[2 + d] - 1) + 1, in = x->dims[2 + d];
        out[2 + d] = transpose ? (in - 1) * stride[d] - 2 * padding[d] + k + outpad[d]
                               : (in + 2 * padding[d] + (transpose ? 0 : extra[d]) - k) / stride[d] + 1;
        if (out[2 + d] < 1) return (void)refuse(im, "the output would be empty");
    }
    char name[NAME_MAX_LEN];
    layer_name(im, transpose ? "conv_transpose" : "conv", w, name);
    section(im, transpose ? "conv_transpose2d" : "conv2d", name, x->layer);
    emit(im, "filters = %lld\nkernel = %lld,%lld\nstride = %lld,%lld\ndilation = %lld,%lld\n"
             "groups = %lld\nbias = %d\n",
         (long long)filters, (long long)wt->dims[2], (long long)wt->dims[3],
         (long long)stride[0], (long long)stride[1], (long long)dilation[0],
         (long long)dilation[1], (long long)groups, b ? 1 : 0);
    if (transpose) {
        emit(im, "padding = %lld,%lld\noutput_padding = %lld,%lld\n", (long long)padding[0],
             (long long)padding[1], (long long)outpad[0], (long long)outpad[1]);
    } else if (extra[0] || extra[1]) {
        /* the only uneven padding nerve has: PyTorch's 'same' */
        for (int d = 0; d < 2; d++)
            if (stride[d] != 1 || pads[d] + pads[d + 2] != dilation[d] * (wt->dims[2 + d] - 1))
                return (void)refuse(im, "uneven pads other than PyTorch's padding='same'");
        emit(im, "padding = same\n");
    } else {
        emit(im, "padding = %lld,%lld\n", (long long)padding[0], (long long)padding[1]);
    }
    tensor(im, name, "weight", 4, wt->dims, wf, NERVE_DTYPE_F32);
    if (b) tensor(im, name, "bias", 1, &filters, floats_of(im, b), NERVE_DTYPE_F32);
    layer_out(im, name, 4, out);
}

static void batch_norm(importer *im, ival *x)
{
    static const char *const known[] = {"epsilon", "momentum", "training_mode", "spatial", NULL};
    if (!only_attrs(im, known)) return;
    if (attr_i(im->node, "training_mode", 0)) return (void)refuse(im, "training_mode = 1");
    if (im->node->output_count > 1 && im->node->outputs[1][0])
        return (void)refuse(im, "the running statistics outputs are not supported");
    if (x->ndim < 2) return (void)refuse(im, "input '%s' has no channel dimension", x->name);
    int64_t channels = x->dims[1];
    const ival *p[4];
    for (int k = 0; k < 4; k++) {
        p[k] = arg(im, k + 1, V_CONST);
        if (!p[k]) return;
        if (numel(const_of(p[k])) != channels || !floats_of(im, p[k]))
            return (void)refuse(im, "input %d does not hold %lld values", k + 1,
                                (long long)channels);
    }
    char name[NAME_MAX_LEN];
    layer_name(im, "batchnorm", p[0], name);
    section(im, "batchnorm", name, x->layer);
    double eps = attr_f(im->node, "epsilon", 1e-5), momentum = 1 - attr_f(im->node, "momentum", 0.9);
    if (!(eps > 0 && eps <= 1)) return (void)refuse(im, "epsilon %g is outside (0, 1]", eps);
    if (!(momentum >= 0 && momentum <= 1)) momentum = 0.1;
    emit(im, "eps = %.9g\nmomentum = %.9g\n", eps, momentum);
    static const char *const names[4] = {"weight", "bias", "running_mean", "running_var"};
    for (int k = 0; k < 4; k++)
        tensor(im, name, names[k], 1, &channels, floats_of(im, p[k]), NERVE_DTYPE_F32);
    float zero = 0;
    tensor(im, name, "num_batches_tracked", 0, NULL, &zero, NERVE_DTYPE_I64);
    layer_out(im, name, x->ndim, x->dims);
}

/* PyTorch's pooled size: ceil mode drops a last window that would start in
 * the right padding; ONNX's does not (the exporter's check, in reverse). */
static int64_t pooled(int64_t in, int64_t pad, int64_t window, int64_t stride, bool ceil_mode,
                      bool torch)
{
    int64_t span = in + 2 * pad - window;
    int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
    if (torch && ceil_mode && (out - 1) * stride >= in + pad) out--;
    return out;
}

/* An AveragePool counting the padding, then a Mul by kh kw / d: nerve's
 * divisor_override = d (the match left in im->attempt); 0 when the pool's
 * output goes elsewhere. */
static int64_t divisor_override(importer *im, const int64_t *kernel)
{
    const onnx_graph *g = &im->model->graph;
    const onnx_node *n = im->node, *next = NULL;
    onnx_composite_match *m = &im->attempt;
    double k;
    if (consumers(im, n->outputs[0], &next) != 1 || !next ||
        !onnx_composite_match_kind(g, ONNX_COMPOSITE_DIVISOR_OVERRIDE, (int)(next - g->nodes),
                                   n->outputs[0], constant_value, im, m) ||
        !scalar_of(m, 0, &k))
        return 0;
    double d = (double)(kernel[0] * kernel[1]) / k;
    if (!attr_i(n, "count_include_pad", 0) || !(d >= 0.5 && d < 1e9) ||
        fabs(d - nearbyint(d)) > 1e-4 * d) {
        refuse(im, "the Mul after it is nerve's divisor_override only with count_include_pad = "
                   "1 and kh kw / divisor for a whole divisor (%g)", d);
        return 0;
    }
    return (int64_t)nearbyint(d);
}

static void pool(importer *im, ival *x, bool max)
{
    static const char *const known[] = {"auto_pad", "ceil_mode", "count_include_pad", "dilations",
                                        "kernel_shape", "pads", "strides", "storage_order",
                                        NULL};
    if (!only_attrs(im, known) || !spatial(im, x) || !no_auto_pad(im)) return;
    if (im->node->output_count > 1 && im->node->outputs[1][0])
        return (void)refuse(im, "the Indices output is not supported");
    int64_t kernel[2], stride[2], pads[4], padding[2], dilation[2];
    if (!attr_ints(im, "kernel_shape", 2, kernel, 0) || !attr_ints(im, "strides", 2, stride, 1) ||
        !attr_ints(im, "pads", 4, pads, 0) || !attr_ints(im, "dilations", 2, dilation, 1) ||
        !symmetric_pads(im, pads, padding, NULL))
        return;
    bool ceil_mode = attr_i(im->node, "ceil_mode", 0) != 0;
    int64_t out[4] = {-1, x->dims[1], 0, 0};
    for (int d = 0; d < 2; d++) {
        if (kernel[d] < 1 || stride[d] < 1 || dilation[d] < 1 || padding[d] > kernel[d] / 2)
            return (void)refuse(im, "kernel, strides, dilations or pads out of nerve's range "
                                    "(pads at most half the kernel)");
        if (!max && dilation[d] != 1) return (void)refuse(im, "dilated average pooling");
        int64_t window = (kernel[d] - 1) * dilation[d] + 1;
        out[2 + d] = pooled(x->dims[2 + d], padding[d], window, stride[d], ceil_mode, true);
        if (out[2 + d] < 1 ||
            out[2 + d] != pooled(x->dims[2 + d], padding[d], window, stride[d], ceil_mode, false))
            return (void)refuse(im, "its ceil_mode output size differs from PyTorch's, which "
                                    "nerve follows");
    }
    char name[NAME_MAX_LEN];
    layer_name(im, max ? "maxpool" : "avgpool", NULL, name);
    section(im, max ? "maxpool2d" : "avgpool2d", name, x->layer);
    emit(im, "kernel = %lld,%lld\nstride = %lld,%lld\npadding = %lld,%lld\nceil_mode = %d\n",
         (long long)kernel[0], (long long)kernel[1], (long long)stride[0], (long long)stride[1],
         (long long)padding[0], (long long)padding[1], ceil_mode ? 1 : 0);
    int64_t divisor = max ? 0 : divisor_override(im, kernel);
    if (max)
        emit(im, "dilation = %lld,%lld\n", (long long)dilation[0], (long long)dilation[1]);
    else if (divisor)
        emit(im, "divisor_override = %lld\n", (long long)divisor);
    else
        emit(im, "count_include_pad = %d\n", (int)attr_i(im->node, "count_include_pad", 0));
    const onnx_node *keep = im->node;
    if (divisor) im->node = take(im, &im->attempt, 0); /* the Mul's output is the layer's */
    layer_out(im, name, 4, out);
    im->node = keep;
}

/* An [activation] section of the given type and settings. */
static void activation(importer *im, ival *x, const char *type, const char *settings)
{
    char name[NAME_MAX_LEN];
    layer_name(im, "activation", NULL, name);
    section(im, "activation", name, x->layer);
    emit(im, "type = %s\n%s", type, settings);
    layer_out(im, name, x->ndim, x->dims);
}

/* An activation composite starting at this node: the [activation] it
 * stands for. False when none matches in full (im->attempt then holds the
 * one that got furthest) or when the match is refused. */
static bool composite(importer *im, ival *x)
{
    const onnx_graph *g = &im->model->graph;
    onnx_composite_match *m = &im->attempt;
    if (!onnx_composite_find(g, (int)(im->node - g->nodes), x->name, constant_value, im, m)) {
        /* two nodes of one are no accident (Relu(x) then Neg(x), ...) */
        if (m->steps >= 2) refuse_incomplete(im, m);
        return false;
    }
    char settings[160] = "", name[NAME_MAX_LEN];
    double beta = 1, again = 1, threshold = 20; /* torch's softplus threshold */
    const char *type = "gelu";
    const onnx_node *keep = im->node;
    switch (m->kind) {
    case ONNX_COMPOSITE_GELU_TANH: snprintf(settings, sizeof settings, "approximate = tanh\n"); break;
    case ONNX_COMPOSITE_GELU:
    case ONNX_COMPOSITE_GELU_TORCH: break;
    case ONNX_COMPOSITE_SOFTPLUS:
    case ONNX_COMPOSITE_SOFTPLUS_TORCH:
        /* torch's form has no linear branch: Softplus(beta x) / beta differs
         * from it above the threshold by less than log(1 + e^-20) / beta */
        if (!scalar_of(m, 0, &beta) || !scalar_of(m, 1, &again) ||
            (m->kind == ONNX_COMPOSITE_SOFTPLUS && !scalar_of(m, 2, &threshold)) ||
            fabs(beta - again) > 1e-6 * fabs(beta) || !(beta >= 1e-6 && beta <= 1e6) ||
            !(threshold >= 0 && threshold <= 1e6))
            return refuse(im, "softplus composite: beta must be one value in [1e-6, 1e6] and "
                              "the threshold in [0, 1e6]"),
                   false;
        type = "softplus";
        snprintf(settings, sizeof settings, "beta = %.9g\nthreshold = %.9g\n", beta, threshold);
        break;
    case ONNX_COMPOSITE_SWISH: {
        const ival *b = find(im, m->constant_name[0]);
        if (!scalar_of(m, 0, &beta) || !(beta >= 0 && beta <= 1e6))
            return refuse(im, "swish composite: beta must be one value in [0, 1e6]"), false;
        /* a learnable beta: the parameter <layer>.beta of nerve's (and
         * PyTorch's) state_dict */
        if (const_of(b)->ndim == 1 && named_after(im, b, ".beta", name)) {
            section(im, "activation", name, x->layer);
            emit(im, "type = swish\nlearn_beta = 1\nbeta = %.9g\n", beta);
            int64_t one = 1;
            tensor(im, name, "beta", 1, &one, const_of(b)->f, NERVE_DTYPE_F32);
            im->node = take(im, m, 1);
            layer_out(im, name, x->ndim, x->dims);
            im->node = keep;
            return true;
        }
        type = "swish";
        snprintf(settings, sizeof settings, "beta = %.9g\n", beta);
        break;
    }
    case ONNX_COMPOSITE_SILU: type = "silu"; break;
    case ONNX_COMPOSITE_BINARY_STEP: type = "binary_step"; break;
    case ONNX_COMPOSITE_CRELU: {
        if (x->ndim < 2) return refuse(im, "CReLU composite: the input has no dim 1"), false;
        int64_t dims[ONNX_MAX_DIMS];
        memcpy(dims, x->dims, sizeof dims);
        dims[1] *= 2;
        layer_name(im, "activation", NULL, name);
        section(im, "activation", name, x->layer);
        emit(im, "type = crelu\n");
        im->node = take(im, m, 1);
        layer_out(im, name, x->ndim, dims);
        im->node = keep;
        return true;
    }
    default: return false;
    }
    im->node = take(im, m, 1);
    activation(im, x, type, settings);
    im->node = keep;
    return true;
}

/* An operator nerve reads only inside its composites, where none matched. */
static void refuse_outside_composite(importer *im)
{
    char names[160];
    const char *op = im->node->op_type;
    if (im->attempt.steps > 0) return (void)refuse_incomplete(im, &im->attempt);
    if (onnx_composite_names_with(op, names, sizeof names))
        return (void)refuse(im, "operator %s is read only inside nerve's export composites (%s; "
                                "docs/onnx.md), and none of them starts here",
                            op, names);
    refuse(im, "operator %s is not one nerve expresses (docs/onnx.md lists those it reads)", op);
}

static void softmax(importer *im, ival *x, bool log)
{
    int64_t last = x->ndim - 1;
    int64_t axis = axis_of(attr_i(im->node, "axis", im->model->opset >= 13 ? -1 : 1), x->ndim);
    /* before opset 13, Softmax flattened from `axis` on: the same only over
     * the last dimension */
    if (axis < 1 || axis > last || (im->model->opset < 13 && axis != last))
        return (void)refuse(im, "axis %lld: only over one sample's axis (not the batch)",
                            (long long)attr_i(im->node, "axis", -1));
    char settings[64];
    snprintf(settings, sizeof settings, "axis = %lld\n", (long long)(axis == last ? -1 : axis));
    activation(im, x, log ? "log_softmax" : "softmax", settings);
}

static void prelu(importer *im, ival *x)
{
    const ival *w = arg(im, 1, V_CONST);
    if (!w || !floats_of(im, w)) return;
    int64_t count = numel(const_of(w)), channels = x->ndim >= 2 ? x->dims[1] : 0;
    /* the slope broadcasts from the right: [C, 1, ...] or [C] on [N, C] */
    const onnx_tensor *t = const_of(w);
    bool per_channel = count == channels && count > 1 &&
                       (t->ndim == x->ndim - 1 || (x->ndim == 2 && t->ndim == 1));
    if (count != 1 && !per_channel)
        return (void)refuse(im, "the slope is neither one value nor one per channel (dim 1)");
    char name[NAME_MAX_LEN];
    layer_name(im, "prelu", w, name);
    section(im, "activation", name, x->layer);
    emit(im, "type = prelu\nchannels = %s\n", per_channel ? "per_channel" : "shared");
    tensor(im, name, "weight", 1, &count, t->f, NERVE_DTYPE_F32);
    layer_out(im, name, x->ndim, x->dims);
}

static void join(importer *im, bool concat)
{
    const onnx_node *n = im->node;
    if (n->input_count < 2 || n->input_count > 8)
        return (void)refuse(im, "takes 2 to 8 inputs, has %d", n->input_count);
    ival *first = arg(im, 0, V_LAYER);
    if (!first) return;
    int64_t dims[ONNX_MAX_DIMS];
    memcpy(dims, first->dims, sizeof dims);
    if (concat) {
        int64_t axis = axis_of(attr_i(n, "axis", 1), first->ndim);
        if (axis != 1) return (void)refuse(im, "concatenation along axis %lld (nerve's [concat] "
                                               "joins along dim 1)",
                                           (long long)attr_i(n, "axis", 1));
        dims[1] = 0;
    }
    char inputs[8 * NAME_MAX_LEN] = "";
    for (int k = 0; k < n->input_count; k++) {
        ival *v = arg(im, k, V_LAYER);
        if (!v) return;
        bool fits = v->ndim == first->ndim;
        for (int d = 1; fits && d < v->ndim; d++) fits = d == 1 && concat ? true : v->dims[d] == first->dims[d];
        if (!fits) return (void)refuse(im, "inputs of different shapes (nerve does not broadcast)");
        if (concat) dims[1] += v->dims[1];
        snprintf(inputs + strlen(inputs), sizeof inputs - strlen(inputs), k ? ",%s" : "%s",
                 v->layer);
    }
    char name[NAME_MAX_LEN];
    layer_name(im, concat ? "concat" : "add", NULL, name);
    section(im, concat ? "concat" : "add", name, inputs);
    layer_out(im, name, first->ndim, dims);
}

static void flatten(importer *im, ival *x)
{
    if (axis_of(attr_i(im->node, "axis", 1), x->ndim) != 1)
        return (void)refuse(im, "only axis 1 (flatten each sample) is supported");
    int64_t dims[2] = {-1, 1};
    for (int d = 1; d < x->ndim; d++) dims[1] *= x->dims[d];
    if (x->ndim == 2) { /* already flat: the same layer */
        layer_out(im, x->layer, 2, dims);
        return;
    }
    char name[NAME_MAX_LEN];
    layer_name(im, "flatten", NULL, name);
    section(im, "flatten", name, x->layer);
    layer_out(im, name, 2, dims);
}

/* Reshape to a constant shape whose first entry keeps the batch: 0, -1, or
 * the batch itself (torch's x.view(x.size(0), ...) folded from Shape,
 * Gather, Unsqueeze and Concat); that last with one more dimension,
 * view(N, -1), is a [flatten]. */
static void reshape(importer *im, ival *x)
{
    const ival *s = arg(im, 1, V_CONST);
    if (!s) return;
    const onnx_tensor *t = const_of(s);
    if (!t->i || t->count < 2 || t->count > ONNX_MAX_DIMS ||
        !(t->i[0] == 0 || t->i[0] == -1 || t->i[0] == BATCH_DIM))
        return (void)refuse(im, "the shape must be a constant keeping the batch first (0, -1 or "
                                "the input's own batch size)");
    bool batch = t->i[0] != -1; /* the batch is given: a -1 may follow */
    int64_t sample = 1, known = 1, dims[ONNX_MAX_DIMS] = {-1};
    for (int d = 1; d < x->ndim; d++) sample *= x->dims[d];
    int unknown = -1;
    char text[128] = "";
    for (int d = 1; d < t->count; d++) {
        int64_t v = t->i[d] == 0 && d < x->ndim ? x->dims[d] : t->i[d];
        if (v == -1 && unknown < 0 && batch) unknown = d;
        else if (v < 1) return (void)refuse(im, "the shape has a bad or second unknown dimension");
        else known *= v;
        dims[d] = v;
    }
    if (unknown >= 0) dims[unknown] = sample / known;
    int64_t total = 1;
    for (int d = 1; d < t->count; d++) total *= dims[d];
    if (total != sample) return (void)refuse(im, "the shape does not hold %lld values per sample",
                                             (long long)sample);
    if (t->i[0] == BATCH_DIM && t->count == 2) return flatten(im, x);
    for (int d = 1; d < t->count; d++)
        snprintf(text + strlen(text), sizeof text - strlen(text), d > 1 ? ",%lld" : "%lld",
                 (long long)dims[d]);
    char name[NAME_MAX_LEN];
    layer_name(im, "reshape", NULL, name);
    section(im, "reshape", name, x->layer);
    emit(im, "shape = %s\n", text);
    layer_out(im, name, (int)t->count, dims);
}


/* GlobalAveragePool's [N, C, 1, 1]: nerve's [global_avgpool] gives [N, C],
 * which a Flatten after it leaves as it is; anything else gets a reshape. */
static void global_avg_pool(importer *im, ival *x)
{
    if (x->ndim < 3) return (void)refuse(im, "input '%s' is not [N, C, ...]", x->name);
    const onnx_node *next = NULL;
    char name[NAME_MAX_LEN];
    layer_name(im, "global_avgpool", NULL, name);
    section(im, "global_avgpool", name, x->layer);
    int64_t dims[ONNX_MAX_DIMS] = {-1, x->dims[1]};
    bool flattened = consumers(im, im->node->outputs[0], &next) == 1 && next &&
                     strcmp(next->op_type, "Flatten") == 0;
    if (flattened) {
        layer_out(im, name, 2, dims);
        return;
    }
    char shaped[NAME_MAX_LEN];
    layer_name(im, "reshape", NULL, shaped);
    section(im, "reshape", shaped, name);
    emit(im, "shape = %lld", (long long)x->dims[1]);
    for (int d = 2; d < x->ndim; d++) {
        emit(im, ",1");
        dims[d] = 1;
    }
    emit(im, "\n");
    layer_out(im, shaped, x->ndim, dims);
}

/* ---------------------------------------------------------------- recurrent layers */

/* ONNX's gate blocks back to PyTorch's order (the exporter's, inverted). */
static void gates_to_torch(const float *src, float *dst, int gates, int64_t block,
                           const char *op_type)
{
    static const int lstm[4] = {0, 2, 3, 1}, gru[3] = {1, 0, 2}; /* torch gate k = ONNX block */
    for (int k = 0; k < gates; k++) {
        int from = gates == 4 ? lstm[k] : gates == 3 ? gru[k] : 0;
        (void)op_type;
        memcpy(dst + k * block, src + from * block, (size_t)block * sizeof *dst);
    }
}

static void recurrent(importer *im)
{
    static const char *const known[] = {"hidden_size", "direction", "linear_before_reset",
                                        "activations", "layout", "clip", "input_forget", NULL};
    const onnx_node *n = im->node;
    if (!only_attrs(im, known)) return;
    bool lstm = strcmp(n->op_type, "LSTM") == 0, gru = strcmp(n->op_type, "GRU") == 0;
    int gates = lstm ? 4 : gru ? 3 : 1;
    ival *x = arg(im, 0, V_TIME_MAJOR);
    const ival *w = arg(im, 1, V_CONST), *r = arg(im, 2, V_CONST);
    if (!x || !w || !r || !floats_of(im, w) || !floats_of(im, r)) return;
    if (attr_i(n, "layout", 0) != 0 || attr_i(n, "input_forget", 0) != 0 || onnx_node_attr(n, "clip"))
        return (void)refuse(im, "layout, clip and input_forget must keep their defaults");
    if (gru && attr_i(n, "linear_before_reset", 0) != 1)
        return (void)refuse(im, "a GRU with linear_before_reset = 0 (PyTorch's GRU applies the "
                                "reset gate after the linear map, 1)");
    for (int k = 4; k < n->input_count; k++) /* sequence_lens, initial states, peepholes */
        if (n->inputs[k][0]) {
            const ival *v = find(im, n->inputs[k]);
            if (v && v->kind == V_ZEROS && k != 4) continue;
            bool zero = v && v->kind == V_CONST && const_of(v)->f;
            for (int64_t i = 0; zero && i < numel(const_of(v)); i++) zero = const_of(v)->f[i] == 0;
            if (!zero || k == 4)
                return (void)refuse(im, "input %d (sequence lengths, an initial state or "
                                        "peepholes) must be absent or zero",
                                    k);
        }
    const char *direction = attr_s(n, "direction", "forward");
    int D = strcmp(direction, "bidirectional") == 0 ? 2 : 1;
    if (D == 1 && strcmp(direction, "forward") != 0)
        return (void)refuse(im, "a reverse-only layer (nerve's reverse direction comes with a "
                                "forward one: bidirectional)");
    const char *cell = "lstm";
    if (!lstm && !gru) {
        const onnx_attr *a = onnx_node_attr(n, "activations");
        const char *act = a && a->strings_count ? a->strings[0] : "Tanh";
        for (int64_t k = 1; a && k < a->strings_count; k++)
            if (strcmp(a->strings[k], act) != 0)
                return (void)refuse(im, "the two directions' activations differ");
        if (strcmp(act, "Tanh") != 0 && strcmp(act, "Relu") != 0)
            return (void)refuse(im, "RNN activation %s (nerve's are Tanh and Relu)", act);
        cell = strcmp(act, "Relu") == 0 ? "relu" : "tanh";
    } else if (onnx_node_attr(n, "activations")) {
        return (void)refuse(im, "custom activations are not supported");
    }
    int64_t H = attr_i(n, "hidden_size", 0), F = x->dims[2];
    const onnx_tensor *wt = const_of(w), *rt = const_of(r);
    if (H < 1 || H > ATTR_LIMIT || wt->ndim != 3 || wt->dims[0] != D || wt->dims[1] != gates * H ||
        wt->dims[2] != F || rt->ndim != 3 || rt->dims[0] != D || rt->dims[1] != gates * H ||
        rt->dims[2] != H)
        return (void)refuse(im, "W or R does not fit hidden_size %lld and %lld features",
                            (long long)H, (long long)F);
    const ival *b = has_input(n, 3) ? arg(im, 3, V_CONST) : NULL;
    if (has_input(n, 3) && (!b || numel(const_of(b)) != D * 2 * gates * H || !floats_of(im, b)))
        return (void)refuse(im, "B does not hold %lld values", (long long)(D * 2 * gates * H));
    /* which outputs are used decides sequence or last */
    bool y = n->output_count > 0 && n->outputs[0][0] && consumers(im, n->outputs[0], NULL);
    bool yh = n->output_count > 1 && n->outputs[1][0] && consumers(im, n->outputs[1], NULL);
    if (n->output_count > 2 && n->outputs[2][0] && consumers(im, n->outputs[2], NULL))
        return (void)refuse(im, "the last cell state Y_c is used");
    if (y == yh) return (void)refuse(im, "exactly one of Y (sequence) and Y_h (last) must be used");
    char name[NAME_MAX_LEN];
    layer_name(im, lstm ? "lstm" : gru ? "gru" : "rnn", NULL, name);
    section(im, lstm ? "lstm" : gru ? "gru" : "rnn", name, x->layer);
    emit(im, "hidden = %lld\nbidirectional = %d\nreturn = %s\nbias = %d\n", (long long)H, D == 2,
         y ? "sequence" : "last", b ? 1 : 0);
    if (!lstm && !gru) emit(im, "nonlinearity = %s\n", cell);
    int64_t GH = gates * H;
    float *buf = malloc((size_t)(GH * (F > H ? F : H)) * sizeof *buf);
    if (!buf) return (void)nomem(im);
    for (int d = 0; d < D; d++) {
        const char *suffix = d ? "_reverse" : "";
        char what[48];
        int64_t wd[2] = {GH, F}, rd[2] = {GH, H};
        gates_to_torch(wt->f + d * GH * F, buf, gates, H * F, n->op_type);
        snprintf(what, sizeof what, "weight_ih_l0%s", suffix);
        tensor(im, name, what, 2, wd, buf, NERVE_DTYPE_F32);
        gates_to_torch(rt->f + d * GH * H, buf, gates, H * H, n->op_type);
        snprintf(what, sizeof what, "weight_hh_l0%s", suffix);
        tensor(im, name, what, 2, rd, buf, NERVE_DTYPE_F32);
        for (int k = 0; b && k < 2; k++) {
            gates_to_torch(const_of(b)->f + (d * 2 + k) * GH, buf, gates, H, n->op_type);
            snprintf(what, sizeof what, "bias_%s_l0%s", k ? "hh" : "ih", suffix);
            tensor(im, name, what, 1, &GH, buf, NERVE_DTYPE_F32);
        }
    }
    free(buf);
    ival *v = add_val(im, n->outputs[y ? 0 : 1], y ? V_RNN_Y : V_RNN_YH);
    if (!v) return;
    snprintf(v->layer, sizeof v->layer, "%s", name);
    v->ndim = y ? 4 : 3;
    int64_t ydims[4] = {x->dims[0], D, -1, H}, hdims[3] = {D, -1, H}; /* x: [T, N, F] */
    memcpy(v->dims, y ? ydims : hdims, sizeof(int64_t) * (size_t)v->ndim);
}

/* The layouts between a recurrent node and batch-first values: Transpose,
 * Squeeze and Reshape that only move or merge the direction axis. */
static bool relayout(importer *im, ival *x)
{
    const onnx_node *n = im->node;
    const char *op = n->op_type;
    int64_t perm[4] = {0};
    bool transpose = strcmp(op, "Transpose") == 0;
    if (transpose) {
        const onnx_attr *a = onnx_node_attr(n, "perm");
        if (!a || a->ints_count != x->ndim || a->ints_count > 4) return false;
        memcpy(perm, a->ints, (size_t)x->ndim * sizeof *perm);
    }
    bool swap01 = transpose && x->ndim == 3 && perm[0] == 1 && perm[1] == 0 && perm[2] == 2;
    int64_t axes[2] = {-9, -9};
    if (strcmp(op, "Squeeze") == 0) {
        const onnx_attr *a = onnx_node_attr(n, "axes");
        const ival *c = has_input(n, 1) ? find(im, n->inputs[1]) : NULL;
        if (c && c->kind == V_CONST && const_of(c)->i && numel(const_of(c)) == 1)
            axes[0] = const_of(c)->i[0];
        else if (a && a->ints_count == 1)
            axes[0] = a->ints[0];
        else
            return false;
        axes[0] = axis_of(axes[0], x->ndim);
    }
    /* Reshape merging the last two dimensions: [T, N, D, H] -> [T, N, D H], or
     * [N, D, H] -> [N, D H] */
    bool merge = false;
    if (strcmp(op, "Reshape") == 0 || strcmp(op, "Flatten") == 0) {
        if (strcmp(op, "Flatten") == 0) {
            merge = x->kind == V_RNN_NDH && axis_of(attr_i(n, "axis", 1), 3) == 1;
        } else {
            const ival *c = has_input(n, 1) ? find(im, n->inputs[1]) : NULL;
            const onnx_tensor *t = c && c->kind == V_CONST ? const_of(c) : NULL;
            if (t && t->i && t->count == x->ndim - 1) {
                merge = t->i[t->count - 1] == -1 || t->i[t->count - 1] == x->dims[x->ndim - 2] * x->dims[x->ndim - 1];
                for (int d = 0; d < t->count - 1; d++) merge &= t->i[d] == 0 || (d > 0 && t->i[d] == -1 && false) || t->i[d] == x->dims[d];
            }
        }
    }
    ival *v = NULL;
    const char *out = n->output_count ? n->outputs[0] : "";
    switch (x->kind) {
    case V_LAYER:
        if (swap01 && x->ndim == 3) v = add_val(im, out, V_TIME_MAJOR);
        break;
    case V_TIME_MAJOR: /* [T, N, F] back to batch-first */
        if (swap01) v = add_val(im, out, V_LAYER);
        break;
    case V_RNN_Y:
        if (axes[0] == 1 && x->dims[1] == 1) { /* [T, 1, N, H] -> [T, N, H] */
            v = add_val(im, out, V_TIME_MAJOR);
        } else if (transpose && perm[0] == 0 && perm[1] == 2 && perm[2] == 1 && perm[3] == 3) {
            v = add_val(im, out, V_RNN_TNDH);
        }
        break;
    case V_RNN_TNDH:
        if (merge) v = add_val(im, out, V_TIME_MAJOR);
        break;
    case V_RNN_YH:
        if (axes[0] == 0 && x->dims[0] == 1) v = add_val(im, out, V_LAYER);
        else if (transpose && x->ndim == 3 && perm[0] == 1 && perm[1] == 0 && perm[2] == 2)
            v = add_val(im, out, V_RNN_NDH);
        break;
    case V_RNN_NDH:
        if (merge) v = add_val(im, out, V_LAYER);
        break;
    default: break;
    }
    if (!v) return false;
    snprintf(v->layer, sizeof v->layer, "%s", x->layer);
    /* the shape of the value as it is, batch -1 */
    int64_t T = x->kind == V_RNN_Y || x->kind == V_RNN_TNDH || x->kind == V_TIME_MAJOR ? x->dims[0] : 0;
    int64_t H = x->dims[x->ndim - 1], D = x->kind == V_RNN_Y ? x->dims[1]
                                        : x->kind == V_RNN_YH ? x->dims[0]
                                        : x->kind == V_RNN_TNDH ? x->dims[2]
                                        : x->kind == V_RNN_NDH ? x->dims[1] : 1;
    switch (v->kind) {
    case V_TIME_MAJOR:
        v->ndim = 3;
        if (x->kind == V_LAYER) {
            v->dims[0] = x->dims[1];
            v->dims[1] = -1;
            v->dims[2] = x->dims[2];
        } else {
            v->dims[0] = T;
            v->dims[1] = -1;
            v->dims[2] = x->kind == V_RNN_Y ? H : D * H;
        }
        break;
    case V_LAYER:
        if (x->kind == V_TIME_MAJOR) {
            v->ndim = 3;
            v->dims[0] = -1;
            v->dims[1] = x->dims[0];
            v->dims[2] = x->dims[2];
        } else {
            v->ndim = 2;
            v->dims[0] = -1;
            v->dims[1] = D * H;
        }
        break;
    case V_RNN_TNDH:
        v->ndim = 4;
        v->dims[0] = T;
        v->dims[1] = -1;
        v->dims[2] = D;
        v->dims[3] = H;
        break;
    case V_RNN_NDH:
        v->ndim = 3;
        v->dims[0] = -1;
        v->dims[1] = D;
        v->dims[2] = H;
        break;
    default: break;
    }
    return true;
}

/* ---------------------------------------------------------------- tokens, input, walk */

static void token_layer(importer *im, bool one_hot)
{
    const onnx_node *n = im->node;
    ival *ids = arg(im, one_hot ? 0 : 1, V_IDS);
    if (!ids) return;
    char name[NAME_MAX_LEN];
    int64_t dims[3] = {-1, ids->dims[1], 0};
    if (one_hot) {
        const ival *depth = arg(im, 1, V_CONST), *values = arg(im, 2, V_CONST);
        if (!depth || !values) return;
        const onnx_tensor *dt = const_of(depth), *vt = const_of(values);
        int64_t classes = dt->i ? dt->i[0] : dt->f ? (int64_t)dt->f[0] : 0;
        if (dt->count != 1 || classes < 1 || vt->count != 2 || !vt->f || vt->f[0] != 0 ||
            vt->f[1] != 1 || axis_of(attr_i(n, "axis", -1), 3) != 2)
            return (void)refuse(im, "only depth > 0, values [0, 1] and the last axis");
        layer_name(im, "one_hot", NULL, name);
        section(im, "one_hot", name, ids->layer);
        emit(im, "classes = %lld\n", (long long)classes);
        dims[2] = classes;
    } else {
        const ival *table = arg(im, 0, V_CONST);
        if (!table || !floats_of(im, table)) return;
        const onnx_tensor *t = const_of(table);
        if (t->ndim != 2 || attr_i(n, "axis", 0) != 0)
            return (void)refuse(im, "only a [vocab, dim] table gathered along axis 0");
        layer_name(im, "embedding", table, name);
        section(im, "embedding", name, ids->layer);
        emit(im, "vocab = %lld\ndim = %lld\n", (long long)t->dims[0], (long long)t->dims[1]);
        tensor(im, name, "weight", 2, t->dims, t->f, NERVE_DTYPE_F32);
        dims[2] = t->dims[1];
    }
    layer_out(im, name, 3, dims);
}

/* Mul and Add of scalars right after the input: nerve's normalisation,
 * which becomes [data] standardize statistics. */
static bool normalization(importer *im, ival *x)
{
    const onnx_node *n = im->node;
    bool mul = strcmp(n->op_type, "Mul") == 0, add = strcmp(n->op_type, "Add") == 0;
    if ((!mul && !add) || n->input_count != 2 || strcmp(x->layer, "input") != 0 ||
        im->normalize_stage >= (mul ? 1 : 2))
        return false;
    const ival *c = find(im, n->inputs[1]);
    if (!c || c->kind != V_CONST || numel(const_of(c)) != 1 || !const_of(c)->f) return false;
    double v = const_of(c)->f[0];
    const onnx_node *next = NULL;
    /* the Mul comes with its Add (nerve writes both): a Mul(input, c) alone
     * is the start of a composite */
    if (mul && (consumers(im, n->outputs[0], &next) != 1 || !next || strcmp(next->op_type, "Add")))
        return false;
    if (mul) {
        if (!(v > 0)) return false;
        im->gain = v;
    } else {
        im->offset = v;
    }
    im->normalize_stage = mul ? 1 : 2;
    ival *out = layer_out(im, "input", x->ndim, x->dims);
    return out != NULL;
}

static void convert_node(importer *im)
{
    const onnx_node *n = im->node;
    const char *op = n->op_type;
    if (n->domain[0] && strcmp(n->domain, "ai.onnx") != 0)
        return (void)refuse(im, "operator of domain '%s' (only the default domain is read)",
                            n->domain);
    if (constant(im)) return;
    if (all_const(im) && fold(im)) return;
    if (im->status) return;
    if (strcmp(op, "LSTM") == 0 || strcmp(op, "GRU") == 0 || strcmp(op, "RNN") == 0)
        return recurrent(im);
    if (strcmp(op, "Gather") == 0 && n->input_count == 2) { /* h_n[0] of one direction */
        const ival *h = find(im, n->inputs[0]), *k = find(im, n->inputs[1]);
        if (h && h->kind == V_RNN_YH && h->dims[0] == 1 && k && k->kind == V_CONST &&
            const_of(k)->i && const_of(k)->count == 1 && const_of(k)->ndim == 0 &&
            (const_of(k)->i[0] == 0 || const_of(k)->i[0] == -1) && attr_i(n, "axis", 0) == 0) {
            int64_t dims[2] = {-1, h->dims[2]};
            layer_out(im, h->layer, 2, dims);
            return;
        }
    }
    if (strcmp(op, "Gather") == 0 || strcmp(op, "OneHot") == 0)
        return token_layer(im, op[0] == 'O');
    ival *x = arg(im, 0, -1);
    if (!x) return;
    if (strcmp(op, "Cast") == 0 && strcmp(x->layer, "input") == 0 && x->kind == V_LAYER) {
        int64_t to = attr_i(n, "to", 0);
        if (to != ONNX_INT64 && to != ONNX_INT32) return (void)refuse(im, "a cast to type %lld", (long long)to);
        if (x->ndim != 2 || im->normalize_stage)
            return (void)refuse(im, "token ids must be the raw input, [N, T]");
        ival *v = add_val(im, n->outputs[0], V_IDS);
        if (!v) return;
        snprintf(v->layer, sizeof v->layer, "input");
        v->ndim = 2;
        memcpy(v->dims, x->dims, sizeof v->dims);
        return;
    }
    if (x->kind != V_LAYER || strcmp(op, "Transpose") == 0) {
        if (relayout(im, x)) return;
        return (void)refuse(im, "input '%s' comes from a recurrent node or a transposed "
                                "sequence in a layout nerve does not follow",
                            x->name);
    }
    if (composite(im, x) || im->status) return;
    if (normalization(im, x)) return;
    if (strcmp(op, "Gemm") == 0) return gemm(im, x);
    if (strcmp(op, "Conv") == 0) return conv(im, x, false);
    if (strcmp(op, "ConvTranspose") == 0) return conv(im, x, true);
    if (strcmp(op, "BatchNormalization") == 0) return batch_norm(im, x);
    if (strcmp(op, "MaxPool") == 0) return pool(im, x, true);
    if (strcmp(op, "AveragePool") == 0) return pool(im, x, false);
    if (strcmp(op, "GlobalAveragePool") == 0) return global_avg_pool(im, x);
    if (strcmp(op, "Flatten") == 0) return flatten(im, x);
    if (strcmp(op, "Reshape") == 0) return reshape(im, x);
    if (strcmp(op, "Add") == 0 || strcmp(op, "Sum") == 0) return join(im, false);
    if (strcmp(op, "Concat") == 0) return join(im, true);
    if (strcmp(op, "Softmax") == 0 || strcmp(op, "LogSoftmax") == 0)
        return softmax(im, x, op[0] == 'L');
    if (strcmp(op, "PRelu") == 0) return prelu(im, x);
    if (strcmp(op, "Pad") == 0) { /* torch puts a Pad of zeros before an AvgPool2d */
        const ival *pads = has_input(n, 1) ? arg(im, 1, V_CONST) : NULL;
        const onnx_attr *a = onnx_node_attr(n, "pads");
        const int64_t *p = pads && const_of(pads)->i ? const_of(pads)->i : a ? a->ints : NULL;
        int64_t count = pads ? numel(const_of(pads)) : a ? a->ints_count : 0;
        for (int64_t k = 0; p && k < count; k++)
            if (p[k]) p = NULL;
        if (!p && !im->status) return (void)refuse(im, "only a Pad of nothing is supported");
        layer_out(im, x->layer, x->ndim, x->dims);
        return;
    }
    if (strcmp(op, "Identity") == 0 || strcmp(op, "Dropout") == 0) {
        if (n->output_count > 1 && n->outputs[1][0])
            return (void)refuse(im, "the dropout mask output is not supported");
        if (has_input(n, 2)) { /* training_mode: only false, the inference identity */
            const ival *t = arg(im, 2, V_CONST);
            if (!t || numel(const_of(t)) != 1 || (const_of(t)->i ? const_of(t)->i[0] : const_of(t)->f[0]))
                return (void)refuse(im, "training_mode must be a constant false (inference)");
        }
        layer_out(im, x->layer, x->ndim, x->dims);
        return;
    }
    char settings[96] = "";
    if (strcmp(op, "Relu") == 0) return activation(im, x, "relu", "");
    if (strcmp(op, "Sigmoid") == 0) return activation(im, x, "sigmoid", "");
    if (strcmp(op, "Tanh") == 0) return activation(im, x, "tanh", "");
    if (strcmp(op, "Softplus") == 0) return activation(im, x, "softplus", "");
    if (strcmp(op, "LeakyRelu") == 0) {
        snprintf(settings, sizeof settings, "slope = %.9g\n", attr_f(n, "alpha", 0.01));
        return activation(im, x, "leaky_relu", settings);
    }
    if (strcmp(op, "Elu") == 0) {
        snprintf(settings, sizeof settings, "alpha = %.9g\n", attr_f(n, "alpha", 1));
        return activation(im, x, "elu", settings);
    }
    if (strcmp(op, "Selu") == 0) {
        if (fabs(attr_f(n, "alpha", 1.67326319217681884765625) - 1.6732632423543772) > 1e-6 ||
            fabs(attr_f(n, "gamma", 1.05070102214813232421875) - 1.0507009873554805) > 1e-6)
            return (void)refuse(im, "alpha and gamma other than SELU's constants");
        return activation(im, x, "selu", "");
    }
    if (strcmp(op, "Clip") == 0) {
        const ival *lo = has_input(n, 1) ? arg(im, 1, V_CONST) : NULL;
        const ival *hi = has_input(n, 2) ? arg(im, 2, V_CONST) : NULL;
        if (im->status) return;
        if (!lo || !hi || numel(const_of(lo)) != 1 || numel(const_of(hi)) != 1 ||
            !const_of(lo)->f || !const_of(hi)->f || !(const_of(lo)->f[0] < const_of(hi)->f[0]))
            return (void)refuse(im, "only a Clip with both bounds given, min < max (hardtanh)");
        snprintf(settings, sizeof settings, "min_val = %.9g\nmax_val = %.9g\n",
                 const_of(lo)->f[0], const_of(hi)->f[0]);
        return activation(im, x, "hardtanh", settings);
    }
    if (strcmp(op, "MatMul") == 0) return matmul(im, x);
    refuse_outside_composite(im);
}

/* The nodes MatMul fused with: skipped by the walk. */
static bool fused_away(importer *im, int i)
{
    const onnx_graph *g = &im->model->graph;
    if (i == 0 || strcmp(g->nodes[i].op_type, "Add") != 0 || g->nodes[i].output_count < 1) return false;
    return strcmp(g->nodes[i - 1].op_type, "MatMul") == 0 && find(im, g->nodes[i].outputs[0]) &&
           find(im, g->nodes[i].outputs[0])->kind == V_LAYER;
}

nerve_status onnx_import_model(const onnx_model *model, const char *source,
                               const onnx_tensor *bind, int bind_count,
                               onnx_import_result *out, nerve_error *err)
{
    memset(out, 0, sizeof *out);
    importer im_ = {.model = model, .source = source, .err = err, .gain = 1}, *im = &im_;
    const onnx_graph *g = &model->graph;
    im->skip = calloc((size_t)g->node_count + 1, sizeof *im->skip);
    if (!im->skip) nomem(im);
    /* the operators nerve reads kept their meaning from opset 1 (old forms,
     * such as BatchNormalization's consumed_inputs, are refused as unknown
     * attributes); 21 is the newest this reader was written against */
    if (model->opset < 1 || model->opset > 21)
        refuse(im, "opset %lld of the default domain (nerve reads 1 to 21)", (long long)model->opset);
    for (int i = 0; !im->status && i < g->initializer_count; i++) {
        ival *v = add_val(im, g->initializers[i].name, V_CONST);
        if (v) v->t = &g->initializers[i];
    }
    /* the network input: the first graph input that is not an initializer */
    const onnx_value *input = NULL;
    for (int i = 0; !im->status && i < g->input_count; i++) {
        if (find(im, g->inputs[i].name)) continue;
        const onnx_tensor *bound = NULL;
        for (int k = 0; k < bind_count; k++)
            if (strcmp(bind[k].name, g->inputs[i].name) == 0) bound = &bind[k];
        if (bound) {
            ival *v = add_val(im, g->inputs[i].name, V_CONST);
            if (v) v->t = bound;
        } else if (!input) {
            input = &g->inputs[i];
        } else {
            refuse(im, "a second graph input '%s' (nerve networks have one)", g->inputs[i].name);
        }
    }
    if (!im->status && !input) refuse(im, "the graph has no input");
    if (!im->status && (input->ndim < 2 || input->elem_type != ONNX_FLOAT))
        refuse(im, "input '%s' is not a float tensor [N, ...] of known rank", input->name);
    for (int d = 1; !im->status && d < input->ndim; d++)
        if (input->dims[d] < 1 || input->dims[d] > (1 << 24))
            refuse(im, "input '%s': dimension %d is not a fixed size", input->name, d);
    if (!im->status && !sample_fits(input->ndim, input->dims))
        refuse(im, "input '%s' holds more than 2^31 values per sample", input->name);
    if (!im->status && g->output_count != 1)
        refuse(im, "the graph has %d outputs (nerve networks have one)", g->output_count);
    if (!im->status) {
        ival *v = add_val(im, input->name, V_LAYER);
        if (v) {
            snprintf(v->layer, sizeof v->layer, "input");
            v->ndim = input->ndim;
            memcpy(v->dims, input->dims, sizeof v->dims);
            v->dims[0] = -1;
        }
    }
    /* the final Softmax of a classifier: nerve adds it for prediction */
    const char *output = g->output_count ? g->outputs[0].name : "";
    const onnx_node *last = NULL;
    for (int i = 0; i < g->node_count; i++)
        for (int k = 0; k < g->nodes[i].output_count; k++)
            if (strcmp(g->nodes[i].outputs[k], output) == 0) last = &g->nodes[i];
    bool probabilities = last && strcmp(last->op_type, "Softmax") == 0 && last->input_count == 1 &&
                         consumers(im, last->inputs[0], NULL) == 1;
    bool sigmoid = false;
    for (int k = 0; k + 1 < model->metadata_count; k += 2)
        if (strcmp(model->metadata[k], "loss") == 0 &&
            strcmp(model->metadata[k + 1], "bce_with_logits") == 0)
            sigmoid = last && strcmp(last->op_type, "Sigmoid") == 0;
    /* Constant nodes first: a composite's constants may come between its nodes */
    for (int i = 0; !im->status && i < g->node_count; i++) {
        im->node = &g->nodes[i];
        const onnx_node *n = im->node;
        if (strcmp(n->op_type, "Constant") == 0 && (!n->domain[0] || !strcmp(n->domain, "ai.onnx")))
            im->skip[i] = constant(im);
    }
    for (int i = 0; !im->status && i < g->node_count; i++) {
        im->node = &g->nodes[i];
        if (im->skip[i] || fused_away(im, i)) continue;
        if ((probabilities || sigmoid) && &g->nodes[i] == last) {
            ival *x = arg(im, 0, V_LAYER);
            /* nerve's prediction is the softmax over the last dimension */
            int64_t axis = x ? axis_of(attr_i(last, "axis", model->opset >= 13 ? -1 : 1), x->ndim) : 0;
            if (x && (sigmoid || (axis == x->ndim - 1 && (model->opset >= 13 || x->ndim == 2)))) {
                layer_out(im, x->layer, x->ndim, x->dims);
                continue;
            }
            probabilities = false;
        }
        convert_node(im);
    }
    im->node = NULL;
    const ival *result = im->status ? NULL : find(im, output);
    if (!im->status && (!result || result->kind != V_LAYER))
        refuse(im, "the output '%s' is not computed by layers nerve expresses", output);
    char net[512] = "";
    if (!im->status) {
        /* the output must be the cfg's last layer */
        const char *tail = im->cfg ? strrchr(im->cfg, '[') : NULL;
        char name_line[NAME_MAX_LEN + 16];
        snprintf(name_line, sizeof name_line, "name = %s\n", result->layer);
        if (!tail || !strstr(tail, name_line)) {
            char name[NAME_MAX_LEN];
            layer_name(im, "identity", NULL, name);
            section(im, "identity", name, result->layer);
        }
        const ival *in = find(im, input->name);
        char sample[256];
        format_sample(in, sample, sizeof sample);
        const char *loss = probabilities ? "softmax_cross_entropy"
                           : sigmoid     ? "bce_with_logits"
                           : last && strcmp(last->op_type, "LogSoftmax") == 0 ? "nll"
                                                                               : "mse";
        snprintf(net, sizeof net,
                 "# Imported from %s by nerve import (docs/onnx.md).\n[net]\ninput = %s\n\n"
                 "%s[loss]\ntype = %s\n",
                 source, sample,
                 im->normalize_stage ? "[data]\nnormalize = standardize\n\n" : "", loss);
    }
    if (!im->status) {
        size_t n = strlen(net) + im->cfg_len + 1;
        out->cfg = malloc(n);
        if (!out->cfg) nomem(im);
        else snprintf(out->cfg, n, "%s%s", net, im->cfg ? im->cfg : "");
    }
    for (int i = 0; i < im->val_count; i++) {
        onnx_tensor_free(&im->vals[i]->folded);
        free(im->vals[i]);
    }
    free(im->vals);
    free(im->cfg);
    free(im->skip);
    out->tensors = im->tensors;
    out->tensor_count = im->tensor_count;
    if (im->status) {
        onnx_import_result_free(out);
        return im->status;
    }
    /* normalisation: x * gain + offset = (x - mean) / std */
    out->mean = -im->offset / im->gain;
    out->std = 1 / im->gain;
    out->normalized = im->normalize_stage != 0;
    return NERVE_OK;
}

void onnx_import_result_free(onnx_import_result *r)
{
    for (int i = 0; i < r->tensor_count; i++) {
        free((void *)r->tensors[i].name);
        free((void *)r->tensors[i].data);
    }
    free(r->tensors);
    free(r->cfg);
    memset(r, 0, sizeof *r);
}

nerve_status onnx_import_write(const onnx_import_result *r, const char *cfg_path,
                               const char *weights_path, nerve_error *err)
{
    char mean[32], std[32];
    snprintf(mean, sizeof mean, "%.17g", r->mean);
    snprintf(std, sizeof std, "%.17g", r->std);
    const char *metadata[] = {"nerve.normalize.mean", mean, "nerve.normalize.std", std,
                              "nerve.version", NERVE_VERSION, NULL};
    nerve_status st = nerve_safetensors_write(weights_path, r->tensors, r->tensor_count,
                                              metadata, err);
    if (st) return st;
    nerve_atomic_file file;
    if ((st = nerve_atomic_file_open(&file, cfg_path, err))) return st;
    if (fputs(r->cfg, file.stream) < 0) {
        nerve_atomic_file_abort(&file);
        return nerve_error_set(err, NERVE_ERR_IO, "%s: write failed", cfg_path);
    }
    return nerve_atomic_file_commit(&file, err);
}

nerve_status nerve_onnx_import(const char *onnx_path, const char *cfg_path,
                               const char *weights_path, nerve_error *err)
{
    onnx_model model;
    nerve_status st = onnx_model_read(onnx_path, &model, err);
    if (st) return st;
    onnx_import_result r;
    st = onnx_import_model(&model, onnx_path, NULL, 0, &r, err);
    if (st == NERVE_OK) st = onnx_import_write(&r, cfg_path, weights_path, err);
    onnx_import_result_free(&r);
    onnx_model_free(&model);
    return st;
}
