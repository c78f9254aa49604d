#ifndef NERVE_MODEL_INTERNAL_H
#define NERVE_MODEL_INTERNAL_H

#include "model/config_reader.h"
#include "model/model_settings.h"
#include "nerve.h"

#define NERVE_LAYER_NAME_MAX 48

/* The [data] keys that name files, in data_origin's order. */
enum {
    DATA_TRAIN, DATA_TRAIN_LABELS, DATA_TEST, DATA_TEST_LABELS, DATA_VALIDATION,
    DATA_VALIDATION_LABELS, DATA_PATH_COUNT
};
#define NERVE_DATA_ORIGIN_MAX 1200

/* Class names: the model's, from [data] class_names, the training data or
 * the weights (class_names.c). */
typedef struct nerve_class_names {
    char **names;
    int count;
} nerve_class_names;
/* Appends a copy of name; false when out of memory. */
bool nerve_class_names_add(nerve_class_names *c, const char *name);
void nerve_class_names_free(nerve_class_names *c);

typedef struct model_layer {
    char name[NERVE_LAYER_NAME_MAX];
    const char *type;
    nerve_node output;
    nerve_node first_node, end_node; /* the nodes the layer added: [first, end) */
    double weight_decay, l1;         /* the layer's overrides of [optimizer]'s; NaN: none */
} model_layer;

struct nerve_model {
    nerve_model_settings settings;
    nerve_config *cfg; /* the cfg with its overrides: the settings' source (nerve_model_set) */
    nerve_graph *graph;
    nerve_node input, target, output, loss, prediction;
    model_layer *layers;
    int layer_count;
    int classes;
    double mean, std; /* normalisation statistics (standardize) */
    nerve_vocab vocab;             /* text models: the training text's characters */
    nerve_text_baseline baseline;  /* text data: the corpus baselines */
    bool has_baseline;
    /* Where each [data] path was set ("mlp.cfg:9: [data] train", or
     * "mlp.cfg (--set): [data] train"), for a file that cannot be read. */
    char data_origin[DATA_PATH_COUNT][NERVE_DATA_ORIGIN_MAX];
    /* The classes' names, in label order (count 0: numbered classes). */
    nerve_class_names class_names;
    /* The training images' shape (CxHxW) when the input is flat and the
     * data were images, saved with the weights so that prediction can
     * resize an image to it; ndim 0: none. */
    nerve_shape image_shape;
};

/* What a loss takes as targets, for the checks of data against a model. */
typedef enum loss_targets {
    LOSS_TARGETS_LABELS,  /* class indices, below the output's width */
    LOSS_TARGETS_BINARY,  /* values in [0, 1] of the output's shape, or 0/1 labels for one output */
    LOSS_TARGETS_VALUES,  /* real values of the output's shape (regression) */
    LOSS_TARGETS_TEACHER  /* a teacher's logits, of the output's shape */
} loss_targets;

loss_targets nerve_loss_targets(nerve_loss_kind kind);
/* large_margin_softmax's lambda at training step `step` (loss_schedule.c):
 * annealed as [loss] lambda_gamma says, set in the loss node. */
void nerve_model_anneal_loss(nerve_model *m, int64_t step);
/* The model's: its loss's, or class labels with [loss] one_hot. */
loss_targets nerve_model_targets(const nerve_model *m);

/* The loss registry (loss_registry.c): each [loss] type's cfg spelling,
 * builder (every one has the signature of nerve_mse), the targets it takes,
 * what the last layer must output and what prediction reports. */
typedef nerve_node (*loss_builder)(nerve_graph *g, nerve_node output, nerve_node target,
                                   const nerve_loss_options *options, nerve_error *err);
typedef enum loss_input {
    TAKES_ANY,
    TAKES_LOGITS,
    TAKES_PROBABILITIES,
    TAKES_LOG_PROBABILITIES
} loss_input;
typedef enum loss_prediction { PREDICT_OUTPUT, PREDICT_SOFTMAX, PREDICT_SIGMOID } loss_prediction;
typedef struct loss_type {
    const char *name;
    loss_builder build;
    loss_targets targets;
    loss_input input;
    loss_prediction prediction;
} loss_type;
const loss_type *nerve_loss_type_of(nerve_loss_kind kind);
/* The key holding a type's per-class (or per-output) list, or NULL. */
const char *nerve_loss_list_key(nerve_loss_kind kind);
/* The [loss] section. */
nerve_status nerve_read_loss_section(cfg_reader *r, nerve_model_settings *s);

