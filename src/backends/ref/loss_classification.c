/* The class-probability losses: softmax cross-entropy (class weights, label
 * smoothing), negative log-likelihood, focal loss, distillation. Log
 * probabilities are always x - log-normaliser, never log(softmax). */
#include "backends/ref/ref.h"

/* loss[0] = f * total with f = scale, or scale / the sum of the label
 * weights (per_weight: a weighted mean); factor[0] = f where wanted. */
static nerve_status write_loss(double total, double label_weights, double scale, bool per_weight,
                               nerve_real *loss, nerve_real *factor)
{
    double f = per_weight ? scale / label_weights : scale;
    loss[0] = (nerve_real)(total * f);
    if (factor) factor[0] = (nerve_real)f;
    return NERVE_OK;
}

nerve_status nerve_ref_cross_entropy(const nerve_kernel_ctx *ctx, const nerve_real *logits,
                                     const nerve_real *labels, const nerve_real *weights,
                                     nerve_real smoothing, nerve_real *prob, int64_t rows,
                                     int64_t cols, double scale, bool per_weight, nerve_real *loss,
                                     nerve_real *factor)
{
    double total = 0, label_weights = 0, s = smoothing;
    for (int64_t r = 0; r < rows; r++) {
        const nerve_real *z = logits + r * cols;
        double log_norm = nerve_ref_log_normaliser(z, 1, prob + r * cols, cols);
        int64_t y;
        if (!nerve_ref_index(labels[r], cols, &y)) {
            total += NAN;
            continue;
        }
        /* -sum_c q_c log p_c, q_c = (1 - s) w_y [c == y] + (s / C) w_c */
        for (int64_t c = 0; c < cols; c++) {
            double q = s / (double)cols * nerve_ref_weight(weights, c);
            if (c == y) q += (1 - s) * nerve_ref_weight(weights, y);
            total += q * (log_norm - z[c]);
        }
        label_weights += nerve_ref_weight(weights, y);
    }
    return write_loss(total, label_weights, scale, per_weight, loss, factor);
}

nerve_status nerve_ref_cross_entropy_backward(const nerve_kernel_ctx *ctx, const nerve_real *prob,
                                              const nerve_real *labels, const nerve_real *weights,
                                              nerve_real smoothing, const nerve_real *dloss,
                                              const nerve_real *factor, nerve_real *dlogits,
                                              int64_t rows, int64_t cols)
{
    double s = smoothing, scale = (double)dloss[0] * factor[0];
    for (int64_t r = 0; r < rows; r++) {
        int64_t y;
        if (!nerve_ref_index(labels[r], cols, &y)) continue;
        double q_sum = (1 - s) * nerve_ref_weight(weights, y);
        for (int64_t c = 0; c < cols; c++) q_sum += s / (double)cols * nerve_ref_weight(weights, c);
        for (int64_t c = 0; c < cols; c++) {
            double q = s / (double)cols * nerve_ref_weight(weights, c);
            if (c == y) q += (1 - s) * nerve_ref_weight(weights, y);
            nerve_real *d = &dlogits[r * cols + c];
            *d = (nerve_real)(*d + scale * (prob[r * cols + c] * q_sum - q));
        }
    }
    return NERVE_OK;
}

nerve_status nerve_ref_nll(const nerve_kernel_ctx *ctx, const nerve_real *log_probs,
                           const nerve_real *labels, const nerve_real *weights, int64_t rows,
                           int64_t cols, double scale, bool per_weight, nerve_real *loss,
                           nerve_real *factor)
{
    double total = 0, label_weights = 0;
    for (int64_t r = 0; r < rows; r++) {
        int64_t y;
        if (!nerve_ref_index(labels[r], cols, &y)) {
            total += NAN;
            continue;
        }
        total -= nerve_ref_weight(weights, y) * log_probs[r * cols + y];
        label_weights += nerve_ref_weight(weights, y);
    }
    return write_loss(total, label_weights, scale, per_weight, loss, factor);
}

