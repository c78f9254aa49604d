/* ONNX export (docs/onnx.md): a model's graph, op by op, as standard ONNX
 * operators of the default domain (opset 17 unless asked), in eval mode,
 * from the network input (with the data normalisation baked in) to the
 * prediction (or, with `logits`, the last layer). Parameters become
 * initializers under their PyTorch state_dict names, unchanged; where ONNX
 * wants them in another layout (a recurrent layer's gate order, a PReLU's
 * broadcast shape, a transposed weight) nodes reorder them, which runtimes
 * fold once at load. Nothing depends on the clock or on memory addresses,
 * so exporting the same model twice gives the same bytes. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_internal.h"
#include "core/options.h"
#include "io/atomic_file.h"
#include "io/onnx_internal.h"
#include "model/model_internal.h"
#include "ops/recurrent.h"

#define VALUE_NAME_MAX 160

typedef struct exporter {
    nerve_graph *g;
    const nerve_onnx_export_options *o;
    nerve_error *err;
    pb_buf nodes, initializers;
    char (*names)[VALUE_NAME_MAX]; /* the ONNX value holding each graph node's output */
    bool *initialized;             /* params already written as initializers */
    nerve_status status;
} exporter;

/* ---------------------------------------------------------------- nodes */

typedef struct onode {
    pb_buf b;
} onode;

static void node_begin(onode *n, const char *op_type, const char *name)
{
    memset(n, 0, sizeof *n);
    pb_field_string(&n->b, ONNX_NODE_NAME, name);
    pb_field_string(&n->b, ONNX_NODE_OP_TYPE, op_type);
}

static void node_in(onode *n, const char *value) { pb_field_string(&n->b, ONNX_NODE_INPUT, value); }
static void node_out(onode *n, const char *value) { pb_field_string(&n->b, ONNX_NODE_OUTPUT, value); }

static void attr_int(onode *n, const char *name, int64_t v)
{
    pb_buf a = {0};
    pb_field_string(&a, ONNX_ATTR_NAME, name);
    pb_field_int64(&a, ONNX_ATTR_I, v);
    pb_field_varint(&a, ONNX_ATTR_TYPE, ONNX_ATTR_TYPE_INT);
    pb_field_message(&n->b, ONNX_NODE_ATTRIBUTE, &a);
}

static void attr_float(onode *n, const char *name, double v)
{
    pb_buf a = {0};
    pb_field_string(&a, ONNX_ATTR_NAME, name);
    pb_field_float(&a, ONNX_ATTR_F, (float)v);
    pb_field_varint(&a, ONNX_ATTR_TYPE, ONNX_ATTR_TYPE_FLOAT);
    pb_field_message(&n->b, ONNX_NODE_ATTRIBUTE, &a);
}

static void attr_ints(onode *n, const char *name, const int64_t *v, int count)
{
    pb_buf a = {0};
    pb_field_string(&a, ONNX_ATTR_NAME, name);
    pb_field_packed_int64(&a, ONNX_ATTR_INTS, v, (size_t)count);
    pb_field_varint(&a, ONNX_ATTR_TYPE, ONNX_ATTR_TYPE_INTS);
    pb_field_message(&n->b, ONNX_NODE_ATTRIBUTE, &a);
}

static void attr_string(onode *n, const char *name, const char *s)
{
    pb_buf a = {0};
    pb_field_string(&a, ONNX_ATTR_NAME, name);
    pb_field_string(&a, ONNX_ATTR_S, s);
    pb_field_varint(&a, ONNX_ATTR_TYPE, ONNX_ATTR_TYPE_STRING);
    pb_field_message(&n->b, ONNX_NODE_ATTRIBUTE, &a);
}

static void attr_strings(onode *n, const char *name, const char *s, int count)
{
    pb_buf a = {0};
    pb_field_string(&a, ONNX_ATTR_NAME, name);
    for (int k = 0; k < count; k++) pb_field_string(&a, ONNX_ATTR_STRINGS, s);
    pb_field_varint(&a, ONNX_ATTR_TYPE, ONNX_ATTR_TYPE_STRINGS);
    pb_field_message(&n->b, ONNX_NODE_ATTRIBUTE, &a);
}

static void node_end(exporter *x, onode *n) { pb_field_message(&x->nodes, ONNX_GRAPH_NODE, &n->b); }

/* The common shapes: one input, one output, no attributes. */
static void unary(exporter *x, const char *op_type, const char *name, const char *in,
                  const char *out)
{
    onode n;
    node_begin(&n, op_type, name);
    node_in(&n, in);
    node_out(&n, out);
    node_end(x, &n);
}

/* [N, ...] -> [N, rest]: ONNX's Flatten at axis 1. */
static void flatten(exporter *x, const char *name, const char *in, const char *out)
{
    onode n;
    node_begin(&n, "Flatten", name);
    node_in(&n, in);
    node_out(&n, out);
    attr_int(&n, "axis", 1);
    node_end(x, &n);
}

static void binary(exporter *x, const char *op_type, const char *name, const char *a,
                   const char *b, const char *out)
{
    onode n;
    node_begin(&n, op_type, name);
    node_in(&n, a);
    node_in(&n, b);
    node_out(&n, out);
    node_end(x, &n);
}

/* ---------------------------------------------------------------- initializers */

static void tensor_header(pb_buf *t, const char *name, int data_type, const int64_t *dims,
                          int ndim)
{
    pb_field_packed_int64(t, ONNX_TENSOR_DIMS, dims, (size_t)ndim);
    pb_field_varint(t, ONNX_TENSOR_DATA_TYPE, (uint64_t)data_type);
    pb_field_string(t, ONNX_TENSOR_NAME, name);
}

static void initializer_floats(exporter *x, const char *name, const int64_t *dims, int ndim,
                               const float *values, int64_t count)
{
    pb_buf t = {0};
    tensor_header(&t, name, ONNX_FLOAT, dims, ndim);
    pb_field_bytes(&t, ONNX_TENSOR_RAW_DATA, values, (size_t)count * sizeof(float));
    pb_field_message(&x->initializers, ONNX_GRAPH_INITIALIZER, &t);
}

