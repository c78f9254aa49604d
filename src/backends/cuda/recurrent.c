/* Recurrent layers on the GPU, as the CPU backend runs them: the input's
 * share of every step as one GEMM, then per step one GEMM h_prev W_hh^T
 * (cuBLAS, the rows of step t being T H apart) and one kernel for the gates
 * of every sequence (recurrent.cu); backward the loop the other way, per
 * step the gates' kernel and one GEMM dgates W_hh, then dx, dW_ih, dW_hh
 * and the biases' gradients each one GEMM (or column sum) over all steps. */
#include "backends/cuda/cuda.h"

/* Workspace: dh and dc [N, H], the step's hidden-side gate gradients (in
 * forward: h_prev W_hh^T) [N, G H], and for a GRU the hidden side's n block
 * of every step [N, T, H]. */
nerve_status nerve_cuda_recurrent_workspace(const nerve_kernel_ctx *ctx, nerve_recurrent_cell cell,
                                            int64_t batch, int64_t steps, int64_t features,
                                            int64_t hidden, int64_t *size)
{
    int64_t GH = nerve_cell_gates(cell) * hidden;
    *size = 2 * batch * hidden + batch * GH +
            (cell == NERVE_CELL_GRU ? batch * steps * hidden : 0);
    return NERVE_OK;
}

static int64_t time_of(const nerve_recurrent_sequence *s, int64_t k)
{
    return s->reverse ? s->steps - 1 - k : k;
}

static int64_t previous_time(const nerve_recurrent_sequence *s, int64_t t)
{
    return s->reverse ? t + 1 : t - 1;
}

nerve_status nerve_cuda_recurrent_forward(const nerve_kernel_ctx *ctx,
                                          const nerve_recurrent_sequence *s)
{
    const int64_t N = s->batch, T = s->steps, F = s->features, H = s->hidden;
    const int64_t GH = nerve_cell_gates(s->cell) * H;
    if (N <= 0 || T <= 0 || H <= 0) return NERVE_OK;
    float *hidden = s->workspace + 2 * N * H;
    /* the input's share of every step: gates = x W_ih^T */
    NERVE_TRY(nerve_cuda_gemm(ctx, false, true, N * T, GH, F, 1, s->x, F, s->weight_ih, F, 0,
                              s->gates, GH));
    for (int64_t k = 0; k < T; k++) {
        int64_t t = time_of(s, k), prev = k == 0 ? -1 : previous_time(s, t);
        const float *from = k == 0 ? s->h0 : s->h + prev * H;
        NERVE_TRY(nerve_cuda_copy_block(ctx, N, H, from, k == 0 ? H : T * H, s->h_prev + t * H,
                                        T * H));
        bool zero = k == 0 && s->initial_zero;
        if (!zero)
            NERVE_TRY(nerve_cuda_gemm(ctx, false, true, N, GH, H, 1, s->h_prev + t * H, T * H,
                                      s->weight_hh, H, 0, hidden, GH));
        nerve_cuda_step step = {.s = s, .k = k, .t = t, .previous = prev,
                                .hidden = zero ? NULL : hidden};
        nerve_cuda_recurrent_step_forward(&step);
        NERVE_TRY(nerve_cuda_launched(ctx, "recurrent_forward"));
    }
    return NERVE_OK;
}

nerve_status nerve_cuda_recurrent_backward(const nerve_kernel_ctx *ctx,
                                           const nerve_recurrent_sequence *s)
{
    const int64_t N = s->batch, T = s->steps, F = s->features, H = s->hidden;
    const int64_t GH = nerve_cell_gates(s->cell) * H, NT = N * T;
    const bool gru = s->cell == NERVE_CELL_GRU;
    if (N <= 0 || T <= 0 || H <= 0) return NERVE_OK;
    float *dh = s->workspace, *dc = dh + N * H, *dgh = dc + N * H, *gru_hidden_n = dgh + N * GH;
    NERVE_TRY(ctx->device->set(ctx, dh, 0, (size_t)(2 * N * H) * sizeof *dh));
    for (int64_t k = T - 1; k >= 0; k--) {
        int64_t t = time_of(s, k);
        nerve_cuda_step step = {.s = s, .k = k, .t = t,
                                .previous = k == 0 ? -1 : previous_time(s, t),
                                .dh = dh, .dc = dc, .dgh = dgh, .gru_hidden_n = gru_hidden_n};
        nerve_cuda_recurrent_step_backward(&step);
        NERVE_TRY(nerve_cuda_launched(ctx, "recurrent_backward"));
        /* nothing flows into the initial state */
        if (k > 0)
            NERVE_TRY(nerve_cuda_gemm(ctx, false, false, N, H, GH, 1, dgh, GH, s->weight_hh, H, 1,
                                      dh, H));
    }
    /* gates now hold the input side's gradients, [N T, G H] */
    if (s->dx)
        NERVE_TRY(nerve_cuda_gemm(ctx, false, false, NT, F, GH, 1, s->gates, GH, s->weight_ih, F,
                                  1, s->dx, F));
    if (s->dweight_ih)
        NERVE_TRY(nerve_cuda_gemm(ctx, true, false, GH, F, NT, 1, s->gates, GH, s->x, F, 1,
                                  s->dweight_ih, F));
    /* the hidden side's are the same but for a GRU's n block */
    int64_t shared = gru ? 2 * H : GH;
    if (s->dweight_hh) {
        NERVE_TRY(nerve_cuda_gemm(ctx, true, false, shared, H, NT, 1, s->gates, GH, s->h_prev, H,
                                  1, s->dweight_hh, H));
        if (gru)
            NERVE_TRY(nerve_cuda_gemm(ctx, true, false, H, H, NT, 1, gru_hidden_n, H, s->h_prev,
                                      H, 1, s->dweight_hh + 2 * H * H, H));
    }
    if (s->dbias_ih) nerve_cuda_column_sums(s->gates, NT, GH, GH, s->dbias_ih);
    if (s->dbias_hh) {
        nerve_cuda_column_sums(s->gates, NT, shared, GH, s->dbias_hh);
        if (gru) nerve_cuda_column_sums(gru_hidden_n, NT, H, H, s->dbias_hh + 2 * H);
    }
    return nerve_cuda_launched(ctx, "recurrent_backward");
}
