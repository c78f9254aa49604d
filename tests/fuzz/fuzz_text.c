/* A text corpus (src/data/text.c): UTF-8, plain or gzip, then what training
 * does with it: the vocabulary (and its round trip through the UTF-8 form a
 * model file stores), the ids, and both sample cuts. Input: a byte whose
 * bit 0 gzips the rest first and whose bits 1-7 are steps - 1, then the
 * text. */
#include <stdlib.h>

#include "fuzz_support.h"

#include "nerve.h"

static void cut(const nerve_text *text, int64_t steps)
{
    nerve_vocab vocab, again;
    nerve_error err = {0};
    if (nerve_vocab_build(text, &vocab, &err) != NERVE_OK) return;
    char *utf8 = nerve_vocab_to_utf8(&vocab);
    if (utf8 && nerve_vocab_from_utf8(utf8, "vocab", &again, &err) == NERVE_OK) {
        if (!nerve_vocab_equal(&vocab, &again)) abort();
        nerve_vocab_free(&again);
    }
    free(utf8);
    float *ids = malloc((size_t)text->length * sizeof *ids);
    if (ids && nerve_vocab_encode(&vocab, text->chars, text->length, ids) == -1) {
        nerve_dataset ds;
        if (nerve_text_windows(ids, text->length, steps, vocab.size, "text", &ds, &err) ==
            NERVE_OK)
            nerve_dataset_free(&ds);
        if (nerve_text_stream(ids, text->length, 2, steps, vocab.size, "text", &ds, &err) ==
            NERVE_OK)
            nerve_dataset_free(&ds);
    }
    free(ids);
    nerve_vocab_free(&vocab);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    bool gzip = data[0] & 1;
    int64_t steps = (data[0] >> 1) + 1;
    data++;
    size--;
    uint8_t *compressed = NULL;
    if (gzip) {
        compressed = fuzz_gzip(data, size, &size);
        if (!compressed) return 0;
        data = compressed;
    }
    char path[FUZZ_PATH_SIZE];
    int fd = fuzz_file_open(data, size, path);
    nerve_text text;
    nerve_error err = {0};
    if (fd >= 0 && nerve_text_load(path, &text, &err) == NERVE_OK) {
        cut(&text, steps);
        nerve_text_free(&text);
    }
    fuzz_file_close(fd);
    free(compressed);
    return 0;
}
