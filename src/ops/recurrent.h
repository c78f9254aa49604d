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

/* The time steps T of recurrent op node n's input [N, T, F]; 0 if n is not
 * a recurrent op. */
int64_t nerve_recurrent_steps(const nerve_graph *g, nerve_node n);

/* After a backward pass of a graph planned with its state gradients
 * recorded (nerve_graph_set_record_state_gradients): norms[t] = ||dL/dh_t||
 * for t = 0..T-1 in the input's time order (a reverse layer's too), the
 * 2-norm over the batch and the hidden units of the whole gradient reaching
 * the state after step t: its share of the loss through the layer's output
 * and through the later steps. Vanishing gradients over time show as norms
 * falling from the last step back to the first. */
nerve_status nerve_recurrent_state_gradient_norms(nerve_graph *g, nerve_node n, double *norms,
                                                  nerve_error *err);

#endif
