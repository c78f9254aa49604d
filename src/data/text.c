/* Text for character models: a UTF-8 file (plain or gzip) becomes Unicode
 * code points, its distinct characters a vocabulary, and its ids samples of
 * `steps` characters whose targets are the characters that follow. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "nerve.h"
#include "data/gzip_file.h"

/* Far beyond any corpus a character model trains on here; a larger file is
 * refused rather than half read. */
#define TEXT_BYTE_LIMIT ((size_t)1 << 30)
#define TEXT_READ_CHUNK ((size_t)1 << 20)
#define TEXT_FIRST_BUFFER ((size_t)64 << 10)
#define UNICODE_LIMIT 0x110000u

void nerve_text_free(nerve_text *text)
{
    if (!text) return;
    free(text->chars);
    memset(text, 0, sizeof *text);
}

void nerve_vocab_free(nerve_vocab *vocab)
{
    if (!vocab) return;
    free(vocab->chars);
    memset(vocab, 0, sizeof *vocab);
}

/* zlib's message for the stream's state, for a failed read. */
static nerve_status stream_error(gzFile stream, const char *path, nerve_error *err)
{
    int code;
    const char *message = gzerror(stream, &code);
    /* zlib prefixes the stream's name, "<fd:N>": the path is ours to give. */
    const char *separator = strstr(message, ": ");
    if (separator) message = separator + 2;
    if (code == Z_ERRNO)
        return nerve_error_set(err, NERVE_ERR_IO, "%s: read failed: %s", path, strerror(errno));
    if (code == Z_BUF_ERROR)
        return nerve_error_set(err, NERVE_ERR_FORMAT,
                               "%s: the gzip stream is cut short (a truncated download?)", path);
    return nerve_error_set(err, NERVE_ERR_FORMAT, "%s: corrupt gzip data: %s", path, message);
}

/* Every byte of the file, decompressed when it is gzip (zlib reads plain
 * files through the same calls). The buffer starts small and doubles only
 * when full, so a short text costs its size; one byte past the limit is room
 * enough to tell a text of exactly TEXT_BYTE_LIMIT bytes from a longer one. */
static nerve_status read_all(gzFile stream, const char *path, unsigned char **out, size_t *size,
                             nerve_error *err)
{
    unsigned char *data = NULL;
    size_t used = 0, capacity = 0;
    for (;;) {
        if (used == capacity) {
            if (capacity > TEXT_BYTE_LIMIT) {
                free(data);
                return nerve_error_set(err, NERVE_ERR_FORMAT, "%s: more than %zu MiB of text",
                                       path, TEXT_BYTE_LIMIT >> 20);
            }
            size_t grown = capacity ? 2 * capacity : TEXT_FIRST_BUFFER;
            if (grown > TEXT_BYTE_LIMIT) grown = TEXT_BYTE_LIMIT + 1;
            unsigned char *bigger = realloc(data, grown);
            if (!bigger) {
                free(data);
                return nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory reading the text",
                                       path);
            }
            data = bigger;
            capacity = grown;
        }
        size_t want = capacity - used < TEXT_READ_CHUNK ? capacity - used : TEXT_READ_CHUNK;
        int n = gzread(stream, data + used, (unsigned)want);
        if (n <= 0) break;
        used += (size_t)n;
    }
    int code;
    gzerror(stream, &code);
    if (code != Z_OK) {
        free(data);
        return stream_error(stream, path, err);
    }
    *out = data;
    *size = used;
    return NERVE_OK;
}

/* The character at s[0..available): its code point and length, or false
 * with the reason. Strict UTF-8 (RFC 3629): no overlong forms, no
 * surrogates, nothing above U+10FFFF. */
static bool decode_char(const unsigned char *s, size_t available, uint32_t *c, int *length,
                        const char **why)
{
    unsigned char lead = s[0];
    int n;
    uint32_t value, smallest;
    if (lead < 0x80) {
        *c = lead;
        *length = 1;
        return true;
    }
    if (lead < 0xC0) return *why = "a continuation byte where a character should start", false;
    if (lead < 0xE0) n = 2, value = lead & 0x1Fu, smallest = 0x80;
    else if (lead < 0xF0) n = 3, value = lead & 0x0Fu, smallest = 0x800;
    else if (lead < 0xF8) n = 4, value = lead & 0x07u, smallest = 0x10000;
    else return *why = "a byte that never occurs in UTF-8", false;
    for (int k = 1; k < n; k++) {
        if ((size_t)k >= available || (s[k] & 0xC0) != 0x80)
            return *why = "a multi-byte character cut short", false;
        value = value << 6 | (s[k] & 0x3Fu);
    }
    if (value < smallest) return *why = "an overlong encoding", false;
    if (value >= UNICODE_LIMIT) return *why = "a code point above U+10FFFF", false;
    if (value >= 0xD800 && value <= 0xDFFF) return *why = "a UTF-16 surrogate", false;
    *c = value;
    *length = n;
    return true;
}

