/* Evaluation (loss, accuracy and error rate, per-class accuracy, confusion matrix) and
 * prediction, in eval mode, batch by batch. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_internal.h"
#include "dist/data_parallel.h"
#include "model/model_internal.h"
#include "model/model_settings.h"
#include "train/batching.h"
#include "train/distributed.h"
#include "train/evaluation.h"

int64_t *nerve_identity_index(int64_t n)
{
    int64_t *index = malloc((size_t)(n > 0 ? n : 1) * sizeof *index);
    if (index)
        for (int64_t i = 0; i < n; i++) index[i] = i;
    return index;
}

/* The shards' sums: the loss's two (evaluate_shard), the confusion counts
 * (exact as doubles below 2^53) and the reliability bins' sums, in one
 * all-reduce. */
static nerve_status eval_reduce(nerve_comm *comm, nerve_evaluation *out, double loss_sums[2],
                                nerve_error *err)
{
    int64_t cells = (int64_t)out->classes * out->classes;
    const int64_t bins = NERVE_CALIBRATION_BINS, total = cells + 2 + 3 * bins;
    double *sums = malloc((size_t)total * sizeof *sums), *bin_sums = sums + cells + 2;
    if (!sums) return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory reducing an evaluation");
    sums[0] = loss_sums[0];
    sums[1] = loss_sums[1];
    for (int64_t k = 0; k < cells; k++) sums[k + 2] = (double)out->confusion[k];
    for (int64_t b = 0; b < bins; b++) {
        bin_sums[b] = (double)out->bin_count[b];
        bin_sums[bins + b] = out->bin_confidence[b];
        bin_sums[2 * bins + b] = out->bin_accuracy[b];
    }
    nerve_status st = nerve_comm_allreduce(comm, sums, total, NERVE_COMM_DOUBLE, err);
    loss_sums[0] = sums[0];
    loss_sums[1] = sums[1];
    for (int64_t k = 0; k < cells; k++) out->confusion[k] = (int64_t)sums[k + 2];
    for (int64_t b = 0; b < bins; b++) {
        out->bin_count[b] = (int64_t)bin_sums[b];
        out->bin_confidence[b] = bin_sums[bins + b];
        out->bin_accuracy[b] = bin_sums[2 * bins + b];
    }
    free(sums);
    return st;
}

/* This rank's shard (all of ds without comm): the confusion counts, and
 * sums[0] the batches' losses each times its divisor, sums[1] the divisors
 * (nerve_dist_loss_divisor: samples, or summed class weights), so that
 * their ratio is the whole set's loss whatever the batches; a summed loss
 * adds itself and counts its samples, giving the sum per sample. */
static nerve_status evaluate_shard(nerve_model *m, const nerve_dataset *ds, int64_t batch,
                                   nerve_comm *comm, nerve_evaluation *out, int64_t **index_out,
                                   double sums[2], nerve_error *err)
{
    nerve_graph *g = nerve_model_graph(m);
    int classes = nerve_model_classes(m);
    batch = nerve_batch_or_all(batch > 0 ? batch : nerve_model_settings_of(m)->batch, ds->count);
    /* A stream's batches are its lanes' chunks in order. */
    bool stream = ds->lanes > 0;
    if (stream) batch = ds->lanes;
    nerve_status st = nerve_model_check_dataset_tokens(m, ds, "evaluation set", err);
    if (st == NERVE_OK) st = nerve_graph_plan_inference(g, batch, err);
    if (st == NERVE_OK) st = nerve_evaluation_alloc(out, classes, ds->count, err);
    if (st != NERVE_OK) return st;
    int64_t *index = *index_out = nerve_identity_index(ds->count);
    if (!index)
        return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory evaluating %lld samples",
                               (long long)ds->count);
    nerve_eval_mode mode = nerve_eval_mode_enter(g, stream);
    int64_t steps = nerve_model_label_steps(m);
    int64_t cols = classes ? nerve_model_output_size(m) / steps : 0;
    int64_t first = 0, end = ds->count;
    if (comm) {
        nerve_dist_slice(ds->count, nerve_comm_rank(comm), nerve_comm_size(comm), &first, &end);
        end += first;
    }
    for (int64_t start = first; st == NERVE_OK && start < end; start += batch) {
        int64_t n = end - start < batch ? end - start : batch;
        st = nerve_batching_load(m, ds, index + start, n, err);
        nerve_real loss;
        if (st == NERVE_OK)
            st = dist_test_failure(comm, "NERVE_TEST_FAIL_EVALUATION", -1, err);
        if (st == NERVE_OK) st = nerve_graph_forward(g, nerve_model_loss(m), err);
        if (st == NERVE_OK) st = nerve_node_read(g, nerve_model_loss(m), &loss, 1, err);
        if (st != NERVE_OK) break;
        double divisor = nerve_dist_loss_divisor(g, nerve_model_loss(m), n);
        sums[0] += divisor > 0 ? (double)loss * divisor : (double)loss;
        sums[1] += divisor > 0 ? divisor : (double)n;
        if (!classes) continue;
        nerve_real *logits = nerve_node_host_view(g, nerve_model_output(m), true, err);
        if (!logits) {
            st = err ? err->status : NERVE_ERR_NOMEM;
            break;
        }
        for (int64_t k = 0; k < n * steps; k++) {
            int64_t best = nerve_predicted_class(m, logits + k * cols, cols);
            int64_t truth = (int64_t)ds->targets[(start + k / steps) * ds->target_size + k % steps];
            out->confusion[truth * classes + best]++;
            nerve_calibration_add(out, nerve_output_confidence(m, logits + k * cols, cols),
                                  best == truth);
        }
        st = nerve_node_host_view_end(g, nerve_model_output(m), logits, false, err);
    }
    nerve_eval_mode_leave(g, mode);
    return st;
}

