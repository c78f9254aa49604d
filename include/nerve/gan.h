/* nerve/gan.h, part of nerve.h (include that, or this part alone): a regime: generative
 * adversarial networks, and scoring generated samples. */
#ifndef NERVE_PUBLIC_GAN_H
#define NERVE_PUBLIC_GAN_H

#include "nerve/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- GANs */

/* A generative adversarial network (Goodfellow et al. 2014) is two models
 * trained against each other, each with its own graph and its own
 * [optimizer]: a generator G turns noise z ~ N(0, 1) (its input, [net]
 * input = 100) into a sample of the discriminator's input shape; the
 * discriminator D ([loss] type = bce_with_logits, one output: a logit) tells
 * real samples (target 1) from generated ones (target 0). */
typedef enum nerve_gan_loss {
    /* G minimises -log D(G(z)) (BCE against target 1): strong gradients
     * while D wins, the usual choice. */
    NERVE_GAN_NON_SATURATING = 0,
    /* G minimises log(1 - D(G(z))) = -softplus(logit), the original minimax
     * game; its gradient on the logit, -sigmoid(logit), vanishes when D
     * confidently rejects the fakes. */
    NERVE_GAN_MINIMAX
} nerve_gan_loss;

typedef struct nerve_gan_report {
    int epoch;                  /* 1-based */
    int64_t step;               /* generator steps so far, in all */
    /* Means over the epoch (or, in a per-step log row, the last step):
     * D's loss is BCE on the real batch plus BCE on the fake one; G's is its
     * objective above (negative for minimax). */
    double discriminator_loss, generator_loss;
    /* D's accuracy on the real samples (logit > 0) and on the fakes
     * (logit <= 0), measured in its training steps. */
    double real_accuracy, fake_accuracy;
    double seconds;
    /* D's mean probability that a sample is real, sigmoid of its logit, on
     * the real samples (D(x)) and on the fakes (D(G(z))), measured as the
     * accuracies: 1/2 each at the game's equilibrium. */
    double mean_d_real, mean_d_fake;
} nerve_gan_report;

typedef struct nerve_gan_options {
    int epochs;                 /* passes over the real samples */
    int64_t batch;              /* real samples per D step, and as many fakes */
    int k;                      /* D steps per G step (>= 1) */
    nerve_gan_loss loss;
    uint64_t seed;              /* the noise and the real samples' order */
    int64_t max_steps;          /* stop after this many G steps (0: no limit) */
    const char *log_path;       /* CSV: a row per epoch (docs/cli.md, "nerve gan"), or NULL */
    int64_t log_every;          /* also a row every N G steps (0: per epoch only) */
    /* After each epoch; a status other than NERVE_OK (with err set) stops
     * training and is returned. NULL: none. */
    nerve_status (*on_epoch)(const nerve_gan_report *r, void *user, nerve_error *err);
    void *user;
} nerve_gan_options;

/* epochs, batch and seed from D's [net]; k = 1, non-saturating. */
NERVE_API nerve_gan_options nerve_gan_options_from(const nerve_model *discriminator);

/* Trains G and D on the real samples (normalised as D's input, e.g. [data]
 * normalize = minus_one_one for a tanh generator; the last partial batch of
 * each shuffled epoch is left out). Each D step: fakes G(z) (G in training
 * mode), D's BCE on a real batch against 1 and on the fakes against 0, both
 * backward passes adding into D's gradients, one D optimizer step. Every
 * k-th D step is followed by a G step on the same fakes: D (its parameters
 * frozen) scores them, the gradient of G's loss reaches D's input
 * (nerve_graph_set_input_grad) and goes on into G
 * (nerve_graph_backward_from); G's optimizer steps. D must not have been
 * planned yet, or planned with its input taking a gradient. Everything is
 * allocated before the first step. [schedule] is not applied. */
NERVE_API nerve_status nerve_train_gan(nerve_model *generator, nerve_model *discriminator,
                                       const nerve_dataset *real, const nerve_gan_options *options,
                                       nerve_error *err);

/* G's samples for count noise vectors (count x G's input size, in eval
 * mode), written as D's input values (count x G's output size). */
NERVE_API nerve_status nerve_gan_sample(nerve_model *generator, const float *noise, int64_t count,
                                        float *samples, nerve_error *err);

/* How a classifier sees a set of inputs (an Inception-score-like check of
 * generated images): from its class probabilities p(y|x), the mean of
 * max_y p(y|x) (confidence), the entropy in nats of the mean distribution
 * p(y) (spread over the classes: ln C when even), and
 * exp(E_x KL(p(y|x) || p(y))) (1 to C: high when each input is confidently
 * one class and the classes are evenly used). */
typedef struct nerve_class_score {
    int64_t count;
    int classes;
    double mean_max_probability;
    double class_entropy;
    double inception_score;
} nerve_class_score;

/* Scores count inputs, already normalised for the classifier (nerve_predict). */
NERVE_API nerve_status nerve_class_score_of(nerve_model *classifier, const float *inputs,
                                            int64_t count, nerve_class_score *out,
                                            nerve_error *err);

#ifdef __cplusplus
}
#endif
#endif /* NERVE_PUBLIC_GAN_H */
