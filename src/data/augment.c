/* On-the-fly augmentation of image batches, with torchvision's semantics:
 * RandomCrop(padding), RandomHorizontalFlip, RandomAffine(degrees,
 * translate), ColorJitter(brightness, contrast) and RandomErasing, in that
 * order, then additive Gaussian noise. The geometric transforms are two passes: the crop and the flip,
 * whole pixels, into a work image; then the affine warp back. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/noise.h"
#include "core/options.h"
#include "data/augment_internal.h"

/* Below this many values in a batch, waking OpenMP's threads costs more
 * than it saves. */
#define PARALLEL_THRESHOLD ((int64_t)1 << 15)
/* torchvision's ITU-R 601-2 luma weights (rgb_to_grayscale). */
#define LUMA_R 0.2989
#define LUMA_G 0.587
#define LUMA_B 0.114
/* RandomErasing gives up after this many rectangles that do not fit. */
#define ERASE_ATTEMPTS 10

static nerve_augment_options nerve_augment_defaults_value(void)
{
    nerve_augment_options o = {0};
    o.erase_scale[0] = 0.02;
    o.erase_scale[1] = 0.33;
    o.erase_ratio[0] = 0.3;
    o.erase_ratio[1] = 3.3;
    return o;
}

void nerve_augment_defaults_sized(nerve_augment_options *out, size_t size)
{
    nerve_augment_options value = nerve_augment_defaults_value();
    nerve_options_write(out, size, &value, sizeof value);
}

void augment_state(const nerve_augment *a, state_list *s)
{
    state_value *v = state_add_computed(s, "augmented", STATE_INT, STATE_MATCHED);
    if (v) v->i = a != NULL;
}

bool nerve_augment_enabled(const nerve_augment_options *o)
{
    NERVE_OPTIONS_IN(nerve_augment_options, o, erase_value, "nerve_augment_enabled", NULL, false);
    return o->crop_padding > 0 || o->flip > 0 || o->rotation > 0 || o->translate > 0 ||
           o->brightness > 0 || o->contrast > 0 || o->erase > 0 || o->noise > 0;
}

static bool problem(const char **key, char *why, size_t size, const char *name, const char *text)
{
    *key = name;
    snprintf(why, size, "%s", text);
    return true;
}

bool nerve_augment_options_problem(const nerve_augment_options *o, const char **key, char *why,
                                   size_t size)
{
    NERVE_OPTIONS_IN(nerve_augment_options, o, erase_value, "nerve_augment_options_problem",
                     NULL, false);
    /* The negated comparisons also reject NaN. */
    if (!(o->crop_padding >= 0 && o->crop_padding <= 1 << 16))
        return problem(key, why, size, "crop_padding", "must be in [0, 65536] pixels");
    if (!(o->flip >= 0 && o->flip <= 1))
        return problem(key, why, size, "flip", "is a probability, in [0, 1]");
    if (!(o->rotation >= 0 && o->rotation <= 180))
        return problem(key, why, size, "rotation", "must be in [0, 180] degrees");
    if (!(o->translate >= 0 && o->translate <= 1))
        return problem(key, why, size, "translate", "is a fraction of the size, in [0, 1]");
    if (!(o->brightness >= 0 && o->brightness <= 1e6))
        return problem(key, why, size, "brightness", "must be >= 0");
    if (!(o->contrast >= 0 && o->contrast <= 1e6))
        return problem(key, why, size, "contrast", "must be >= 0");
    if (!(o->erase >= 0 && o->erase <= 1))
        return problem(key, why, size, "erase", "is a probability, in [0, 1]");
    if (!(o->erase_scale[0] >= 0 && o->erase_scale[0] <= o->erase_scale[1] &&
          o->erase_scale[1] <= 1))
        return problem(key, why, size, "erase_scale",
                       "takes two fractions of the area, 0 <= min <= max <= 1");
    if (!(o->erase_ratio[0] > 0 && o->erase_ratio[0] <= o->erase_ratio[1] &&
          isfinite(o->erase_ratio[1])))
        return problem(key, why, size, "erase_ratio",
                       "takes two aspect ratios, 0 < min <= max");
    if (!isfinite(o->erase_value))
        return problem(key, why, size, "erase_value", "must be a finite pixel value");
    if (!(o->noise >= 0 && o->noise <= 1e6))
        return problem(key, why, size, "noise", "is a standard deviation in pixel units, >= 0");
    return false;
}

