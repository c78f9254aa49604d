/* Recurrent layers by their equations (nerve_recurrent_cell), one sequence
 * and one step at a time: every pre-activation is its own dot products in
 * double, backpropagation through time walks the steps back, and the
 * weights' gradients are summed over all steps at the end, one entry at a
 * time. Same tensors as kernels.h's nerve_recurrent_sequence: forward
 * leaves the gates' activations (rnn: x W_ih^T) in gates, backward
 * overwrites them with the input side's pre-activation gradients. */
#include <string.h>

#include "backends/ref/ref.h"

static double dot(const nerve_real *a, const nerve_real *b, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

static double sigmoid(double x) { return 1 / (1 + exp(-x)); }

/* Workspace: dh and dc [H], the step's hidden-side gate gradients [G H],
 * and for a GRU the hidden side's n block of every step [N, T, H] (the
 * input side's times r; r itself is overwritten by then). */
nerve_status nerve_ref_recurrent_workspace(const nerve_kernel_ctx *ctx, nerve_recurrent_cell cell,
                                           int64_t batch, int64_t steps, int64_t features,
                                           int64_t hidden, int64_t *size)
{
    *size = 2 * hidden + nerve_cell_gates(cell) * hidden +
            (cell == NERVE_CELL_GRU ? batch * steps * hidden : 0);
    return NERVE_OK;
}

/* Step k of the run is time t; the previous step's time, for k > 0. */
static int64_t time_of(const nerve_recurrent_sequence *s, int64_t k)
{
    return s->reverse ? s->steps - 1 - k : k;
}

static int64_t previous_time(const nerve_recurrent_sequence *s, int64_t t)
{
    return s->reverse ? t + 1 : t - 1;
}

static void forward_step(const nerve_recurrent_sequence *s, int64_t n, int64_t k)
{
    const int64_t T = s->steps, F = s->features, H = s->hidden, GH = nerve_cell_gates(s->cell) * H;
    const int64_t t = time_of(s, k), row = n * T + t;
    const nerve_real *x = s->x + row * F;
    nerve_real *h_prev = s->h_prev + row * H, *gates = s->gates + row * GH, *h = s->h + row * H;
    const nerve_real *from = k == 0 ? s->h0 + n * H : s->h + (n * T + previous_time(s, t)) * H;
    memcpy(h_prev, from, (size_t)H * sizeof *h_prev);
    /* the input's and the state's shares of gate row q */
#define XS(q) dot(s->weight_ih + (q) * F, x, F)
#define HS(q) dot(s->weight_hh + (q) * H, h_prev, H)
    for (int64_t j = 0; j < H; j++) {
        switch (s->cell) {
        case NERVE_CELL_RNN_TANH:
        case NERVE_CELL_RNN_RELU: {
            double xs = XS(j), pre = xs + HS(j) + s->bias[j];
            gates[j] = (nerve_real)xs;
            h[j] = (nerve_real)(s->cell == NERVE_CELL_RNN_RELU ? (pre > 0 ? pre : 0) : tanh(pre));
            break;
        }
        case NERVE_CELL_LSTM: {
            const nerve_real *c_prev = k == 0 ? s->c0 + n * H : s->c + (n * T + previous_time(s, t)) * H;
            double i = sigmoid(XS(j) + HS(j) + s->bias[j]);
            double f = sigmoid(XS(H + j) + HS(H + j) + s->bias[H + j]);
            double g = tanh(XS(2 * H + j) + HS(2 * H + j) + s->bias[2 * H + j]);
            double o = sigmoid(XS(3 * H + j) + HS(3 * H + j) + s->bias[3 * H + j]);
            double c = f * c_prev[j] + i * g;
            gates[j] = (nerve_real)i, gates[H + j] = (nerve_real)f;
            gates[2 * H + j] = (nerve_real)g, gates[3 * H + j] = (nerve_real)o;
            s->c[row * H + j] = (nerve_real)c;
            s->tanh_c[row * H + j] = (nerve_real)tanh(c);
            h[j] = (nerve_real)(o * tanh(c));
            break;
        }
        case NERVE_CELL_GRU: {
            double r = sigmoid(XS(j) + HS(j) + s->bias[j]);
            double z = sigmoid(XS(H + j) + HS(H + j) + s->bias[H + j]);
            double hn = HS(2 * H + j) + s->bias_hn[j];
            double cand = tanh(XS(2 * H + j) + s->bias[2 * H + j] + r * hn);
            gates[j] = (nerve_real)r, gates[H + j] = (nerve_real)z, gates[2 * H + j] = (nerve_real)cand;
            s->hidden_n[row * H + j] = (nerve_real)hn;
            h[j] = (nerve_real)((1 - z) * cand + z * h_prev[j]);
            break;
        }
        }
    }
#undef XS
#undef HS
}

nerve_status nerve_ref_recurrent_forward(const nerve_kernel_ctx *ctx, const nerve_recurrent_sequence *s)
{
    for (int64_t n = 0; n < s->batch; n++)
        for (int64_t k = 0; k < s->steps; k++) forward_step(s, n, k);
    return NERVE_OK;
}

/* One step back: dh (and dc) hold the gradient reaching the step's output
 * state; the gates become the input side's pre-activation gradients, dgh
 * the hidden side's, and dh (dc) the gradient reaching the state before. */
static void backward_step(const nerve_recurrent_sequence *s, int64_t n, int64_t k, nerve_real *dh,
                          nerve_real *dc, nerve_real *dgh, nerve_real *gru_hidden_n)
{
    const int64_t T = s->steps, H = s->hidden, GH = nerve_cell_gates(s->cell) * H;
    const int64_t t = time_of(s, k), row = n * T + t;
    nerve_real *gates = s->gates + row * GH;
    const nerve_real *h = s->h + row * H, *h_prev = s->h_prev + row * H;
    for (int64_t j = 0; j < H; j++) {
        double d = dh[j];
        switch (s->cell) {
        case NERVE_CELL_RNN_TANH: gates[j] = (nerve_real)(d * (1 - (double)h[j] * h[j])); break;
        case NERVE_CELL_RNN_RELU: gates[j] = (nerve_real)(h[j] > 0 ? d : 0); break;
        case NERVE_CELL_LSTM: {
            const nerve_real *c_prev = k == 0 ? s->c0 + n * H : s->c + (n * T + previous_time(s, t)) * H;
            double i = gates[j], f = gates[H + j], g = gates[2 * H + j], o = gates[3 * H + j];
            double tc = s->tanh_c[row * H + j], d_cell = dc[j] + d * o * (1 - tc * tc);
            gates[j] = (nerve_real)(d_cell * g * i * (1 - i));
            gates[H + j] = (nerve_real)(d_cell * c_prev[j] * f * (1 - f));
            gates[2 * H + j] = (nerve_real)(d_cell * i * (1 - g * g));
            gates[3 * H + j] = (nerve_real)(d * tc * o * (1 - o));
            dc[j] = (nerve_real)(d_cell * f);
            break;
        }
        case NERVE_CELL_GRU: {
            double r = gates[j], z = gates[H + j], cand = gates[2 * H + j];
            double d_cand = d * (1 - z) * (1 - cand * cand);
            gates[j] = (nerve_real)(d_cand * s->hidden_n[row * H + j] * r * (1 - r));
            gates[H + j] = (nerve_real)(d * (h_prev[j] - cand) * z * (1 - z));
            gates[2 * H + j] = (nerve_real)d_cand;
            gru_hidden_n[row * H + j] = (nerve_real)(d_cand * r);
            dh[j] = (nerve_real)(d * z); /* h' = ... + z h */
            break;
        }
        }
    }
    for (int64_t q = 0; q < GH; q++)
        dgh[q] = s->cell == NERVE_CELL_GRU && q >= 2 * H ? gru_hidden_n[row * H + q - 2 * H] : gates[q];
    if (s->cell != NERVE_CELL_GRU) memset(dh, 0, (size_t)H * sizeof *dh);
    if (k == 0) return; /* nothing flows into the initial state */
    for (int64_t j = 0; j < H; j++) {
        double sum = dh[j];
        for (int64_t q = 0; q < GH; q++) sum += (double)dgh[q] * s->weight_hh[q * H + j];
        dh[j] = (nerve_real)sum;
    }
}

nerve_status nerve_ref_recurrent_backward(const nerve_kernel_ctx *ctx, const nerve_recurrent_sequence *s)
{
    const int64_t N = s->batch, T = s->steps, F = s->features, H = s->hidden;
    const int64_t GH = nerve_cell_gates(s->cell) * H;
    nerve_real *dh = s->workspace, *dc = dh + H, *dgh = dc + H, *gru_hidden_n = dgh + GH;
    for (int64_t n = 0; n < N; n++) {
        memset(dh, 0, (size_t)(2 * H) * sizeof *dh);
        for (int64_t k = T - 1; k >= 0; k--) {
            int64_t t = time_of(s, k);
            for (int64_t j = 0; j < H; j++) {
                if (!s->dy_last_only) dh[j] += s->dy[(n * T + t) * H + j];
                else if (k == T - 1) dh[j] += s->dy[n * H + j];
            }
            if (s->dh_steps) memcpy(s->dh_steps + (n * T + t) * H, dh, (size_t)H * sizeof *dh);
            backward_step(s, n, k, dh, dc, dgh, gru_hidden_n);
        }
    }
    /* The hidden side's gradient of gate row q at a row of the batch. */
#define D_INPUT(r, q) s->gates[(r) * GH + (q)]
#define D_HIDDEN(r, q) \
    (s->cell == NERVE_CELL_GRU && (q) >= 2 * H ? gru_hidden_n[(r) * H + (q) - 2 * H] : D_INPUT(r, q))
    for (int64_t r = 0; s->dx && r < N * T; r++)
        for (int64_t f = 0; f < F; f++) {
            double sum = 0;
            for (int64_t q = 0; q < GH; q++) sum += (double)D_INPUT(r, q) * s->weight_ih[q * F + f];
            s->dx[r * F + f] = (nerve_real)(s->dx[r * F + f] + sum);
        }
    for (int64_t q = 0; q < GH; q++) {
        for (int64_t f = 0; s->dweight_ih && f < F; f++) {
            double sum = 0;
            for (int64_t r = 0; r < N * T; r++) sum += (double)D_INPUT(r, q) * s->x[r * F + f];
            s->dweight_ih[q * F + f] = (nerve_real)(s->dweight_ih[q * F + f] + sum);
        }
        for (int64_t j = 0; s->dweight_hh && j < H; j++) {
            double sum = 0;
            for (int64_t r = 0; r < N * T; r++) sum += (double)D_HIDDEN(r, q) * s->h_prev[r * H + j];
            s->dweight_hh[q * H + j] = (nerve_real)(s->dweight_hh[q * H + j] + sum);
        }
        double sum_input = 0, sum_hidden = 0;
        for (int64_t r = 0; r < N * T; r++) {
            sum_input += D_INPUT(r, q);
            sum_hidden += D_HIDDEN(r, q);
        }
        if (s->dbias_ih) s->dbias_ih[q] = (nerve_real)(s->dbias_ih[q] + sum_input);
        if (s->dbias_hh) s->dbias_hh[q] = (nerve_real)(s->dbias_hh[q] + sum_hidden);
    }
#undef D_INPUT
#undef D_HIDDEN
    return NERVE_OK;
}
