/* maxout: a dense layer of units * pieces outputs (nn.Linear's parameters
 * and initialisation) followed by the max over each unit's pieces. */
#include <stdio.h>

#include "core/graph_internal.h"
#include "core/options.h"

nerve_node nerve_maxout(nerve_graph *g, const char *name, nerve_node x,
                        const nerve_maxout_options *options, nerve_rng *rng, nerve_error *err)
{
    NERVE_OPTIONS_IN(nerve_maxout_options, options, init, "nerve_maxout", err, -1);
    const int64_t max_outputs = (int64_t)1 << 24;
    if (options->units < 1 || options->pieces < 1 || options->units > max_outputs ||
        options->pieces > max_outputs / options->units) {
        nerve_error_set(err, NERVE_ERR_INVALID,
                        "maxout '%s': need units >= 1, pieces >= 1 and units * pieces <= 2^24",
                        name);
        return -1;
    }
    /* Every input is flattened, sequences included: the reduction takes [N, units * pieces]. */
    if (nerve_node_shape(g, x).ndim != 2) x = nerve_flatten(g, x, err);
    if (x < 0) return -1;
    nerve_dense_options affine = {.units = options->units * options->pieces,
                                  .init = options->init};
    nerve_node y = nerve_dense(g, name, x, &affine, rng, err);
    if (y < 0) return -1;
    /* The layer's own name goes to its output; the affine map is <name>.affine. */
    char affine_name[NERVE_NAME_MAX + 16];
    snprintf(affine_name, sizeof affine_name, "%s.affine", name);
    if (nerve_graph_rename(g, y, affine_name, err) != NERVE_OK) return -1;
    nerve_node out = nerve_maxout_reduce(g, y, options->pieces, err);
    if (out < 0 || nerve_graph_rename(g, out, name, err) != NERVE_OK) return -1;
    return out;
}
