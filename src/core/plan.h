/* The memory plan's layout (plan.c): liveness-based offsets of each node's
 * buffers in the arena. */
#ifndef NERVE_PLAN_H
#define NERVE_PLAN_H

#include "core/graph_internal.h"

/* The arena's alignment in bytes (oneDNN and the vector loops). */
#define NERVE_ALIGNMENT 64

/* Offsets in elements from the arena's start, per node (unused entries 0),
 * and the arena's size. */
typedef struct nerve_plan_layout {
    size_t *value, *grad, *aux;
    size_t workspace;
    size_t total;
} nerve_plan_layout;

/* Lays out g's buffers at their current shapes (capacity, aux_size,
 * workspace_size set): a training plan (values, gradients, state) or a
 * forward-only one (values and state). */
nerve_status nerve_plan_compute(const nerve_graph *g, bool training, nerve_plan_layout *out,
                               nerve_error *err);
void nerve_plan_layout_free(nerve_plan_layout *layout);
/* n rounded up to the arena's alignment, in elements. */
size_t nerve_plan_round(size_t n);
/* The node whose memory node n's value and gradient are (itself unless it
 * is an aliasing op such as flatten). */
int nerve_plan_owner(const nerve_graph *g, int n);

#endif