nerve_status nerve_text_decode(const char *bytes, size_t size, const char *name, nerve_text *out,
                               nerve_error *err)
{
    memset(out, 0, sizeof *out);
    /* A character takes at least one byte: size code points always suffice. */
    uint32_t *chars = malloc((size ? size : 1) * sizeof *chars);
    if (!chars)
        return nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory decoding %zu bytes", name,
                               size);
    const unsigned char *s = (const unsigned char *)bytes;
    int64_t length = 0, line = 1;
    for (size_t at = 0; at < size;) {
        uint32_t c;
        int n;
        const char *why = NULL;
        if (s[at] == 0) why = "a NUL byte: not a text file";
        if (!why && decode_char(s + at, size - at, &c, &n, &why)) {
            chars[length++] = c;
            line += c == '\n';
            at += (size_t)n;
            continue;
        }
        free(chars);
        return nerve_error_set(err, NERVE_ERR_FORMAT,
                               "%s:%lld: invalid UTF-8 at byte offset %zu: %s", name,
                               (long long)line, at, why);
    }
    uint32_t *fitted = realloc(chars, (length ? (size_t)length : 1) * sizeof *chars);
    out->chars = fitted ? fitted : chars;
    out->length = length;
    return NERVE_OK;
}

nerve_status nerve_text_load(const char *path, nerve_text *out, nerve_error *err)
{
    memset(out, 0, sizeof *out);
    gzFile stream;
    nerve_status opened = nerve_gzip_open(path, &stream, NULL, err);
    if (opened != NERVE_OK) return opened;
    unsigned char *bytes = NULL;
    size_t size = 0;
    nerve_status st = read_all(stream, path, &bytes, &size, err);
    gzclose(stream);
    if (st != NERVE_OK) return st;
    /* Editors on Windows start UTF-8 files with a byte-order mark. */
    size_t skip = size >= 3 && memcmp(bytes, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    st = nerve_text_decode((const char *)bytes + skip, size - skip, path, out, err);
    free(bytes);
    if (st == NERVE_OK && out->length == 0) {
        nerve_text_free(out);
        st = nerve_error_set(err, NERVE_ERR_FORMAT, "%s: the text is empty", path);
    }
    return st;
}

int nerve_utf8_encode(uint32_t c, char *out)
{
    unsigned char *s = (unsigned char *)out;
    if (c < 0x80) {
        s[0] = (unsigned char)c;
        return 1;
    }
    if (c < 0x800) {
        s[0] = (unsigned char)(0xC0 | c >> 6);
        s[1] = (unsigned char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        s[0] = (unsigned char)(0xE0 | c >> 12);
        s[1] = (unsigned char)(0x80 | (c >> 6 & 0x3F));
        s[2] = (unsigned char)(0x80 | (c & 0x3F));
        return 3;
    }
    s[0] = (unsigned char)(0xF0 | c >> 18);
    s[1] = (unsigned char)(0x80 | (c >> 12 & 0x3F));
    s[2] = (unsigned char)(0x80 | (c >> 6 & 0x3F));
    s[3] = (unsigned char)(0x80 | (c & 0x3F));
    return 4;
}

const char *nerve_char_describe(uint32_t c, char *buf, size_t size)
{
    bool control = c < 0x20 || (c >= 0x7F && c < 0xA0);
    if (control) {
        snprintf(buf, size, "U+%04X", (unsigned)c);
    } else {
        char utf8[5] = {0};
        nerve_utf8_encode(c, utf8);
        snprintf(buf, size, "'%s' (U+%04X)", utf8, (unsigned)c);
    }
    return buf;
}

/* A bit per code point marks the characters present; reading the bits in
 * order gives them sorted, in time linear in the text. */
nerve_status nerve_vocab_build(const nerve_text *text, nerve_vocab *out, nerve_error *err)
{
    memset(out, 0, sizeof *out);
    unsigned char *present = calloc(UNICODE_LIMIT / 8, 1);
    if (!present) return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory for a vocabulary");
    int64_t size = 0;
    for (int64_t i = 0; i < text->length; i++) {
        uint32_t c = text->chars[i];
        unsigned char bit = (unsigned char)(1u << (c & 7));
        size += !(present[c >> 3] & bit);
        present[c >> 3] |= bit;
    }
    out->chars = malloc((size ? (size_t)size : 1) * sizeof *out->chars);
    if (!out->chars) {
        free(present);
        return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory for a vocabulary");
    }
    for (uint32_t c = 0; c < UNICODE_LIMIT; c++)
        if (present[c >> 3] & (1u << (c & 7))) out->chars[out->size++] = c;
    free(present);
    return NERVE_OK;
}

nerve_status nerve_vocab_from_utf8(const char *text, const char *name, nerve_vocab *out,
                                   nerve_error *err)
{
    memset(out, 0, sizeof *out);
    nerve_text decoded;
    nerve_status st = nerve_text_decode(text, strlen(text), name, &decoded, err);
    if (st != NERVE_OK) return st;
    for (int64_t i = 1; i < decoded.length; i++) {
        if (decoded.chars[i] > decoded.chars[i - 1]) continue;
        char a[32], b[32];
        nerve_error_set(err, NERVE_ERR_FORMAT,
                        "%s: the vocabulary's characters must increase: %s follows %s", name,
                        nerve_char_describe(decoded.chars[i], a, sizeof a),
                        nerve_char_describe(decoded.chars[i - 1], b, sizeof b));
        nerve_text_free(&decoded);
        return NERVE_ERR_FORMAT;
    }
    if (decoded.length == 0) {
        nerve_text_free(&decoded);
        return nerve_error_set(err, NERVE_ERR_FORMAT, "%s: the vocabulary is empty", name);
    }
    out->chars = decoded.chars;
    out->size = decoded.length;
    return NERVE_OK;
}

char *nerve_vocab_to_utf8(const nerve_vocab *vocab)
{
    char *text = malloc(4 * (size_t)vocab->size + 1), *end = text;
    if (!text) return NULL;
    for (int64_t i = 0; i < vocab->size; i++) end += nerve_utf8_encode(vocab->chars[i], end);
    *end = '\0';
    return text;
}

int64_t nerve_vocab_id(const nerve_vocab *vocab, uint32_t c)
{
    int64_t low = 0, high = vocab->size;
    while (low < high) {
        int64_t middle = low + (high - low) / 2;
        if (vocab->chars[middle] < c)
            low = middle + 1;
        else
            high = middle;
    }
    return low < vocab->size && vocab->chars[low] == c ? low : -1;
}

int64_t nerve_vocab_encode(const nerve_vocab *vocab, const uint32_t *chars, int64_t count,
                           float *ids)
{
    for (int64_t i = 0; i < count; i++) {
        int64_t id = nerve_vocab_id(vocab, chars[i]);
        if (id < 0) return i;
        ids[i] = (float)id;
    }
    return -1;
}

bool nerve_vocab_equal(const nerve_vocab *a, const nerve_vocab *b)
{
    return a->size == b->size &&
           (a->size == 0 || memcmp(a->chars, b->chars, (size_t)a->size * sizeof *a->chars) == 0);
}

/* count samples of steps ids, sample s starting at start(s), each with the
 * ids one further on as its targets. */
static nerve_status cut_samples(const float *ids, int64_t count, int64_t steps, int64_t lanes,
                                int64_t lane_length, int64_t vocab_size, const char *name,
                                nerve_dataset *out, nerve_error *err)
{
    size_t bytes = (size_t)(count * steps) * sizeof(float);
    out->inputs = malloc(bytes);
    out->targets = malloc(bytes);
    if (!out->inputs || !out->targets) {
        nerve_dataset_free(out);
        return nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory for %lld sequences", name,
                               (long long)count);
    }
    for (int64_t s = 0; s < count; s++) {
        int64_t start = lanes ? s % lanes * lane_length + s / lanes * steps : s * steps;
        memcpy(out->inputs + s * steps, ids + start, (size_t)steps * sizeof(float));
        memcpy(out->targets + s * steps, ids + start + 1, (size_t)steps * sizeof(float));
    }
    out->count = count;
    out->sample_shape = nerve_shape_1d(steps);
    out->sample_size = steps;
    out->target_size = steps;
    out->num_classes = (int)vocab_size;
    out->lanes = lanes;
    return NERVE_OK;
}

nerve_status nerve_text_stream(const float *ids, int64_t length, int64_t lanes, int64_t steps,
                               int64_t vocab_size, const char *name, nerve_dataset *out,
                               nerve_error *err)
{
    memset(out, 0, sizeof *out);
    if (lanes < 1 || steps < 1)
        return nerve_error_set(err, NERVE_ERR_INVALID, "%s: %lld lanes of %lld steps", name,
                               (long long)lanes, (long long)steps);
    int64_t chunks = length > 1 ? (length - 1) / lanes / steps : 0;
    if (chunks == 0)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "%s: %lld characters are too few for %lld lanes of %lld steps "
                               "(at least %lld)",
                               name, (long long)length, (long long)lanes, (long long)steps,
                               (long long)(lanes * steps + 1));
    return cut_samples(ids, chunks * lanes, steps, lanes, chunks * steps, vocab_size, name, out,
                       err);
}