nerve_augment *nerve_augment_new(const nerve_augment_options *options, nerve_shape image,
                                 double gain, double offset, uint64_t seed, nerve_error *err)
{
    NERVE_OPTIONS_IN(nerve_augment_options, options, erase_value, "nerve_augment_new", err, NULL);
    char why[200], shape[64];
    const char *key;
    if (nerve_augment_options_problem(options, &key, why, sizeof why)) {
        nerve_error_set(err, NERVE_ERR_INVALID, "augment %s %s", key, why);
        return NULL;
    }
    if (image.ndim != 3 || image.dim[0] < 1 || image.dim[1] < 1 || image.dim[2] < 1) {
        nerve_error_set(err, NERVE_ERR_SHAPE, "augmentation takes images C x H x W, not %s",
                        nerve_shape_format(&image, shape, sizeof shape));
        return NULL;
    }
    if (!(isfinite(gain) && gain != 0 && isfinite(offset))) {
        nerve_error_set(err, NERVE_ERR_INVALID,
                        "augmentation needs a finite, non-zero pixel gain and a finite offset");
        return NULL;
    }
    nerve_augment *a = calloc(1, sizeof *a);
    int threads = nerve_get_threads() > 0 ? nerve_get_threads() : 1;
    int64_t framed = image.dim[0] * (image.dim[1] + 2) * (image.dim[2] + 2);
    if (a) a->scratch = malloc((size_t)threads * (size_t)framed * sizeof *a->scratch);
    if (!a || !a->scratch) {
        free(a);
        nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory for the augmentation's work images");
        return NULL;
    }
    a->options = *options;
    a->channels = image.dim[0];
    a->height = image.dim[1];
    a->width = image.dim[2];
    a->black = (nerve_real)offset;
    a->erase_fill = (nerve_real)(options->erase_value * gain + offset);
    a->noise_std = options->noise * fabs(gain);
    a->threads = threads;
    a->seed = seed;
    return a;
}

void nerve_augment_free(nerve_augment *a)
{
    if (!a) return;
    free(a->scratch);
    free(a);
}

static double uniform(nerve_rng *rng, double low, double high)
{
    return low + (high - low) * nerve_rng_uniform(rng);
}

/* RandomErasing.get_params: a rectangle of a random area and aspect ratio
 * at a random place; no erasing when ten tries do not fit. */
static void draw_erasing(const nerve_augment *a, nerve_rng *rng, augment_draw *d)
{
    const nerve_augment_options *o = &a->options;
    double area = (double)(a->height * a->width);
    double log_ratio_low = log(o->erase_ratio[0]), log_ratio_high = log(o->erase_ratio[1]);
    for (int attempt = 0; attempt < ERASE_ATTEMPTS; attempt++) {
        double target = area * uniform(rng, o->erase_scale[0], o->erase_scale[1]);
        double aspect = exp(uniform(rng, log_ratio_low, log_ratio_high));
        int64_t h = (int64_t)llround(sqrt(target * aspect));
        int64_t w = (int64_t)llround(sqrt(target / aspect));
        if (!(h < a->height && w < a->width)) continue;
        d->erase = true;
        d->erase_h = h;
        d->erase_w = w;
        d->erase_y = (int64_t)nerve_rng_below(rng, (uint64_t)(a->height - h + 1));
        d->erase_x = (int64_t)nerve_rng_below(rng, (uint64_t)(a->width - w + 1));
        return;
    }
}

void augment_draw_sample(const nerve_augment *a, nerve_rng *rng, augment_draw *d)
{
    const nerve_augment_options *o = &a->options;
    int64_t padding = o->crop_padding;
    memset(d, 0, sizeof *d);
    d->crop_y = d->crop_x = padding;
    d->brightness = d->contrast = 1;
    if (padding > 0) {
        d->crop_y = (int64_t)nerve_rng_below(rng, (uint64_t)(2 * padding + 1));
        d->crop_x = (int64_t)nerve_rng_below(rng, (uint64_t)(2 * padding + 1));
    }
    if (o->flip > 0) d->flip = nerve_rng_uniform(rng) < o->flip;
    if (o->rotation > 0) d->angle = uniform(rng, -o->rotation, o->rotation);
    if (o->translate > 0) {
        /* RandomAffine rounds its shifts to whole pixels. */
        double max_x = o->translate * (double)a->width, max_y = o->translate * (double)a->height;
        d->shift_x = (int64_t)llround(uniform(rng, -max_x, max_x));
        d->shift_y = (int64_t)llround(uniform(rng, -max_y, max_y));
    }
    if (o->brightness > 0)
        d->brightness = uniform(rng, fmax(0, 1 - o->brightness), 1 + o->brightness);
    if (o->contrast > 0)
        d->contrast = uniform(rng, fmax(0, 1 - o->contrast), 1 + o->contrast);
    if (o->erase > 0 && nerve_rng_uniform(rng) < o->erase) draw_erasing(a, rng, d);
}

