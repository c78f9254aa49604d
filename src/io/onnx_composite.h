/* Recognising nerve's export composites in an ONNX graph (docs/onnx.md):
 * the node chains model/onnx_export.c writes for the activations and layers ONNX
 * has no operator for (GELU, swish, softplus with beta != 1, binary step,
 * CReLU, maxout, divisor_override pooling), and torch.onnx.export's forms of
 * the same functions where they differ (GELU, SiLU, softplus). The importer
 * (onnx_import.c) turns a match back into the nerve layer. */
#ifndef NERVE_ONNX_COMPOSITE_H
#define NERVE_ONNX_COMPOSITE_H

#include <stdbool.h>
#include <stddef.h>

#include "io/onnx.h"

typedef enum onnx_composite_kind {
    ONNX_COMPOSITE_GELU_TANH,
    ONNX_COMPOSITE_GELU,
    ONNX_COMPOSITE_GELU_TORCH,
    ONNX_COMPOSITE_SOFTPLUS,
    ONNX_COMPOSITE_SOFTPLUS_TORCH,
    ONNX_COMPOSITE_SWISH,
    ONNX_COMPOSITE_SILU,
    ONNX_COMPOSITE_BINARY_STEP,
    ONNX_COMPOSITE_CRELU,
    /* the tails of two layers, tried after their first node only */
    ONNX_COMPOSITE_MAXOUT,          /* after the Gemm of the linear map */
    ONNX_COMPOSITE_DIVISOR_OVERRIDE, /* after the AveragePool */
    ONNX_COMPOSITE_COUNT
} onnx_composite_kind;

#define ONNX_COMPOSITE_MAX_STEPS 9
#define ONNX_COMPOSITE_MAX_CONSTANTS 3

typedef struct onnx_composite_match {
    onnx_composite_kind kind;
    int steps;                          /* nodes that fit, in order */
    int node[ONNX_COMPOSITE_MAX_STEPS]; /* their indices in the graph */
    int next;                           /* the node that did not fit; -1: the graph ended */
    /* the constants the composite leaves free (a beta, a threshold, a shape),
     * in the order its nodes read them, and their value names */
    const onnx_tensor *constant[ONNX_COMPOSITE_MAX_CONSTANTS];
    const char *constant_name[ONNX_COMPOSITE_MAX_CONSTANTS];
} onnx_composite_match;

/* The constant a value holds, or NULL when it is not a constant. */
typedef const onnx_tensor *(*onnx_constant_fn)(void *ctx, const char *value);

/* Matches composite `kind` on the nodes from `start` (Constant nodes in
 * between are passed over), reading value `x` as its input. True when every
 * node fits and the values between them are read by those nodes alone;
 * otherwise m->steps says how far it got and m->next where it stopped. */
bool onnx_composite_match_kind(const onnx_graph *g, onnx_composite_kind kind, int start,
                               const char *x, onnx_constant_fn constant, void *ctx,
                               onnx_composite_match *m);

/* The first of the activation composites (the longest first) that matches
 * in full at `start`; or false, with m the one that got furthest (steps 0:
 * none began here). */
bool onnx_composite_find(const onnx_graph *g, int start, const char *x,
                         onnx_constant_fn constant, void *ctx, onnx_composite_match *m);

/* "GELU", and its nodes for messages: "Mul(x, 1/sqrt 2), Erf, Add 1, ...". */
const char *onnx_composite_name(onnx_composite_kind kind);
const char *onnx_composite_nodes(onnx_composite_kind kind);

/* Whether `op` appears in some composite, and then their names ("GELU,
 * swish") in out. */
bool onnx_composite_names_with(const char *op, char *out, size_t size);

#endif
