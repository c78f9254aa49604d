/* [data] format = text: the train file's characters become the model's
 * vocabulary, its last `validation` characters the validation text, and
 * both (and a test file) are cut into samples of the network's input length:
 * lanes of a stream with [net] bptt, independent windows without. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_internal.h"

const nerve_vocab *nerve_model_vocab(const nerve_model *m) { return &m->vocab; }

nerve_status nerve_model_set_vocab(nerve_model *m, const nerve_vocab *vocab, nerve_error *err)
{
    size_t bytes = (size_t)(vocab->size ? vocab->size : 1) * sizeof *vocab->chars;
    uint32_t *chars = malloc(bytes);
    if (!chars) return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory for a vocabulary");
    if (vocab->size) memcpy(chars, vocab->chars, bytes);
    nerve_vocab_free(&m->vocab);
    m->vocab.chars = chars;
    m->vocab.size = vocab->size;
    return NERVE_OK;
}

bool nerve_model_text_baseline(const nerve_model *m, nerve_text_baseline *out)
{
    if (m->has_baseline) *out = m->baseline;
    return m->has_baseline;
}

/* A text's characters as ids of the model's vocabulary. */
static nerve_status encode(const nerve_model *m, const char *path, const nerve_text *text,
                           float **ids, nerve_error *err)
{
    *ids = malloc((size_t)text->length * sizeof **ids);
    if (!*ids)
        return nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory for %lld characters",
                               path, (long long)text->length);
    int64_t unknown = nerve_vocab_encode(&m->vocab, text->chars, text->length, *ids);
    if (unknown < 0) return NERVE_OK;
    free(*ids);
    *ids = NULL;
    char c[32];
    return nerve_error_set(err, NERVE_ERR_INVALID,
                           "%s: character %lld, %s, is not in the vocabulary of the training "
                           "text (%lld characters)",
                           path, (long long)unknown,
                           nerve_char_describe(text->chars[unknown], c, sizeof c),
                           (long long)m->vocab.size);
}

/* The cut of [net] bptt (a stream of `batch` lanes; an evaluation text too
 * short to give each a chunk may have fewer) or of windows. */
static nerve_status cut(const nerve_model *m, const char *name, const float *ids, int64_t length,
                        bool fewer_lanes, nerve_dataset *out, nerve_error *err)
{
    const nerve_model_settings *s = &m->settings;
    int64_t steps = nerve_shape_numel(&s->input), vocab = m->vocab.size;
    nerve_status st;
    if (s->bptt) {
        int64_t lanes = s->batch, fit = length > 1 ? (length - 1) / steps : 0;
        if (fewer_lanes && fit >= 1 && fit < lanes) lanes = fit;
        st = nerve_text_stream(ids, length, lanes, steps, vocab, name, out, err);
    } else {
        st = nerve_text_windows(ids, length, steps, vocab, name, out, err);
    }
    if (st == NERVE_OK) st = nerve_model_check_data(m, name, NULL, out, err);
    if (st != NERVE_OK) nerve_dataset_free(out);
    return st;
}

/* The vocabulary comes from the train file; one the model already has (from
 * weights it starts from) must be the same, or every id would change. */
static nerve_status take_vocab(nerve_model *m, const char *path, const nerve_text *text,
                               nerve_error *err)
{
    nerve_vocab vocab;
    nerve_status st = nerve_vocab_build(text, &vocab, err);
    if (st != NERVE_OK) return st;
    if (vocab.size < 2)
        st = nerve_error_set(err, NERVE_ERR_INVALID,
                             "%s: the text has a single distinct character: nothing to predict",
                             path);
    else if (m->vocab.size && !nerve_vocab_equal(&m->vocab, &vocab))
        st = nerve_error_set(err, NERVE_ERR_INVALID,
                             "%s: its %lld distinct characters differ from the %lld of the "
                             "vocabulary in the weights",
                             path, (long long)vocab.size, (long long)m->vocab.size);
    if (st == NERVE_OK && !m->vocab.size) {
        m->vocab = vocab;
        return NERVE_OK;
    }
    nerve_vocab_free(&vocab);
    return st;
}