nerve_status nerve_evaluate(nerve_model *m, const nerve_dataset *ds, int64_t batch,
                            nerve_evaluation *out, nerve_error *err)
{
    return nerve_evaluate_sharded(m, ds, batch, NULL, out, err);
}

nerve_status nerve_evaluate_sharded(nerve_model *m, const nerve_dataset *ds, int64_t batch,
                                    nerve_comm *comm, nerve_evaluation *out, nerve_error *err)
{
    memset(out, 0, sizeof *out);
    /* A stream is evaluated whole on every rank: nothing to reduce. */
    bool stream = ds->lanes > 0;
    nerve_comm *shards = stream ? NULL : comm;
    int64_t *index = NULL;
    double sums[2] = {0, 0};
    nerve_status st = evaluate_shard(m, ds, batch, shards, out, &index, sums, err);
    /* A rank that failed here (bad input, a failing op) would leave the
     * others waiting in the reduce: every rank learns of it first. */
    st = nerve_dist_agree(shards, st, err);
    free(index);
    if (st != NERVE_OK) {
        nerve_evaluation_free(out);
        return st;
    }
    if (shards) st = eval_reduce(shards, out, sums, err);
    if (st != NERVE_OK) {
        nerve_evaluation_free(out);
        return st;
    }
    /* finish divides by the count; samples as divisors sum to it exactly. */
    double loss_sum = sums[1] == (double)ds->count ? sums[0] : sums[0] / sums[1] * (double)ds->count;
    nerve_evaluation_finish(out, ds->count, nerve_model_label_steps(m), loss_sum);
    return NERVE_OK;
}

nerve_eval_mode nerve_eval_mode_enter(nerve_graph *g, bool stream)
{
    nerve_eval_mode mode = {nerve_graph_training(g), nerve_graph_carries_state(g), stream};
    nerve_graph_set_training(g, false);
    if (stream) {
        nerve_graph_set_carry_state(g, true);
        nerve_graph_reset_state(g);
    }
    return mode;
}

void nerve_eval_mode_leave(nerve_graph *g, nerve_eval_mode mode)
{
    nerve_graph_set_training(g, mode.was_training);
    if (mode.stream) {
        nerve_graph_reset_state(g);
        nerve_graph_set_carry_state(g, mode.carried);
    }
}

nerve_status nerve_evaluation_alloc(nerve_evaluation *out, int classes, int64_t count,
                                    nerve_error *err)
{
    memset(out, 0, sizeof *out);
    out->classes = classes;
    out->class_accuracy = calloc((size_t)classes + 1, sizeof *out->class_accuracy);
    out->confusion = calloc((size_t)classes * (size_t)classes + 1, sizeof *out->confusion);
    if (out->class_accuracy && out->confusion) return NERVE_OK;
    nerve_evaluation_free(out);
    return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory evaluating %lld samples",
                           (long long)count);
}

void nerve_evaluation_finish(nerve_evaluation *out, int64_t count, int64_t steps,
                             double loss_sum)
{
    int classes = out->classes;
    out->count = count;
    out->labels = count * steps;
    out->loss = count ? loss_sum / (double)count : NAN;
    int64_t correct = 0;
    for (int c = 0; c < classes; c++) {
        int64_t row = 0;
        for (int k = 0; k < classes; k++) row += out->confusion[c * classes + k];
        correct += out->confusion[c * classes + c];
        out->class_accuracy[c] = row ? (double)out->confusion[c * classes + c] / (double)row : NAN;
    }
    out->accuracy = classes && count ? (double)correct / (double)out->labels : NAN;
    out->error_rate = 1 - out->accuracy;
    /* The bins hold sums until here. */
    out->ece = classes && count ? 0 : NAN;
    for (int b = 0; b < NERVE_CALIBRATION_BINS; b++) {
        int64_t n = out->bin_count[b];
        out->bin_confidence[b] = n ? out->bin_confidence[b] / (double)n : NAN;
        out->bin_accuracy[b] = n ? out->bin_accuracy[b] / (double)n : NAN;
        if (n && classes)
            out->ece += (double)n / (double)out->labels *
                        fabs(out->bin_accuracy[b] - out->bin_confidence[b]);
    }
}

