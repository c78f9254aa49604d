/* Shared by training, evaluation and prediction: feeding batches into a
 * model's graph and reading its outputs. */
#ifndef NERVE_BATCHING_H
#define NERVE_BATCHING_H

#include "nerve.h"

/* The batch size for count samples: batch, or every sample when batch is 0
 * (batch gradient descent, [net] batch = full). */
int64_t nerve_batch_or_all(int64_t batch, int64_t count);
/* Sets the batch to n and copies samples index[0..n) of ds into the input
 * and target nodes (uploaded to the graph's device). */
nerve_status nerve_batching_load(nerve_model *m, const nerve_dataset *ds, const int64_t *index,
                                 int64_t n, nerve_error *err);
/* Index of the largest of cols values. */
int64_t nerve_argmax(const nerve_real *row, int64_t cols);
/* The class a row of cols outputs predicts: its argmax, or for a binary
 * classifier with one output (bce, bce_with_logits) 1 where the output
 * exceeds 0.5 (a probability) or 0 (a logit). */
int64_t nerve_predicted_class(const nerve_model *m, const nerve_real *row, int64_t cols);
/* *correct = the number of labels of the batch that the output predicts:
 * one per sample, or one per step of a per-step classifier
 * (nerve_model_label_steps). */
nerve_status nerve_batching_correct(nerve_model *m, const nerve_dataset *ds, const int64_t *index,
                                    int64_t n, int64_t *correct, nerve_error *err);
/* Runs m on count samples of inputs in eval mode, batch by batch ([net]
 * batch), and writes node's values, count x its per-sample size (nerve_predict
 * with the prediction node, nerve_gan_sample with the output). */
nerve_status nerve_model_run(nerve_model *m, nerve_node node, const float *inputs, int64_t count,
                             float *outputs, nerve_error *err);
double nerve_seconds_now(void);

#endif
