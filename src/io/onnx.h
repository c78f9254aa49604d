/* ONNX (onnx/onnx.proto, IR version 8): the field numbers and enum values
 * nerve's writer (src/model/onnx_export.c) and reader (onnx_read.c) use, and the
 * reader's in-memory model, which the importer (onnx_import.c) turns into a
 * cfg and a safetensors file. */
#ifndef NERVE_ONNX_H
#define NERVE_ONNX_H

#include <stdbool.h>
#include <stdint.h>

#include "io/protobuf.h"
#include "nerve.h"

#define ONNX_IR_VERSION 8
#define ONNX_OPSET_DEFAULT 17
/* The oldest opset whose Split, Squeeze, Unsqueeze and Softmax the exporter's
 * nodes use as they are, and the newest before ReduceMax took its axes as an
 * input (18). */
#define ONNX_OPSET_MIN 13
#define ONNX_OPSET_MAX 17

enum { /* ModelProto */
    ONNX_MODEL_IR_VERSION = 1, ONNX_MODEL_PRODUCER_NAME = 2, ONNX_MODEL_PRODUCER_VERSION = 3,
    ONNX_MODEL_DOMAIN = 4, ONNX_MODEL_VERSION = 5, ONNX_MODEL_DOC = 6, ONNX_MODEL_GRAPH = 7,
    ONNX_MODEL_OPSET = 8, ONNX_MODEL_METADATA = 14, ONNX_MODEL_TRAINING = 20,
    ONNX_MODEL_FUNCTIONS = 25
};
enum { ONNX_OPSET_DOMAIN = 1, ONNX_OPSET_VERSION = 2 };
enum { ONNX_ENTRY_KEY = 1, ONNX_ENTRY_VALUE = 2 };
enum { /* GraphProto */
    ONNX_GRAPH_NODE = 1, ONNX_GRAPH_NAME = 2, ONNX_GRAPH_INITIALIZER = 5,
    ONNX_GRAPH_INPUT = 11, ONNX_GRAPH_OUTPUT = 12, ONNX_GRAPH_VALUE_INFO = 13,
    ONNX_GRAPH_SPARSE_INITIALIZER = 15
};
enum { /* NodeProto */
    ONNX_NODE_INPUT = 1, ONNX_NODE_OUTPUT = 2, ONNX_NODE_NAME = 3, ONNX_NODE_OP_TYPE = 4,
    ONNX_NODE_ATTRIBUTE = 5, ONNX_NODE_DOMAIN = 7
};
enum { /* AttributeProto */
    ONNX_ATTR_NAME = 1, ONNX_ATTR_F = 2, ONNX_ATTR_I = 3, ONNX_ATTR_S = 4, ONNX_ATTR_T = 5,
    ONNX_ATTR_G = 6, ONNX_ATTR_FLOATS = 7, ONNX_ATTR_INTS = 8, ONNX_ATTR_STRINGS = 9,
    ONNX_ATTR_TYPE = 20
};
enum { /* AttributeProto.AttributeType */
    ONNX_ATTR_TYPE_FLOAT = 1, ONNX_ATTR_TYPE_INT = 2, ONNX_ATTR_TYPE_STRING = 3,
    ONNX_ATTR_TYPE_TENSOR = 4, ONNX_ATTR_TYPE_GRAPH = 5, ONNX_ATTR_TYPE_FLOATS = 6,
    ONNX_ATTR_TYPE_INTS = 7, ONNX_ATTR_TYPE_STRINGS = 8
};
enum { /* TensorProto */
    ONNX_TENSOR_DIMS = 1, ONNX_TENSOR_DATA_TYPE = 2, ONNX_TENSOR_FLOAT_DATA = 4,
    ONNX_TENSOR_INT32_DATA = 5, ONNX_TENSOR_INT64_DATA = 7, ONNX_TENSOR_NAME = 8,
    ONNX_TENSOR_RAW_DATA = 9, ONNX_TENSOR_DOUBLE_DATA = 10, ONNX_TENSOR_EXTERNAL_DATA = 13,
    ONNX_TENSOR_DATA_LOCATION = 14
};
enum { /* TensorProto.DataType */
    ONNX_FLOAT = 1, ONNX_UINT8 = 2, ONNX_INT8 = 3, ONNX_INT32 = 6, ONNX_INT64 = 7,
    ONNX_BOOL = 9, ONNX_DOUBLE = 11
};
enum { ONNX_VALUE_NAME = 1, ONNX_VALUE_TYPE = 2 };        /* ValueInfoProto */
enum { ONNX_TYPE_TENSOR = 1 };                          /* TypeProto */
enum { ONNX_TENSOR_TYPE_ELEM = 1, ONNX_TENSOR_TYPE_SHAPE = 2 }; /* TypeProto.Tensor */
enum { ONNX_SHAPE_DIM = 1 };                            /* TensorShapeProto */
enum { ONNX_DIM_VALUE = 1, ONNX_DIM_PARAM = 2 };        /* TensorShapeProto.Dimension */

/* ---------------------------------------------------------------- the reader's model */

#define ONNX_MAX_DIMS 8

typedef struct onnx_tensor {
    char *name;
    int data_type;
    int ndim;
    int64_t dims[ONNX_MAX_DIMS];
    int64_t count;   /* elements */
    float *f;        /* FLOAT and DOUBLE data, as float */
    int64_t *i;      /* INT64, INT32 and BOOL data, as int64 */
} onnx_tensor;

typedef struct onnx_attr {
    char *name;
    int type;
    float f;
    int64_t i;
    char *s;
    int64_t *ints;
    int64_t ints_count;
    float *floats;
    int64_t floats_count;
    char **strings;
    int64_t strings_count;
    onnx_tensor *t;
} onnx_attr;

typedef struct onnx_node {
    char *name, *op_type, *domain;
    char **inputs, **outputs;   /* "" for an omitted optional input or output */
    int input_count, output_count;
    onnx_attr *attrs;
    int attr_count;
} onnx_node;

typedef struct onnx_value {
    char *name;
    int elem_type;   /* 0: not a tensor, or not given */
    int ndim;        /* -1: no shape given */
    int64_t dims[ONNX_MAX_DIMS]; /* -1 for a symbolic or unknown dimension */
} onnx_value;

typedef struct onnx_graph {
    onnx_node *nodes;
    int node_count;
    onnx_tensor *initializers;
    int initializer_count;
    onnx_value *inputs, *outputs;
    int input_count, output_count;
} onnx_graph;

typedef struct onnx_model {
    int64_t ir_version;
    int64_t opset;     /* of the default domain ("" or "ai.onnx"); 0 if not imported */
    char *producer;
    onnx_graph graph;
    char **metadata;   /* key, value, key, value, ... */
    int metadata_count;
} onnx_model;

/* Parses a ModelProto; what nerve cannot hold (external data, subgraphs,
 * sparse initializers, functions, tensors of other element types) and every
 * malformed byte is an error naming `source` and what is wrong. */
nerve_status onnx_model_parse(const unsigned char *data, size_t size, const char *source,
                              onnx_model *out, nerve_error *err);
nerve_status onnx_model_read(const char *path, onnx_model *out, nerve_error *err);
void onnx_model_free(onnx_model *m);
/* A single TensorProto (the node tests' input_0.pb). */
nerve_status onnx_tensor_parse(const unsigned char *data, size_t size, const char *source,
                               onnx_tensor *out, nerve_error *err);
void onnx_tensor_free(onnx_tensor *t);
const onnx_attr *onnx_node_attr(const onnx_node *n, const char *name);

#endif
