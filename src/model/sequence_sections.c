/* The layer sections that read token ids: [embedding] and [one_hot] turn
 * the ids of the network's input ([N, T] for sequences of T tokens) into
 * vectors ([N, T, dim] or [N, T, classes]). */
#include <string.h>

#include "model/model_internal.h"

/* Ids are data, not activations: a token layer reads the network's input
 * (the values nerve_model_check_tokens checks). */
static bool reads_network_input(cfg_reader *r, nerve_graph *g, nerve_node input)
{
    if (strcmp(nerve_node_op_name(g, input), "input") == 0) return true;
    return cfg_fail(r, "input", "reads token ids: its input must be the network's input "
                                "(input = input), not layer '%s'", nerve_node_name(g, input));
}

/* nn.Embedding(vocab, dim, padding_idx): <name>.weight [vocab, dim], N(0, 1)
 * unless init= says otherwise. */
nerve_node nerve_embedding_section_build(nerve_graph *g, const char *name, nerve_node input,
                                         cfg_reader *r, nerve_rng *rng, nerve_error *err)
{
    nerve_embedding_options o = {0};
    if (!cfg_read_int(r, "vocab", true, 0, 1, 1 << 24, &o.vocab) ||
        !cfg_read_int(r, "dim", true, 0, 1, 1 << 24, &o.dim))
        return -1;
    o.padding = cfg_has(r, "padding_idx");
    if (!cfg_read_int(r, "padding_idx", false, 0, -o.vocab, o.vocab - 1, &o.padding_idx) ||
        !cfg_read_init(r, "init", &o.init) || !reads_network_input(r, g, input) ||
        cfg_reader_finish(r) != NERVE_OK)
        return -1;
    return nerve_embedding_layer(g, name, input, &o, rng, err);
}

/* F.one_hot(ids, classes), as reals: no parameters. */
nerve_node nerve_one_hot_section_build(nerve_graph *g, const char *name, nerve_node input,
                                       cfg_reader *r, nerve_rng *rng, nerve_error *err)
{
    int64_t classes;
    if (!cfg_read_int(r, "classes", true, 0, 1, 1 << 24, &classes) ||
        !reads_network_input(r, g, input) || cfg_reader_finish(r) != NERVE_OK)
        return -1;
    nerve_node y = nerve_one_hot(g, input, classes, err);
    if (y < 0 || nerve_graph_rename(g, y, name, err) != NERVE_OK) return -1;
    return y;
}
