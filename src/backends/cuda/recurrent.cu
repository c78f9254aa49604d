/* The recurrent cells' gates for one step of every sequence at once (one
 * thread per sequence and hidden unit), the reference's equations in double;
 * recurrent.c runs the GEMMs around them. */
#include <math.h>

#include "backends/cuda/cuda_device.cuh"

__device__ static double sigmoid(double x) { return 1 / (1 + exp(-x)); }

/* What a step's kernel reads (nerve_cuda_step with the sequence by value). */
struct step_args {
    nerve_recurrent_sequence s;
    int64_t k, t, previous;
    const float *hidden;
    float *dh, *dc, *dgh, *gru_hidden_n;
};

__global__ static void step_forward(step_args a)
{
    const nerve_recurrent_sequence &s = a.s;
    const int64_t T = s.steps, H = s.hidden, GH = nerve_cell_gates(s.cell) * H;
    CUDA_FOR(e, s.batch * H)
    {
        const int64_t n = e / H, j = e % H, row = n * T + a.t;
        float *gates = s.gates + row * GH;
        const float *h_prev = s.h_prev + row * H;
#define XS(q) (double)gates[q]
#define HS(q) (a.hidden ? (double)a.hidden[n * GH + (q)] : 0.0)
        switch (s.cell) {
        case NERVE_CELL_RNN_TANH:
        case NERVE_CELL_RNN_RELU: {
            double pre = XS(j) + HS(j) + s.bias[j];
            s.h[row * H + j] = (float)(s.cell == NERVE_CELL_RNN_RELU ? (pre > 0 ? pre : 0) : tanh(pre));
            break;
        }
        case NERVE_CELL_LSTM: {
            double c_prev = a.k == 0 ? s.c0[n * H + j] : s.c[(n * T + a.previous) * H + j];
            double i = sigmoid(XS(j) + HS(j) + s.bias[j]);
            double f = sigmoid(XS(H + j) + HS(H + j) + s.bias[H + j]);
            double g = tanh(XS(2 * H + j) + HS(2 * H + j) + s.bias[2 * H + j]);
            double o = sigmoid(XS(3 * H + j) + HS(3 * H + j) + s.bias[3 * H + j]);
            double c = f * c_prev + i * g;
            gates[j] = (float)i, gates[H + j] = (float)f;
            gates[2 * H + j] = (float)g, gates[3 * H + j] = (float)o;
            s.c[row * H + j] = (float)c;
            s.tanh_c[row * H + j] = (float)tanh(c);
            s.h[row * H + j] = (float)(o * tanh(c));
            break;
        }
        case NERVE_CELL_GRU: {
            double r = sigmoid(XS(j) + HS(j) + s.bias[j]);
            double z = sigmoid(XS(H + j) + HS(H + j) + s.bias[H + j]);
            double hn = HS(2 * H + j) + s.bias_hn[j];
            double cand = tanh(XS(2 * H + j) + s.bias[2 * H + j] + r * hn);
            gates[j] = (float)r, gates[H + j] = (float)z, gates[2 * H + j] = (float)cand;
            s.hidden_n[row * H + j] = (float)hn;
            s.h[row * H + j] = (float)((1 - z) * cand + z * h_prev[j]);
            break;
        }
        }
#undef XS
#undef HS
    }
}

__global__ static void step_backward(step_args a)
{
    const nerve_recurrent_sequence &s = a.s;
    const int64_t T = s.steps, H = s.hidden, G = nerve_cell_gates(s.cell), GH = G * H;
    CUDA_FOR(e, s.batch * H)
    {
        const int64_t n = e / H, j = e % H, row = n * T + a.t;
        float *gates = s.gates + row * GH;
        double d = a.dh[e];
        if (!s.dy_last_only) d += s.dy[row * H + j];
        else if (a.k == T - 1) d += s.dy[n * H + j];
        d = (float)d; /* the reference keeps dh in float */
        if (s.dh_steps) s.dh_steps[row * H + j] = (float)d;
        double h = s.h[row * H + j], h_prev = s.h_prev[row * H + j];
        float next_dh = 0;
        switch (s.cell) {
        case NERVE_CELL_RNN_TANH: gates[j] = (float)(d * (1 - h * h)); break;
        case NERVE_CELL_RNN_RELU: gates[j] = (float)(h > 0 ? d : 0); break;
        case NERVE_CELL_LSTM: {
            double c_prev = a.k == 0 ? s.c0[n * H + j] : s.c[(n * T + a.previous) * H + j];
            double i = gates[j], f = gates[H + j], g = gates[2 * H + j], o = gates[3 * H + j];
            double tc = s.tanh_c[row * H + j], d_cell = a.dc[e] + d * o * (1 - tc * tc);
            gates[j] = (float)(d_cell * g * i * (1 - i));
            gates[H + j] = (float)(d_cell * c_prev * f * (1 - f));
            gates[2 * H + j] = (float)(d_cell * i * (1 - g * g));
            gates[3 * H + j] = (float)(d * tc * o * (1 - o));
            a.dc[e] = (float)(d_cell * f);
            break;
        }
        case NERVE_CELL_GRU: {
            double r = gates[j], z = gates[H + j], cand = gates[2 * H + j];
            double d_cand = d * (1 - z) * (1 - cand * cand);
            gates[j] = (float)(d_cand * s.hidden_n[row * H + j] * r * (1 - r));
            gates[H + j] = (float)(d * (h_prev - cand) * z * (1 - z));
            gates[2 * H + j] = (float)d_cand;
            a.gru_hidden_n[row * H + j] = (float)(d_cand * r);
            next_dh = (float)(d * z); /* h' = ... + z h */
            break;
        }
        }
        for (int64_t q = 0; q < G; q++)
            a.dgh[n * GH + q * H + j] = s.cell == NERVE_CELL_GRU && q == 2
                                            ? a.gru_hidden_n[row * H + j]
                                            : gates[q * H + j];
        a.dh[e] = next_dh;
    }
}

static step_args args_of(const nerve_cuda_step *step)
{
    step_args a = {*step->s, step->k, step->t, step->previous, step->hidden,
                   step->dh, step->dc, step->dgh, step->gru_hidden_n};
    return a;
}

extern "C" void nerve_cuda_recurrent_step_forward(const nerve_cuda_step *step)
{
    int64_t n = step->s->batch * step->s->hidden;
    if (n > 0) CUDA_LAUNCH(step_forward, n)(args_of(step));
}

extern "C" void nerve_cuda_recurrent_step_backward(const nerve_cuda_step *step)
{
    int64_t n = step->s->batch * step->s->hidden;
    if (n > 0) CUDA_LAUNCH(step_backward, n)(args_of(step));
}
