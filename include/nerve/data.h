/* nerve/data.h, part of nerve.h (include that, or this part alone): data sets in memory, the IDX
 * and CSV formats, splits, the adding problem. */
#ifndef NERVE_PUBLIC_DATA_H
#define NERVE_PUBLIC_DATA_H

#include "nerve/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- datasets */

/* A labelled data set in memory. inputs: count x sample_size, row-major;
 * targets: count x target_size. For classification target_size is 1 and
 * targets hold class indices.
 * Inputs are float32, or kept in their stored type: IDX images hold one byte
 * per pixel (Fashion-MNIST's training set 47 MB rather than 188 MB as
 * float32), and then inputs is NULL, pixels holds the bytes, and input
 * element k is pixel_values[pixels[k]]. nerve_dataset_scale and
 * _standardize transform the 256 pixel_values (each the float the same
 * arithmetic on a float32 copy gives, bit for bit), nerve_dataset_gather
 * converts the samples of a batch, and nerve_dataset_to_float turns the set
 * into float32 inputs for code that reads inputs directly. */
typedef struct nerve_dataset {
    int64_t count;
    nerve_shape sample_shape; /* per sample, e.g. 1x28x28 or 784 */
    int64_t sample_size;      /* numel(sample_shape) */
    float *inputs;            /* NULL when pixels holds the inputs */
    unsigned char *pixels;    /* the stored bytes, count x sample_size, or NULL */
    float pixel_values[256];  /* the input value of each byte value */
    int64_t target_size;
    float *targets;
    int num_classes;          /* 0 for regression targets */
    /* The classes' names (string labels in a CSV, a folder's class
     * folders): class i is class_names[i], num_classes of them, sorted; NULL
     * for numbered classes. Owned: nerve_dataset_free frees them. */
    char **class_names;
    /* A stream (a text cut for truncated BPTT, [net] bptt): sample
     * j * lanes + b is chunk j of lane b, so that batch j of `lanes` samples
     * in order continues batch j - 1 lane by lane. 0: independent samples. */
    int64_t lanes;
} nerve_dataset;

/* IDX (MNIST / Fashion-MNIST) images and labels, plain or gzip (detected by
 * content). Checks magic, element type, that the dimensions match the file
 * size, and that both files agree in count. Pixels stay bytes (ds->pixels,
 * inputs NULL) with the values 0..255 unscaled; nerve_dataset_to_float
 * converts them. */
NERVE_API nerve_status nerve_idx_load(const char *images_path, const char *labels_path,
                                      nerve_dataset *out, nerve_error *err);

/* Images only (for prediction): target_size 0, targets NULL. */
NERVE_API nerve_status nerve_idx_load_images(const char *images_path, nerve_dataset *out,
                                             nerve_error *err);

#define NERVE_CSV_NO_LABEL (-2)

typedef struct nerve_csv_options {
    size_t size; /* NERVE_SIZED(nerve_csv_options): see nerve/core.h */
    bool header;           /* skip the first row */
    int label_column;      /* classification: 0-based column, -1 = last,
                              NERVE_CSV_NO_LABEL: every column is a feature */
    int targets;           /* regression: the last `targets` columns (0 = classification) */
    /* (time, feature) blocks: consecutive rows with the same value in
     * sequence_column (0-based) are the time steps of one sample [T, F];
     * its label or targets are those of its last row. */
    bool sequences;
    int sequence_column;
    char delimiter;        /* since 0.2.1: the field separator, 0 for ',' (';' or '\t' files) */
} nerve_csv_options;

/* Numeric CSV. Errors name file:line:column. Class labels are
 * non-negative integers (num_classes is max label + 1) or, when the first
 * row's label is not a number, names: the distinct names, sorted (strcmp),
 * become classes 0, 1, ... and out->class_names. */
NERVE_API nerve_status nerve_csv_load(const char *path, const nerve_csv_options *options,
                                      nerve_dataset *out, nerve_error *err);

/* A folder of images as a labelled data set, the layout torchvision's
 * ImageFolder reads: root/<class name>/<image>.png|.jpg|.jpeg. The class
 * folders, sorted by name (strcmp), are classes 0, 1, ... and
 * out->class_names; the images of each, sorted by name, are its samples,
 * decoded, converted to shape's channels and resized to its height and
 * width (shape CxHxW with C 1 to 4, or HxW), pixel values 0..255. Hidden
 * entries (".name") and files of other extensions are skipped, as
 * ImageFolder does; an image that cannot be decoded, a class folder without
 * images or a root without class folders is an error naming the path. */
