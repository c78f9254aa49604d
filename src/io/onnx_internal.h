/* What the ONNX tests and the fuzz target reach besides nerve.h. */
#ifndef NERVE_ONNX_INTERNAL_H
#define NERVE_ONNX_INTERNAL_H

#include "io/onnx.h"

/* nerve_model_export_onnx into a malloc'ed buffer. */
nerve_status nerve_model_export_onnx_buffer(nerve_model *m, const nerve_onnx_export_options *options,
                                            unsigned char **data, size_t *size, nerve_error *err);

/* The importer's result in memory: the cfg text and the weights. */
typedef struct onnx_import_result {
    char *cfg;                   /* malloc'ed */
    nerve_named_tensor *tensors; /* names and data malloc'ed */
    int tensor_count;
    bool normalized;             /* the input is normalised: (x - mean) / std */
    double mean, std;
} onnx_import_result;

/* Converts a parsed model. `bind` (may be NULL) gives values to graph inputs
 * other than the first, which then count as initializers (the node tests
 * feed weights as inputs). */
nerve_status onnx_import_model(const onnx_model *model, const char *source,
                               const onnx_tensor *bind, int bind_count,
                               onnx_import_result *out, nerve_error *err);
void onnx_import_result_free(onnx_import_result *r);
/* Writes the cfg and the weights (the normalisation in their metadata). */
nerve_status onnx_import_write(const onnx_import_result *r, const char *cfg_path,
                               const char *weights_path, nerve_error *err);

#endif
