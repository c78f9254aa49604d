#include "io/onnx_internal.h"
nerve_status nerve_onnx_import(const char *onnx_path, const char *cfg_path,
                               const char *weights_path, nerve_error *err)
{
    return nerve_error_set(err, NERVE_ERR_INVALID, "todo");
}