NERVE_API nerve_status nerve_folder_load(const char *root, const nerve_shape *shape,
                                         nerve_dataset *out, nerve_error *err);
/* Maps ds's classes onto a list of names: each sample's class becomes the
 * index of its name in names[0..count), ds->num_classes becomes count and
 * ds->class_names a copy of names. ds without class_names (numbered
 * classes) is left as it is. A name not in the list is an error naming it,
 * `what` (the file) and the list. */
NERVE_API nerve_status nerve_dataset_map_classes(nerve_dataset *ds, const char *const *names,
                                                 int count, const char *what, nerve_error *err);

NERVE_API void nerve_dataset_free(nerve_dataset *ds);
/* Moves the last `count` samples of ds into val (ds shrinks); as Keras'
 * validation_split, the hold-out is the end of the file. */
NERVE_API nerve_status nerve_dataset_split(nerve_dataset *ds, int64_t count, nerve_dataset *val,
                                           nerve_error *err);
/* Which samples a validation split holds out. */
typedef enum nerve_split {
    NERVE_SPLIT_END = 0,   /* the last count samples (nerve_dataset_split) */
    NERVE_SPLIT_RANDOM,    /* count samples drawn at random (seeded) */
    NERVE_SPLIT_STRATIFIED /* count samples drawn at random within each class, in proportion
                              to the classes' sizes (largest remainders), as scikit-learn's
                              train_test_split(stratify=y); classification data only */
} nerve_split;
/* nerve_dataset_split with the samples `kind` chooses, drawn from seed: the
 * chosen samples move to val in file order, the others stay in ds in file
 * order. */
NERVE_API nerve_status nerve_dataset_split_by(nerve_dataset *ds, int64_t count, nerve_split kind,
                                              uint64_t seed, nerve_dataset *val, nerve_error *err);
/* Per-class subsets of a classification data set (one label per sample):
 * keeps the first limits[c] samples of each class c (file order; a
 * negative limit keeps them all), the kept samples moving up in their
 * order; the buffers stay, the count shrinks. `classes` entries; a label
 * at or past them is kept. Imbalanced training sets for experiments
 * ([data] class_limit). */
NERVE_API nerve_status nerve_dataset_limit_classes(nerve_dataset *ds, const int64_t *limits,
                                                   int classes, nerve_error *err);
/* The smallest class that val holds and train lacks (the labels of a
 * classification data set, every step's for a per-step classifier), or -1
 * when there is none: a validation set from the end of a class-sorted file. */
NERVE_API int nerve_dataset_class_missing(const nerve_dataset *train, const nerve_dataset *val);
/* inputs /= divisor. */
NERVE_API void nerve_dataset_scale(nerve_dataset *ds, float divisor);
/* Mean and standard deviation over all input elements of ds. */
NERVE_API void nerve_dataset_moments(const nerve_dataset *ds, double *mean, double *std);
/* inputs = (inputs - mean) / std. */
NERVE_API void nerve_dataset_standardize(nerve_dataset *ds, double mean, double std);
/* Turns stored pixels into float32 inputs (each pixel_values[byte]); a
 * float data set is left as it is. */
NERVE_API nerve_status nerve_dataset_to_float(nerve_dataset *ds, nerve_error *err);
/* Copies samples index[0..n) into contiguous buffers (targets may be NULL),
 * converting stored pixels to their values. */
NERVE_API void nerve_dataset_gather(const nerve_dataset *ds, const int64_t *index, int64_t n,
                                    nerve_real *inputs, nerve_real *targets);

/* ---------------------------------------------------------------- adding problem */

/* The adding problem (Hochreiter & Schmidhuber 1997, in the form of Le et
 * al. 2015 and later benchmarks): count samples of `length` steps, each
 * [length, 2] = (value ~ U(0, 1), marker); exactly two markers are 1, one
 * at a uniform step of the first half and one of the second; the target is
 * the sum of the two marked values (target_size 1, regression). Seeded:
 * the same seed gives the same samples everywhere. length >= 2. */
NERVE_API nerve_status nerve_adding_generate(int64_t length, int64_t count, uint64_t seed,
                                             nerve_dataset *out, nerve_error *err);
/* The mean squared error of always predicting 1 (the targets' mean) on ds:
 * about 1/6, the variance of the sum of two U(0, 1). */
NERVE_API double nerve_adding_baseline(const nerve_dataset *ds);

#ifdef __cplusplus
}
#endif
#endif /* NERVE_PUBLIC_DATA_H */