static void initializer_int64s(exporter *x, const char *name, const int64_t *values, int count)
{
    pb_buf t = {0};
    int64_t dims[1] = {count};
    tensor_header(&t, name, ONNX_INT64, dims, 1);
    unsigned char raw[8 * 16];
    for (int i = 0; i < count && i < 16; i++)
        for (int k = 0; k < 8; k++) raw[8 * i + k] = (unsigned char)((uint64_t)values[i] >> (8 * k));
    pb_field_bytes(&t, ONNX_TENSOR_RAW_DATA, raw, (size_t)count * 8);
    pb_field_message(&x->initializers, ONNX_GRAPH_INITIALIZER, &t);
}

/* A float scalar constant named "<owner>/<what>". */
static const char *scalar(exporter *x, char out[VALUE_NAME_MAX], const char *owner,
                          const char *what, double v)
{
    float f = (float)v;
    snprintf(out, VALUE_NAME_MAX, "%s/%s", owner, what);
    initializer_floats(x, out, NULL, 0, &f, 1);
    return out;
}

static const char *int64s(exporter *x, char out[VALUE_NAME_MAX], const char *owner,
                          const char *what, const int64_t *values, int count)
{
    snprintf(out, VALUE_NAME_MAX, "%s/%s", owner, what);
    initializer_int64s(x, out, values, count);
    return out;
}

/* The value of graph node i's input k: a parameter is written as an
 * initializer the first time it is used. */
static const char *in_name(exporter *x, const nerve_node_data *node, int k)
{
    int i = node->input[k];
    const nerve_node_data *in = &x->g->nodes[i];
    if (in->kind == NERVE_NODE_PARAM && !x->initialized[i]) {
        x->initialized[i] = true;
        int64_t dims[NERVE_MAX_DIMS];
        for (int d = 0; d < in->shape.ndim; d++) dims[d] = in->shape.dim[d];
        /* read on the host: a copy on a device without host memory */
        int64_t count = nerve_shape_numel(&in->shape);
        nerve_real *values = nerve_graph_host_view(x->g, in->value, count, true, x->err);
        if (!values) {
            x->status = x->err ? x->err->status : NERVE_ERR_NOMEM;
            return x->names[i];
        }
        initializer_floats(x, in->name, dims, in->shape.ndim, values, count);
        nerve_graph_host_view_end(x->g, in->value, values, count, false, x->err);
    }
    return x->names[i];
}

static nerve_status refuse(exporter *x, const nerve_node_data *node, const char *why)
{
    return x->status = nerve_error_set(x->err, NERVE_ERR_INVALID,
                                       "onnx export: layer '%s' (%s): %s", node->name,
                                       node->op->name, why);
}

/* "<node>/<what>" for the intermediate values of a composite. */
static const char *temp(char out[VALUE_NAME_MAX], const nerve_node_data *node, const char *what)
{
    snprintf(out, VALUE_NAME_MAX, "%s/%s", node->name, what);
    return out;
}

/* ---------------------------------------------------------------- activations */

static void gelu(exporter *x, const nerve_node_data *node, const char *in, const char *out,
                 bool tanh_form)
{
    char a[VALUE_NAME_MAX], b[VALUE_NAME_MAX], c[VALUE_NAME_MAX], k[VALUE_NAME_MAX];
    char one[VALUE_NAME_MAX], half[VALUE_NAME_MAX], t1[VALUE_NAME_MAX], t2[VALUE_NAME_MAX];
    const char *n = node->name;
    if (tanh_form) { /* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
        char x2[VALUE_NAME_MAX], x3[VALUE_NAME_MAX], cub[VALUE_NAME_MAX];
        binary(x, "Mul", temp(x2, node, "x2"), in, in, x2);
        binary(x, "Mul", temp(x3, node, "x3"), x2, in, x3);
        binary(x, "Mul", temp(cub, node, "cubic"), x3, scalar(x, k, n, "coefficient", 0.044715),
               cub);
        binary(x, "Add", temp(a, node, "inner"), in, cub, a);
        binary(x, "Mul", temp(b, node, "scaled"), a,
               scalar(x, t1, n, "sqrt_2_over_pi", sqrt(2.0 / 3.14159265358979323846)), b);
        unary(x, "Tanh", temp(c, node, "tanh"), b, c);
    } else { /* 0.5 x (1 + erf(x / sqrt 2)) */
        binary(x, "Mul", temp(b, node, "scaled"), in,
               scalar(x, t1, n, "inv_sqrt2", 1 / sqrt(2.0)), b);
        unary(x, "Erf", temp(c, node, "erf"), b, c);
    }
    binary(x, "Add", temp(a, node, "one_plus"), c, scalar(x, one, n, "one", 1), a);
    binary(x, "Mul", temp(t2, node, "times_x"), a, in, t2);
    binary(x, "Mul", n, t2, scalar(x, half, n, "half", 0.5), out);
}

/* x * sigmoid(beta x), beta a constant or the value of a parameter. */
static void swish(exporter *x, const nerve_node_data *node, const char *in, const char *beta,
                  const char *out)
{
    char s[VALUE_NAME_MAX], bx[VALUE_NAME_MAX];
    const char *arg = in;
    if (beta) {
        binary(x, "Mul", temp(bx, node, "beta_x"), in, beta, bx);
        arg = bx;
    }
    unary(x, "Sigmoid", temp(s, node, "sigmoid"), arg, s);
    binary(x, "Mul", node->name, in, s, out);
}

