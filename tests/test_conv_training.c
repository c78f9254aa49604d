/* A small convolutional network read from a .cfg learns: conv2d (same
 * padding, relu), a strided conv2d, a transposed convolution and a dense
 * classifier on 1x8x8 images of a horizontal or a vertical bar, trained
 * with the library's trainer, lowers its loss and classifies the images;
 * evaluation and prediction run through the same convolutions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#define SAMPLES 64
#define SIDE 8

static const char *const cfg =
    "[net]\ninput = 1x8x8\nbatch = 16\nepochs = 40\nseed = 2\n"
    "[optimizer]\nlr = 0.05\nmomentum = 0.9\n"
    "[conv2d]\nfilters = 4\nkernel = 3\npadding = same\nactivation = relu\n"
    "[conv2d]\nfilters = 6\nkernel = 3\nstride = 2\npadding = 1\nactivation = tanh\n"
    "[conv_transpose2d]\nfilters = 2\nkernel = 2\nstride = 2\n"
    "[dense]\nunits = 2\n";

/* Class 0: a bright row; class 1: a bright column; at a random place, on noise. */
static nerve_dataset bars(void)
{
    nerve_rng rng;
    nerve_rng_seed(&rng, 17);
    nerve_dataset ds = {0};
    ds.count = SAMPLES;
    ds.sample_shape = (nerve_shape){3, {1, SIDE, SIDE}};
    ds.sample_size = SIDE * SIDE;
    ds.target_size = 1;
    ds.num_classes = 2;
    ds.inputs = malloc(SAMPLES * SIDE * SIDE * sizeof(float));
    ds.targets = malloc(SAMPLES * sizeof(float));
    for (int i = 0; i < SAMPLES; i++) {
        int label = i % 2, at = (int)nerve_rng_below(&rng, SIDE);
        float *image = ds.inputs + i * SIDE * SIDE;
        for (int y = 0; y < SIDE; y++)
            for (int x = 0; x < SIDE; x++)
                image[y * SIDE + x] = (float)(0.2 * nerve_rng_uniform(&rng)) +
                                      ((label ? x : y) == at ? 1.0f : 0.0f);
        ds.targets[i] = (float)label;
    }
    return ds;
}

static void record_loss(const nerve_epoch_report *r, void *user)
{
    ((double *)user)[r->epoch - 1] = r->train_loss;
}

static void test_a_conv_net_from_a_cfg_learns_bars(void **state)
{
    const char *path = test_tmppath("conv_net.cfg");
    test_write_file(path, cfg, strlen(cfg));
    nerve_model *m;
    nerve_error err = {0};
    test_require_ok(nerve_model_load(path, NULL, &m, &err), &err);
    nerve_dataset ds = bars();
    double loss[40];
    nerve_train_options o = nerve_train_options_from(m);
    o.on_epoch = record_loss;
    o.user = loss;
    test_require_ok(nerve_train(m, &ds, NULL, &o, &err), &err);
    if (!(loss[39] < 0.5 * loss[0])) fail_msg("loss %g -> %g", loss[0], loss[39]);

    nerve_evaluation e;
    test_require_ok(nerve_evaluate(m, &ds, 0, &e, &err), &err);
    if (e.accuracy < 0.9) fail_msg("accuracy %g", e.accuracy);
    nerve_evaluation_free(&e);
    float probabilities[4];
    test_require_ok(nerve_predict(m, ds.inputs, 2, probabilities, &err), &err);
    assert_true(probabilities[0] > 0.5 && probabilities[3] > 0.5);
    nerve_dataset_free(&ds);
    nerve_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_conv_net_from_a_cfg_learns_bars),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
