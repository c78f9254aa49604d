/* Shared by the layer builders (src/layers). */
#ifndef NERVE_LAYER_SUPPORT_H
#define NERVE_LAYER_SUPPORT_H

#include "core/graph_internal.h"

/* Fills parameter p from init, naming it in any error. */
bool nerve_layer_fill_param(nerve_graph *g, nerve_node p, const nerve_init *init, nerve_rng *rng,
                            nerve_error *err);

#endif
