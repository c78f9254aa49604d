/* The augmentation pipeline's pieces, for the tests: one sample's random
 * draws, and applying given draws to one image; and its checkpoint state. */
#ifndef NERVE_AUGMENT_INTERNAL_H
#define NERVE_AUGMENT_INTERNAL_H

#include "core/state.h"
#include "nerve.h"

/* Everything random about one sample's augmentation; the identity is
 * crop_y = crop_x = crop_padding, no flip, angle and shifts 0, factors 1,
 * no erasing. */
typedef struct augment_draw {
    int64_t crop_y, crop_x;        /* the window's corner in the padded image, in [0, 2P] */
    bool flip;
    double angle;                  /* degrees, counter-clockwise */
    int64_t shift_x, shift_y;      /* pixels, right and down */
    double brightness, contrast;   /* factors */
    bool erase;
    int64_t erase_y, erase_x, erase_h, erase_w;
} augment_draw;

struct nerve_augment {
    nerve_augment_options options;
    int64_t channels, height, width;
    nerve_real black;      /* a pixel of value 0 in batch units: the padding and rotation fill */
    nerve_real erase_fill; /* erase_value in batch units */
    double noise_std;      /* the noise's standard deviation in batch units */
    uint64_t seed;         /* the key of the samples' draws (core/noise.h) */
    int threads;
    nerve_real *scratch;   /* the image being warped, C x (H + 2) x (W + 2), one per thread */
};

/* The draws of one sample, from its own stream. */
void augment_draw_sample(const nerve_augment *a, nerve_rng *rng, augment_draw *d);
/* Applies d to one image [C, H, W] in place; scratch holds
 * C * (H + 2) * (W + 2) values. */
void augment_sample(const nerve_augment *a, const augment_draw *d, nerve_real *image,
                    nerve_real *scratch);

/* The state protocol (core/state.h): whether a run augments (a or NULL),
 * which a resume must repeat. The draws are a function of the seed and the
 * sample's position (core/noise.h): nothing else to save. */
void augment_state(const nerve_augment *a, state_list *s);

#endif
