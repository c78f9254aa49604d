/* On-the-fly augmentation of image batches, with torchvision's semantics:
 * RandomCrop(padding), RandomHorizontalFlip, RandomAffine(degrees,
 * translate), ColorJitter(brightness, contrast) and RandomErasing, in that
 * order. The geometric transforms are one pass: every output pixel is looked
 * up through the affine warp, the flip and the crop window, which gives what
 * applying them one after the other gives. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
/* An odd constant spreading sample indices over the seed space, so that
 * the samples' streams do not overlap (splitmix64 seeds k and k + gamma
 * would share three of their four words). */
#define SAMPLE_STREAM_MIX 0xd1b54a32d192ed03ULL

nerve_augment_options nerve_augment_defaults(void)
{
    nerve_augment_options o = {0};
    o.erase_scale[0] = 0.02;
    o.erase_scale[1] = 0.33;
    o.erase_ratio[0] = 0.3;
    o.erase_ratio[1] = 3.3;
    return o;
}

bool nerve_augment_enabled(const nerve_augment_options *o)
{
    return o->crop_padding > 0 || o->flip > 0 || o->rotation > 0 || o->translate > 0 ||
           o->brightness > 0 || o->contrast > 0 || o->erase > 0;
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
    return false;
}

nerve_augment *nerve_augment_new(const nerve_augment_options *options, nerve_shape image,
                                 double gain, double offset, uint64_t seed, nerve_error *err)
{
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
    int64_t size = nerve_shape_numel(&image);
    if (a) a->scratch = malloc((size_t)threads * (size_t)size * sizeof *a->scratch);
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
    a->threads = threads;
    nerve_rng_seed(&a->rng, seed);
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

/* Pixel (y, x) of the cropped and flipped image, read from the original in
 * source; black outside the crop window and in the padding. */
static nerve_real cropped_pixel(const nerve_augment *a, const augment_draw *d,
                                const nerve_real *source, int64_t y, int64_t x)
{
    if (y < 0 || y >= a->height || x < 0 || x >= a->width) return a->black;
    int64_t padding = a->options.crop_padding;
    int64_t sy = y + d->crop_y - padding;
    int64_t sx = (d->flip ? a->width - 1 - x : x) + d->crop_x - padding;
    if (sy < 0 || sy >= a->height || sx < 0 || sx >= a->width) return a->black;
    return source[sy * a->width + sx];
}

/* The crop, the flip and the affine warp, from source (a copy of the image)
 * into image. Whole-pixel shifts look one pixel up; a rotation samples
 * bilinearly about the centre ((W - 1) / 2, (H - 1) / 2), as torchvision's
 * affine with align_corners=False, outside pixels counting as black. */
static void warp(const nerve_augment *a, const augment_draw *d, const nerve_real *source,
                 nerve_real *image)
{
    int64_t plane = a->height * a->width;
    double radians = d->angle * (3.14159265358979323846 / 180.0);
    double cos_a = cos(radians), sin_a = sin(radians);
    double cx = 0.5 * (double)(a->width - 1), cy = 0.5 * (double)(a->height - 1);
    for (int64_t c = 0; c < a->channels; c++) {
        const nerve_real *in = source + c * plane;
        nerve_real *out = image + c * plane;
        for (int64_t y = 0; y < a->height; y++) {
            for (int64_t x = 0; x < a->width; x++) {
                if (d->angle == 0) {
                    out[y * a->width + x] =
                        cropped_pixel(a, d, in, y - d->shift_y, x - d->shift_x);
                    continue;
                }
                /* The inverse map: undo the shift, then rotate clockwise
                 * (in image coordinates, y pointing down). */
                double u = (double)(x - d->shift_x) - cx, v = (double)(y - d->shift_y) - cy;
                double sx = cos_a * u - sin_a * v + cx, sy = sin_a * u + cos_a * v + cy;
                double fx0 = floor(sx), fy0 = floor(sy);
                double fx = sx - fx0, fy = sy - fy0;
                int64_t x0 = (int64_t)fx0, y0 = (int64_t)fy0;
                double top = (1 - fx) * cropped_pixel(a, d, in, y0, x0) +
                             fx * cropped_pixel(a, d, in, y0, x0 + 1);
                double bottom = (1 - fx) * cropped_pixel(a, d, in, y0 + 1, x0) +
                                fx * cropped_pixel(a, d, in, y0 + 1, x0 + 1);
                out[y * a->width + x] = (nerve_real)((1 - fy) * top + fy * bottom);
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
        memcpy(scratch, image, (size_t)(a->channels * a->height * a->width) * sizeof *image);
        warp(a, d, scratch, image);
    }
    jitter(a, d, image);
    if (d->erase) erase(a, d, image);
}

void nerve_augment_apply(nerve_augment *a, nerve_real *images, int64_t n)
{
    uint64_t batch_key = nerve_rng_next(&a->rng);
    int64_t size = a->channels * a->height * a->width;
#pragma omp parallel for num_threads(a->threads) schedule(static) \
    if (n * size >= PARALLEL_THRESHOLD)
    for (int64_t i = 0; i < n; i++) {
        nerve_rng rng;
        nerve_rng_seed(&rng, batch_key ^ ((uint64_t)i + 1) * SAMPLE_STREAM_MIX);
        augment_draw d;
        augment_draw_sample(a, &rng, &d);
        augment_sample(a, &d, images + i * size, a->scratch + omp_get_thread_num() * size);
    }
}
