/* nerve/pretrain.h, part of nerve.h (include that, or this part alone): a regime: greedy layer-
 * wise pre-training. */
#ifndef NERVE_PUBLIC_PRETRAIN_H
#define NERVE_PUBLIC_PRETRAIN_H

#include "nerve/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- pre-training */

/* Greedy layer-wise pre-training (Hinton & Salakhutdinov 2006; Bengio et al.
 * 2007, "Greedy layer-wise training of deep networks"), docs/cli.md, "nerve
 * pretrain". Each hidden dense layer, bottom up, becomes the encoder of a
 * one-hidden-layer autoencoder trained to reconstruct the layer's input: the
 * training set passed, in eval mode, through the layers below it (already
 * pre-trained). The encoder has the layer's shape, bias and activation= and
 * starts from its current weights; the decoder is a dense layer back to the
 * input width, with a sigmoid when every input value lies in [0, 1] (pixels
 * scaled to [0, 1], a sigmoid layer's codes) and linear otherwise. It is
 * trained on the squared error against the clean input summed over a row's
 * values and averaged over the batch; reports give it per value (the MSE).
 * After its epochs the encoder's weights are copied into the layer. */
typedef struct nerve_pretrain_report {
    const char *layer;          /* the model's layer name */
    int index, count;           /* 1-based among the layers pre-trained */
    int64_t inputs, units;      /* the layer's input and output widths */
    bool sigmoid_decoder;       /* false: a linear decoder */
    int epoch, epochs;          /* the epoch just done (on_layer: epochs) */
    double loss;                /* the epoch's training error per value (noisy inputs) */
    /* The reconstruction error (MSE) of the clean training inputs, over the
     * whole set, before the first epoch and after the last (on_layer; NaN in
     * on_epoch's reports). */
    double start_loss, end_loss;
    double seconds;             /* since the layer's start */
} nerve_pretrain_report;

typedef struct nerve_pretrain_options {
    int epochs;        /* per layer, >= 1 */
    int64_t batch;     /* mini-batch; 0: the whole training set */
    double noise;      /* masking noise (denoising autoencoder, Vincent et al. 2008): each
                          input value zeroed with this probability while training, in [0, 1) */
    double lr;         /* > 0; the other settings of the model's [optimizer] apply as they are */
    uint64_t seed;     /* the shuffling, the noise and the decoder's initial weights */
    /* Called after each epoch and after each layer with its report (either may be NULL). */
    void (*on_epoch)(const nerve_pretrain_report *r, void *user);
    void (*on_layer)(const nerve_pretrain_report *r, void *user);
    void *user;
} nerve_pretrain_options;

/* [net] epochs, [net] batch, no noise, [optimizer] lr and [net] seed. */
NERVE_API nerve_pretrain_options nerve_pretrain_options_from(const nerve_model *m);
/* Pre-trains every layer with trainable parameters below the last one (the
 * output layer, which stays as initialised), in cfg order, on train
 * (normalised, as nerve_model_load_data leaves it). Those layers must be
 * dense layers whose activation, if any, is a fixed element-wise function
 * (nerve_activate's: not prelu, a learnable swish, rrelu or crelu); the encoder
 * takes the activation = of the [dense] section only (a separate
 * [activation] layer after it is applied to the codes passed up, but not
 * trained through), so write it there. Any other trainable layer below the
 * output layer is an error naming it, as is a model with no such hidden
 * layer. Layers without parameters (activations, dropout, flatten, ...) run
 * in eval mode in the codes passed up. The model's graph is left planned for
 * options->batch and in eval mode. */
NERVE_API nerve_status nerve_pretrain(nerve_model *m, const nerve_dataset *train,
                                      const nerve_pretrain_options *options, nerve_error *err);

#ifdef __cplusplus
}
#endif
#endif /* NERVE_PUBLIC_PRETRAIN_H */
