/* Text corpora: UTF-8 files (plain or gzip) read as code points, with every
 * malformed byte, an empty text and a damaged gzip file named; the
 * vocabulary and its ids; the two cuts (stream lanes, windows) laid out as
 * documented; the unigram and bigram baselines against values computed by
 * hand; [data] format = text in a model, its vocabulary kept in the weights,
 * and the one-line errors of texts that cannot be used. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "test_support.h"

static const char *write_text(const char *name, const char *bytes, size_t size)
{
    const char *path = test_tmppath(name);
    test_write_file(path, bytes, size);
    return path;
}

static const char *write_gzip(const char *name, const char *text)
{
    const char *path = test_tmppath(name);
    gzFile f = gzopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(gzwrite(f, text, (unsigned)strlen(text)), (int)strlen(text));
    assert_int_equal(gzclose(f), Z_OK);
    return path;
}

static void assert_chars(const nerve_text *t, const uint32_t *expected, int64_t count)
{
    assert_int_equal(t->length, count);
    for (int64_t i = 0; i < count; i++) assert_int_equal(t->chars[i], expected[i]);
}

static void assert_load_fails(const char *path, const char *phrase)
{
    nerve_text t;
    nerve_error err = {0};
    assert_int_not_equal(nerve_text_load(path, &t, &err), NERVE_OK);
    test_assert_message_contains(&err, path);
    test_assert_message_contains(&err, phrase);
    assert_null(t.chars);
    assert_null(strchr(err.message, '\n'));
}

static void test_ascii_and_multibyte_characters_become_code_points(void **state)
{
    /* a, e-acute (2 bytes), the euro sign (3), G clef (4), a newline */
    const char bytes[] = "a\xC3\xA9\xE2\x82\xAC\xF0\x9D\x84\x9E\n";
    nerve_text t;
    nerve_error err = {0};
    test_require_ok(nerve_text_load(write_text("utf8.txt", bytes, sizeof bytes - 1), &t, &err),
                    &err);
    assert_chars(&t, (const uint32_t[]){'a', 0xE9, 0x20AC, 0x1D11E, '\n'}, 5);
    char encoded[16] = {0}, *end = encoded;
    for (int64_t i = 0; i < t.length; i++) end += nerve_utf8_encode(t.chars[i], end);
    assert_string_equal(encoded, bytes);
    nerve_text_free(&t);
}

static void test_a_byte_order_mark_is_dropped(void **state)
{
    nerve_text t;
    nerve_error err = {0};
    test_require_ok(nerve_text_load(write_text("bom.txt", "\xEF\xBB\xBFhi", 5), &t, &err), &err);
    assert_chars(&t, (const uint32_t[]){'h', 'i'}, 2);
    nerve_text_free(&t);
}

