/* nerve/text.h, part of nerve.h (include that, or this part alone): texts, character
 * vocabularies and the text cuts. */
#ifndef NERVE_PUBLIC_TEXT_H
#define NERVE_PUBLIC_TEXT_H

#include "nerve/data.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- text */

/* A text as Unicode code points (characters), from UTF-8 or ASCII. */
typedef struct nerve_text {
    uint32_t *chars;
    int64_t length;
} nerve_text;

/* Reads a UTF-8 text file, plain or gzip (detected by content); a leading
 * byte-order mark is dropped. Invalid UTF-8 (overlong forms, surrogates, a
 * sequence cut short), a NUL byte, an empty text and gzip data that is
 * corrupt or cut short are errors naming the file, line and byte offset. */
NERVE_API nerve_status nerve_text_load(const char *path, nerve_text *out, nerve_error *err);
/* Decodes size bytes of UTF-8 (no byte-order mark handling); name stands for
 * the bytes in messages. An empty input gives an empty text. */
NERVE_API nerve_status nerve_text_decode(const char *bytes, size_t size, const char *name,
                                         nerve_text *out, nerve_error *err);
NERVE_API void nerve_text_free(nerve_text *text);
/* Writes c as UTF-8 into out (4 bytes at most, no terminator); returns the
 * byte count. */
NERVE_API int nerve_utf8_encode(uint32_t c, char *out);
/* A character for messages: "'x' (U+0078)", or "U+000A" for a control
 * character. */
NERVE_API const char *nerve_char_describe(uint32_t c, char *buf, size_t size);

/* A character vocabulary: the distinct code points in increasing order; a
 * character's id is its index. */
typedef struct nerve_vocab {
    uint32_t *chars;
    int64_t size;
} nerve_vocab;

NERVE_API nerve_status nerve_vocab_build(const nerve_text *text, nerve_vocab *out,
                                         nerve_error *err);
/* The vocabulary whose characters, in order, are the UTF-8 string text (as
 * nerve_vocab_to_utf8 writes it): they must increase strictly. */
NERVE_API nerve_status nerve_vocab_from_utf8(const char *text, const char *name, nerve_vocab *out,
                                             nerve_error *err);
/* The characters as one malloc'ed, NUL-terminated UTF-8 string, or NULL when
 * out of memory. */
NERVE_API char *nerve_vocab_to_utf8(const nerve_vocab *vocab);
/* The id of c, or -1 when c is not in the vocabulary. */
NERVE_API int64_t nerve_vocab_id(const nerve_vocab *vocab, uint32_t c);
/* ids[i] = the id of chars[i]; returns -1, or the index of the first
 * character not in the vocabulary (ids then holds the ids before it). */
NERVE_API int64_t nerve_vocab_encode(const nerve_vocab *vocab, const uint32_t *chars, int64_t count,
                                     float *ids);
NERVE_API bool nerve_vocab_equal(const nerve_vocab *a, const nerve_vocab *b);
NERVE_API void nerve_vocab_free(nerve_vocab *vocab);

/* Token ids cut into samples of `steps` ids whose targets are the next
 * `steps` ids (the next character at every step); sample_shape [steps],
 * target_size steps, num_classes vocab_size. name stands for the text in
 * messages.
 * The stream cut, for truncated BPTT: the text is `lanes` contiguous lanes of
 * L = floor((length - 1) / (lanes * steps)) * steps characters, lane b
 * starting at b * L, and sample j * lanes + b is chunk j of lane b (the
 * dataset's lanes field); the last length - 1 - lanes * L ids are dropped. */
NERVE_API nerve_status nerve_text_stream(const float *ids, int64_t length, int64_t lanes,
                                         int64_t steps, int64_t vocab_size, const char *name,
                                         nerve_dataset *out, nerve_error *err);
/* The window cut: sample i starts at i * steps, floor((length - 1) / steps)
 * independent samples (lanes 0). */
NERVE_API nerve_status nerve_text_windows(const float *ids, int64_t length, int64_t steps,
                                          int64_t vocab_size, const char *name, nerve_dataset *out,
                                          nerve_error *err);

/* What a character model must beat: the cross-entropy, in nats per
 * character, of a text under the unigram and bigram models of another,
 * estimated with add-one (Laplace) smoothing over the vocabulary:
 * P(c) = (n(c) + 1) / (N + V), P(c | p) = (n(p c) + 1) / (n(p .) + V). */
typedef struct nerve_text_baseline {
    double unigram, bigram;
    bool held_out; /* measured on the validation text (else on the training text) */
} nerve_text_baseline;

/* Counts over train_ids[0..train_length); scores eval_ids[t] for t in
 * [1, eval_length) (the bigram's context eval_ids[t - 1]): eval_length >= 2.
 * Ids must be below vocab_size. */
NERVE_API nerve_status nerve_text_baselines(const float *train_ids, int64_t train_length,
                                            const float *eval_ids, int64_t eval_length,
                                            int64_t vocab_size, nerve_text_baseline *out,
                                            nerve_error *err);

#ifdef __cplusplus
}
#endif
#endif /* NERVE_PUBLIC_TEXT_H */
