/* How a classifier sees a set of inputs: its confidence and how evenly it
 * spreads them over the classes. With a Fashion-MNIST classifier, the
 * Inception score of Salimans et al. (2016) with nerve's own network in the
 * place of Inception: exp(E_x KL(p(y|x) || p(y))). */
#include <math.h>
#include <stdlib.h>

#include "nerve.h"

nerve_status nerve_class_score_of(nerve_model *classifier, const float *inputs, int64_t count,
                                  nerve_class_score *out, nerve_error *err)
{
    int classes = nerve_model_classes(classifier);
    if (classes < 2 || nerve_model_output_size(classifier) != classes)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "the scoring model must be a classifier with one label per "
                               "sample (it has %d classes and %lld outputs)",
                               classes, (long long)nerve_model_output_size(classifier));
    if (count < 1) return nerve_error_set(err, NERVE_ERR_INVALID, "no samples to score");
    float *probs = malloc((size_t)count * (size_t)classes * sizeof *probs);
    double *mean = calloc((size_t)classes, sizeof *mean);
    if (!probs || !mean) {
        free(probs);
        free(mean);
        return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory scoring %lld samples",
                               (long long)count);
    }
    nerve_status st = nerve_predict(classifier, inputs, count, probs, err);
    if (st == NERVE_OK) {
        double max_sum = 0;
        for (int64_t i = 0; i < count; i++) {
            double best = 0;
            for (int c = 0; c < classes; c++) {
                double p = probs[i * classes + c];
                mean[c] += p / (double)count;
                best = p > best ? p : best;
            }
            max_sum += best;
        }
        /* KL(p(y|x) || p(y)), 0 log 0 = 0; its mean over x is the mutual
         * information between input and class. */
        double kl_sum = 0, entropy = 0;
        for (int64_t i = 0; i < count; i++)
            for (int c = 0; c < classes; c++) {
                double p = probs[i * classes + c];
                if (p > 0 && mean[c] > 0) kl_sum += p * log(p / mean[c]);
            }
        for (int c = 0; c < classes; c++)
            if (mean[c] > 0) entropy -= mean[c] * log(mean[c]);
        out->count = count;
        out->classes = classes;
        out->mean_max_probability = max_sum / (double)count;
        out->class_entropy = entropy;
        out->inception_score = exp(kl_sum / (double)count);
    }
    free(probs);
    free(mean);
    return st;
}
