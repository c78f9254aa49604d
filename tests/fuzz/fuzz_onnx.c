/* ONNX (src/io/onnx_read.c, onnx_import.c, protobuf.c): the wire reader on
 * a ModelProto and on a lone TensorProto, then the importer on any model
 * that parses, and the cfg it writes through nerve's cfg parser. Seeds
 * (tests/fuzz/make_corpus.py): small exports of nerve and torch models and
 * hostile files: truncated, wrong wire types, huge lengths, external data,
 * cycles, subgraphs. */
#include "fuzz_support.h"

#include <stdlib.h>

#include "io/onnx_internal.h"
#include "nerve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nerve_error err = {0};
    onnx_tensor t;
    if (onnx_tensor_parse(data, size, "fuzz.pb", &t, &err) == NERVE_OK) onnx_tensor_free(&t);
    onnx_model model;
    if (onnx_model_parse(data, size, "fuzz.onnx", &model, &err) != NERVE_OK) return 0;
    onnx_import_result r;
    if (onnx_import_model(&model, "fuzz.onnx", NULL, 0, &r, &err) == NERVE_OK) {
        nerve_config *cfg = NULL;
        if (nerve_config_parse(r.cfg, "fuzz.cfg", &cfg, &err) == NERVE_OK) nerve_config_free(cfg);
        onnx_import_result_free(&r);
    }
    onnx_model_free(&model);
    return 0;
}