static void activation(exporter *x, const nerve_node_data *node, const char *in, const char *out)
{
    const nerve_activation_params *p = &node->attr.activation.params;
    const char *n = node->name;
    char c1[VALUE_NAME_MAX], c2[VALUE_NAME_MAX], t[VALUE_NAME_MAX];
    onode o;
    switch (node->attr.activation.kind) {
    case NERVE_ACT_IDENTITY: unary(x, "Identity", n, in, out); return;
    case NERVE_ACT_SIGMOID: unary(x, "Sigmoid", n, in, out); return;
    case NERVE_ACT_TANH: unary(x, "Tanh", n, in, out); return;
    case NERVE_ACT_RELU: unary(x, "Relu", n, in, out); return;
    case NERVE_ACT_LEAKY_RELU:
    case NERVE_ACT_ELU:
        node_begin(&o, node->attr.activation.kind == NERVE_ACT_ELU ? "Elu" : "LeakyRelu", n);
        node_in(&o, in);
        node_out(&o, out);
        attr_float(&o, "alpha",
                   node->attr.activation.kind == NERVE_ACT_ELU ? p->alpha : p->negative_slope);
        node_end(x, &o);
        return;
    case NERVE_ACT_SELU: /* torch's constants, which ONNX's defaults round */
        node_begin(&o, "Selu", n);
        node_in(&o, in);
        node_out(&o, out);
        attr_float(&o, "alpha", 1.6732632423543772848170429916717);
        attr_float(&o, "gamma", 1.0507009873554804934193349852946);
        node_end(x, &o);
        return;
    case NERVE_ACT_SOFTPLUS:
        if (p->beta == 1) {
            unary(x, "Softplus", n, in, out);
            return;
        }
        { /* softplus(beta x) / beta, and x itself where beta x > threshold */
            char bx[VALUE_NAME_MAX], sp[VALUE_NAME_MAX], big[VALUE_NAME_MAX];
            const char *beta = scalar(x, c1, n, "beta", p->beta);
            binary(x, "Mul", temp(bx, node, "beta_x"), in, beta, bx);
            unary(x, "Softplus", temp(sp, node, "softplus"), bx, sp);
            binary(x, "Div", temp(t, node, "scaled"), sp, beta, t);
            binary(x, "Greater", temp(big, node, "linear"), bx,
                   scalar(x, c2, n, "threshold", p->threshold), big);
            node_begin(&o, "Where", n);
            node_in(&o, big);
            node_in(&o, in);
            node_in(&o, t);
            node_out(&o, out);
            node_end(x, &o);
        }
        return;
    case NERVE_ACT_SWISH:
        swish(x, node, in, p->beta == 1 ? NULL : scalar(x, c1, n, "beta", p->beta), out);
        return;
    case NERVE_ACT_GELU: gelu(x, node, in, out, false); return;
    case NERVE_ACT_GELU_TANH: gelu(x, node, in, out, true); return;
    case NERVE_ACT_HARDTANH:
        node_begin(&o, "Clip", n);
        node_in(&o, in);
        node_in(&o, scalar(x, c1, n, "min", p->min_val));
        node_in(&o, scalar(x, c2, n, "max", p->max_val));
        node_out(&o, out);
        node_end(x, &o);
        return;
    case NERVE_ACT_BINARY_STEP:
    case NERVE_ACT_BINARY_STEP_STE: /* 1 for x >= 0, else 0 */
        binary(x, "GreaterOrEqual", temp(t, node, "nonnegative"), in,
               scalar(x, c1, n, "zero", 0), t);
        node_begin(&o, "Cast", n);
        node_in(&o, t);
        node_out(&o, out);
        attr_int(&o, "to", ONNX_FLOAT);
        node_end(x, &o);
        return;
    case NERVE_ACT_COUNT: break;
    }
    refuse(x, node, "unknown activation");
}

/* ---------------------------------------------------------------- layers */

static void linear(exporter *x, const nerve_node_data *node, const char *out)
{
    const nerve_node_data *in = &x->g->nodes[node->input[0]];
    const char *w = in_name(x, node, 1);
    const char *b = node->input_count == 3 ? in_name(x, node, 2) : NULL;
    onode o;
    if (in->shape.ndim == 2) {
        node_begin(&o, "Gemm", node->name);
        node_in(&o, x->names[node->input[0]]);
        node_in(&o, w);
        if (b) node_in(&o, b);
        node_out(&o, out);
        attr_int(&o, "transB", 1);
        node_end(x, &o);
        return;
    }
    /* [N, ..., in]: nn.Linear maps the last dimension, as MatMul does */
    char wt[VALUE_NAME_MAX], y[VALUE_NAME_MAX];
    node_begin(&o, "Transpose", temp(wt, node, "weight_t"));
    node_in(&o, w);
    node_out(&o, wt);
    attr_ints(&o, "perm", (int64_t[]){1, 0}, 2);
    node_end(x, &o);
    if (!b) {
        binary(x, "MatMul", node->name, x->names[node->input[0]], wt, out);
        return;
    }
    binary(x, "MatMul", temp(y, node, "matmul"), x->names[node->input[0]], wt, y);
    binary(x, "Add", node->name, y, b, out);
}

static void conv(exporter *x, const nerve_node_data *node, const char *out, bool transpose)
{
    const nerve_conv2d_options *c = &node->attr.conv;
    const nerve_node_data *w = &x->g->nodes[node->input[1]];
    onode o;
    node_begin(&o, transpose ? "ConvTranspose" : "Conv", node->name);
    node_in(&o, x->names[node->input[0]]);
    node_in(&o, in_name(x, node, 1));
    if (node->input_count > 2) node_in(&o, in_name(x, node, 2));
    node_out(&o, out);
    attr_ints(&o, "kernel_shape", (int64_t[]){w->shape.dim[2], w->shape.dim[3]}, 2);
    attr_ints(&o, "strides", c->stride, 2);
    attr_ints(&o, "dilations", c->dilation, 2);
    /* ONNX: begin of each axis, then end of each: [top, left, bottom, right] */
    int64_t pads[4] = {c->padding[0], c->padding[1], c->padding[0], c->padding[1]};
    if (!transpose) {
        pads[2] += c->padding_extra[0];
        pads[3] += c->padding_extra[1];
    }
    attr_ints(&o, "pads", pads, 4);
    attr_int(&o, "group", c->groups);
    if (transpose) attr_ints(&o, "output_padding", c->output_padding, 2);
    node_end(x, &o);
}

/* ONNX's pooled size: floor or ceil of (in + pads - window) / stride + 1,
 * without PyTorch's rule that the last window must start inside the input
 * or the left padding. */
