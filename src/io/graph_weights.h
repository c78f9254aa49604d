/* Saving a graph's parameters with extra safetensors metadata, for the model
 * layer (which stores its normalisation statistics beside the weights). */
#ifndef NERVE_GRAPH_WEIGHTS_H
#define NERVE_GRAPH_WEIGHTS_H

#include "nerve.h"

/* nerve_graph_save with a NULL-terminated list of metadata key, value pairs. */
nerve_status nerve_graph_save_with_metadata(nerve_graph *g, const char *path,
                                            const char *const *metadata, nerve_error *err);

#endif
