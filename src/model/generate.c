/* Sampling text from a character model one character at a time: the
 * recurrent layers carry their state from each character to the next, so a
 * network trained on chunks of a stream runs on an unbounded text. */
#include <math.h>
#include <stdlib.h>

#include "core/options.h"
#include "model/model_internal.h"

int64_t nerve_sample_logits(const nerve_real *logits, int64_t n, double temperature,
                            nerve_rng *rng)
{
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (logits[i] > logits[best]) best = i;
    if (temperature == 0) return best;
    /* exp((l - max) / T) <= 1: no overflow at any temperature. */
    double total = 0;
    for (int64_t i = 0; i < n; i++)
        total += exp(((double)logits[i] - (double)logits[best]) / temperature);
    double u = nerve_rng_uniform(rng) * total, sum = 0;
    for (int64_t i = 0; i < n; i++) {
        sum += exp(((double)logits[i] - (double)logits[best]) / temperature);
        if (u < sum) return i;
    }
    return best; /* u rounded up to the total */
}

static nerve_status check_model(nerve_model *m, const nerve_generate_options *o,
                                nerve_error *err)
{
    int64_t vocab = m->vocab.size, width = nerve_model_output_size(m);
    if (vocab == 0)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "the model has no vocabulary: load weights that nerve train saved "
                               "from [data] format = text");
    if (nerve_shape_numel(&m->settings.input) != 1)
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "generation feeds one character at a time: the network input must "
                               "be 1 token");
    if (width != vocab)
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "the network outputs %lld values per character, the vocabulary "
                               "has %lld characters", (long long)width, (long long)vocab);
    if (!(o->temperature >= 0 && isfinite(o->temperature)) || o->length < 0 ||
        o->prime_length < 0)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "temperature must be finite and >= 0 and lengths >= 0, got "
                               "temperature %g, length %lld", o->temperature,
                               (long long)o->length);
    for (int64_t i = 0; i < o->prime_length; i++) {
        if (nerve_vocab_id(&m->vocab, o->prime[i]) >= 0) continue;
        char c[32];
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "the prime's character %lld, %s, is not in the model's vocabulary "
                               "of %lld characters", (long long)i + 1,
                               nerve_char_describe(o->prime[i], c, sizeof c), (long long)vocab);
    }
    return NERVE_OK;
}

/* Feeds character id; logits[0..vocab) = those of the character after it
 * (*have set once they are there). */
static nerve_status feed(nerve_model *m, int64_t id, nerve_real *logits, bool *have,
                         nerve_error *err)
{
    nerve_real x = (nerve_real)id;
    nerve_status st = nerve_node_write(m->graph, m->input, &x, 1, err);
    if (st == NERVE_OK) st = nerve_graph_forward(m->graph, m->output, err);
    if (st == NERVE_OK) st = nerve_node_read(m->graph, m->output, logits, m->vocab.size, err);
    *have = st == NERVE_OK;
    return st;
}

nerve_status nerve_model_generate(nerve_model *m, const nerve_generate_options *o,
                                  nerve_error *err)
{
    NERVE_OPTIONS_IN(nerve_generate_options, o, user, "nerve_model_generate",
                     err, NERVE_ERR_INVALID);
    nerve_status st = check_model(m, o, err);
    if (st == NERVE_OK) st = nerve_graph_plan(m->graph, 1, err);
    if (st == NERVE_OK) st = nerve_graph_set_batch(m->graph, 1, err);
    if (st != NERVE_OK) return st;
    nerve_graph *g = m->graph;
    bool was_training = nerve_graph_training(g), carried = nerve_graph_carries_state(g);
    nerve_graph_set_training(g, false);
    nerve_graph_set_carry_state(g, true);
    nerve_graph_reset_state(g);
    nerve_rng rng;
    nerve_rng_seed(&rng, o->seed);
    int64_t vocab = m->vocab.size, id;
    bool have = false;
    nerve_real *logits = malloc((size_t)(vocab > 0 ? vocab : 1) * sizeof *logits);
    if (!logits) st = nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory for the logits");
    for (int64_t i = 0; st == NERVE_OK && i < o->prime_length; i++) {
        id = nerve_vocab_id(&m->vocab, o->prime[i]);
        if (o->emit) o->emit(o->prime[i], o->user);
        st = feed(m, id, logits, &have, err);
    }
    for (int64_t i = 0; st == NERVE_OK && i < o->length; i++) {
        id = have ? nerve_sample_logits(logits, vocab, o->temperature, &rng)
                  : (int64_t)nerve_rng_below(&rng, (uint64_t)vocab);
        if (o->emit) o->emit(m->vocab.chars[id], o->user);
        if (i + 1 < o->length) st = feed(m, id, logits, &have, err);
    }
    free(logits);
    nerve_graph_reset_state(g);
    nerve_graph_set_carry_state(g, carried);
    nerve_graph_set_training(g, was_training);
    return st;
}