/* The cropped and flipped image into framed, with a frame of one black
 * pixel on every side: (H + 2) x (W + 2) per channel. Pixel (y, x) of the
 * crop is pixel (y + crop_y - P, x + crop_x - P) of the original padded
 * with black; the flip mirrors x first. */
static void crop_and_flip(const nerve_augment *a, const augment_draw *d, const nerve_real *image,
                          nerve_real *framed)
{
    int64_t width = a->width, height = a->height, framed_width = width + 2;
    int64_t shift_y = d->crop_y - a->options.crop_padding;
    int64_t shift_x = d->crop_x - a->options.crop_padding;
    for (int64_t c = 0; c < a->channels; c++) {
        for (int64_t y = -1; y <= height; y++) {
            nerve_real *row = framed + (c * (height + 2) + y + 1) * framed_width;
            int64_t sy = y + shift_y;
            if (y < 0 || y >= height || sy < 0 || sy >= height) {
                for (int64_t x = 0; x < framed_width; x++) row[x] = a->black;
                continue;
            }
            const nerve_real *source = image + (c * height + sy) * width;
            row[0] = row[width + 1] = a->black;
            for (int64_t x = 0; x < width; x++) {
                int64_t sx = (d->flip ? width - 1 - x : x) + shift_x;
                row[x + 1] = sx >= 0 && sx < width ? source[sx] : a->black;
            }
        }
    }
}

/* The affine warp of the framed image into image. Whole-pixel shifts copy;
 * a rotation samples bilinearly about the centre ((W - 1) / 2, (H - 1) / 2),
 * as torchvision's affine with align_corners=False, outside pixels counting
 * as black. The frame makes every neighbour of a point inside [-1, W] x
 * [-1, H] readable without a check; farther points are black. */
static void affine(const nerve_augment *a, const augment_draw *d, const nerve_real *framed,
                   nerve_real *image)
{
    int64_t width = a->width, height = a->height, framed_width = width + 2;
    double radians = d->angle * (3.14159265358979323846 / 180.0);
    double cos_a = cos(radians), sin_a = sin(radians);
    double cx = 0.5 * (double)(width - 1), cy = 0.5 * (double)(height - 1);
    for (int64_t c = 0; c < a->channels; c++) {
        const nerve_real *in = framed + c * (height + 2) * framed_width;
        nerve_real *out = image + c * height * width;
        for (int64_t y = 0; y < height; y++) {
            if (d->angle == 0) {
                int64_t fy = y - d->shift_y + 1;
                for (int64_t x = 0; x < width; x++) {
                    int64_t fx = x - d->shift_x + 1;
                    out[y * width + x] = fy >= 0 && fy < height + 2 && fx >= 0 &&
                                                 fx < framed_width
                                             ? in[fy * framed_width + fx]
                                             : a->black;
                }
                continue;
            }
            /* The inverse map: undo the shift, then rotate clockwise (in
             * image coordinates, y pointing down): source = row + x * step. */
            double u0 = (double)(-d->shift_x) - cx, v = (double)(y - d->shift_y) - cy;
            double row_x = cos_a * u0 - sin_a * v + cx, row_y = sin_a * u0 + cos_a * v + cy;
            for (int64_t x = 0; x < width; x++) {
                double sx = row_x + cos_a * (double)x, sy = row_y + sin_a * (double)x;
                /* floor(s) as a truncation of s + 1, which is >= 0 where it
                 * matters: a point left of or above -1 is black anyway. */
                if (!(sx >= -1 && sy >= -1)) {
                    out[y * width + x] = a->black;
                    continue;
                }
                int64_t fx1 = (int64_t)(sx + 1), fy1 = (int64_t)(sy + 1);
                if (fx1 > width || fy1 > height) {
                    out[y * width + x] = a->black;
                    continue;
                }
                nerve_real fx = (nerve_real)(sx + 1 - (double)fx1);
                nerve_real fy = (nerve_real)(sy + 1 - (double)fy1);
                const nerve_real *p = in + fy1 * framed_width + fx1;
                nerve_real top = p[0] + fx * (p[1] - p[0]);
                nerve_real bottom = p[framed_width] + fx * (p[framed_width + 1] - p[framed_width]);
                out[y * width + x] = top + fy * (bottom - top);
            }
        }
    }
}

