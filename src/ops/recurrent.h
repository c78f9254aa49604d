/* For tests and tools that look inside a recurrent op (src/ops/recurrent.c). */
#ifndef NERVE_OPS_RECURRENT_H
#define NERVE_OPS_RECURRENT_H

#include "core/graph_internal.h"

/* The state carried by recurrent op node n, [N, H] for the planned batch:
 * the final state of its last forward (zero after planning and after
 * nerve_graph_reset_state), where the next forward starts when carrying.
 * Returns h and sets *c to an LSTM's cell state (else NULL); NULL if n is
 * not a planned recurrent op. */
nerve_real *nerve_recurrent_state(nerve_graph *g, nerve_node n, nerve_real **c);

#endif
