/* Sampling text: temperature 0 takes the most likely character, other
 * temperatures draw from softmax(logits / T) with a seeded generator; a
 * character model fed its prime continues it, one character at a time, and
 * leaves the graph as it found it; what cannot be generated from (no
 * vocabulary, an input longer than one token, an output that is not one
 * logit per character, a prime character outside the vocabulary) is an
 * error naming the problem. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "test_support.h"

static void test_temperature_zero_takes_the_first_largest_logit(void **state)
{
    const nerve_real logits[] = {1, 3, 3, 2};
    nerve_rng rng, untouched;
    nerve_rng_seed(&rng, 5);
    untouched = rng;
    assert_int_equal(nerve_sample_logits(logits, 4, 0, &rng), 1);
    assert_memory_equal(&rng, &untouched, sizeof rng);
}

static void assert_frequencies(const nerve_real *logits, double temperature,
                               const double *expected)
{
    enum { DRAWS = 60000 };
    int64_t counts[3] = {0};
    nerve_rng rng;
    nerve_rng_seed(&rng, 11);
    for (int i = 0; i < DRAWS; i++) counts[nerve_sample_logits(logits, 3, temperature, &rng)]++;
    for (int k = 0; k < 3; k++) assert_float_equal((double)counts[k] / DRAWS, expected[k], 0.01);
}

/* Logits 0, ln 2, ln 4: probabilities 1/7, 2/7, 4/7 at T = 1, and at T = 2
 * the square roots 1, sqrt 2, 2 normalised; a large logit does not overflow. */
static void test_draws_follow_softmax_of_the_logits_over_the_temperature(void **state)
{
    const nerve_real logits[] = {0, (nerve_real)log(2.0), (nerve_real)log(4.0)};
    assert_frequencies(logits, 1, (const double[]){1.0 / 7, 2.0 / 7, 4.0 / 7});
    double total = 1 + sqrt(2.0) + 2;
    assert_frequencies(logits, 2, (const double[]){1 / total, sqrt(2.0) / total, 2 / total});
    const nerve_real shifted[] = {1000, 1000 + (nerve_real)log(2.0), 1000 + (nerve_real)log(4.0)};
    assert_frequencies(shifted, 1, (const double[]){1.0 / 7, 2.0 / 7, 4.0 / 7});
    nerve_rng a, b;
    nerve_rng_seed(&a, 3);
    nerve_rng_seed(&b, 3);
    for (int i = 0; i < 100; i++)
        assert_int_equal(nerve_sample_logits(logits, 3, 1, &a),
                         nerve_sample_logits(logits, 3, 1, &b));
}

/* A model of "abab...": a dense layer on the token id can learn that a is
 * followed by b and b by a (no memory needed). */
static nerve_model *ab_model(const char *net, int units)
{
    char text[1001] = {0};
    for (int i = 0; i < 1000; i++) text[i] = i % 2 ? 'b' : 'a';
    const char *corpus = test_tmppath("ab.txt");
    test_write_file(corpus, text, 1000);
    char cfg[1024];
    snprintf(cfg, sizeof cfg,
             "[net]\n%s\nbatch = 4\nepochs = 5\n[data]\nformat = text\ntrain = %s\n"
             "[optimizer]\nlr = 0.5\nmomentum = 0.9\n[dense]\nunits = %d\n",
             net, corpus, units);
    const char *path = test_tmppath("ab.cfg");
    test_write_file(path, cfg, strlen(cfg));
    nerve_model *m;
    nerve_error err = {0};
    test_require_ok(nerve_model_load(path, NULL, &m, &err), &err);
    return m;
}

static void train(nerve_model *m)
{
    nerve_dataset ds;
    nerve_error err = {0};
    test_require_ok(nerve_model_load_data(m, &ds, NULL, NULL, &err), &err);
    nerve_train_options o = nerve_train_options_from(m);
    test_require_ok(nerve_train(m, &ds, NULL, &o, &err), &err);
    nerve_dataset_free(&ds);
}

typedef struct collected {
    char text[64];
    int length;
} collected;

static void collect(uint32_t c, void *user)
{
    collected *out = user;
    out->length += nerve_utf8_encode(c, out->text + out->length);
}

static void test_a_character_model_continues_its_prime(void **state)
{
    nerve_model *m = ab_model("bptt = 1", 2);
    train(m);
    nerve_graph *g = nerve_model_graph(m);
    nerve_graph_set_training(g, true);
    collected out = {0};
    const uint32_t prime[] = {'b', 'a'};
    nerve_generate_options o = {.prime = prime, .prime_length = 2, .length = 7,
                                .temperature = 0, .seed = 1, .emit = collect, .user = &out};
    nerve_error err = {0};
    test_require_ok(nerve_model_generate(m, &o, &err), &err);
    assert_string_equal(out.text, "babababab");
    assert_true(nerve_graph_training(g));
    assert_false(nerve_graph_carries_state(g));

    /* Without a prime the first character is drawn; a seed repeats a run. */
    collected first = {0}, again = {0};
    o = (nerve_generate_options){.length = 20, .temperature = 1, .seed = 4, .emit = collect,
                                 .user = &first};
    test_require_ok(nerve_model_generate(m, &o, &err), &err);
    o.user = &again;
    test_require_ok(nerve_model_generate(m, &o, &err), &err);
    assert_int_equal(first.length, 20);
    assert_string_equal(first.text, again.text);
    nerve_model_free(m);
}

static void assert_refused(nerve_model *m, const nerve_generate_options *o, const char *phrase)
{
    nerve_error err = {0};
    assert_int_not_equal(nerve_model_generate(m, o, &err), NERVE_OK);
    test_assert_message_contains(&err, phrase);
}

static void test_what_cannot_be_generated_from_is_named(void **state)
{
    const uint32_t prime[] = {'a', 'x'};
    nerve_generate_options o = {.prime = prime, .prime_length = 1, .length = 3};
    nerve_model *m = ab_model("bptt = 1", 2);
    assert_refused(m, &o, "the model has no vocabulary");
    train(m);
    o.prime_length = 2;
    assert_refused(m, &o, "the prime's character 2, 'x' (U+0078), is not in the model's "
                          "vocabulary of 2 characters");
    o.prime_length = 1;
    o.temperature = -1;
    assert_refused(m, &o, "temperature must be finite and >= 0");
    nerve_model_free(m);

    /* The vocabulary given directly: these models need no training to be refused. */
    const nerve_vocab ab = {(uint32_t[]){'a', 'b'}, 2};
    nerve_error err = {0};
    m = ab_model("input = 2", 2);
    test_require_ok(nerve_model_set_vocab(m, &ab, &err), &err);
    o.temperature = 1;
    assert_refused(m, &o, "the network input must be 1 token");
    nerve_model_free(m);

    m = ab_model("bptt = 1", 3);
    test_require_ok(nerve_model_set_vocab(m, &ab, &err), &err);
    assert_refused(m, &o, "the network outputs 3 values per character, the vocabulary has 2");
    nerve_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_temperature_zero_takes_the_first_largest_logit),
        cmocka_unit_test(test_draws_follow_softmax_of_the_logits_over_the_temperature),
        cmocka_unit_test(test_a_character_model_continues_its_prime),
        cmocka_unit_test(test_what_cannot_be_generated_from_is_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