/* The settings sections (settings.c): every one read into m->settings (and
 * m->data_origin), and the optional ones added, empty, to a cfg that lacks
 * them so that overrides can fill them. */
nerve_status nerve_read_settings(nerve_config *cfg, nerve_model *m, nerve_error *err);
nerve_status nerve_add_missing_settings_sections(nerve_config *cfg, nerve_error *err);

/* One layer type of the cfg: its section name and the function that reads
 * its keys and adds its nodes after its input (input = name; the previous
 * layer by default). A join (add, concat) has `join` instead of `build`: it
 * takes two or more inputs, input = a,b,... */
typedef nerve_node (*layer_builder)(nerve_graph *g, const char *name, nerve_node input,
                                    cfg_reader *r, nerve_rng *rng, nerve_error *err);
typedef nerve_node (*join_builder)(nerve_graph *g, const char *name, const nerve_node *inputs,
                                   int input_count, cfg_reader *r, nerve_error *err);
typedef struct layer_section_type {
    const char *name;
    layer_builder build;
    join_builder join;
} layer_section_type;

/* The most inputs a join layer takes. */
#define LAYER_MAX_INPUTS 8

const layer_section_type *nerve_layer_section_find(const char *type);
/* Reads the activation that `key` names (type= of [activation], activation=
 * of [dense]; without `required`, none by default) and its settings keys,
 * and adds it after x: its output node is named `name`, its parameters
 * <name>.weight or <name>.beta. Returns x itself for none and identity. */
nerve_node nerve_activation_section_build(nerve_graph *g, const char *name, nerve_node x,
                                          cfg_reader *r, const char *key, bool required,
                                          nerve_error *err);
/* "dense, activation, ..." for messages, written into buf (512 bytes hold
 * them all); returns buf. The caller's buffer keeps it safe to call from
 * several threads. */
const char *nerve_layer_section_names(char *buf, size_t size);
/* The i-th layer section type, NULL past the last. */
const char *nerve_layer_section_name_at(int i);

/* The [data] section, and the check, once every settings section is read,
 * that [net] bptt has text data to cut (data_section.c). */
/* A file of [data] key (DATA_*) that could not be read (NERVE_ERR_IO): the
 * message gets where the path was set in front, "mlp.cfg:9: [data] train:
 * train.csv: cannot open: ...". Returns st. */
nerve_status nerve_model_data_io_error(const nerve_model *m, int key, nerve_status st,
                                       nerve_error *err);
/* Reads [data] into d; a relative path written in the cfg file is taken
 * from the cfg file's folder (one given with --set, from the current
 * directory), and origin[DATA_*] says where each path was set. */
nerve_status nerve_read_data_section(cfg_reader *r, nerve_data_settings *d,
                                     char origin[DATA_PATH_COUNT][NERVE_DATA_ORIGIN_MAX],
                                     nerve_class_names *class_names);
/* [data] class_names, once the network is built: a classifier's, one name
 * per class (class_names.c). */
nerve_status nerve_model_check_class_names(const nerve_model *m, nerve_config *cfg,
                                           nerve_error *err);
/* A loaded data set's class names against the model's (class_names.c): a
 * training set (adopt) gives the model its names when it has none; else
 * the set's named classes are mapped onto the model's, and named labels
 * with a model of numbered classes are an error naming path. */
nerve_status nerve_model_match_classes(nerve_model *m, nerve_dataset *ds, const char *path,
                                       bool adopt, nerve_error *err);
/* The class names and image shape as weights metadata (key, value pairs
 * appended at *pairs; the values are malloc'ed into *owned, which the
 * caller frees), and read back from a weights file. */
nerve_status nerve_model_class_metadata(const nerve_model *m, const char **pairs, int *count,
                                        char **owned, nerve_error *err);
nerve_status nerve_model_read_class_metadata(const nerve_model *m,
                                             const nerve_safetensors *file, const char *path,
                                             nerve_class_names *names, nerve_shape *image_shape,
                                             nerve_error *err);
nerve_status nerve_check_bptt(nerve_config *cfg, const nerve_model_settings *s, nerve_error *err);
/* Whether ds fits the network: its sample size, labels or targets (data.c);
 * path names it in messages about the samples, labels (an IDX labels file;
 * NULL or "": path) in those about the labels or targets. Sets
 * ds->sample_shape to the network input. */
nerve_status nerve_model_check_data(const nerve_model *m, const char *path, const char *labels,
                                    nerve_dataset *ds, nerve_error *err);