nerve_status nerve_text_windows(const float *ids, int64_t length, int64_t steps,
                                int64_t vocab_size, const char *name, nerve_dataset *out,
                                nerve_error *err)
{
    memset(out, 0, sizeof *out);
    if (steps < 1)
        return nerve_error_set(err, NERVE_ERR_INVALID, "%s: windows of %lld steps", name,
                               (long long)steps);
    int64_t count = length > 1 ? (length - 1) / steps : 0;
    if (count == 0)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "%s: %lld characters are too few for a window of %lld characters "
                               "and its next character",
                               name, (long long)length, (long long)steps);
    return cut_samples(ids, count, steps, 0, 0, vocab_size, name, out, err);
}

static int compare_codes(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The count of code among the distinct sorted codes[0..n) (counts[i] is
 * codes[i]'s), 0 when it is not there. */
static int64_t count_of(const int64_t *codes, const int64_t *counts, int64_t n, int64_t code)
{
    int64_t first = 0, last = n;
    while (first < last) {
        int64_t middle = first + (last - first) / 2;
        if (codes[middle] < code)
            first = middle + 1;
        else
            last = middle;
    }
    return first < n && codes[first] == code ? counts[first] : 0;
}

/* The training bigrams are kept as sorted distinct codes p * V + c with
 * their counts rather than a V x V table, which a text with thousands of
 * distinct characters could not afford; a pair's count is one binary search
 * over the distinct pairs (a few thousand in English text, so the search stays
 * in cache: searching all 1.6 million pairs of the Jargon File, twice for
 * each scored character, was 70% of the char-LSTM's start-up), a
 * context's, the pairs that start with its character, one table entry. */
nerve_status nerve_text_baselines(const float *train_ids, int64_t train_length,
                                  const float *eval_ids, int64_t eval_length, int64_t vocab_size,
                                  nerve_text_baseline *out, nerve_error *err)
{
    memset(out, 0, sizeof *out);
    if (train_length < 1 || eval_length < 2 || vocab_size < 1)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "baselines need a training text and 2 characters to score");
    int64_t *unigrams = calloc((size_t)vocab_size * 2, sizeof *unigrams);
    int64_t *bigrams = malloc((size_t)train_length * sizeof *bigrams), *pair_counts = NULL;
    if (!unigrams || !bigrams) {
        free(unigrams);
        free(bigrams);
        return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory counting %lld characters",
                               (long long)train_length);
    }
    int64_t *contexts = unigrams + vocab_size; /* pairs that start with each character */
    for (int64_t t = 0; t < train_length; t++) unigrams[(int64_t)train_ids[t]]++;
    int64_t pairs = train_length - 1, distinct = 0;
    for (int64_t t = 0; t < pairs; t++) {
        bigrams[t] = (int64_t)train_ids[t] * vocab_size + (int64_t)train_ids[t + 1];
        contexts[(int64_t)train_ids[t]]++;
    }
    qsort(bigrams, (size_t)pairs, sizeof *bigrams, compare_codes);
    for (int64_t t = 0; t < pairs; t++) distinct += t == 0 || bigrams[t - 1] != bigrams[t];
    pair_counts = malloc((size_t)(distinct ? distinct : 1) * sizeof *pair_counts);
    if (!pair_counts) {
        free(unigrams);
        free(bigrams);
        return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory counting %lld pairs",
                               (long long)distinct);
    }
    distinct = 0;
    for (int64_t t = 0; t < pairs; t++) {
        if (distinct == 0 || bigrams[distinct - 1] != bigrams[t]) {
            bigrams[distinct] = bigrams[t];
            pair_counts[distinct++] = 0;
        }
        pair_counts[distinct - 1]++;
    }
    double unigram = 0, bigram = 0, v = (double)vocab_size;
    for (int64_t t = 1; t < eval_length; t++) {
        int64_t p = (int64_t)eval_ids[t - 1], c = (int64_t)eval_ids[t], code = p * vocab_size + c;
        unigram -= log(((double)unigrams[c] + 1) / ((double)train_length + v));
        double pair = (double)count_of(bigrams, pair_counts, distinct, code);
        bigram -= log((pair + 1) / ((double)contexts[p] + v));
    }
    free(unigrams);
    free(bigrams);
    free(pair_counts);
    out->unigram = unigram / (double)(eval_length - 1);
    out->bigram = bigram / (double)(eval_length - 1);
    return NERVE_OK;
}