static void test_invalid_utf8_is_named_by_line_and_byte_offset(void **state)
{
    static const struct {
        const char *bytes;
        size_t size;
        const char *where, *why;
    } cases[] = {
        {"ab\ncd\x80", 6, ":2: invalid UTF-8 at byte offset 5", "continuation byte"},
        {"x\xC0\xAF", 3, ":1: invalid UTF-8 at byte offset 1", "overlong"},
        {"\xED\xA0\x80", 3, "byte offset 0", "surrogate"},
        {"\xF4\x90\x80\x80", 4, "byte offset 0", "above U+10FFFF"},
        {"\n\n\xE2\x82", 4, ":3: invalid UTF-8 at byte offset 2", "cut short"},
        {"\xE2(x", 3, "byte offset 0", "cut short"},
        {"\xFF", 1, "byte offset 0", "never occurs"},
        {"a\0b", 3, "byte offset 1", "NUL byte"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *path = write_text("bad.txt", cases[i].bytes, cases[i].size);
        assert_load_fails(path, cases[i].where);
        assert_load_fails(path, cases[i].why);
    }
}

static void test_gzip_text_reads_as_the_plain_text(void **state)
{
    const char *text = "h\xC3\xA9llo\nworld\n";
    nerve_text plain, packed;
    nerve_error err = {0};
    test_require_ok(nerve_text_load(write_text("plain.txt", text, strlen(text)), &plain, &err),
                    &err);
    test_require_ok(nerve_text_load(write_gzip("packed.txt.gz", text), &packed, &err), &err);
    assert_chars(&packed, plain.chars, plain.length);
    assert_int_equal(plain.length, 12);
    nerve_text_free(&plain);
    nerve_text_free(&packed);
}

/* The bytes of a gzip file of a long text. */
static unsigned char *gzip_bytes(size_t *size)
{
    char text[20000];
    for (size_t i = 0; i < sizeof text - 1; i++) text[i] = (char)('a' + (i * 7919 % 26));
    text[sizeof text - 1] = 0;
    const char *path = write_gzip("long.gz", text);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char *bytes = malloc(1 << 16);
    *size = fread(bytes, 1, 1 << 16, f);
    fclose(f);
    return bytes;
}

static void test_damaged_gzip_is_an_error(void **state)
{
    size_t size;
    unsigned char *bytes = gzip_bytes(&size);
    assert_true(size > 100);
    assert_load_fails(write_text("cut.gz", (const char *)bytes, size / 2), "cut short");
    bytes[size / 2] ^= 0xFF;
    bytes[size / 2 + 1] ^= 0xFF;
    assert_load_fails(write_text("corrupt.gz", (const char *)bytes, size), "gzip");
    free(bytes);
}

static void test_empty_and_missing_files_are_errors(void **state)
{
    assert_load_fails(write_text("empty.txt", "", 0), "the text is empty");
    assert_load_fails(write_text("bom-only.txt", "\xEF\xBB\xBF", 3), "the text is empty");
    assert_load_fails(write_gzip("empty.gz", ""), "the text is empty");
    assert_load_fails(test_tmppath("missing.txt"), "cannot open");
}

static nerve_text text_of(const char *utf8)
{
    nerve_text t;
    nerve_error err = {0};
    test_require_ok(nerve_text_decode(utf8, strlen(utf8), "text", &t, &err), &err);
    return t;
}

static void test_the_vocabulary_is_the_sorted_distinct_characters(void **state)
{
    nerve_text t = text_of("banana \xE2\x82\xAC!");
    nerve_vocab v;
    nerve_error err = {0};
    test_require_ok(nerve_vocab_build(&t, &v, &err), &err);
    const uint32_t expected[] = {' ', '!', 'a', 'b', 'n', 0x20AC};
    assert_int_equal(v.size, 6);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(v.chars[i], expected[i]);
        assert_int_equal(nerve_vocab_id(&v, expected[i]), i);
    }
    assert_int_equal(nerve_vocab_id(&v, 'c'), -1);
    float ids[9];
    assert_int_equal(nerve_vocab_encode(&v, t.chars, t.length, ids), -1);
    const float expected_ids[] = {3, 2, 4, 2, 4, 2, 0, 5, 1};
    for (int i = 0; i < 9; i++) assert_true(ids[i] == expected_ids[i]);
    nerve_text other = text_of("ban!c");
    assert_int_equal(nerve_vocab_encode(&v, other.chars, other.length, ids), 4);

    char *utf8 = nerve_vocab_to_utf8(&v);
    assert_string_equal(utf8, " !abn\xE2\x82\xAC");
    nerve_vocab back;
    test_require_ok(nerve_vocab_from_utf8(utf8, "meta", &back, &err), &err);
    assert_true(nerve_vocab_equal(&v, &back));
    free(utf8);
    nerve_vocab_free(&back);
    assert_int_equal(nerve_vocab_from_utf8("ba", "meta", &back, &err), NERVE_ERR_FORMAT);
    test_assert_message_contains(&err, "meta: the vocabulary's characters must increase");
    assert_int_equal(nerve_vocab_from_utf8("aa", "meta", &back, &err), NERVE_ERR_FORMAT);
    assert_int_equal(nerve_vocab_from_utf8("", "meta", &back, &err), NERVE_ERR_FORMAT);
    test_assert_message_contains(&err, "empty");

    char described[32];
    assert_string_equal(nerve_char_describe('x', described, sizeof described), "'x' (U+0078)");
    assert_string_equal(nerve_char_describe('\n', described, sizeof described), "U+000A");
    nerve_text_free(&t);
    nerve_text_free(&other);
    nerve_vocab_free(&v);
}

/* ids[i] = i: a sample's values say where in the text it was cut from. */
static float *counting_ids(int64_t length)
{
    float *ids = malloc((size_t)length * sizeof *ids);
    for (int64_t i = 0; i < length; i++) ids[i] = (float)i;
    return ids;
}

/* 23 characters, 2 lanes of 3 steps: each lane holds 22 / 2 / 3 = 3 chunks,
 * 9 characters, lane 1 starting at 9; sample 2j + b is chunk j of lane b and
 * its targets are the inputs moved on by one. */
