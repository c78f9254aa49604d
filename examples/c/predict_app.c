/* predict_app: what an application does with a trained network: load the
 * cfg and the weights (which carry the training data's normalisation),
 * read images, and print each one's most probable class and its
 * probability.
 *
 * Usage: predict_app CFG WEIGHTS IMAGES.idx [FIRST [COUNT]]
 * IMAGES is an IDX image file, plain or gzip (Fashion-MNIST's t10k images);
 * FIRST and COUNT pick images (default: all). One line per image:
 *   image <i>: class <c> probability <p>
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <nerve.h>

static void die(const nerve_error *err)
{
    fprintf(stderr, "predict_app: %s\n", err->message);
    exit(1);
}

static int64_t parse_count(const char *text, const char *what)
{
    char *end;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    if (errno || *end || end == text || value < 0) {
        fprintf(stderr, "predict_app: %s '%s' is not a count\n", what, text);
        exit(2);
    }
    return value;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 6) {
        fprintf(stderr, "usage: predict_app CFG WEIGHTS IMAGES.idx [FIRST [COUNT]]\n");
        return 2;
    }
    nerve_error err = {0};
    nerve_model *m;
    if (nerve_model_load(argv[1], NULL, &m, &err) != NERVE_OK) die(&err);
    if (nerve_model_load_weights(m, argv[2], &err) != NERVE_OK) die(&err);
    int classes = nerve_model_classes(m);
    if (classes < 2 || nerve_model_label_steps(m) != 1) {
        fprintf(stderr, "predict_app: %s is not a classifier of whole samples\n", argv[1]);
        return 1;
    }

    nerve_dataset images;
    if (nerve_idx_load_images(argv[3], &images, &err) != NERVE_OK) die(&err);
    nerve_shape input = nerve_model_input_shape(m);
    if (images.sample_size != nerve_shape_numel(&input)) {
        char have[64], want[64];
        fprintf(stderr, "predict_app: %s: images of %s, the network takes %s\n", argv[3],
                nerve_shape_format(&images.sample_shape, have, sizeof have),
                nerve_shape_format(&input, want, sizeof want));
        return 1;
    }
    int64_t first = argc > 4 ? parse_count(argv[4], "FIRST") : 0;
    int64_t count = argc > 5 ? parse_count(argv[5], "COUNT") : images.count - first;
    if (first > images.count || count > images.count - first) {
        fprintf(stderr, "predict_app: %s holds %lld images\n", argv[3],
                (long long)images.count);
        return 1;
    }

    /* Pixels as the training data were normalised, then one row of class
     * probabilities per image. */
    nerve_model_normalize(m, &images);
    if (nerve_dataset_to_float(&images, &err) != NERVE_OK) die(&err); /* IDX keeps bytes */
    float *probs = malloc((size_t)(count ? count : 1) * (size_t)classes * sizeof *probs);
    if (!probs) return 1;
    const float *pixels = images.inputs + first * images.sample_size;
    if (count && nerve_predict(m, pixels, count, probs, &err) != NERVE_OK) die(&err);
    for (int64_t i = 0; i < count; i++) {
        const float *p = probs + i * classes;
        int best = 0;
        for (int c = 1; c < classes; c++)
            if (p[c] > p[best]) best = c;
        printf("image %lld: class %d probability %.4f\n", (long long)(first + i), best, p[best]);
    }

    free(probs);
    nerve_dataset_free(&images);
    nerve_model_free(m);
    return 0;
}