nerve_status nerve_ref_nll_backward(const nerve_kernel_ctx *ctx, const nerve_real *labels,
                                    const nerve_real *weights, const nerve_real *dloss,
                                    const nerve_real *factor, nerve_real *dlog_probs, int64_t rows,
                                    int64_t cols)
{
    double scale = (double)dloss[0] * factor[0];
    for (int64_t r = 0; r < rows; r++) {
        int64_t y;
        if (nerve_ref_index(labels[r], cols, &y))
            dlog_probs[r * cols + y] =
                (nerve_real)(dlog_probs[r * cols + y] - scale * nerve_ref_weight(weights, y));
    }
    return NERVE_OK;
}

nerve_status nerve_ref_focal(const nerve_kernel_ctx *ctx, const nerve_real *logits,
                             const nerve_real *labels, const nerve_real *alpha, nerve_real gamma,
                             nerve_real *prob, nerve_real *log_pt, int64_t rows, int64_t cols,
                             double scale, nerve_real *loss)
{
    double total = 0;
    for (int64_t r = 0; r < rows; r++) {
        const nerve_real *z = logits + r * cols;
        double log_norm = nerve_ref_log_normaliser(z, 1, prob + r * cols, cols);
        int64_t y;
        if (!nerve_ref_index(labels[r], cols, &y)) {
            log_pt[r] = NAN;
            total += NAN;
            continue;
        }
        double log_p = z[y] - log_norm;
        log_pt[r] = (nerve_real)log_p;
        /* -a (1 - p)^g log p, 1 - p as -expm1(log p) */
        total -= nerve_ref_weight(alpha, y) * pow(-expm1(log_p), gamma) * log_p;
    }
    loss[0] = (nerve_real)(total * scale);
    return NERVE_OK;
}

/* dFL/dz_c = a ((1-p)^g - g (1-p)^(g-1) p log p) (p_c - [c == y]); the
 * second term is 0 at p == 1 (its limit for any g > 0). */
nerve_status nerve_ref_focal_backward(const nerve_kernel_ctx *ctx, const nerve_real *prob,
                                      const nerve_real *log_pt, const nerve_real *labels,
                                      const nerve_real *alpha, nerve_real gamma,
                                      const nerve_real *dloss, nerve_real factor,
                                      nerve_real *dlogits, int64_t rows, int64_t cols)
{
    double scale = (dloss ? (double)dloss[0] : 1) * factor;
    for (int64_t r = 0; r < rows; r++) {
        int64_t y;
        if (!nerve_ref_index(labels[r], cols, &y)) continue;
        double log_p = log_pt[r], q = -expm1(log_p), g = gamma;
        double focus = pow(q, g);
        if (g != 0 && q > 0) focus -= g * pow(q, g - 1) * exp(log_p) * log_p;
        double row_factor = scale * nerve_ref_weight(alpha, y) * focus;
        for (int64_t c = 0; c < cols; c++) {
            double target = c == y ? -q : prob[r * cols + c]; /* p_y - 1 = -(1 - p_y) */
            dlogits[r * cols + c] = (nerve_real)(dlogits[r * cols + c] + row_factor * target);
        }
    }
    return NERVE_OK;
}

nerve_status nerve_ref_distillation(const nerve_kernel_ctx *ctx, const nerve_real *student,
                                    const nerve_real *teacher, nerve_real temperature,
                                    nerve_real *student_prob, nerve_real *teacher_prob,
                                    int64_t rows, int64_t cols, double scale, nerve_real *loss)
{
    double total = 0, t = temperature;
    for (int64_t r = 0; r < rows; r++) {
        const nerve_real *s = student + r * cols, *te = teacher + r * cols;
        double log_norm_s = nerve_ref_log_normaliser(s, t, student_prob + r * cols, cols);
        double log_norm_t = nerve_ref_log_normaliser(te, t, teacher_prob + r * cols, cols);
        for (int64_t c = 0; c < cols; c++) {
            double log_pt = te[c] / t - log_norm_t, log_ps = s[c] / t - log_norm_s;
            /* 0 log 0 = 0: a teacher probability that underflows adds nothing */
            if (teacher_prob[r * cols + c] > 0) total += exp(log_pt) * (log_pt - log_ps);
        }
    }
    loss[0] = (nerve_real)(total * scale);
    return NERVE_OK;
}