static void test_stream_lanes_hold_contiguous_chunks_in_batch_order(void **state)
{
    float *ids = counting_ids(23);
    nerve_dataset ds;
    nerve_error err = {0};
    test_require_ok(nerve_text_stream(ids, 23, 2, 3, 40, "text", &ds, &err), &err);
    assert_int_equal(ds.count, 6);
    assert_int_equal(ds.lanes, 2);
    assert_int_equal(ds.sample_size, 3);
    assert_int_equal(ds.target_size, 3);
    assert_int_equal(ds.num_classes, 40);
    for (int64_t j = 0; j < 3; j++)
        for (int64_t b = 0; b < 2; b++)
            for (int64_t t = 0; t < 3; t++) {
                int64_t s = j * 2 + b;
                assert_true(ds.inputs[s * 3 + t] == (float)(b * 9 + j * 3 + t));
                assert_true(ds.targets[s * 3 + t] == (float)(b * 9 + j * 3 + t + 1));
            }
    nerve_dataset_free(&ds);
    /* 6 characters cannot give 2 lanes a chunk of 3 and the next character. */
    assert_int_equal(nerve_text_stream(ids, 6, 2, 3, 40, "short.txt", &ds, &err),
                     NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "short.txt: 6 characters are too few for 2 lanes of 3 "
                                       "steps (at least 7)");
    free(ids);
}

