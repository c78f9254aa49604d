/* A model's weights file: the graph's parameters (PyTorch state_dict names)
 * and, in the safetensors metadata, the normalisation statistics that
 * prediction must reapply, a text model's vocabulary (its characters in
 * id order, one UTF-8 string), which generation needs, and the class names
 * and training images' shape (class_names.c). */
#include <stdio.h>
#include <stdlib.h>

#include "io/graph_weights.h"

#include "model/model_internal.h"

#define MEAN_KEY "nerve.normalize.mean"
#define STD_KEY "nerve.normalize.std"
#define VOCAB_KEY "nerve.vocab"

/* Mean, std, version, vocabulary, class names, image shape. */
#define WEIGHTS_METADATA_PAIRS 6

nerve_status nerve_model_save_weights_with(nerve_model *m, const char *path,
                                           const nerve_named_tensor *extra, int extra_count,
                                           const char *const *extra_metadata, nerve_error *err)
{
    char mean[64], std[64];
    snprintf(mean, sizeof mean, "%.17g", m->mean);
    snprintf(std, sizeof std, "%.17g", m->std);
    int extra_pairs = 0;
    while (extra_metadata && extra_metadata[2 * extra_pairs]) extra_pairs++;
    char *vocab = NULL;
    const char **metadata =
        calloc(2 * (size_t)(WEIGHTS_METADATA_PAIRS + extra_pairs) + 1, sizeof *metadata);
    if (!metadata || (m->vocab.size && !(vocab = nerve_vocab_to_utf8(&m->vocab)))) {
        free(metadata);
        return nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory", path);
    }
    int n = 0;
    const char *const own[] = {MEAN_KEY, mean, STD_KEY, std, "nerve.version", NERVE_VERSION,
                               vocab ? VOCAB_KEY : NULL, vocab};
    for (size_t i = 0; i < sizeof own / sizeof *own && own[i]; i++) metadata[n++] = own[i];
    char *owned[2];
    nerve_status st = nerve_model_class_metadata(m, metadata, &n, owned, err);
    for (int i = 0; i < 2 * extra_pairs; i++) metadata[n++] = extra_metadata[i];
    if (st == NERVE_OK)
        st = nerve_graph_save_with_metadata(m->graph, path, extra, extra_count, metadata, err);
    free(metadata);
    free(vocab);
    free(owned[0]);
    free(owned[1]);
    return st;
}

nerve_status nerve_model_save_weights(nerve_model *m, const char *path, nerve_error *err)
{
    return nerve_model_save_weights_with(m, path, NULL, 0, NULL, err);
}

static bool parse_number(const char *text, double *out)
{
    char *end;
    if (!text) return false;
    *out = strtod(text, &end);
    return end != text && !*end;
}

nerve_status nerve_model_read_normalization(const nerve_safetensors *file, const char *path,
                                           double *mean, double *std, nerve_error *err)
{
    *mean = 0;
    *std = 1;
    const char *mean_text = nerve_safetensors_metadata(file, MEAN_KEY);
    const char *std_text = nerve_safetensors_metadata(file, STD_KEY);
    if ((mean_text && !parse_number(mean_text, mean)) || (std_text && !parse_number(std_text, std)))
        return nerve_error_set(err, NERVE_ERR_FORMAT, "%s: metadata %s/%s is not a number", path,
                               MEAN_KEY, STD_KEY);
    return NERVE_OK;
}

/* The file is opened once; its metadata is checked before any parameter
 * changes, so a bad file leaves the model as it was. */
nerve_status nerve_model_load_weights(nerve_model *m, const char *path, nerve_error *err)
{
    nerve_safetensors *file;
    nerve_status st = nerve_safetensors_open(path, &file, err);
    if (st != NERVE_OK) return st;
    double mean, std;
    st = nerve_model_read_normalization(file, path, &mean, &std, err);
    nerve_vocab vocab = {0};
    const char *vocab_text = nerve_safetensors_metadata(file, VOCAB_KEY);
    char name[1100];
    snprintf(name, sizeof name, "%s: metadata %s", path, VOCAB_KEY);
    if (st == NERVE_OK && vocab_text) st = nerve_vocab_from_utf8(vocab_text, name, &vocab, err);
    nerve_class_names names = {0};
    nerve_shape image_shape;
    if (st == NERVE_OK)
        st = nerve_model_read_class_metadata(m, file, path, &names, &image_shape, err);
    if (st == NERVE_OK) st = nerve_graph_load_from(m->graph, file, path, err);
    if (st == NERVE_OK) {
        /* Weights without names leave the cfg's [data] class_names. */
        if (names.count) {
            nerve_class_names_free(&m->class_names);
            m->class_names = names;
            names.names = NULL;
            names.count = 0;
        }
        if (image_shape.ndim) m->image_shape = image_shape;
        nerve_model_set_normalization(m, mean, std);
        if (vocab.size) {
            nerve_vocab_free(&m->vocab);
            m->vocab = vocab;
            vocab.chars = NULL;
        }
    }
    nerve_vocab_free(&vocab);
    nerve_class_names_free(&names);
    nerve_safetensors_close(file);
    return st;
}
