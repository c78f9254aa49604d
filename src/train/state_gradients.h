/* Per-time-step gradient norms of the recurrent layers: ||dL/dh_t|| for
 * every step t of every recurrent op, after chosen training steps, one row
 * of a CSV each (docs/cli.md, "State gradients"). The instrument of the
 * claims that a plain RNN's gradient vanishes back through time while an
 * LSTM's carries (Hochreiter & Schmidhuber 1997; Bengio, Simard & Frasconi
 * 1994; Le et al. 2015's IRNN): vanishing over time, not only over
 * training, which the per-tensor grad_norm columns cannot show. */
#ifndef NERVE_STATE_GRADIENTS_H
#define NERVE_STATE_GRADIENTS_H

#include <stdio.h>

#include "nerve.h"

typedef struct state_gradients {
    FILE *file; /* NULL: not asked for, every call a no-op */
    const char *path;
    nerve_graph *graph;
    nerve_node *ops; /* the recurrent ops, in graph order */
    int op_count;
    double *norms;   /* one op's T norms */
    int64_t every;   /* a row every N steps; 0: at each epoch's last step */
    double start;
} state_gradients;

/* Opens o->state_gradients_path (NULL: nothing) and writes the header;
 * makes the graph record its recurrent ops' state gradients, which it must
 * be planned for afterwards (nerve_graph_set_record_state_gradients). */
nerve_status state_gradients_open(state_gradients *s, const nerve_train_options *o,
                                  nerve_graph *g, nerve_error *err);
/* After a training step's backward (before anything else runs the graph):
 * a row when the step is one of those asked for. */
nerve_status state_gradients_step(state_gradients *s, int epoch, int64_t step, bool epoch_end,
                                  nerve_error *err);
/* Closes the file and stops the recording. */
nerve_status state_gradients_close(state_gradients *s, nerve_error *err);

#endif