static int64_t onnx_pooled(int64_t in, int64_t pad, int64_t window, int64_t stride, bool ceil_mode)
{
    int64_t span = in + 2 * pad - window;
    return (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
}

static void pool(exporter *x, const nerve_node_data *node, const char *out, bool max)
{
    const nerve_pool2d_options *p = &node->attr.pool;
    const nerve_node_data *in = &x->g->nodes[node->input[0]];
    bool overhang = false;
    for (int d = 0; d < 2; d++) {
        int64_t window = (p->kernel[d] - 1) * (max ? p->dilation[d] : 1) + 1;
        int64_t size = onnx_pooled(in->shape.dim[2 + d], p->padding[d], window, p->stride[d],
                                   p->ceil_mode);
        if (size != node->shape.dim[2 + d]) {
            refuse(x, node, "with ceil_mode its last window would start in the right padding, "
                            "which ONNX's ceil_mode counts and PyTorch's drops: the output "
                            "sizes differ");
            return;
        }
        /* a window reaching past the padded input: ONNX and PyTorch divide
         * its sum differently */
        overhang |= (size - 1) * p->stride[d] + window > in->shape.dim[2 + d] + 2 * p->padding[d];
    }
    if (!max && overhang && (p->count_include_pad || p->divisor_override)) {
        refuse(x, node, "with ceil_mode a window runs past the padded input, whose divisor "
                        "ONNX's AveragePool computes differently from PyTorch's");
        return;
    }
    char sum[VALUE_NAME_MAX], k[VALUE_NAME_MAX];
    bool rescale = !max && p->divisor_override;
    onode o;
    node_begin(&o, max ? "MaxPool" : "AveragePool",
               rescale ? temp(sum, node, "mean") : node->name);
    node_in(&o, x->names[node->input[0]]);
    node_out(&o, rescale ? sum : out);
    attr_ints(&o, "kernel_shape", p->kernel, 2);
    attr_ints(&o, "strides", p->stride, 2);
    attr_ints(&o, "pads", (int64_t[]){p->padding[0], p->padding[1], p->padding[0], p->padding[1]},
              4);
    if (p->ceil_mode) attr_int(&o, "ceil_mode", 1);
    if (max)
        attr_ints(&o, "dilations", p->dilation, 2);
    else
        attr_int(&o, "count_include_pad", p->count_include_pad || p->divisor_override ? 1 : 0);
    node_end(x, &o);
    if (rescale) /* the mean over the whole window, times its size over the divisor */
        binary(x, "Mul", node->name, sum,
               scalar(x, k, node->name, "divisor_scale",
                      (double)(p->kernel[0] * p->kernel[1]) / (double)p->divisor_override),
               out);
}

static void batch_norm(exporter *x, const nerve_node_data *node, const char *out)
{
    const nerve_batch_norm_attr *a = &node->attr.batch_norm;
    if (!a->running_mean || !a->running_var) {
        refuse(x, node, "without running statistics (track_running_stats = 0) it normalises "
                        "with each batch's own statistics at inference, which ONNX's "
                        "BatchNormalization does not");
        return;
    }
    int64_t channels = x->g->nodes[node->input[0]].shape.dim[1];
    char scale[VALUE_NAME_MAX], bias[VALUE_NAME_MAX];
    const char *scale_name = a->weight ? in_name(x, node, a->weight) : NULL;
    const char *bias_name = a->bias ? in_name(x, node, a->bias) : NULL;
    float *fill = (!scale_name || !bias_name) ? malloc((size_t)channels * sizeof *fill) : NULL;
    if (!scale_name || !bias_name) {
        if (!fill) {
            x->status = nerve_error_set(x->err, NERVE_ERR_NOMEM, "out of memory");
            return;
        }
        for (int64_t c = 0; c < channels; c++) fill[c] = 1;
        if (!scale_name) { /* affine = 0: scale 1, shift 0 */
            initializer_floats(x, temp(scale, node, "scale"), &channels, 1, fill, channels);
            scale_name = scale;
        }
        for (int64_t c = 0; c < channels; c++) fill[c] = 0;
        if (!bias_name) {
            initializer_floats(x, temp(bias, node, "shift"), &channels, 1, fill, channels);
            bias_name = bias;
        }
    }
    free(fill);
    onode o;
    node_begin(&o, "BatchNormalization", node->name);
    node_in(&o, x->names[node->input[0]]);
    node_in(&o, scale_name);
    node_in(&o, bias_name);
    node_in(&o, in_name(x, node, a->running_mean));
    node_in(&o, in_name(x, node, a->running_var));
    node_out(&o, out);
    attr_float(&o, "epsilon", a->eps);
    attr_float(&o, "momentum", 1 - a->momentum); /* ONNX weighs the old mean */
    node_end(x, &o);
}

static void prelu(exporter *x, const nerve_node_data *node, const char *out)
{
    const nerve_node_data *in = &x->g->nodes[node->input[0]];
    const nerve_node_data *w = &x->g->nodes[node->input[1]];
    const char *slope = in_name(x, node, 1);
    char shaped[VALUE_NAME_MAX], shape[VALUE_NAME_MAX];
    if (w->shape.dim[0] > 1 && in->shape.ndim > 2) {
        /* ONNX broadcasts from the right: [C] becomes [C, 1, ...] */
        int64_t dims[NERVE_MAX_DIMS] = {w->shape.dim[0]};
        for (int d = 1; d < in->shape.ndim - 1; d++) dims[d] = 1;
        binary(x, "Reshape", temp(shaped, node, "slope"), slope,
               int64s(x, shape, node->name, "slope_shape", dims, in->shape.ndim - 1), shaped);
        slope = shaped;
    }
    binary(x, "PRelu", node->name, x->names[node->input[0]], slope, out);
}

/* The ids input of embedding and one_hot, as int64 (nerve's inputs are float). */
static const char *ids(exporter *x, const nerve_node_data *node, char out[VALUE_NAME_MAX])
{
    onode o;
    node_begin(&o, "Cast", temp(out, node, "ids"));
    node_in(&o, x->names[node->input[0]]);
    node_out(&o, out);
    attr_int(&o, "to", ONNX_INT64);
    node_end(x, &o);
    return out;
}

/* PyTorch's gate blocks, in ONNX's order: LSTM i,f,g,o -> i,o,f,c; GRU
 * r,z,n -> z,r,h; an RNN's one block stays. */
static const char *gates(exporter *x, const nerve_node_data *node, const char *value,
                         const char *what, nerve_recurrent_cell cell, char out[VALUE_NAME_MAX])
{
    static const int lstm[4] = {0, 3, 1, 2}, gru[3] = {1, 0, 2};
    int count = (int)nerve_recurrent_gate_count(cell);
    if (count == 1) return value;
    const int *order = cell == NERVE_CELL_LSTM ? lstm : gru;
    char parts[4][VALUE_NAME_MAX], what_k[64];
    onode o;
    snprintf(what_k, sizeof what_k, "%s_gates", what);
    node_begin(&o, "Split", temp(out, node, what_k));
    node_in(&o, value);
    for (int k = 0; k < count; k++) {
        snprintf(what_k, sizeof what_k, "%s_gate%d", what, k);
        node_out(&o, temp(parts[k], node, what_k));
    }
    attr_int(&o, "axis", 0);
    node_end(x, &o);
    snprintf(what_k, sizeof what_k, "%s_onnx_order", what);
    node_begin(&o, "Concat", temp(out, node, what_k));
    for (int k = 0; k < count; k++) node_in(&o, parts[order[k]]);
    node_out(&o, out);
    attr_int(&o, "axis", 0);
    node_end(x, &o);
    return out;
}

static void unsqueeze0(exporter *x, const nerve_node_data *node, const char *in, const char *what,
                       char out[VALUE_NAME_MAX])
{
    char axes[VALUE_NAME_MAX], name[64];
    snprintf(name, sizeof name, "%s_axes", what);
    binary(x, "Unsqueeze", temp(out, node, what), in,
           int64s(x, axes, node->name, name, (int64_t[]){0}, 1), out);
}

static void concat2(exporter *x, const char *name, const char *a, const char *b, const char *out)
{
    onode o;
    node_begin(&o, "Concat", name);
    node_in(&o, a);
    node_in(&o, b);
    node_out(&o, out);
    attr_int(&o, "axis", 0);
    node_end(x, &o);
}

static void squeeze(exporter *x, const nerve_node_data *node, const char *in, int64_t axis,
                    const char *what, char out[VALUE_NAME_MAX])
{
    char axes[VALUE_NAME_MAX], name[64];
    snprintf(name, sizeof name, "%s_axes", what);
    binary(x, "Squeeze", temp(out, node, what), in,
           int64s(x, axes, node->name, name, &axis, 1), out);
}

/* W, R or B of one direction as ONNX wants it: [1, gates * H, ...]. */
static const char *direction_tensor(exporter *x, const nerve_node_data *node, int which,
                                    char out[VALUE_NAME_MAX])
{
    static const char *const what[] = {"W", "R", "B"};
    nerve_recurrent_cell cell = (nerve_recurrent_cell)node->attr.i[0];
    char a[VALUE_NAME_MAX], b[VALUE_NAME_MAX], flat[VALUE_NAME_MAX];
    const char *value;
    if (which < 2) {
        value = gates(x, node, in_name(x, node, 1 + which), what[which], cell, a);
    } else { /* B = [Wb, Rb] */
        const char *wb = gates(x, node, in_name(x, node, 3), "Wb", cell, a);
        const char *rb = gates(x, node, in_name(x, node, 4), "Rb", cell, b);
        concat2(x, temp(flat, node, "B_flat"), wb, rb, flat);
        value = flat;
    }
    unsqueeze0(x, node, value, what[which], out);
    return out;
}

/* One layer over [T, N, F]: ONNX's RNN, LSTM or GRU, forward, or (with
 * `backward`, the reverse op of the same layer) bidirectional, which nerve
 * builds as two ops and a concat (`node`, whose output this is). */
static void recurrent(exporter *x, const nerve_node_data *node, const nerve_node_data *forward,
                      const nerve_node_data *backward, const char *out)
{
    static const char *const op_types[] = {"RNN", "RNN", "LSTM", "GRU"};
    nerve_recurrent_cell cell = (nerve_recurrent_cell)forward->attr.i[0];
    bool reverse = forward->attr.i[1], last = forward->attr.i[2];
    int64_t H = x->g->nodes[forward->input[2]].shape.dim[1];
    char xt[VALUE_NAME_MAX], y[VALUE_NAME_MAX], ys[VALUE_NAME_MAX], t[VALUE_NAME_MAX];
    char inputs[3][VALUE_NAME_MAX], per_direction[2][VALUE_NAME_MAX], shape[VALUE_NAME_MAX];
    onode o;
    /* batch-first [N, T, F] to ONNX's [T, N, F] (runtimes do not all take layout = 1) */
    node_begin(&o, "Transpose", temp(xt, node, "time_major"));
    node_in(&o, x->names[forward->input[0]]);
    node_out(&o, xt);
    attr_ints(&o, "perm", (int64_t[]){1, 0, 2}, 3);
    node_end(x, &o);
    bool bias = forward->input_count == 5;
    for (int k = 0; k < (bias ? 3 : 2); k++) {
        if (!backward) {
            direction_tensor(x, forward, k, inputs[k]);
            continue;
        }
        direction_tensor(x, forward, k, per_direction[0]);
        direction_tensor(x, backward, k, per_direction[1]);
        concat2(x, temp(inputs[k], node, k == 0 ? "W" : k == 1 ? "R" : "B"), per_direction[0],
                per_direction[1], inputs[k]);
    }
    node_begin(&o, op_types[cell], temp(y, node, op_types[cell]));
    node_in(&o, xt);
    for (int k = 0; k < (bias ? 3 : 2); k++) node_in(&o, inputs[k]);
    node_out(&o, last ? "" : y);
    if (last) node_out(&o, temp(y, node, "Y_h"));
    attr_int(&o, "hidden_size", H);
    attr_string(&o, "direction", backward ? "bidirectional" : reverse ? "reverse" : "forward");
    if (cell == NERVE_CELL_GRU) attr_int(&o, "linear_before_reset", 1); /* PyTorch's GRU */
    if (cell == NERVE_CELL_RNN_RELU) attr_strings(&o, "activations", "Relu", backward ? 2 : 1);
    node_end(x, &o);
    if (!backward && last) { /* Y_h [1, N, H]: the state after the direction's last step */
        int64_t axis = 0;
        binary(x, "Squeeze", node->name, y, int64s(x, shape, node->name, "Y_h_axes", &axis, 1),
               out);
        return;
    }
    if (!backward) { /* Y [T, 1, N, H] back to batch-first [N, T, H] */
        squeeze(x, node, y, 1, "Y_squeezed", ys);
    } else if (last) { /* Y_h [2, N, H] -> [N, 2 H], forward first */
        node_begin(&o, "Transpose", temp(t, node, "Y_h_batch_first"));
        node_in(&o, y);
        node_out(&o, t);
        attr_ints(&o, "perm", (int64_t[]){1, 0, 2}, 3);
        node_end(x, &o);
        binary(x, "Reshape", node->name, t,
               int64s(x, shape, node->name, "Y_h_shape", (int64_t[]){0, -1}, 2), out);
        return;
    } else { /* Y [T, 2, N, H] -> [T, N, 2 H] */
        node_begin(&o, "Transpose", temp(t, node, "Y_directions_last"));
        node_in(&o, y);
        node_out(&o, t);
        attr_ints(&o, "perm", (int64_t[]){0, 2, 1, 3}, 4);
        node_end(x, &o);
        binary(x, "Reshape", temp(ys, node, "Y_merged"), t,
               int64s(x, shape, node->name, "Y_shape", (int64_t[]){0, 0, -1}, 3), ys);
    }
    node_begin(&o, "Transpose", node->name);
    node_in(&o, ys);
    node_out(&o, out);
    attr_ints(&o, "perm", (int64_t[]){1, 0, 2}, 3);
    node_end(x, &o);
}

/* A concat of the forward and reverse ops of one bidirectional layer, each
 * used by it alone: one ONNX node with direction = bidirectional. Returns
 * the two ops, or false. */
static bool direction_pair(const exporter *x, const nerve_node_data *node, const int *uses,
                           const nerve_node_data **fw, const nerve_node_data **bw)
{
    if (strcmp(node->op->name, "concat") != 0 || node->input_count != 2) return false;
    const nerve_node_data *a = &x->g->nodes[node->input[0]], *b = &x->g->nodes[node->input[1]];
    if (a->kind != NERVE_NODE_OP || b->kind != NERVE_NODE_OP ||
        strcmp(a->op->name, "recurrent") != 0 || strcmp(b->op->name, "recurrent") != 0)
        return false;
    bool pair = a->input[0] == b->input[0] && a->attr.i[0] == b->attr.i[0] && !a->attr.i[1] &&
                b->attr.i[1] && a->attr.i[2] == b->attr.i[2] && a->input_count == b->input_count &&
                uses[node->input[0]] == 1 && uses[node->input[1]] == 1 &&
                node->attr.i[0] == node->shape.ndim - 1;
    *fw = a;
    *bw = b;
    return pair;
}

static void reshape(exporter *x, const nerve_node_data *node, const char *out)
{
    int64_t dims[NERVE_MAX_DIMS] = {-1}; /* the batch, whatever it is */
    for (int d = 1; d < node->shape.ndim; d++) dims[d] = node->shape.dim[d];
    char shape[VALUE_NAME_MAX];
    binary(x, "Reshape", node->name, x->names[node->input[0]],
           int64s(x, shape, node->name, "shape", dims, node->shape.ndim), out);
}

static void op(exporter *x, const nerve_node_data *node)
{
    const char *name = node->op->name, *out = node->name;
    const char *in = x->names[node->input[0]];
    char t[VALUE_NAME_MAX], u[VALUE_NAME_MAX], c[VALUE_NAME_MAX];
    onode o;
    if (strcmp(name, "linear") == 0) {
        linear(x, node, out);
    } else if (strcmp(name, "activation") == 0) {
        activation(x, node, in, out);
    } else if (strcmp(name, "conv2d") == 0 || strcmp(name, "conv_transpose2d") == 0) {
        conv(x, node, out, name[4] == '_');
    } else if (strcmp(name, "max_pool2d") == 0 || strcmp(name, "avg_pool2d") == 0) {
        pool(x, node, out, name[1] == 'a');
    } else if (strcmp(name, "batch_norm") == 0) {
        batch_norm(x, node, out);
    } else if (strcmp(name, "global_avg_pool") == 0) {
        unary(x, "GlobalAveragePool", temp(t, node, "pooled"), in, t);
        flatten(x, node->name, t, out);
    } else if (strcmp(name, "flatten") == 0) {
        flatten(x, node->name, in, out);
    } else if (strcmp(name, "reshape") == 0) {
        reshape(x, node, out);
    } else if (strcmp(name, "add") == 0) {
        node_begin(&o, node->input_count == 2 ? "Add" : "Sum", node->name);
        for (int k = 0; k < node->input_count; k++) node_in(&o, x->names[node->input[k]]);
        node_out(&o, out);
        node_end(x, &o);
    } else if (strcmp(name, "concat") == 0) {
        node_begin(&o, "Concat", node->name);
        for (int k = 0; k < node->input_count; k++) node_in(&o, x->names[node->input[k]]);
        node_out(&o, out);
        attr_int(&o, "axis", node->attr.i[0]);
        node_end(x, &o);
    } else if (strcmp(name, "softmax") == 0 || strcmp(name, "log_softmax") == 0) {
        int64_t axis = node->attr.i[0] < 0 ? node->attr.i[0] + node->shape.ndim : node->attr.i[0];
        node_begin(&o, name[0] == 's' ? "Softmax" : "LogSoftmax", node->name);
        node_in(&o, in);
        node_out(&o, out);
        attr_int(&o, "axis", axis);
        node_end(x, &o);
    } else if (strcmp(name, "prelu") == 0) {
        prelu(x, node, out);
    } else if (strcmp(name, "rrelu") == 0) { /* eval: the mean slope */
        node_begin(&o, "LeakyRelu", node->name);
        node_in(&o, in);
        node_out(&o, out);
        attr_float(&o, "alpha", (node->attr.f[0] + node->attr.f[1]) / 2);
        node_end(x, &o);
    } else if (strcmp(name, "swish") == 0) { /* learnable beta: a parameter */
        swish(x, node, in, in_name(x, node, 1), out);
    } else if (strcmp(name, "crelu") == 0) { /* concat(relu(x), relu(-x)) along dim 1 */
        unary(x, "Relu", temp(t, node, "positive"), in, t);
        unary(x, "Neg", temp(u, node, "negated"), in, u);
        unary(x, "Relu", temp(c, node, "negative"), u, c);
        node_begin(&o, "Concat", node->name);
        node_in(&o, t);
        node_in(&o, c);
        node_out(&o, out);
        attr_int(&o, "axis", 1);
        node_end(x, &o);
    } else if (strcmp(name, "maxout") == 0) { /* [N, units * pieces] -> max over pieces */
        int64_t dims[3] = {-1, node->shape.dim[1], node->attr.i[0]};
        binary(x, "Reshape", temp(t, node, "pieces"), in,
               int64s(x, u, node->name, "pieces_shape", dims, 3), t);
        node_begin(&o, "ReduceMax", node->name);
        node_in(&o, t);
        node_out(&o, out);
        attr_ints(&o, "axes", (int64_t[]){2}, 1);
        attr_int(&o, "keepdims", 0);
        node_end(x, &o);
    } else if (strcmp(name, "embedding") == 0) {
        const char *table = in_name(x, node, 1);
        node_begin(&o, "Gather", node->name);
        node_in(&o, table);
        node_in(&o, ids(x, node, t));
        node_out(&o, out);
        attr_int(&o, "axis", 0);
        node_end(x, &o);
    } else if (strcmp(name, "one_hot") == 0) {
        int64_t depth = node->attr.i[0];
        float values[2] = {0, 1};
        snprintf(c, sizeof c, "%s/values", node->name);
        initializer_floats(x, c, (int64_t[]){2}, 1, values, 2);
        node_begin(&o, "OneHot", node->name);
        node_in(&o, ids(x, node, t));
        node_in(&o, int64s(x, u, node->name, "depth", &depth, 1));
        node_in(&o, c);
        node_out(&o, out);
        attr_int(&o, "axis", -1);
        node_end(x, &o);
    } else if (strcmp(name, "recurrent") == 0) {
        recurrent(x, node, node, NULL, out);
    } else {
        refuse(x, node, "no ONNX mapping for this op");
    }
}

/* Ops that are the identity in eval mode keep their input's value. */
static bool passes_through(const nerve_node_data *node)
{
    return strcmp(node->op->name, "dropout") == 0 || strcmp(node->op->name, "dropout2d") == 0 ||
           strcmp(node->op->name, "activation_noise") == 0 ||
           strcmp(node->op->name, "identity") == 0;
}

static void value_info(pb_buf *graph, int field, const char *name, const nerve_shape *shape,
                       int64_t batch)
{
    pb_buf dims = {0}, tensor = {0}, type = {0}, info = {0};
    for (int d = 0; d < shape->ndim; d++) {
        pb_buf dim = {0};
        if (d == 0 && batch == 0)
            pb_field_string(&dim, ONNX_DIM_PARAM, "N");
        else
            pb_field_int64(&dim, ONNX_DIM_VALUE, d == 0 ? batch : shape->dim[d]);
        pb_field_message(&dims, ONNX_SHAPE_DIM, &dim);
    }
    pb_field_varint(&tensor, ONNX_TENSOR_TYPE_ELEM, ONNX_FLOAT);
    pb_field_message(&tensor, ONNX_TENSOR_TYPE_SHAPE, &dims);
    pb_field_message(&type, ONNX_TYPE_TENSOR, &tensor);
    pb_field_string(&info, ONNX_VALUE_NAME, name);
    pb_field_message(&info, ONNX_VALUE_TYPE, &type);
    pb_field_message(graph, field, &info);
}

static void metadata(pb_buf *model, const char *key, const char *value)
{
    pb_buf entry = {0};
    pb_field_string(&entry, ONNX_ENTRY_KEY, key);
    pb_field_string(&entry, ONNX_ENTRY_VALUE, value);
    pb_field_message(model, ONNX_MODEL_METADATA, &entry);
}

/* The normalisation, as Mul and Add after the raw input; the value the
 * first layer reads. */
static void normalization(exporter *x, nerve_model *m, int input)
{
    double gain, offset;
    nerve_model_input_transform(m, &gain, &offset);
    if (x->o->no_normalize || (gain == 1 && offset == 0)) return;
    char k[VALUE_NAME_MAX], scaled[VALUE_NAME_MAX] = "input/scaled";
    binary(x, "Mul", "input/scale", "input", scalar(x, k, "input", "gain", gain), scaled);
    snprintf(x->names[input], VALUE_NAME_MAX, "input/normalized");
    binary(x, "Add", "input/normalize", scaled, scalar(x, k, "input", "offset", offset),
           x->names[input]);
}

static void model_metadata(pb_buf *model, nerve_model *m, const nerve_onnx_export_options *o,
                           bool probabilities)
{
    char text[128];
    double gain, offset;
    nerve_model_input_transform(m, &gain, &offset);
    metadata(model, "nerve_version", NERVE_VERSION);
    metadata(model, "loss", nerve_loss_name(m->settings.loss));
    metadata(model, "output", probabilities ? "probabilities"
                              : o->logits   ? "logits"
                                            : "outputs");
    snprintf(text, sizeof text, "%d", m->classes);
    metadata(model, "classes", text);
    snprintf(text, sizeof text, "%.9g", gain);
    metadata(model, "input_gain", text);
    snprintf(text, sizeof text, "%.9g", offset);
    metadata(model, "input_offset", text);
    metadata(model, "normalization",
             o->no_normalize ? "not included: feed input * input_gain + input_offset"
                             : "included: feed the raw values (input_gain, input_offset applied)");
    if (m->vocab.size > 0) {
        char *chars = nerve_vocab_to_utf8(&m->vocab);
        if (chars) metadata(model, "vocabulary", chars);
        free(chars);
    }
    /* The class names, as the weights keep them: a JSON array, class 0's first. */
    if (nerve_model_class_name(m, 0)) {
        json_t *names = json_array();
        for (int c = 0; names && c < m->classes; c++)
            json_array_append_new(names, json_string(nerve_model_class_name(m, c)));
        char *list = names ? json_dumps(names, JSON_COMPACT) : NULL;
        if (list) metadata(model, "class_names", list);
        free(list);
        json_decref(names);
    }
}

/* Marks the nodes `target` depends on. */
static void mark_needed(const nerve_graph *g, int target, bool *needed)
{
    needed[target] = true;
    for (int i = target; i >= 0; i--) {
        if (!needed[i]) continue;
        for (int k = 0; k < g->nodes[i].input_count; k++)
            if (g->nodes[i].input[k] >= 0) needed[g->nodes[i].input[k]] = true;
    }
}

nerve_status nerve_model_export_onnx_buffer(nerve_model *m, const nerve_onnx_export_options *options,
                                            unsigned char **data, size_t *size, nerve_error *err)
{
    nerve_onnx_export_options o = options ? *options : (nerve_onnx_export_options){0};
    if (o.opset == 0) o.opset = ONNX_OPSET_DEFAULT;
    if (o.opset < ONNX_OPSET_MIN || o.opset > ONNX_OPSET_MAX)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "onnx export: opset %d is not supported (%d to %d)", o.opset,
                               ONNX_OPSET_MIN, ONNX_OPSET_MAX);
    if (o.batch < 0)
        return nerve_error_set(err, NERVE_ERR_INVALID, "onnx export: batch %lld is negative",
                               (long long)o.batch);
    nerve_graph *g = m->graph;
    int target = o.logits ? m->output : m->prediction;
    bool probabilities = !o.logits && m->prediction != m->output;
    exporter x = {.g = g, .o = &o, .err = err};
    x.names = calloc((size_t)g->node_count, sizeof *x.names);
    x.initialized = calloc((size_t)g->node_count, sizeof *x.initialized);
    bool *needed = calloc((size_t)g->node_count, sizeof *needed);
    if (!x.names || !x.initialized || !needed) {
        free(x.names);
        free(x.initialized);
        free(needed);
        return nerve_error_set(err, NERVE_ERR_NOMEM, "onnx export: out of memory");
    }
    mark_needed(g, target, needed);
    int *uses = calloc((size_t)g->node_count, sizeof *uses);
    bool *paired = calloc((size_t)g->node_count, sizeof *paired);
    for (int i = 0; uses && i < g->node_count; i++)
        for (int k = 0; needed[i] && k < g->nodes[i].input_count; k++)
            if (g->nodes[i].input[k] >= 0) uses[g->nodes[i].input[k]]++;
    for (int i = 0; uses && paired && i < g->node_count; i++) {
        const nerve_node_data *fw, *bw;
        if (needed[i] && g->nodes[i].kind == NERVE_NODE_OP &&
            direction_pair(&x, &g->nodes[i], uses, &fw, &bw))
            paired[fw - g->nodes] = paired[bw - g->nodes] = true;
    }
    if (!uses || !paired)
        x.status = nerve_error_set(err, NERVE_ERR_NOMEM, "onnx export: out of memory");
    for (int i = 0; i < g->node_count; i++) {
        nerve_node_data *node = &g->nodes[i];
        snprintf(x.names[i], VALUE_NAME_MAX, "%s", node->name);
        if (!needed[i] || x.status) continue;
        if (node->kind == NERVE_NODE_INPUT && i != m->input) {
            x.status = nerve_error_set(err, NERVE_ERR_INVALID,
                                       "onnx export: the output depends on input '%s', which "
                                       "is not the network input",
                                       node->name);
        } else if (node->kind == NERVE_NODE_INPUT) {
            normalization(&x, m, i);
        } else if (node->kind == NERVE_NODE_PARAM && !node->value) {
            x.status = nerve_error_set(err, NERVE_ERR_INVALID,
                                       "onnx export: parameter '%s' has no values yet (plan the "
                                       "graph or load weights first)",
                                       node->name);
        } else if (node->kind == NERVE_NODE_OP && paired[i]) {
            continue; /* written with the concat that joins the two directions */
        } else if (node->kind == NERVE_NODE_OP && paired[node->input[0]]) {
            recurrent(&x, node, &g->nodes[node->input[0]], &g->nodes[node->input[1]], node->name);
        } else if (node->kind == NERVE_NODE_OP && passes_through(node)) {
            memcpy(x.names[i], x.names[node->input[0]], VALUE_NAME_MAX);
        } else if (node->kind == NERVE_NODE_OP) {
            op(&x, node);
        }
    }
    const char *output = probabilities ? "probabilities" : "output";
    if (!x.status && strcmp(x.names[target], output) != 0)
        unary(&x, "Identity", output, x.names[target], output);

    pb_buf graph = {0}, model = {0}, opset = {0};
    if (!x.status) {
        pb_raw(&graph, x.nodes.data, x.nodes.len);
        pb_field_string(&graph, ONNX_GRAPH_NAME, "nerve");
        pb_raw(&graph, x.initializers.data, x.initializers.len);
        value_info(&graph, ONNX_GRAPH_INPUT, "input", &g->nodes[m->input].shape, o.batch);
        value_info(&graph, ONNX_GRAPH_OUTPUT, output, &g->nodes[target].shape, o.batch);
        if (x.nodes.failed || x.initializers.failed) graph.failed = true;
        pb_field_int64(&model, ONNX_MODEL_IR_VERSION, ONNX_IR_VERSION);
        pb_field_string(&model, ONNX_MODEL_PRODUCER_NAME, "nerve");
        pb_field_string(&model, ONNX_MODEL_PRODUCER_VERSION, NERVE_VERSION);
        pb_field_message(&model, ONNX_MODEL_GRAPH, &graph);
        pb_field_string(&opset, ONNX_OPSET_DOMAIN, "");
        pb_field_int64(&opset, ONNX_OPSET_VERSION, o.opset);
        pb_field_message(&model, ONNX_MODEL_OPSET, &opset);
        model_metadata(&model, m, &o, probabilities);
        if (model.failed)
            x.status = nerve_error_set(err, NERVE_ERR_NOMEM, "onnx export: out of memory");
    }
    pb_buf_free(&x.nodes);
    pb_buf_free(&x.initializers);
    free(x.names);
    free(x.initialized);
    free(needed);
    free(uses);
    free(paired);
    if (x.status) {
        pb_buf_free(&model);
        return x.status;
    }
    *data = model.data;
    *size = model.len;
    return NERVE_OK;
}

nerve_status nerve_model_export_onnx(nerve_model *m, const char *path,
                                     const nerve_onnx_export_options *options, nerve_error *err)
{
    NERVE_OPTIONS_IN(nerve_onnx_export_options, options, batch, "nerve_model_export_onnx",
                     err, NERVE_ERR_INVALID);
    unsigned char *data;
    size_t size;
    nerve_status st = nerve_model_export_onnx_buffer(m, options, &data, &size, err);
    if (st) return st;
    nerve_atomic_file file;
    st = nerve_atomic_file_open(&file, path, err);
    if (st == NERVE_OK) {
        if (fwrite(data, 1, size, file.stream) != size) {
            nerve_atomic_file_abort(&file);
            st = nerve_error_set(err, NERVE_ERR_IO, "%s: write failed", path);
        } else {
            st = nerve_atomic_file_commit(&file, err);
        }
    }
    free(data);
    return st;
}