/* The (x - mean) / std after the division by [data] scale: the training
 * set's statistics for standardize, the fixed 2x - 1 for minus_one_one;
 * false (mean 0, std 1) for scale alone (normalization.c). */
bool nerve_model_shift_after_scale(const nerve_model *m, double *mean, double *std);
/* nerve_model_load_data for [data] format = adding (adding_data.c). */
nerve_status nerve_model_load_adding(nerve_model *m, nerve_dataset *train, nerve_dataset *val,
                                     nerve_dataset *test, nerve_error *err);
/* nerve_model_check_tokens on a data set's inputs, whichever their stored
 * type (tokens.c). */
nerve_status nerve_model_check_dataset_tokens(const nerve_model *m, const nerve_dataset *ds,
                                              const char *source, nerve_error *err);
/* nerve_model_load_data for [data] format = text (text_data.c). */
nerve_status nerve_model_load_text(nerve_model *m, nerve_dataset *train, nerve_dataset *val,
                                   nerve_dataset *test, nerve_error *err);

/* The [optimizer] and [schedule] sections (optim_sections.c). */
nerve_status nerve_read_optimizer_section(cfg_reader *r, nerve_optimizer_options *o);
nerve_status nerve_read_schedule_section(cfg_reader *r, nerve_schedule *s);
/* The [augment] section (augment_section.c), and the check, once every
 * settings section is read, that an augmented input is an image. */
nerve_status nerve_read_augment_section(cfg_reader *r, nerve_augment_options *o);
nerve_status nerve_check_augment_input(nerve_config *cfg, const nerve_model_settings *s,
                                       nerve_error *err);

/* The parameterless layers and the joins (structural_sections.c). */
nerve_node nerve_maxpool2d_section_build(nerve_graph *g, const char *name, nerve_node input,
                                         cfg_reader *r, nerve_rng *rng, nerve_error *err);
nerve_node nerve_avgpool2d_section_build(nerve_graph *g, const char *name, nerve_node input,
                                         cfg_reader *r, nerve_rng *rng, nerve_error *err);
nerve_node nerve_global_avgpool_section_build(nerve_graph *g, const char *name, nerve_node input,
                                              cfg_reader *r, nerve_rng *rng, nerve_error *err);
nerve_node nerve_reshape_section_build(nerve_graph *g, const char *name, nerve_node input,
                                       cfg_reader *r, nerve_rng *rng, nerve_error *err);
nerve_node nerve_identity_section_build(nerve_graph *g, const char *name, nerve_node input,
                                        cfg_reader *r, nerve_rng *rng, nerve_error *err);
nerve_node nerve_add_section_join(nerve_graph *g, const char *name, const nerve_node *inputs,
                                  int input_count, cfg_reader *r, nerve_error *err);
nerve_node nerve_concat_section_join(nerve_graph *g, const char *name, const nerve_node *inputs,
                                     int input_count, cfg_reader *r, nerve_error *err);

/* The token-id layers (sequence_sections.c): [embedding] and [one_hot]. */
nerve_node nerve_embedding_section_build(nerve_graph *g, const char *name, nerve_node input,
                                         cfg_reader *r, nerve_rng *rng, nerve_error *err);
nerve_node nerve_one_hot_section_build(nerve_graph *g, const char *name, nerve_node input,
                                       cfg_reader *r, nerve_rng *rng, nerve_error *err);
/* The recurrent layers (recurrent_sections.c). */
nerve_node nerve_rnn_section_build(nerve_graph *g, const char *name, nerve_node input,
                                   cfg_reader *r, nerve_rng *rng, nerve_error *err);
nerve_node nerve_lstm_section_build(nerve_graph *g, const char *name, nerve_node input,
                                    cfg_reader *r, nerve_rng *rng, nerve_error *err);
nerve_node nerve_gru_section_build(nerve_graph *g, const char *name, nerve_node input,
                                   cfg_reader *r, nerve_rng *rng, nerve_error *err);

/* nerve_model_save_weights with extra_count more tensors and a
 * NULL-terminated list of more metadata key, value pairs (a checkpoint's
 * training state, weights.c). */
/* The normalisation statistics a weights or checkpoint file's metadata
 * holds (mean 0, std 1 when absent); an unparsable value is an error naming
 * the file and the key. */
nerve_status nerve_model_read_normalization(const nerve_safetensors *file, const char *path,
                                           double *mean, double *std, nerve_error *err);
nerve_status nerve_model_save_weights_with(nerve_model *m, const char *path,
                                           const nerve_named_tensor *extra, int extra_count,
                                           const char *const *extra_metadata, nerve_error *err);

#endif
