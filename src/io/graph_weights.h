/* Saving and loading a graph's parameters together with extra safetensors
 * metadata, for the model layer (which stores its normalisation statistics
 * beside the weights). */
#ifndef NERVE_GRAPH_WEIGHTS_H
#define NERVE_GRAPH_WEIGHTS_H

#include "nerve.h"

/* nerve_graph_save with a NULL-terminated list of metadata key, value pairs
 * and extra_count more tensors after the parameters (a checkpoint's
 * optimizer state). */
nerve_status nerve_graph_save_with_metadata(nerve_graph *g, const char *path,
                                            const nerve_named_tensor *extra, int extra_count,
                                            const char *const *metadata, nerve_error *err);

/* The metadata key that marks a checkpoint, whose tensors named
 * "optimizer.*" and "state.*" are training state, not parameters: loading
 * weights from a checkpoint skips them. */
#define NERVE_CHECKPOINT_KEY "nerve.checkpoint"

/* nerve_graph_load from a file already open as st (path names it in
 * messages), so that a caller reading the file's metadata opens it once. */
nerve_status nerve_graph_load_from(nerve_graph *g, const nerve_safetensors *st, const char *path,
                                   nerve_error *err);

#endif
