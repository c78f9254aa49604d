/* Kernels of the class-probability losses: softmax cross-entropy (class
 * weights, label smoothing), negative log-likelihood, focal loss and
 * distillation. Each row goes through nerve_cpu_softmax_row, so log
 * probabilities are x - log-normaliser (finite for any finite logits) and
 * never log(softmax). Sums are accumulated in double. */
#include <math.h>

#include "backends/cpu/cpu.h"

/* sum_c w_c, or cols without weights: the smoothing term's total weight. */
static double weight_total(const nerve_real *weights, int64_t cols)
{
    double total = 0;
    for (int64_t c = 0; c < cols; c++) total += nerve_cpu_class_weight(weights, c);
    return total;
}

/* The factor a (weighted) mean or a sum applies, and the loss it gives. */
static nerve_status write_loss(double total, double label_weights, double scale, bool per_weight,
                               nerve_real *loss, nerve_real *factor)
{
    double f = per_weight ? scale / label_weights : scale;
    loss[0] = (nerve_real)(total * f);
    if (factor) factor[0] = (nerve_real)f;
    return NERVE_OK;
}

/* torch 1.13's CrossEntropyLoss with label smoothing s mixes the one-hot
 * target with the uniform one, each class's share weighted by its own
 * weight: q_c = (1 - s) w_y [c == y] + (s / C) w_c. The mean divides by
 * sum of w_y alone (LossNLL.cpp, cross_entropy_loss_label_smoothing). */
nerve_status nerve_cpu_cross_entropy(const nerve_kernel_ctx *ctx, const nerve_real *logits,
                                     const nerve_real *labels, const nerve_real *weights,
                                     nerve_real smoothing, nerve_real *prob, int64_t rows,
                                     int64_t cols, double scale, bool per_weight, nerve_real *loss,
                                     nerve_real *factor)
{
    double total = 0, label_weights = 0;
#pragma omp parallel for reduction(+ : total, label_weights) \
    if (rows * cols > NERVE_CPU_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const nerve_real *z = logits + r * cols;
        double log_norm = nerve_cpu_softmax_row(z, 1, prob + r * cols, cols);
        int64_t k;
        if (!nerve_cpu_label_index(labels[r], cols, &k)) {
            total += NAN;
            continue;
        }
        double w_y = nerve_cpu_class_weight(weights, k);
        double loss = (1 - (double)smoothing) * w_y * (log_norm - z[k]);
        if (smoothing > 0) {
            double uniform = 0;
            for (int64_t c = 0; c < cols; c++)
                uniform += nerve_cpu_class_weight(weights, c) * (log_norm - z[c]);
            loss += (double)smoothing / (double)cols * uniform;
        }
        total += loss;
        label_weights += w_y;
    }
    return write_loss(total, label_weights, scale, per_weight, loss, factor);
}

/* d/dz of -sum_c q_c log softmax(z)_c is softmax(z) sum(q) - q. */
nerve_status nerve_cpu_cross_entropy_backward(const nerve_kernel_ctx *ctx, const nerve_real *prob,
                                              const nerve_real *labels, const nerve_real *weights,
                                              nerve_real smoothing, const nerve_real *dloss,
                                              const nerve_real *factor, nerve_real *dlogits,
                                              int64_t rows, int64_t cols)
{
    const nerve_real scale = dloss[0] * factor[0];
    double uniform_share = (double)smoothing / (double)cols;
    double uniform_total = smoothing > 0 ? uniform_share * weight_total(weights, cols) : 0;
#pragma omp parallel for if (rows * cols > NERVE_CPU_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) {
        int64_t k;
        if (!nerve_cpu_label_index(labels[r], cols, &k)) continue;
        const nerve_real *p = prob + r * cols;
        nerve_real *d = dlogits + r * cols;
        double target_share = (1 - (double)smoothing) * nerve_cpu_class_weight(weights, k);
        nerve_real q_sum = (nerve_real)(target_share + uniform_total);
        for (int64_t c = 0; c < cols; c++) {
            d[c] += scale * p[c] * q_sum;
            if (smoothing > 0)
                d[c] -= scale * (nerve_real)(uniform_share * nerve_cpu_class_weight(weights, c));
        }
        d[k] -= scale * (nerve_real)target_share;
    }
    return NERVE_OK;
}

nerve_status nerve_cpu_nll(const nerve_kernel_ctx *ctx, const nerve_real *log_probs,
                           const nerve_real *labels, const nerve_real *weights, int64_t rows,
                           int64_t cols, double scale, bool per_weight, nerve_real *loss,
                           nerve_real *factor)
{
    double total = 0, label_weights = 0;
    for (int64_t r = 0; r < rows; r++) {
        int64_t k;
        if (!nerve_cpu_label_index(labels[r], cols, &k)) {
            total += NAN;
            continue;
        }
        double w_y = nerve_cpu_class_weight(weights, k);
        total -= w_y * log_probs[r * cols + k];
        label_weights += w_y;
    }
    return write_loss(total, label_weights, scale, per_weight, loss, factor);
}