static void test_windows_are_consecutive_independent_samples(void **state)
{
    float *ids = counting_ids(11);
    nerve_dataset ds;
    nerve_error err = {0};
    test_require_ok(nerve_text_windows(ids, 11, 3, 11, "text", &ds, &err), &err);
    assert_int_equal(ds.count, 3);
    assert_int_equal(ds.lanes, 0);
    for (int64_t i = 0; i < 9; i++) {
        assert_true(ds.inputs[i] == (float)i);
        assert_true(ds.targets[i] == (float)(i + 1));
    }
    nerve_dataset_free(&ds);
    assert_int_equal(nerve_text_windows(ids, 3, 3, 11, "tiny.txt", &ds, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "tiny.txt: 3 characters are too few for a window of 3");
    free(ids);
}

/* Training "aab" (V = 3: a, b, c), scoring "abc": the scored characters are
 * b after a and c after b.
 * unigram: P(b) = (1 + 1) / (3 + 3), P(c) = (0 + 1) / 6;
 * bigram: the pairs aa, ab give P(b | a) = (1 + 1) / (2 + 3) and
 * P(c | b) = (0 + 1) / (0 + 3). */
static void test_baselines_match_add_one_smoothing_by_hand(void **state)
{
    const float train[] = {0, 0, 1}, scored[] = {0, 1, 2};
    nerve_text_baseline b;
    nerve_error err = {0};
    test_require_ok(nerve_text_baselines(train, 3, scored, 3, 3, &b, &err), &err);
    assert_float_equal(b.unigram, -(log(2.0 / 6) + log(1.0 / 6)) / 2, 1e-12);
    assert_float_equal(b.bigram, -(log(2.0 / 5) + log(1.0 / 3)) / 2, 1e-12);
    assert_int_equal(nerve_text_baselines(train, 3, scored, 1, 3, &b, &err), NERVE_ERR_INVALID);
}

static const char *write_cfg(const char *text)
{
    return write_text("text.cfg", text, strlen(text));
}

/* Models of the data, not of language: with one token per sample, a dense
 * layer of a logit per character (up to 8 characters); with more, the ids read as
 * numbers by a dense layer of one output per step (mse), which fits any
 * window without the sequence layers. */
#define ONE_STEP "[dense]\nunits = 8\n"
#define STEPS(n) "[loss]\ntype = mse\n[dense]\nunits = " #n "\n"

static nerve_model *text_model(const char *train_path, const char *net_and_data,
                               const char *layers)
{
    char cfg[2048];
    snprintf(cfg, sizeof cfg, "%s\ntrain = %s\n[optimizer]\nlr = 0.1\n%s", net_and_data,
             train_path, layers);
    nerve_model *m;
    nerve_error err = {0};
    test_require_ok(nerve_model_load(write_cfg(cfg), NULL, &m, &err), &err);
    return m;
}

/* "abcd" repeated, then "abc": 4 * repeats + 3 characters of 4 kinds. */
static const char *write_abcd(int repeats)
{
    static char text[4096];
    int n = 0;
    for (int r = 0; r < repeats; r++) n += snprintf(text + n, sizeof text - n, "abcd");
    text[n++] = 'a';
    text[n++] = 'b';
    text[n++] = 'c';
    return write_text("abcd.txt", text, (size_t)n);
}

static void test_a_text_model_gets_its_vocabulary_cuts_and_baselines(void **state)
{
    const char *path = write_abcd(50);
    nerve_model *m = text_model(path, "[net]\nbptt = 1\nbatch = 4\n"
                                      "[data]\nformat = text\nvalidation = 41", ONE_STEP);
    nerve_dataset train, val;
    nerve_error err = {0};
    test_require_ok(nerve_model_load_data(m, &train, &val, NULL, &err), &err);
    assert_int_equal(nerve_model_vocab(m)->size, 4);
    /* 162 training characters: 4 lanes of 161 / 4 = 40 steps; 41 held out:
     * 40 / 1 = 40 lanes would do, capped at the batch's 4, 10 chunks each. */
    assert_int_equal(train.lanes, 4);
    assert_int_equal(train.count, 160);
    assert_int_equal(val.lanes, 4);
    assert_int_equal(val.count, 40);
    assert_int_equal(train.num_classes, 4);
    nerve_text_baseline b;
    assert_true(nerve_model_text_baseline(m, &b));
    assert_true(b.held_out);
    /* The text is perfectly predictable from the previous character: the
     * bigram's smoothed probability is (40 + 1) / (40 + 4) or close. */
    assert_true(b.bigram < 0.1);
    assert_float_equal(b.unigram, log(4.0), 0.01);
    nerve_dataset_free(&train);
    nerve_dataset_free(&val);
    nerve_model_free(m);

    m = text_model(path, "[net]\ninput = 5\nbatch = 4\n[data]\nformat = text", STEPS(5));
    test_require_ok(nerve_model_load_data(m, &train, NULL, NULL, &err), &err);
    assert_int_equal(train.lanes, 0);
    assert_int_equal(train.count, 202 / 5);
    assert_true(nerve_model_text_baseline(m, &b));
    assert_false(b.held_out);
    nerve_dataset_free(&train);
    nerve_model_free(m);
}

/* Quotes, backslashes, control and non-ASCII characters survive the JSON of
 * the safetensors header. */
static void test_the_vocabulary_travels_with_the_weights(void **state)
{
    const char *text = "ab\"\\\t\n\xC3\xA9" "ab\"\\\t\n\xC3\xA9" "ab\"\\\t\n\xC3\xA9";
    const char *path = write_text("escapes.txt", text, strlen(text));
    nerve_model *m = text_model(path, "[net]\nbptt = 1\nbatch = 2\n[data]\nformat = text",
                                ONE_STEP);
    nerve_dataset train;
    nerve_error err = {0};
    test_require_ok(nerve_model_load_data(m, &train, NULL, NULL, &err), &err);
    test_require_ok(nerve_graph_plan(nerve_model_graph(m), 1, &err), &err);
    const char *weights = test_tmppath("text.safetensors");
    test_require_ok(nerve_model_save_weights(m, weights, &err), &err);

    nerve_model *loaded = text_model(path, "[net]\nbptt = 1\nbatch = 2\n[data]\nformat = text",
                                     ONE_STEP);
    assert_int_equal(nerve_model_vocab(loaded)->size, 0);
    test_require_ok(nerve_graph_plan(nerve_model_graph(loaded), 1, &err), &err);
    test_require_ok(nerve_model_load_weights(loaded, weights, &err), &err);
    assert_true(nerve_vocab_equal(nerve_model_vocab(loaded), nerve_model_vocab(m)));

    /* A train file with other characters does not fit those weights. */
    const char *other = write_text("other.txt", "xyzxyzxyz", 9);
    nerve_model_free(loaded);
    loaded = text_model(other, "[net]\nbptt = 1\nbatch = 2\n[data]\nformat = text", ONE_STEP);
    test_require_ok(nerve_graph_plan(nerve_model_graph(loaded), 1, &err), &err);
    test_require_ok(nerve_model_load_weights(loaded, weights, &err), &err);
    nerve_dataset again;
    assert_int_equal(nerve_model_load_data(loaded, &again, NULL, NULL, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "its 3 distinct characters differ from the 7 of the "
                                       "vocabulary in the weights");
    nerve_dataset_free(&train);
    nerve_model_free(loaded);
    nerve_model_free(m);
}

/* Loads data for a model of the given sections and expects an error naming phrase. */
static void assert_data_rejected(const char *train_path, const char *sections,
                                 const char *layers, const char *phrase)
{
    nerve_model *m = text_model(train_path, sections, layers);
    nerve_dataset train, val;
    nerve_error err = {0};
    assert_int_not_equal(nerve_model_load_data(m, &train, &val, NULL, &err), NERVE_OK);
    test_assert_message_contains(&err, phrase);
    assert_null(strchr(err.message, '\n'));
    assert_null(train.inputs);
    assert_null(val.inputs);
    nerve_model_free(m);
}

static void test_texts_that_cannot_be_used_are_one_line_errors(void **state)
{
    const char *abcd = write_abcd(5); /* 23 characters */
    const char *same = write_text("same.txt", "aaaaaaaa", 8);
    char phrase[600];
    snprintf(phrase, sizeof phrase, "%s: the text has a single distinct character", same);
    assert_data_rejected(same, "[net]\ninput = 2\n[data]\nformat = text", STEPS(2), phrase);
    assert_data_rejected(abcd, "[net]\ninput = 2\n[data]\nformat = text\nvalidation = 23",
                         STEPS(2), "[data] validation = 23 characters leaves nothing to train on");
    snprintf(phrase, sizeof phrase, "%s: 23 characters are too few for a window of 30", abcd);
    assert_data_rejected(abcd, "[net]\ninput = 30\n[data]\nformat = text", STEPS(30), phrase);
    snprintf(phrase, sizeof phrase, "%s: 23 characters are too few for 4 lanes of 8 steps", abcd);
    assert_data_rejected(abcd, "[net]\nbptt = 8\nbatch = 4\n[data]\nformat = text", STEPS(8),
                         phrase);
    assert_data_rejected(abcd, "[net]\nbptt = 8\nbatch = 2\n[data]\nformat = text\n"
                               "validation = 5", STEPS(8),
                         "(its last 5 characters, [data] validation): 5 characters are too few");
}

static void assert_cfg_rejected(const char *cfg, const char *phrase)
{
    nerve_model *m;
    nerve_error err = {0};
    assert_int_equal(nerve_model_load(write_cfg(cfg), NULL, &m, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, phrase);
}

static void test_bptt_settings_are_checked_where_they_are_written(void **state)
{
    assert_cfg_rejected("[net]\nbptt = 4\n[data]\nformat = csv\n[dense]\nunits = 2\n",
                        "text.cfg:2: [net] bptt: cuts a text stream into lanes: it needs "
                        "[data] format = text");
    assert_cfg_rejected("[net]\nbptt = 4\nbatch = full\n[data]\nformat = text\n"
                        "[dense]\nunits = 2\n", "text.cfg:2: [net] bptt: makes every batch row");
    assert_cfg_rejected("[net]\nbptt = 4\ninput = 5\n[data]\nformat = text\n[dense]\nunits = 2\n",
                        "text.cfg:3: [net] input: a stream sample is bptt = 4 token ids");
    assert_cfg_rejected("[net]\ninput = 4\n[data]\nformat = text\nheader = 1\n[dense]\nunits = 2\n",
                        "text.cfg:5: [data] header: only applies to [data] format csv");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ascii_and_multibyte_characters_become_code_points),
        cmocka_unit_test(test_a_byte_order_mark_is_dropped),
        cmocka_unit_test(test_invalid_utf8_is_named_by_line_and_byte_offset),
        cmocka_unit_test(test_gzip_text_reads_as_the_plain_text),
        cmocka_unit_test(test_damaged_gzip_is_an_error),
        cmocka_unit_test(test_empty_and_missing_files_are_errors),
        cmocka_unit_test(test_the_vocabulary_is_the_sorted_distinct_characters),
        cmocka_unit_test(test_stream_lanes_hold_contiguous_chunks_in_batch_order),
        cmocka_unit_test(test_windows_are_consecutive_independent_samples),
        cmocka_unit_test(test_baselines_match_add_one_smoothing_by_hand),
        cmocka_unit_test(test_a_text_model_gets_its_vocabulary_cuts_and_baselines),
        cmocka_unit_test(test_the_vocabulary_travels_with_the_weights),
        cmocka_unit_test(test_texts_that_cannot_be_used_are_one_line_errors),
        cmocka_unit_test(test_bptt_settings_are_checked_where_they_are_written),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
