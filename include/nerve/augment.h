/* nerve/augment.h, part of nerve.h (include that, or this part alone): on-the-fly image
 * augmentation. */
#ifndef NERVE_PUBLIC_AUGMENT_H
#define NERVE_PUBLIC_AUGMENT_H

#include "nerve/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- augmentation */

/* On-the-fly augmentation of image batches [N, C, H, W], as torchvision's
 * transforms in the order RandomCrop(padding), RandomHorizontalFlip,
 * RandomAffine(degrees, translate), ColorJitter(brightness, contrast),
 * RandomErasing. Every transform is off at its zero value
 * (nerve_augment_defaults). Values are in the file's pixel units (0..255 for
 * IDX): the pipeline works on normalised batches and maps them through the
 * data's normalisation (nerve_augment_new), so it does exactly what the same
 * transforms do on the raw images, except that values are not clamped to a
 * pixel range. docs/config.md, [augment], gives the details. */
typedef struct nerve_augment_options {
    size_t size; /* NERVE_SIZED(nerve_augment_options): see nerve/core.h */
    int64_t crop_padding;  /* RandomCrop(H, padding=P): pad P black pixels on every side,
                              take a random HxW window */
    double flip;           /* probability of a horizontal flip */
    double rotation;       /* degrees: the angle is uniform in [-rotation, rotation],
                              counter-clockwise about the centre, bilinear */
    double translate;      /* fraction: shifts round(U[-t*W, t*W]) and round(U[-t*H, t*H]) */
    double brightness;     /* pixels * U[max(0, 1-b), 1+b] */
    double contrast;       /* blend with the mean grey: mean + U[max(0, 1-c), 1+c] * (x - mean) */
    double erase;          /* probability of erasing a rectangle */
    double erase_scale[2]; /* its area as a fraction of the image: (0.02, 0.33) */
    double erase_ratio[2]; /* its aspect ratio h/w, log-uniform: (0.3, 3.3) */
    double erase_value;    /* the pixel value it is filled with: 0 */
    double noise;          /* since 0.2.1: additive Gaussian noise, std in pixel units */
} nerve_augment_options;

/* Every transform off; erasing's shape settings at RandomErasing's defaults. */
NERVE_API void nerve_augment_defaults_sized(nerve_augment_options *out, size_t size);
static inline nerve_augment_options nerve_augment_defaults(void)
{
    nerve_augment_options o;
    nerve_augment_defaults_sized(&o, sizeof o);
    return o;
}
/* Whether any transform is on. */
NERVE_API bool nerve_augment_enabled(const nerve_augment_options *options);
/* True, with the option's name and the reason, when an option is out of its
 * range (probabilities in [0, 1], ...). */
NERVE_API bool nerve_augment_options_problem(const nerve_augment_options *options, const char **key,
                                             char *why, size_t size);

/* An augmentation pipeline for images of shape image (C, H, W). A batch
 * value is pixel * gain + offset: gain = 1 / scale and offset = 0 for [data]
 * normalize = scale; 1 / (scale * std) and -mean / std for standardize.
 * Everything it uses is allocated here (a work image per thread of
 * nerve_get_threads()): applying allocates nothing. */
typedef struct nerve_augment nerve_augment;

NERVE_API nerve_augment *nerve_augment_new(const nerve_augment_options *options, nerve_shape image,
                                           double gain, double offset, uint64_t seed,
                                           nerve_error *err);
/* Augments the n images of a batch in place. Image i's transforms are a pure
 * function of (seed, step, first_sample + i), drawn from the counter-based
 * generator of nerve_graph_set_position: the same sample at the same step is
 * augmented alike whatever batch or row it is in and however many threads
 * run. nerve_train passes its global step and the position of the batch's
 * first sample in the epoch's order. */
NERVE_API void nerve_augment_apply(nerve_augment *augment, nerve_real *images, int64_t n,
                                   int64_t step, int64_t first_sample);
NERVE_API void nerve_augment_free(nerve_augment *augment);

#ifdef __cplusplus
}
#endif
#endif /* NERVE_PUBLIC_AUGMENT_H */
