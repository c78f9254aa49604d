/* embedding: nn.Embedding's parameter <name>.weight [vocab, dim], its N(0, 1)
 * initialisation and padding_idx, over the embedding op. */
#include <stdio.h>
#include <string.h>

#include "core/options.h"
#include "layers/layer_support.h"

nerve_node nerve_embedding_layer(nerve_graph *g, const char *name, nerve_node ids,
                                 const nerve_embedding_options *o, nerve_rng *rng,
                                 nerve_error *err)
{
    NERVE_OPTIONS_IN(nerve_embedding_options, o, init, "nerve_embedding_layer", err, -1);
    if (o->vocab < 1 || o->dim < 1) {
        nerve_error_set(err, NERVE_ERR_INVALID, "embedding '%s': vocab and dim must be at least 1",
                        name);
        return -1;
    }
    if (o->padding && (o->padding_idx < -o->vocab || o->padding_idx >= o->vocab)) {
        nerve_error_set(err, NERVE_ERR_INVALID, "embedding '%s': padding_idx %lld is outside "
                        "[-%lld, %lld)", name, (long long)o->padding_idx, (long long)o->vocab,
                        (long long)o->vocab);
        return -1;
    }
    /* torch counts a negative padding_idx from the end. */
    int64_t padding = !o->padding ? -1 : o->padding_idx < 0 ? o->padding_idx + o->vocab
                                                            : o->padding_idx;
    char pname[NERVE_NAME_MAX + 16];
    snprintf(pname, sizeof pname, "%s.weight", name);
    nerve_node w = nerve_param(g, pname, nerve_shape_2d(o->vocab, o->dim), err);
    if (w < 0) return -1;
    nerve_init init =
        o->init.kind == NERVE_INIT_DEFAULT ? nerve_init_of(NERVE_INIT_NORMAL) : o->init;
    if (!nerve_layer_fill_param(g, w, &init, rng, err)) return -1;
    /* nn.Embedding.reset_parameters zeroes the padding row after drawing. */
    if (padding >= 0 &&
        nerve_graph_pass_error(g, nerve_graph_zero(g, nerve_node_value(g, w) + padding * o->dim,
                                                   o->dim),
                               err) != NERVE_OK)
        return -1;
    nerve_node y = nerve_embedding(g, ids, w, padding, err);
    if (y < 0 || nerve_graph_rename(g, y, name, err) != NERVE_OK) return -1;
    return y;
}