void nerve_calibration_add(nerve_evaluation *out, double confidence, bool correct)
{
    /* Bin k holds ((k-1)/B, k/B]; a confidence of 0 (impossible for the
     * predicted class) would join the first. A NaN confidence (a network
     * whose outputs are not finite) belongs to no bin. */
    if (!(confidence >= 0 && confidence <= 1)) return;
    int b = (int)ceil(confidence * NERVE_CALIBRATION_BINS) - 1;
    b = b < 0 ? 0 : b >= NERVE_CALIBRATION_BINS ? NERVE_CALIBRATION_BINS - 1 : b;
    out->bin_count[b]++;
    out->bin_confidence[b] += confidence;
    out->bin_accuracy[b] += correct;
}

double nerve_output_confidence(const nerve_model *m, const nerve_real *row, int64_t cols)
{
    nerve_node prediction = nerve_model_prediction(m);
    bool raw = prediction == nerve_model_output(m);
    const char *op = raw ? "" : nerve_node_op_name(nerve_model_graph((nerve_model *)m), prediction);
    double top = (double)row[nerve_argmax(row, cols)];
    if (cols > 1 && strcmp(op, "softmax") == 0) {
        /* The largest softmax probability: 1 / sum_c exp(x_c - max). */
        double sum = 0;
        for (int64_t c = 0; c < cols; c++) sum += exp((double)row[c] - top);
        return 1 / sum;
    }
    /* A sigmoid's probability, or an output read as one ([loss] one_hot
     * with mse: the largest output, clamped to [0, 1]). */
    double p = raw ? top : 1 / (1 + exp(-top));
    p = p < 0 ? 0 : p > 1 ? 1 : p;
    /* One output: the probability of class 1, whichever is predicted. */
    return cols > 1 || p > 0.5 ? p : 1 - p;
}

void nerve_evaluation_free(nerve_evaluation *e)
{
    free(e->class_accuracy);
    free(e->confusion);
    e->class_accuracy = NULL;
    e->confusion = NULL;
}

nerve_status nerve_model_run(nerve_model *m, nerve_node node, const float *inputs, int64_t count,
                             float *outputs, nerve_error *err)
{
    nerve_graph *g = nerve_model_graph(m);
    int64_t batch = nerve_batch_or_all(nerve_model_settings_of(m)->batch, count);
    nerve_status st = nerve_graph_plan_inference(g, batch, err);
    if (st != NERVE_OK) return st;
    int64_t features = nerve_shape_numel(&nerve_model_settings_of(m)->input);
    nerve_shape shape = nerve_node_shape(g, node);
    int64_t cols = nerve_shape_numel(&shape) / shape.dim[0];
    bool was_training = nerve_graph_training(g);
    nerve_graph_set_training(g, false);
    for (int64_t start = 0; start < count; start += batch) {
        int64_t n = count - start < batch ? count - start : batch;
        nerve_node input = nerve_model_input(m);
        nerve_status st = nerve_graph_set_batch(g, n, err);
        nerve_real *x = st == NERVE_OK ? nerve_node_host_view(g, input, false, err) : NULL, *y;
        if (x) {
            for (int64_t i = 0; i < n * features; i++) x[i] = inputs[start * features + i];
            st = nerve_node_host_view_end(g, input, x, true, err);
        } else if (st == NERVE_OK) {
            st = err ? err->status : NERVE_ERR_NOMEM;
        }
        if (st == NERVE_OK) st = nerve_graph_forward(g, node, err);
        if (st == NERVE_OK && !(y = nerve_node_host_view(g, node, true, err)))
            st = err ? err->status : NERVE_ERR_NOMEM;
        if (st != NERVE_OK) {
            nerve_graph_set_training(g, was_training);
            return st;
        }
        for (int64_t i = 0; i < n * cols; i++) outputs[start * cols + i] = (float)y[i];
        nerve_node_host_view_end(g, node, y, false, err);
    }
    nerve_graph_set_training(g, was_training);
    return NERVE_OK;
}

nerve_status nerve_predict(nerve_model *m, const float *inputs, int64_t count, float *outputs,
                           nerve_error *err)
{
    nerve_status st = nerve_model_check_tokens(m, inputs, count, "prediction input", err);
    if (st != NERVE_OK) return st;
    return nerve_model_run(m, nerve_model_prediction(m), inputs, count, outputs, err);
}
