/* nerve/model.h, part of nerve.h (include that, or this part alone): models read from a .cfg:
 * settings, graph, data, weights, generation. */
#ifndef NERVE_PUBLIC_MODEL_H
#define NERVE_PUBLIC_MODEL_H

#include "nerve/augment.h"
#include "nerve/data.h"
#include "nerve/ops.h"
#include "nerve/optim.h"
#include "nerve/text.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- models */

/* A model is a network read from a .cfg file: its graph (input, layers,
 * loss), and the [net], [data], [optimizer] and [loss] settings that say how
 * to train it. docs/config.md documents every key. */
typedef struct nerve_model nerve_model;

/* The [loss] types; their cfg spellings are nerve_loss_name's. */
typedef enum nerve_loss_kind {
    NERVE_LOSS_SOFTMAX_CROSS_ENTROPY = 0,
    NERVE_LOSS_MSE,
    NERVE_LOSS_L1,
    NERVE_LOSS_HUBER,
    NERVE_LOSS_SMOOTH_L1,
    NERVE_LOSS_BCE,
    NERVE_LOSS_BCE_WITH_LOGITS,
    NERVE_LOSS_NLL,
    NERVE_LOSS_FOCAL,
    NERVE_LOSS_DISTILLATION,
    NERVE_LOSS_LARGE_MARGIN_SOFTMAX,
    NERVE_LOSS_COUNT
} nerve_loss_kind;

/* "softmax_cross_entropy", "mse", "l1", ...; "unknown" out of range. */
NERVE_API const char *nerve_loss_name(nerve_loss_kind kind);

typedef enum nerve_normalize {
    NERVE_NORMALIZE_SCALE = 0, /* inputs / scale */
    NERVE_NORMALIZE_STANDARDIZE, /* (inputs / scale - mean) / std, from the training set */
    NERVE_NORMALIZE_MINUS_ONE_ONE /* inputs / scale * 2 - 1: [0, scale] to a tanh's [-1, 1] */
} nerve_normalize;

/* Parses and validates path with the "section.key=value" overrides applied
 * (NULL-terminated list, may be NULL), builds the graph and initialises the
 * weights from [net] seed. Every error names file:line. */
NERVE_API nerve_status nerve_model_load(const char *path, const char *const *overrides,
                                        nerve_model **out, nerve_error *err);
NERVE_API void nerve_model_free(nerve_model *m);

/* The settings by key, as a cfg spells them (docs/config.md): "net.epochs",
 * "optimizer.lr", "data.validation", "schedule.type", ... nerve_model_set
 * applies "key=value" as nerve_model_load's overrides and --set do, then
 * reads every settings section again, so the value is checked as the
 * file's would be (an error names the key and leaves the model as it was)
 * and defaults that depend on it follow (a new optimizer type's lr).
 * Layers, [loss] and net.input, net.bptt and net.backend shape the graph,
 * which is built: those are an error (load the model with the override).
 * Changing [optimizer] drops the optimizer nerve_train made (the next
 * training makes a new one). nerve_model_get writes the value the cfg,
 * the overrides and nerve_model_set give the key, or "" when none does (its
 * default applies: docs/config.md; the typed accessors below give the
 * value in force). */
NERVE_API nerve_status nerve_model_set(nerve_model *m, const char *key, const char *value,
                                       nerve_error *err);
NERVE_API nerve_status nerve_model_get(const nerve_model *m, const char *key, char *value,
                                       size_t size, nerve_error *err);
/* The settings a caller commonly needs, typed: [net] input (per sample)
 * and the [optimizer] options (batch, epochs and seed: nerve_train_options_from). */
NERVE_API nerve_shape nerve_model_input_shape(const nerve_model *m);
NERVE_API void nerve_model_optimizer_options_sized(const nerve_model *m,
                                                   nerve_optimizer_options *out, size_t size);
static inline nerve_optimizer_options nerve_model_optimizer_options(const nerve_model *m)
{
    nerve_optimizer_options o;
    nerve_model_optimizer_options_sized(m, &o, sizeof o);
    return o;
}
NERVE_API nerve_graph *nerve_model_graph(nerve_model *m);
/* A new optimizer over m's parameters from its [optimizer] settings, with
 * the layers' own weight_decay and l1 (cfg overrides) as parameter groups:
 * what nerve_train makes for a run. The caller owns it (nerve_optimizer_free)
 * and may hand it to nerve_train_options.optimizer to keep its state from one
 * run to the next. Bad settings are an error naming the [optimizer] key. */
NERVE_API nerve_optimizer *nerve_model_optimizer_new(nerve_model *m, nerve_error *err);
NERVE_API nerve_node nerve_model_input(const nerve_model *m);
NERVE_API nerve_node nerve_model_output(const nerve_model *m);  /* logits or predictions */
NERVE_API nerve_node nerve_model_target(const nerve_model *m);  /* labels or regression targets */
NERVE_API nerve_node nerve_model_loss(const nerve_model *m);
/* What prediction reports: softmax(output) for the class-label losses (and
 * distillation), sigmoid(output) for bce_with_logits, output otherwise. */
NERVE_API nerve_node nerve_model_prediction(const nerve_model *m);
/* Layers in cfg order: name, type ("dense", "activation", ...) and output node. */
NERVE_API int nerve_model_layer_count(const nerve_model *m);
NERVE_API const char *nerve_model_layer_name(const nerve_model *m, int i);
NERVE_API const char *nerve_model_layer_type(const nerve_model *m, int i);
NERVE_API nerve_node nerve_model_layer_node(const nerve_model *m, int i);
/* Output classes: the last layer's width (its last dimension) for the
 * class-label losses, 2 for bce and bce_with_logits with one output; 0 for
 * regression, distillation and multi-label bce (no accuracy). */
