/* The training runs the checkpoint tests resume (test_checkpoint.c), shared
 * with the program that wrote the checkpoints of an earlier nerve kept as
 * fixtures (reference/checkpoint_fixtures.c): the MLP's and the LSTM's
 * configs and their data, made in code from seeds. Public API only. */
#ifndef NERVE_TEST_CHECKPOINT_RUNS_H
#define NERVE_TEST_CHECKPOINT_RUNS_H

#include <stdio.h>
#include <stdlib.h>

#include "nerve.h"

/* count samples of `size` features (or 1x8x8 images), two classes: the sign
 * of a fixed projection, with noise. */
static nerve_dataset features(int64_t count, int64_t size, uint64_t seed)
{
    nerve_rng rng;
    nerve_rng_seed(&rng, seed);
    nerve_dataset ds = {0};
    ds.count = count;
    ds.sample_shape = size == 64 ? (nerve_shape){3, {1, 8, 8}} : (nerve_shape){1, {size}};
    ds.sample_size = size;
    ds.target_size = 1;
    ds.num_classes = 2;
    ds.inputs = malloc((size_t)(count * size) * sizeof(float));
    ds.targets = malloc((size_t)count * sizeof(float));
    for (int64_t i = 0; i < count; i++) {
        double projection = 0;
        for (int64_t k = 0; k < size; k++) {
            float v = (float)nerve_rng_normal(&rng);
            ds.inputs[i * size + k] = v;
            projection += (k % 3 ? 1 : -1) * v;
        }
        ds.targets[i] = projection > 0;
    }
    return ds;
}

/* An MLP with Adam (amsgrad) and a per-step cosine schedule, trained on
 * features(96, 10, 5), validated on features(32, 10, 6): 6 steps an epoch. */
static const char *const mlp_cfg =
    "[net]\ninput = 10\nbatch = 16\nepochs = 3\nseed = 3\n"
    "[optimizer]\ntype = adam\nlr = 0.01\namsgrad = 1\n"
    "[schedule]\ntype = cosine\ninterval = step\nT_max = 12\n"
    "[dense]\nname = fc1\nunits = 12\nactivation = relu\n"
    "[dense]\nname = fc2\nunits = 2\n";

/* The LSTM's corpus, "hello world " 180 times, into text (2400 bytes);
 * returns its length. */
static int lstm_corpus(char *text, size_t size)
{
    int n = 0;
    for (int r = 0; r < 180; r++) n += snprintf(text + n, size - (size_t)n, "hello world ");
    return n;
}

/* An LSTM on that corpus as a stream of 4 lanes, bptt 8, with Adam and
 * clipping: (2160 - 200) characters, 61 steps an epoch. */
static void lstm_cfg_for(const char *corpus, char *cfg, size_t size)
{
    snprintf(cfg, size,
             "[net]\nbptt = 8\nbatch = 4\nepochs = 2\nseed = 5\n"
             "[data]\nformat = text\ntrain = %s\nvalidation = 200\n"
             "[optimizer]\ntype = adam\nlr = 0.01\nclip_norm = 1\n"
             "[embedding]\nvocab = 8\ndim = 6\n[lstm]\nhidden = 10\n[dense]\nunits = 8\n",
             corpus);
}

#endif
