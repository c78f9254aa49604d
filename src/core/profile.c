/* Per-op timing (nerve_graph_set_profiling): where a step's time goes,
 * op by op. Off, the passes read no clock; on, each op's forward and
 * backward (with the zeroing of the gradients it adds into) is bracketed by
 * the clock, after the device has finished it, so an asynchronous device's
 * time lands on the op that spent it. */
#include <time.h>

#include "core/graph_internal.h"

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void nerve_graph_set_profiling(nerve_graph *g, bool on)
{
    g->profiling = on;
    if (!on) return;
    for (int i = 0; i < g->node_count; i++)
        g->nodes[i].profile_seconds[0] = g->nodes[i].profile_seconds[1] = 0;
}

void nerve_node_profile(const nerve_graph *g, nerve_node n, double *forward_seconds,
                        double *backward_seconds)
{
    bool valid = n >= 0 && n < g->node_count;
    if (forward_seconds) *forward_seconds = valid ? g->nodes[n].profile_seconds[0] : 0;
    if (backward_seconds) *backward_seconds = valid ? g->nodes[n].profile_seconds[1] : 0;
}

double nerve_profile_start(nerve_graph *g) { return g->profiling ? seconds_now() : 0; }

nerve_status nerve_profile_stop(nerve_graph *g, nerve_node_data *n, int pass, double start,
                                nerve_status status)
{
    if (!g->profiling || status != NERVE_OK) return status;
    status = g->device->synchronize(&g->ctx);
    n->profile_seconds[pass] += seconds_now() - start;
    return status;
}