nerve_status nerve_cpu_nll_backward(const nerve_kernel_ctx *ctx, const nerve_real *labels,
                                    const nerve_real *weights, const nerve_real *dloss,
                                    const nerve_real *factor, nerve_real *dlog_probs, int64_t rows,
                                    int64_t cols)
{
    const nerve_real scale = dloss[0] * factor[0];
    for (int64_t r = 0; r < rows; r++) {
        int64_t k;
        if (nerve_cpu_label_index(labels[r], cols, &k))
            dlog_probs[r * cols + k] -= scale * (nerve_real)nerve_cpu_class_weight(weights, k);
    }
    return NERVE_OK;
}

/* 1 - p_t from log p_t: -expm1 keeps it accurate where p_t is close to 1,
 * the well-classified samples focal loss is about. */
static double one_minus_exp(double log_p) { return -expm1(log_p); }

static double focal_sum(const nerve_real *logits, const nerve_real *labels, const nerve_real *alpha,
                        nerve_real gamma, nerve_real *prob, nerve_real *log_pt, int64_t rows,
                        int64_t cols)
{
    double total = 0;
#pragma omp parallel for reduction(+ : total) if (rows * cols > NERVE_CPU_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const nerve_real *z = logits + r * cols;
        double log_norm = nerve_cpu_softmax_row(z, 1, prob + r * cols, cols);
        int64_t k;
        if (!nerve_cpu_label_index(labels[r], cols, &k)) {
            log_pt[r] = NAN;
            total += NAN;
            continue;
        }
        double log_p = (double)z[k] - log_norm;
        log_pt[r] = (nerve_real)log_p;
        total -= nerve_cpu_class_weight(alpha, k) * pow(one_minus_exp(log_p), gamma) * log_p;
    }
    return total;
}

nerve_status nerve_cpu_focal(const nerve_kernel_ctx *ctx, const nerve_real *logits,
                             const nerve_real *labels, const nerve_real *alpha, nerve_real gamma,
                             nerve_real *prob, nerve_real *log_pt, int64_t rows, int64_t cols,
                             double scale, nerve_real *loss)
{
    loss[0] =
        (nerve_real)(focal_sum(logits, labels, alpha, gamma, prob, log_pt, rows, cols) * scale);
    return NERVE_OK;
}

/* With p = p_t and FL = -a (1-p)^g log p, dFL/dz_c = G (p_c - [c == t]) where
 * G = a ((1-p)^g - g (1-p)^(g-1) p log p). The second term tends to 0 as
 * p -> 1 for any g > 0, and is left out at p == 1 (where pow would give
 * 0 * inf for g < 1). */
nerve_status nerve_cpu_focal_backward(const nerve_kernel_ctx *ctx, const nerve_real *prob,
                                      const nerve_real *log_pt, const nerve_real *labels,
                                      const nerve_real *alpha, nerve_real gamma,
                                      const nerve_real *dloss, nerve_real factor,
                                      nerve_real *dlogits, int64_t rows, int64_t cols)
{
    const nerve_real scale = (dloss ? dloss[0] : 1) * factor;
#pragma omp parallel for if (rows * cols > NERVE_CPU_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) {
        int64_t k;
        if (!nerve_cpu_label_index(labels[r], cols, &k)) continue;
        double log_p = log_pt[r], one_minus = one_minus_exp(log_p);
        double focus = pow(one_minus, gamma);
        if (gamma != 0 && one_minus > 0)
            focus -= gamma * pow(one_minus, gamma - 1) * exp(log_p) * log_p;
        nerve_real g = scale * (nerve_real)(nerve_cpu_class_weight(alpha, k) * focus);
        const nerve_real *p = prob + r * cols;
        nerve_real *d = dlogits + r * cols;
        for (int64_t c = 0; c < cols; c++)
            if (c != k) d[c] += g * p[c];
        d[k] -= g * (nerve_real)one_minus; /* p_t - 1, without cancellation */
    }
    return NERVE_OK;
}

/* KL(p_t || p_s) = sum_c p_t,c (log p_t,c - log p_s,c), with 0 log 0 = 0 as
 * torch's kl_div (xlogy): classes whose teacher probability underflows add nothing. */
static double distillation_sum(const nerve_real *student, const nerve_real *teacher,
                               nerve_real temperature, nerve_real *student_prob,
                               nerve_real *teacher_prob, int64_t rows, int64_t cols)
{
    double total = 0;
#pragma omp parallel for reduction(+ : total) if (rows * cols > NERVE_CPU_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const nerve_real *s = student + r * cols, *t = teacher + r * cols;
        const nerve_real *pt = teacher_prob + r * cols;
        double log_norm_s = nerve_cpu_softmax_row(s, temperature, student_prob + r * cols, cols);
        double log_norm_t = nerve_cpu_softmax_row(t, temperature, teacher_prob + r * cols, cols);
        double kl = 0;
        for (int64_t c = 0; c < cols; c++)
            if (pt[c] > 0)
                kl += pt[c] * (((double)t[c] - s[c]) / temperature - log_norm_t + log_norm_s);
        total += kl;
    }
    return total;
}

nerve_status nerve_cpu_distillation(const nerve_kernel_ctx *ctx, const nerve_real *student,
                                    const nerve_real *teacher, nerve_real temperature,
                                    nerve_real *student_prob, nerve_real *teacher_prob,
                                    int64_t rows, int64_t cols, double scale, nerve_real *loss)
{
    loss[0] = (nerve_real)(distillation_sum(student, teacher, temperature, student_prob,
                                            teacher_prob, rows, cols) *
                           scale);
    return NERVE_OK;
}