static nerve_status load_train(nerve_model *m, nerve_dataset *train, nerve_dataset *val,
                               nerve_error *err)
{
    const nerve_data_settings *d = &m->settings.data;
    nerve_text text;
    float *ids = NULL;
    nerve_status st = nerve_text_load(d->train, &text, err);
    if (st != NERVE_OK) return nerve_model_data_io_error(m, DATA_TRAIN, st, err);
    st = take_vocab(m, d->train, &text, err);
    if (st == NERVE_OK) st = encode(m, d->train, &text, &ids, err);
    int64_t length = text.length, held = d->validation;
    nerve_text_free(&text);
    if (st == NERVE_OK && held >= length)
        st = nerve_error_set(err, NERVE_ERR_INVALID,
                             "[data] validation = %lld characters leaves nothing to train on in "
                             "the %lld characters of %s",
                             (long long)held, (long long)length, d->train);
    nerve_dataset train_set = {0}, val_set = {0};
    if (st == NERVE_OK) st = cut(m, d->train, ids, length - held, false, &train_set, err);
    char val_name[1100];
    snprintf(val_name, sizeof val_name, "%s (its last %lld characters, [data] validation)",
             d->train, (long long)held);
    if (st == NERVE_OK && held > 0)
        st = cut(m, val_name, ids + length - held, held, true, &val_set, err);
    /* Scored on the validation text, or on the training text itself without one. */
    const float *scored = held > 0 ? ids + length - held : ids;
    if (st == NERVE_OK)
        st = nerve_text_baselines(ids, length - held, scored, held > 0 ? held : length - held,
                                  m->vocab.size, &m->baseline, err);
    m->baseline.held_out = held > 0;
    m->has_baseline = st == NERVE_OK;
    free(ids);
    if (st != NERVE_OK || !train) nerve_dataset_free(&train_set);
    if (st != NERVE_OK || !val) nerve_dataset_free(&val_set);
    if (st != NERVE_OK) return st;
    if (train) *train = train_set;
    if (val) *val = val_set;
    return NERVE_OK;
}

static nerve_status load_test(nerve_model *m, nerve_dataset *test, nerve_error *err)
{
    const nerve_data_settings *d = &m->settings.data;
    nerve_text text;
    nerve_status st = NERVE_OK;
    /* Without weights that carry it, the vocabulary is the train file's. */
    if (!m->vocab.size && !d->train[0])
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "%s: text needs the vocabulary of the training text: load weights "
                               "saved by nerve train, or set [data] train", d->test);
    if (!m->vocab.size) {
        st = nerve_model_data_io_error(m, DATA_TRAIN, nerve_text_load(d->train, &text, err), err);
        if (st == NERVE_OK) st = take_vocab(m, d->train, &text, err);
        nerve_text_free(&text);
        if (st != NERVE_OK) return st;
    }
    float *ids = NULL;
    st = nerve_model_data_io_error(m, DATA_TEST, nerve_text_load(d->test, &text, err), err);
    if (st == NERVE_OK) st = encode(m, d->test, &text, &ids, err);
    if (st == NERVE_OK) st = cut(m, d->test, ids, text.length, true, test, err);
    nerve_text_free(&text);
    free(ids);
    return st;
}

nerve_status nerve_model_load_text(nerve_model *m, nerve_dataset *train, nerve_dataset *val,
                                   nerve_dataset *test, nerve_error *err)
{
    const nerve_data_settings *d = &m->settings.data;
    if ((train || val) && !d->train[0])
        return nerve_error_set(err, NERVE_ERR_INVALID, "[data] train is not set");
    if (test && !d->test[0])
        return nerve_error_set(err, NERVE_ERR_INVALID, "[data] test is not set");
    if (train) memset(train, 0, sizeof *train);
    if (val) memset(val, 0, sizeof *val);
    if (test) memset(test, 0, sizeof *test);
    nerve_status st = train || val ? load_train(m, train, val, err) : NERVE_OK;
    if (st == NERVE_OK && test) st = load_test(m, test, err);
    if (st != NERVE_OK) {
        if (train) nerve_dataset_free(train);
        if (val) nerve_dataset_free(val);
    }
    return st;
}