/* The mean grey level in batch units: torchvision's luma for three
 * channels, the mean of all values otherwise. The normalisation is the same
 * affine map on every channel, so this is the mean grey of the pixels mapped
 * into batch units. */
static double mean_grey(const nerve_augment *a, const nerve_real *image)
{
    int64_t plane = a->height * a->width;
    double sum = 0;
    if (a->channels == 3) {
        for (int64_t i = 0; i < plane; i++)
            sum += LUMA_R * image[i] + LUMA_G * image[plane + i] + LUMA_B * image[2 * plane + i];
        return sum / (double)plane;
    }
    for (int64_t i = 0; i < a->channels * plane; i++) sum += image[i];
    return sum / (double)(a->channels * plane);
}

/* Brightness scales the pixels (pixel * f is black + f * (x - black) in
 * batch units); contrast blends with the mean grey. Without clamping the two
 * commute, so ColorJitter's random order does not matter. */
static void jitter(const nerve_augment *a, const augment_draw *d, nerve_real *image)
{
    int64_t size = a->channels * a->height * a->width;
    if (d->brightness != 1) {
        double black = a->black, f = d->brightness;
        for (int64_t i = 0; i < size; i++) image[i] = (nerve_real)(black + f * (image[i] - black));
    }
    if (d->contrast != 1) {
        double mean = mean_grey(a, image), f = d->contrast;
        for (int64_t i = 0; i < size; i++) image[i] = (nerve_real)(mean + f * (image[i] - mean));
    }
}

static void erase(const nerve_augment *a, const augment_draw *d, nerve_real *image)
{
    int64_t plane = a->height * a->width;
    for (int64_t c = 0; c < a->channels; c++)
        for (int64_t y = d->erase_y; y < d->erase_y + d->erase_h; y++)
            for (int64_t x = d->erase_x; x < d->erase_x + d->erase_w; x++)
                image[c * plane + y * a->width + x] = a->erase_fill;
}

void augment_sample(const nerve_augment *a, const augment_draw *d, nerve_real *image,
                    nerve_real *scratch)
{
    bool moves = d->crop_y != a->options.crop_padding || d->crop_x != a->options.crop_padding ||
                 d->flip || d->angle != 0 || d->shift_x != 0 || d->shift_y != 0;
    if (moves) {
        crop_and_flip(a, d, image, scratch);
        affine(a, d, scratch, image);
    }
    jitter(a, d, image);
    if (d->erase) erase(a, d, image);
}

/* A sample's draws are sequential (RandomErasing retries, rejection
 * sampling), so they come from xoshiro256** seeded by the first 64 bits of
 * global sample's Philox block: a pure function of (seed, step, sample). */
static nerve_rng sample_rng(const nerve_augment *a, int64_t step, int64_t sample)
{
    nerve_noise_at at = {a->seed, step, 0, NERVE_NOISE_STREAM_AUGMENT};
    uint32_t words[4];
    nerve_noise_block(&at, sample, 0, words);
    nerve_rng rng;
    nerve_rng_seed(&rng, (uint64_t)words[0] | (uint64_t)words[1] << 32);
    return rng;
}

void nerve_augment_apply(nerve_augment *a, nerve_real *images, int64_t n, int64_t step,
                         int64_t first_sample)
{
    int64_t size = a->channels * a->height * a->width;
    int64_t framed = a->channels * (a->height + 2) * (a->width + 2);
#pragma omp parallel for num_threads(a->threads) schedule(static) \
    if (n * size >= PARALLEL_THRESHOLD)
    for (int64_t i = 0; i < n; i++) {
        nerve_rng rng = sample_rng(a, step, first_sample + i);
        augment_draw d;
        augment_draw_sample(a, &rng, &d);
        augment_sample(a, &d, images + i * size, a->scratch + omp_get_thread_num() * framed);
        /* The noise continues the sample's own stream, after its draws. */
        for (int64_t k = 0; a->noise_std > 0 && k < size; k++)
            images[i * size + k] += (nerve_real)(a->noise_std * nerve_rng_normal(&rng));
    }
}
