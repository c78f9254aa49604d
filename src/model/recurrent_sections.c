/* The recurrent layer sections [rnn], [lstm] and [gru] (nerve_recurrent_layer):
 * the keys of torch.nn.RNN/LSTM/GRU's constructor, plus return= (the whole
 * sequence or the final state), init=, init_hh= (weight_hh's own, e.g. eye
 * for an IRNN) and bias_init=. */
#include "model/model_internal.h"

#define RECURRENT_SIZE_MAX (1 << 24)
#define RECURRENT_LAYERS_MAX 1024

static nerve_node build_recurrent(nerve_graph *g, const char *name, nerve_node input,
                                  cfg_reader *r, nerve_rng *rng, nerve_recurrent_cell cell,
                                  nerve_error *err)
{
    static const char *const returns[] = {"sequence", "last", NULL};
    static const char *const nonlinearities[] = {"tanh", "relu", NULL};
    nerve_recurrent_options o = nerve_recurrent_options_default(cell, 0);
    int returned, nonlinearity = 0;
    bool bias;
    if (!cfg_read_int(r, "hidden", true, 0, 1, RECURRENT_SIZE_MAX, &o.hidden) ||
        !cfg_read_int(r, "layers", false, 1, 1, RECURRENT_LAYERS_MAX, &o.layers) ||
        !cfg_read_bool(r, "bidirectional", false, &o.bidirectional) ||
        !cfg_read_choice(r, "return", returns, 0, &returned) ||
        !cfg_read_double(r, "dropout", false, 0, 0, 1, &o.dropout) ||
        !cfg_read_bool(r, "bias", true, &bias) || !cfg_read_init(r, "init", &o.init) ||
        !cfg_read_init(r, "init_hh", &o.init_hh) ||
        !cfg_read_bias_init(r, bias, nerve_recurrent_gate_count(cell) * o.hidden, &o.bias_init))
        return -1;
    o.no_bias = !bias;
    if (cell == NERVE_CELL_RNN_TANH &&
        !cfg_read_choice(r, "nonlinearity", nonlinearities, 0, &nonlinearity))
        return -1;
    if (o.dropout >= 1) return cfg_fail(r, "dropout", "must be below 1"), -1;
    /* PyTorch only warns here; a cfg key that does nothing is an error. */
    if (o.dropout > 0 && o.layers == 1)
        return cfg_fail(r, "dropout", "applies between stacked layers: set layers = 2 or more"),
               -1;
    if (cfg_reader_finish(r) != NERVE_OK) return -1;
    o.cell = nonlinearity == 1 ? NERVE_CELL_RNN_RELU : cell;
    o.last = returned == 1;
    return nerve_recurrent_layer(g, name, input, &o, rng, err);
}

nerve_node nerve_rnn_section_build(nerve_graph *g, const char *name, nerve_node input,
                                   cfg_reader *r, nerve_rng *rng, nerve_error *err)
{
    return build_recurrent(g, name, input, r, rng, NERVE_CELL_RNN_TANH, err);
}

nerve_node nerve_lstm_section_build(nerve_graph *g, const char *name, nerve_node input,
                                    cfg_reader *r, nerve_rng *rng, nerve_error *err)
{
    return build_recurrent(g, name, input, r, rng, NERVE_CELL_LSTM, err);
}

nerve_node nerve_gru_section_build(nerve_graph *g, const char *name, nerve_node input,
                                   cfg_reader *r, nerve_rng *rng, nerve_error *err)
{
    return build_recurrent(g, name, input, r, rng, NERVE_CELL_GRU, err);
}
