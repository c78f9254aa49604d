/* nerve/safetensors.h, part of nerve.h (include that, or this part alone): safetensors files,
 * and a graph's parameters saved and loaded as one. */
#ifndef NERVE_PUBLIC_SAFETENSORS_H
#define NERVE_PUBLIC_SAFETENSORS_H

#include "nerve/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- safetensors */

/* A read-only view of a safetensors file. Tensors are exposed as float32
 * data: F32 as stored, F64 (fixtures) and I64 (PyTorch's integer buffers,
 * num_batches_tracked) converted on load; other dtypes are an error naming
 * the tensor. */
typedef struct nerve_safetensors nerve_safetensors;

NERVE_API nerve_status nerve_safetensors_open(const char *path, nerve_safetensors **out,
                                              nerve_error *err);
NERVE_API void nerve_safetensors_close(nerve_safetensors *st);
NERVE_API int nerve_safetensors_count(const nerve_safetensors *st);
NERVE_API const char *nerve_safetensors_name(const nerve_safetensors *st, int i);
/* Returns the tensor's shape and data (float32, owned by st), or NULL if absent. */
NERVE_API const float *nerve_safetensors_get(const nerve_safetensors *st, const char *name,
                                             nerve_shape *shape);
/* The dtype the file stores tensor `name` in ("F32", "F64", "I64"), or NULL
 * if absent. */
NERVE_API const char *nerve_safetensors_dtype(const nerve_safetensors *st, const char *name);
/* The "__metadata__" string value for key, or NULL. */
NERVE_API const char *nerve_safetensors_metadata(const nerve_safetensors *st, const char *key);

/* How a tensor is written. */
typedef enum nerve_dtype {
    NERVE_DTYPE_F32 = 0,
    NERVE_DTYPE_I64  /* the data rounded to the nearest integers */
} nerve_dtype;

/* One tensor to write; a zero dtype is F32. */
typedef struct nerve_named_tensor {
    const char *name;
    nerve_shape shape;
    const float *data;
    nerve_dtype dtype;
} nerve_named_tensor;

/* Writes atomically: a temporary file beside path, fsync, rename. metadata
 * is a NULL-terminated list of key, value pairs (or NULL). */
NERVE_API nerve_status nerve_safetensors_write(const char *path, const nerve_named_tensor *tensors,
                                               int count, const char *const *metadata,
                                               nerve_error *err);

/* Saves every parameter of g under its node name: float32 (F32), integer
 * buffers int64 (I64). */
NERVE_API nerve_status nerve_graph_save(nerve_graph *g, const char *path, nerve_error *err);
/* Loads every parameter of g from path: a missing tensor, a shape that
 * differs or a foreign dtype (I64 for an integer buffer, F32 or F64 for the
 * others) is an error naming the tensor; tensors in the file that g lacks are
 * an error too. Nothing is changed on error. */
NERVE_API nerve_status nerve_graph_load(nerve_graph *g, const char *path, nerve_error *err);

#ifdef __cplusplus
}
#endif
#endif /* NERVE_PUBLIC_SAFETENSORS_H */