NERVE_API int nerve_model_classes(const nerve_model *m);
/* The name of class c, or NULL when the classes are numbered. Names come
 * from [data] class_names, from the training data (a CSV's string labels,
 * format = folder's class folders) or from the weights, which keep them
 * (metadata nerve.classes). */
NERVE_API const char *nerve_model_class_name(const nerve_model *m, int c);
/* The shape of the images a flat input was trained on (1x28x28 for IDX
 * images into input = 784), kept in the weights (metadata
 * nerve.image_shape) so that an image can be resized to it for prediction;
 * ndim 0 when unknown or when the input is itself an image shape. */
NERVE_API nerve_shape nerve_model_image_shape(const nerve_model *m);
/* Class labels per sample: T for a per-step classifier (output [N, T, C],
 * targets [N, T]: a label per step), 1 for other classifiers, 0 without
 * classes. Accuracy and the confusion matrix count every label. */
NERVE_API int64_t nerve_model_label_steps(const nerve_model *m);

/* Loads the train (with its validation split) and test sets that [data]
 * names, normalised as configured: the test set and validation split use the
 * training set's statistics. Any of the out pointers may be NULL. */
NERVE_API nerve_status nerve_model_load_data(const nerve_model *m, nerve_dataset *train,
                                             nerve_dataset *val, nerve_dataset *test,
                                             nerve_error *err);
/* When the model's input is token ids (it feeds an [embedding] or
 * [one_hot]: nerve_graph_token_limit), checks that each value of the count
 * samples in inputs (count x the input's elements) is an integer id in
 * [0, limit); otherwise an error "<source>: sample i, step t: token id ...".
 * NERVE_OK for any other model. nerve_model_load_data, nerve_train,
 * nerve_evaluate and nerve_predict check their data with it; a reader that
 * makes data sets of its own can call it with its file name. */
NERVE_API nerve_status nerve_model_check_tokens(const nerve_model *m, const float *inputs,
                                                int64_t count, const char *source,
                                                nerve_error *err);
/* Normalises ds as the training data were (after nerve_model_load_data or
 * with the statistics saved in the weights' metadata). */
NERVE_API void nerve_model_normalize(const nerve_model *m, nerve_dataset *ds);
/* The normalisation as one affine map: the network's input is
 * pixel * gain + offset (pixel as the file holds it). */
NERVE_API void nerve_model_input_transform(const nerve_model *m, double *gain, double *offset);
/* The normalisation statistics, to save beside the weights. */
NERVE_API void nerve_model_normalization(const nerve_model *m, double *mean, double *std);
NERVE_API void nerve_model_set_normalization(nerve_model *m, double mean, double std);

/* Text models: the vocabulary of the training text, set by
 * nerve_model_load_data or restored from the weights; size 0 otherwise. */
NERVE_API const nerve_vocab *nerve_model_vocab(const nerve_model *m);
/* Replaces the model's vocabulary with a copy of vocab. */
NERVE_API nerve_status nerve_model_set_vocab(nerve_model *m, const nerve_vocab *vocab,
                                             nerve_error *err);
/* Text data: the corpus baselines nerve_model_load_data measured (on the
 * validation text, or the training text without one); false otherwise. */
NERVE_API bool nerve_model_text_baseline(const nerve_model *m, nerve_text_baseline *out);
/* Whether [data] has a test set: a test file, or generated test samples. */
NERVE_API bool nerve_model_has_test_data(const nerve_model *m);

/* The [augment] pipeline for the model's training data (normalised as
 * nerve_model_load_data does); its stream is derived from seed ([net] seed)
 * apart from the weights' and the shuffling's. An error when [augment]
 * enables nothing. */
NERVE_API nerve_augment *nerve_model_augment_new(const nerve_model *m, uint64_t seed,
                                                 nerve_error *err);

/* Weights: the graph's parameters plus metadata (normalisation statistics,
 * a text model's vocabulary), names as PyTorch's state_dict. */
NERVE_API nerve_status nerve_model_save_weights(nerve_model *m, const char *path, nerve_error *err);
NERVE_API nerve_status nerve_model_load_weights(nerve_model *m, const char *path, nerve_error *err);

/* ---------------------------------------------------------------- generation */

/* An index drawn from softmax(logits / temperature) over n logits with rng
 * (max-subtracted, in double); temperature 0 takes the argmax (the first
 * largest) and draws nothing. */
NERVE_API int64_t nerve_sample_logits(const nerve_real *logits, int64_t n, double temperature,
                                      nerve_rng *rng);

typedef struct nerve_generate_options {
    size_t size; /* NERVE_SIZED(nerve_generate_options): see nerve/core.h */
    const uint32_t *prime;   /* characters fed first (may be NULL with prime_length 0) */
    int64_t prime_length;
    int64_t length;          /* characters to draw after the prime */
    double temperature;      /* >= 0; 0: always the most likely character */
    uint64_t seed;
    /* Called with every character, the prime's included, in order. */
    void (*emit)(uint32_t c, void *user);
    void *user;
} nerve_generate_options;

/* Samples text from a character model built with an input of one token
 * ([net] input = 1) and a vocabulary (from its weights): in eval mode, the
 * recurrent state carried from character to character after a reset, it
 * feeds the prime one character at a time, then draws `length` characters
 * from its output, each fed back in. Without a prime the first character is
 * drawn uniformly from the vocabulary. The last layer must output one logit
 * per character of the vocabulary. A prime character outside the vocabulary
 * is an error naming it. */
NERVE_API nerve_status nerve_model_generate(nerve_model *m, const nerve_generate_options *options,
                                            nerve_error *err);

#ifdef __cplusplus
}
#endif
#endif /* NERVE_PUBLIC_MODEL_H */
