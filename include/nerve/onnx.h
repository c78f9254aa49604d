/* nerve/onnx.h, part of nerve.h (include that, or this part alone): ONNX export and import
 * (docs/onnx.md). */
#ifndef NERVE_PUBLIC_ONNX_H
#define NERVE_PUBLIC_ONNX_H

#include "nerve/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ONNX (docs/onnx.md). Export writes the network in eval mode as standard
 * ONNX operators, atomically: input "input" [N, sample...] as the data files
 * hold it (the normalisation applied inside unless no_normalize), output
 * "probabilities" (what nerve_predict reports) or, with logits (or for
 * regression), "output". Parameters keep their names. Layers ONNX cannot
 * express are an error naming the layer. */
typedef struct nerve_onnx_export_options {
    int opset;          /* 13..17; 0: 17 */
    bool logits;        /* the last layer's output instead of the prediction */
    bool no_normalize;  /* leave the [data] normalisation to the caller */
    int64_t batch;      /* a fixed batch size; 0: dynamic ("N") */
} nerve_onnx_export_options;
NERVE_API nerve_status nerve_model_export_onnx(nerve_model *m, const char *path,
                                               const nerve_onnx_export_options *options,
                                               nerve_error *err);
/* Import: an ONNX model nerve can express, as a .cfg (cfg_path) and its
 * weights (weights_path, safetensors). Anything else is an error naming the
 * node, its operator and the opset. */
NERVE_API nerve_status nerve_onnx_import(const char *onnx_path, const char *cfg_path,
                                         const char *weights_path, nerve_error *err);

#ifdef __cplusplus
}
#endif
#endif /* NERVE_PUBLIC_ONNX_H */
