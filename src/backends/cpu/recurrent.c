/* Recurrent layers, whole (nerve_recurrent_sequence). Forward: the input's
 * share of every step, x W_ih^T, as one GEMM; then per step one GEMM
 * h_prev W_hh^T and one fused pass over the gates. Backward: per step one
 * fused pass over the gates' gradients and one GEMM dgates W_hh; then the
 * weights' gradients, each one GEMM over all steps.
 *
 * Threads. The sequences of a batch are independent until the weights'
 * gradients, so each thread takes a slice of the batch and runs its input
 * GEMM, its whole time loop and its dx GEMM alone, with single-threaded
 * GEMMs: no barrier per step (a step's small GEMM split across threads
 * pays one per step, and stalls whenever the other thread is descheduled).
 * The weights' gradients sum over every sequence: after one barrier each
 * thread computes a block of their rows (gates) from all of them. Splitting
 * these GEMMs ourselves, rather than leaving oneDNN to, matters: on the
 * char-LSTM's shapes oneDNN's own threading gained 1.0-1.2x on two
 * threads, the split 1.7x.
 *
 * Layouts. The steps' products read W_hh packed once per pass for the
 * kernel of step_product (below), and the weights' gradients are computed
 * transposed, x^T dgates, then added transposed (20-35% faster than
 * dgates^T x). A one-hot input's projection is a gather, its weight
 * gradient a scatter-add (one_hot_symbols). */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "backends/cpu/cpu.h"

#ifdef NERVE_F64
static inline nerve_real sigmoid(nerve_real x) { return 1 / (1 + exp(-x)); }
static inline nerve_real tanh_of(nerve_real x) { return tanh(x); }
#else
/* e^x to about 2 ulp for x in [-87, 88], clamped outside it (sigmoid and
 * tanh, its only users, are then 0 or 1 to float precision): x = n ln2 + r
 * with |r| <= ln2 / 2, e^r from Cephes' expf polynomial, 2^n built in the
 * exponent bits. Plain arithmetic on purpose: GCC vectorises the gate loops
 * below, where libm's expf would be one call per element. */
static inline float exp_bounded(float x)
{
    const float round_shift = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    x = x < -87.0f ? -87.0f : x > 88.0f ? 88.0f : x;
    float shifted = x * 1.44269504088896341f + round_shift;
    float n = shifted - round_shift;
    /* ln2 in two parts (Cody and Waite), so n ln2 subtracts exactly. */
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float e_r = p * r * r + r + 1;
    /* shifted's low mantissa bits hold n; n + 127 shifted into the
     * exponent field is 2^n. */
    uint32_t bits;
    memcpy(&bits, &shifted, sizeof bits);
    bits = (bits + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return e_r * scale;
}

static inline float sigmoid(float x) { return 1 / (1 + exp_bounded(-x)); }
static inline float tanh_of(float x) { return 1 - 2 / (1 + exp_bounded(2 * x)); }
#endif

/* One step over rows consecutive sequences: pointers at the first one's
 * row of step t. Sequence tensors ([N, T, ...]) advance by their row times
 * T from one sequence to the next. */
typedef struct cell_step {
    int64_t rows, hidden;
    nerve_real *gates, *gates_hidden; /* row stride gates_ld */
    int64_t gates_ld;
    const nerve_real *recurrent;      /* [rows, G H], contiguous */
    const nerve_real *h_prev;         /* the rest: row stride sequence_ld */
    nerve_real *h, *c, *tanh_c, *hidden_n;
    int64_t sequence_ld;
    const nerve_real *c_prev;         /* row stride c_prev_ld */
    int64_t c_prev_ld;
    const nerve_real *bias, *bias_hn; /* [G H], [H] */
    nerve_real *dh, *dc;              /* [rows, H], contiguous */
} cell_step;

/* The row functions take each row (each gate's block) as its own restrict
 * parameter: then GCC knows they are disjoint and vectorises the loop. */

static void rnn_forward_row(int64_t H, bool relu, const nerve_real *restrict a,
                            const nerve_real *restrict r, const nerve_real *restrict b,
                            nerve_real *restrict h)
{
    if (relu)
        for (int64_t j = 0; j < H; j++) {
            nerve_real pre = a[j] + r[j] + b[j];
            h[j] = pre > 0 ? pre : 0;
        }
    else
        for (int64_t j = 0; j < H; j++) h[j] = tanh_of(a[j] + r[j] + b[j]);
}

static void rnn_forward_step(const cell_step *s, bool relu)
{
    for (int64_t n = 0; n < s->rows; n++)
        rnn_forward_row(s->hidden, relu, s->gates + n * s->gates_ld,
                        s->recurrent + n * s->hidden, s->bias, s->h + n * s->sequence_ld);
}

/* The gates become the pre-activations' gradient; relu's derivative at 0
 * is 0, as torch's. */
static void rnn_backward_row(int64_t H, bool relu, nerve_real *restrict a,
                             const nerve_real *restrict h, nerve_real *restrict dh)
{
    if (relu)
        for (int64_t j = 0; j < H; j++) a[j] = h[j] > 0 ? dh[j] : 0;
    else
        for (int64_t j = 0; j < H; j++) a[j] = dh[j] * (1 - h[j] * h[j]);
    for (int64_t j = 0; j < H; j++) dh[j] = 0;
}

static void rnn_backward_step(const cell_step *s, bool relu)
{
    for (int64_t n = 0; n < s->rows; n++)
        rnn_backward_row(s->hidden, relu, s->gates + n * s->gates_ld, s->h + n * s->sequence_ld,
                         s->dh + n * s->hidden);
}

static void lstm_forward_row(int64_t H, nerve_real *restrict gi, nerve_real *restrict gf,
                             nerve_real *restrict gg, nerve_real *restrict go,
                             const nerve_real *restrict ri, const nerve_real *restrict rf,
                             const nerve_real *restrict rg, const nerve_real *restrict ro,
                             const nerve_real *restrict bi, const nerve_real *restrict bf,
                             const nerve_real *restrict bg, const nerve_real *restrict bo,
                             const nerve_real *restrict c_prev, nerve_real *restrict c,
                             nerve_real *restrict tanh_c, nerve_real *restrict h)
{
    for (int64_t j = 0; j < H; j++) {
        nerve_real i = sigmoid(gi[j] + ri[j] + bi[j]), f = sigmoid(gf[j] + rf[j] + bf[j]);
        nerve_real g = tanh_of(gg[j] + rg[j] + bg[j]), o = sigmoid(go[j] + ro[j] + bo[j]);
        gi[j] = i;
        gf[j] = f;
        gg[j] = g;
        go[j] = o;
        nerve_real cell = f * c_prev[j] + i * g, t = tanh_of(cell);
        c[j] = cell;
        tanh_c[j] = t;
        h[j] = o * t;
    }
}

static void lstm_forward_step(const cell_step *s)
{
    const int64_t H = s->hidden;
    const nerve_real *b = s->bias;
    for (int64_t n = 0; n < s->rows; n++) {
        nerve_real *a = s->gates + n * s->gates_ld;
        const nerve_real *r = s->recurrent + n * 4 * H;
        int64_t at = n * s->sequence_ld;
        lstm_forward_row(H, a, a + H, a + 2 * H, a + 3 * H, r, r + H, r + 2 * H, r + 3 * H, b,
                         b + H, b + 2 * H, b + 3 * H, s->c_prev + n * s->c_prev_ld, s->c + at,
                         s->tanh_c + at, s->h + at);
    }
}

/* dc_t = dc_{t+1} f_{t+1} + dh_t o (1 - tanh^2 c_t); the gates' gradients
 * follow from c_t = f c_{t-1} + i g and h_t = o tanh c_t. */
static void lstm_backward_row(int64_t H, nerve_real *restrict gi, nerve_real *restrict gf,
                              nerve_real *restrict gg, nerve_real *restrict go,
                              const nerve_real *restrict c_prev,
                              const nerve_real *restrict tanh_c, nerve_real *restrict dh,
                              nerve_real *restrict dc)
{
    for (int64_t j = 0; j < H; j++) {
        nerve_real i = gi[j], f = gf[j], g = gg[j], o = go[j];
        nerve_real t = tanh_c[j], d_cell = dc[j] + dh[j] * o * (1 - t * t);
        gi[j] = d_cell * g * i * (1 - i);
        gf[j] = d_cell * c_prev[j] * f * (1 - f);
        gg[j] = d_cell * i * (1 - g * g);
        go[j] = dh[j] * t * o * (1 - o);
        dc[j] = d_cell * f;
        dh[j] = 0;
    }
}

static void lstm_backward_step(const cell_step *s)
{
    const int64_t H = s->hidden;
    for (int64_t n = 0; n < s->rows; n++) {
        nerve_real *a = s->gates + n * s->gates_ld;
        lstm_backward_row(H, a, a + H, a + 2 * H, a + 3 * H, s->c_prev + n * s->c_prev_ld,
                          s->tanh_c + n * s->sequence_ld, s->dh + n * H, s->dc + n * H);
    }
}

static void gru_forward_row(int64_t H, nerve_real *restrict gr, nerve_real *restrict gz,
                            nerve_real *restrict gn, const nerve_real *restrict rr,
                            const nerve_real *restrict rz, const nerve_real *restrict rn,
                            const nerve_real *restrict br, const nerve_real *restrict bz,
                            const nerve_real *restrict bn, const nerve_real *restrict bias_hn,
                            const nerve_real *restrict h_prev, nerve_real *restrict hidden_n,
                            nerve_real *restrict h)
{
    for (int64_t j = 0; j < H; j++) {
        nerve_real reset = sigmoid(gr[j] + rr[j] + br[j]);
        nerve_real update = sigmoid(gz[j] + rz[j] + bz[j]);
        nerve_real hn = rn[j] + bias_hn[j], candidate = tanh_of(gn[j] + bn[j] + reset * hn);
        gr[j] = reset;
        gz[j] = update;
        gn[j] = candidate;
        hidden_n[j] = hn;
        h[j] = (1 - update) * candidate + update * h_prev[j];
    }
}

static void gru_forward_step(const cell_step *s)
{
    const int64_t H = s->hidden;
    const nerve_real *b = s->bias;
    for (int64_t n = 0; n < s->rows; n++) {
        nerve_real *a = s->gates + n * s->gates_ld;
        const nerve_real *r = s->recurrent + n * 3 * H;
        int64_t at = n * s->sequence_ld;
        gru_forward_row(H, a, a + H, a + 2 * H, r, r + H, r + 2 * H, b, b + H, b + 2 * H,
                        s->bias_hn, s->h_prev + at, s->hidden_n + at, s->h + at);
    }
}

/* h' = (1 - z) n + z h: dh flows into h directly (times z) and through the
 * gates; the hidden side's n block is the input side's times r, since r
 * multiplies W_hn h + b_hn. */
static void gru_backward_row(int64_t H, nerve_real *restrict gr, nerve_real *restrict gz,
                             nerve_real *restrict gn, nerve_real *restrict hr,
                             nerve_real *restrict hz, nerve_real *restrict hn,
                             const nerve_real *restrict h_prev,
                             const nerve_real *restrict hidden_n, nerve_real *restrict dh)
{
    for (int64_t j = 0; j < H; j++) {
        nerve_real reset = gr[j], update = gz[j], candidate = gn[j];
        nerve_real d_candidate = dh[j] * (1 - update) * (1 - candidate * candidate);
        nerve_real d_update = dh[j] * (h_prev[j] - candidate) * update * (1 - update);
        nerve_real d_reset = d_candidate * hidden_n[j] * reset * (1 - reset);
        gr[j] = hr[j] = d_reset;
        gz[j] = hz[j] = d_update;
        gn[j] = d_candidate;
        hn[j] = d_candidate * reset;
        dh[j] *= update;
    }
}

static void gru_backward_step(const cell_step *s)
{
    const int64_t H = s->hidden;
    for (int64_t n = 0; n < s->rows; n++) {
        nerve_real *a = s->gates + n * s->gates_ld, *b = s->gates_hidden + n * s->gates_ld;
        int64_t at = n * s->sequence_ld;
        gru_backward_row(H, a, a + H, a + 2 * H, b, b + H, b + 2 * H, s->h_prev + at,
                         s->hidden_n + at, s->dh + n * H);
    }
}

/* The steps' products, h_prev W_hh^T forward and dgates W_hh backward,
 * have a thread's slice of the batch as rows, 16 in the char-LSTM: there
 * oneDNN's sgemm, which packs its operands again in every call, reached 22
 * GFLOP/s forward and 41 backward on one Zen 3 core, against 67 for the
 * large products around the loop. So W_hh is packed once per pass, in
 * panels of PANEL columns of the product's B (each of its k rows PANEL
 * contiguous values, the last panel padded with zeros), and each step runs
 * the register tile below over them: up to TILE_ROWS rows of C times one
 * panel held in 2 TILE_ROWS vector registers (12 of AVX2's 16), one k at a
 * time, so a panel is read from memory once per step and from L1 by the
 * other row blocks. GCC's generic vectors keep it portable: a build
 * without AVX splits each into two SSE registers. The sums run over k in
 * order, the same for any thread count. */
typedef nerve_real vreal __attribute__((vector_size(32)));
/* The same in memory: any alignment, aliasing nerve_real. */
typedef nerve_real vreal_memory
    __attribute__((vector_size(32), aligned(sizeof(nerve_real)), may_alias));
#define LANES ((int64_t)(sizeof(vreal) / sizeof(nerve_real)))
#define PANEL (2 * LANES)
#define TILE_ROWS 6

static int64_t padded(int64_t n) { return (n + PANEL - 1) / PANEL * PANEL; }

/* The panels of B [k, n] for its columns [first, end), multiples of PANEL:
 * B[p, j] is b[p * row_stride + j * column_stride]. */
static void pack_panels(const nerve_real *b, int64_t row_stride, int64_t column_stride, int64_t k,
                        int64_t n, int64_t first, int64_t end, nerve_real *packed)
{
    for (int64_t j0 = first; j0 < end; j0 += PANEL) {
        nerve_real *panel = packed + j0 * k;
        for (int64_t p = 0; p < k; p++)
            for (int64_t jj = 0; jj < PANEL; jj++)
                panel[p * PANEL + jj] =
                    j0 + jj < n ? b[p * row_stride + (j0 + jj) * column_stride] : 0;
        }
}

/* c[rows, cols] (+)= a[rows, k] panel[k, cols], rows <= TILE_ROWS, cols <=
 * PANEL; inlined with rows a constant, so that the accumulators live in
 * registers. */
static inline __attribute__((always_inline)) void panel_tile(
    int rows, const nerve_real *a, int64_t lda, const nerve_real *panel, int64_t k,
    bool accumulate, nerve_real *c, int64_t ldc, int64_t cols)
{
    vreal acc[TILE_ROWS][2];
#pragma GCC unroll 6
    for (int i = 0; i < rows; i++) acc[i][0] = acc[i][1] = (vreal){0};
    for (int64_t p = 0; p < k; p++) {
        vreal b0 = *(const vreal_memory *)(panel + p * PANEL);
        vreal b1 = *(const vreal_memory *)(panel + p * PANEL + LANES);
#pragma GCC unroll 6
        for (int i = 0; i < rows; i++) {
            nerve_real x = a[i * lda + p];
            acc[i][0] += x * b0;
            acc[i][1] += x * b1;
        }
    }
#pragma GCC unroll 6
    for (int i = 0; i < rows; i++) {
        nerve_real *row = c + i * ldc;
        if (cols == PANEL) {
            vreal_memory *low = (vreal_memory *)row, *high = (vreal_memory *)(row + LANES);
            if (accumulate) acc[i][0] += *low, acc[i][1] += *high;
            *low = acc[i][0];
            *high = acc[i][1];
        } else {
            nerve_real sums[PANEL];
            memcpy(sums, acc[i], sizeof sums);
            for (int64_t j = 0; j < cols; j++) row[j] = accumulate ? sums[j] + row[j] : sums[j];
        }
    }
}

/* c[rows, n] = a[rows, k] B, or c += with accumulate, B packed. */
static void step_product(int64_t rows, int64_t n, int64_t k, const nerve_real *a, int64_t lda,
                         const nerve_real *packed, bool accumulate, nerve_real *c, int64_t ldc)
{
    for (int64_t j0 = 0; j0 < n; j0 += PANEL) {
        const nerve_real *panel = packed + j0 * k;
        int64_t cols = n - j0 < PANEL ? n - j0 : PANEL;
        for (int64_t i0 = 0; i0 < rows; i0 += TILE_ROWS) {
            const nerve_real *a_rows = a + i0 * lda;
            nerve_real *c_rows = c + i0 * ldc + j0;
            switch (rows - i0 < TILE_ROWS ? rows - i0 : TILE_ROWS) {
#define TILE_CASE(r)                                                                           \
    case r: panel_tile(r, a_rows, lda, panel, k, accumulate, c_rows, ldc, cols); break;
                TILE_CASE(1)
                TILE_CASE(2)
                TILE_CASE(3)
                TILE_CASE(4)
                TILE_CASE(5)
                TILE_CASE(6)
#undef TILE_CASE
            }
        }
    }
}

/* dst[n, :] = src[n, :] for rows rows of H, with row strides. */
static void copy_rows(int64_t rows, int64_t H, const nerve_real *src, int64_t src_ld,
                      nerve_real *dst, int64_t dst_ld)
{
    for (int64_t n = 0; n < rows; n++) memcpy(dst + n * dst_ld, src + n * src_ld, H * sizeof *dst);
}

/* The workspace: per sequence, a step's h_prev W_hh^T or, backward, dh and
 * dc; one matrix, W_hh packed for the steps' products or the weights'
 * transposed gradients; W_ih^T for
 * a one-hot input's gather; a GRU's hidden-side gate gradients, [N, T, G
 * H], which differ from the input side's in the n block (scaled by r); a
 * one-hot input's symbols, one int32_t per row of x (in a nerve_real's
 * slot). */
typedef struct workspace_layout {
    nerve_real *per_sequence, *matrix, *weight_ih_t, *gates_hidden;
    int32_t *symbols;
} workspace_layout;

static int64_t matrix_size(int64_t GH, int64_t features, int64_t hidden)
{
    int64_t gradients = (features > hidden ? features : hidden) * GH;
    int64_t forward = padded(GH) * hidden, backward = padded(hidden) * GH;
    int64_t packed = forward > backward ? forward : backward;
    return gradients > packed ? gradients : packed;
}

nerve_status nerve_cpu_recurrent_workspace(const nerve_kernel_ctx *ctx, nerve_recurrent_cell cell,
                                           int64_t batch, int64_t steps, int64_t features,
                                           int64_t hidden, int64_t *size)
{
    int64_t GH = nerve_cell_gates(cell) * hidden;
    *size = batch * (GH + 2 * hidden) + matrix_size(GH, features, hidden) + features * GH +
            (cell == NERVE_CELL_GRU ? batch * steps * GH : 0) + batch * steps;
    return NERVE_OK;
}

static workspace_layout workspace_of(const nerve_recurrent_sequence *s)
{
    int64_t GH = nerve_cell_gates(s->cell) * s->hidden;
    workspace_layout w = {.per_sequence = s->workspace};
    w.matrix = w.per_sequence + s->batch * (GH + 2 * s->hidden);
    w.weight_ih_t = w.matrix + matrix_size(GH, s->features, s->hidden);
    w.gates_hidden = w.weight_ih_t + s->features * GH;
    w.symbols = (int32_t *)(w.gates_hidden +
                            (s->cell == NERVE_CELL_GRU ? s->batch * s->steps * GH : 0));
    return w;
}

/* A one-hot input (every row of x one exact 1, the rest zeros: a one_hot
 * op's output, as the char-LSTM's) makes x W_ih^T a gather of rows of
 * W_ih^T and x^T dgates a scatter-add. The gather is bit-identical to the
 * GEMM, which adds exact zeros to the one product 1 w = w (unless W_ih holds
 * an infinity or NaN, whose product with 0 the GEMM turns into NaN); for the
 * char-LSTM it saves the 155-wide GEMM that was a third of forward's
 * multiply-adds. Writes each row's symbol, or returns false at the first
 * row that is not one-hot. */
static bool one_hot_symbols(const nerve_real *x, int64_t rows, int64_t F, int32_t *symbols)
{
    if (F > INT32_MAX) return false;
    for (int64_t r = 0; r < rows; r++) {
        const nerve_real *row = x + r * F;
        int64_t ones = 0, others = 0;
        for (int64_t k = 0; k < F; k++) {
            ones += row[k] == 1;
            others += row[k] != 1 && row[k] != 0;
        }
        if (ones != 1 || others) return false;
        int32_t k = 0;
        while (row[k] != 1) k++;
        symbols[r] = k;
    }
    return true;
}

/* The loop of sequences [first, end). */
static void forward_slice(const nerve_recurrent_sequence *s, int64_t first, int64_t end)
{
    const int64_t T = s->steps, H = s->hidden, rows = end - first;
    const int64_t GH = nerve_cell_gates(s->cell) * H;
    workspace_layout w = workspace_of(s);
    nerve_real *recurrent = w.per_sequence + first * GH;
    cell_step step = {
        .rows = rows,
        .hidden = H,
        .gates_ld = T * GH,
        .recurrent = recurrent,
        .sequence_ld = T * H,
        .bias = s->bias,
        .bias_hn = s->bias_hn,
    };
    for (int64_t k = 0; k < T; k++) {
        int64_t t = s->reverse ? T - 1 - k : k, previous = s->reverse ? t + 1 : t - 1;
        int64_t at = first * T + t; /* the first sequence's row of step t */
        nerve_real *h_prev = s->h_prev + at * H;
        if (k == 0)
            copy_rows(rows, H, s->h0 + first * H, H, h_prev, T * H);
        else
            copy_rows(rows, H, s->h + (first * T + previous) * H, T * H, h_prev, T * H);
        if (k == 0 && s->initial_zero)
            memset(recurrent, 0, (size_t)(rows * GH) * sizeof *recurrent);
        else
            step_product(rows, GH, H, h_prev, T * H, w.matrix, false, recurrent, GH);
        step.gates = s->gates + at * GH;
        step.h_prev = h_prev;
        step.h = s->h + at * H;
        switch (s->cell) {
        case NERVE_CELL_RNN_TANH:
        case NERVE_CELL_RNN_RELU:
            rnn_forward_step(&step, s->cell == NERVE_CELL_RNN_RELU);
            break;
        case NERVE_CELL_LSTM:
            step.c = s->c + at * H;
            step.tanh_c = s->tanh_c + at * H;
            step.c_prev = k == 0 ? s->c0 + first * H : s->c + (first * T + previous) * H;
            step.c_prev_ld = k == 0 ? H : T * H;
            lstm_forward_step(&step);
            break;
        case NERVE_CELL_GRU:
            step.hidden_n = s->hidden_n + at * H;
            gru_forward_step(&step);
            break;
        }
    }
}

static void backward_slice(const nerve_recurrent_sequence *s, int64_t first, int64_t end)
{
    const int64_t N = s->batch, T = s->steps, H = s->hidden, rows = end - first;
    const int64_t GH = nerve_cell_gates(s->cell) * H;
    workspace_layout w = workspace_of(s);
    nerve_real *dh = w.per_sequence + first * H, *dc = w.per_sequence + (N + first) * H;
    memset(dh, 0, (size_t)(rows * H) * sizeof *dh);
    memset(dc, 0, (size_t)(rows * H) * sizeof *dc);
    nerve_real *gates_hidden = s->cell == NERVE_CELL_GRU ? w.gates_hidden : s->gates;
    cell_step step = {
        .rows = rows,
        .hidden = H,
        .gates_ld = T * GH,
        .sequence_ld = T * H,
        .dh = dh,
        .dc = dc,
    };
    for (int64_t k = T - 1; k >= 0; k--) {
        int64_t t = s->reverse ? T - 1 - k : k, previous = s->reverse ? t + 1 : t - 1;
        int64_t at = first * T + t;
        const nerve_real *dy = NULL;
        int64_t dy_ld = T * H;
        if (!s->dy_last_only)
            dy = s->dy + at * H;
        else if (k == T - 1)
            dy = s->dy + first * H, dy_ld = H;
        for (int64_t n = 0; dy && n < rows; n++)
            for (int64_t j = 0; j < H; j++) dh[n * H + j] += dy[n * dy_ld + j];
        for (int64_t n = 0; s->dh_steps && n < rows; n++)
            memcpy(s->dh_steps + (at + n * T) * H, dh + n * H, (size_t)H * sizeof *dh);
        step.gates = s->gates + at * GH;
        step.gates_hidden = gates_hidden + at * GH;
        step.h_prev = s->h_prev + at * H;
        step.h = s->h + at * H;
        switch (s->cell) {
        case NERVE_CELL_RNN_TANH:
        case NERVE_CELL_RNN_RELU:
            rnn_backward_step(&step, s->cell == NERVE_CELL_RNN_RELU);
            break;
        case NERVE_CELL_LSTM:
            step.tanh_c = s->tanh_c + at * H;
            step.c_prev = k == 0 ? s->c0 + first * H : s->c + (first * T + previous) * H;
            step.c_prev_ld = k == 0 ? H : T * H;
            lstm_backward_step(&step);
            break;
        case NERVE_CELL_GRU:
            step.hidden_n = s->hidden_n + at * H;
            gru_backward_step(&step);
            break;
        }
        /* Nothing flows into the initial state. */
        if (k > 0) step_product(rows, H, GH, step.gates_hidden, T * GH, w.matrix, true, dh, H);
    }
}

/* The share of n items that thread id of count takes: [*first, *end),
 * starting on a multiple of align. */
static void share(int64_t n, int id, int count, int64_t align, int64_t *first, int64_t *end)
{
    *first = n * id / count / align * align;
    *end = id == count - 1 ? n : n * (id + 1) / count / align * align;
}

/* gates[r, :] = weight_t[symbols[r], :], the one-hot rows' x W_ih^T. */
static void gather_rows(const int32_t *symbols, int64_t rows, const nerve_real *weight_t,
                        int64_t GH, nerve_real *gates)
{
    for (int64_t r = 0; r < rows; r++)
        memcpy(gates + r * GH, weight_t + symbols[r] * GH, (size_t)GH * sizeof *gates);
}

static void forward_team(const nerve_recurrent_sequence *s, bool one_hot, int id, int count)
{
    const int64_t T = s->steps, F = s->features, H = s->hidden;
    const int64_t GH = nerve_cell_gates(s->cell) * H;
    workspace_layout w = workspace_of(s);
    int64_t first, end;
    /* B = W_hh^T: B[p, j] = W_hh[j, p]. */
    share(padded(GH) / PANEL, id, count, 1, &first, &end);
    pack_panels(s->weight_hh, 1, H, H, GH, first * PANEL, end * PANEL, w.matrix);
    share(GH, id, count, 1, &first, &end);
    if (one_hot)
        nerve_cpu_transpose_block(end - first, F, s->weight_ih + first * F, F,
                                  w.weight_ih_t + first, GH, false);
    share(s->batch, id, count, 1, &first, &end);
    if (!one_hot)
        nerve_cpu_matmul(false, true, (end - first) * T, GH, F, 1, s->x + first * T * F, F,
                         s->weight_ih, F, 0, s->gates + first * T * GH, GH);
#pragma omp barrier /* W_hh's panels (and W_ih^T) are whole */
    if (one_hot)
        gather_rows(w.symbols + first * T, (end - first) * T, w.weight_ih_t, GH,
                    s->gates + first * T * GH);
    forward_slice(s, first, end);
}

/* sum[c] = the sum over rows of m[r, c], for c in [first, end). */
static void sum_columns(const nerve_real *m, int64_t rows, int64_t ld, int64_t first,
                        int64_t end, nerve_real *sum)
{
    for (int64_t c = first; c < end; c++) sum[c] = 0;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = first; c < end; c++) sum[c] += m[r * ld + c];
}

/* dweight[first:end, :] += (a^T d[:, first:end])^T, a [rows, in], d [rows,
 * G H], computed transposed into scratch. */
static void weight_gradient_rows(const nerve_real *a, const nerve_real *d, int64_t rows,
                                 int64_t in, int64_t GH, int64_t first, int64_t end,
                                 nerve_real *scratch, nerve_real *dweight)
{
    int64_t width = end - first;
    nerve_cpu_matmul(true, false, in, width, rows, 1, a, in, d + first, GH, 0, scratch, width);
    nerve_cpu_transpose_block(in, width, scratch, width, dweight + first * in, in, true);
}

/* dweight[first:end, :] += (x^T d[:, first:end])^T for a one-hot x: each
 * row's gate gradients added to its symbol's row of the transposed sum in
 * scratch [F, end - first], rows in order (the same sums for any thread
 * count). */
static void weight_gradient_one_hot(const int32_t *symbols, const nerve_real *d, int64_t rows,
                                    int64_t F, int64_t GH, int64_t first, int64_t end,
                                    nerve_real *scratch, nerve_real *dweight)
{
    int64_t width = end - first;
    memset(scratch, 0, (size_t)(F * width) * sizeof *scratch);
    for (int64_t r = 0; r < rows; r++) {
        nerve_real *restrict sum = scratch + symbols[r] * width;
        const nerve_real *restrict row = d + r * GH + first;
        for (int64_t c = 0; c < width; c++) sum[c] += row[c];
    }
    nerve_cpu_transpose_block(F, width, scratch, width, dweight + first * F, F, true);
}

static void backward_team(const nerve_recurrent_sequence *s, bool one_hot, int id, int count)
{
    const int64_t N = s->batch, T = s->steps, F = s->features, H = s->hidden;
    const int64_t GH = nerve_cell_gates(s->cell) * H;
    workspace_layout w = workspace_of(s);
    const nerve_real *d_input = s->gates;
    const nerve_real *d_hidden = s->cell == NERVE_CELL_GRU ? w.gates_hidden : s->gates;
    int64_t first, end;
    /* B = W_hh itself. */
    share(padded(H) / PANEL, id, count, 1, &first, &end);
    pack_panels(s->weight_hh, H, 1, GH, H, first * PANEL, end * PANEL, w.matrix);
#pragma omp barrier /* W_hh's panels are whole */
    share(N, id, count, 1, &first, &end);
    backward_slice(s, first, end);
    if (s->dx)
        nerve_cpu_matmul(false, false, (end - first) * T, F, GH, 1, d_input + first * T * GH, GH,
                         s->weight_ih, F, 1, s->dx + first * T * F, F);
#pragma omp barrier /* every sequence's gate gradients are in */

    /* Rows [first, end) of the weights, 16 floats (a cache line) apart. */
    share(GH, id, count, 16, &first, &end);
    int64_t rows = N * T, in_max = F > H ? F : H;
    if (s->dweight_ih && one_hot)
        weight_gradient_one_hot(w.symbols, d_input, rows, F, GH, first, end,
                                w.matrix + in_max * first, s->dweight_ih);
    else if (s->dweight_ih)
        weight_gradient_rows(s->x, d_input, rows, F, GH, first, end, w.matrix + in_max * first,
                             s->dweight_ih);
    if (s->dweight_hh)
        weight_gradient_rows(s->h_prev, d_hidden, rows, H, GH, first, end,
                             w.matrix + in_max * first, s->dweight_hh);
    /* The bias sums go through the free per-sequence scratch: an LSTM's
     * or an RNN's two biases take the same one. */
    nerve_real *sum = w.per_sequence;
    if (s->dbias_ih || (s->dbias_hh && d_hidden == d_input)) {
        sum_columns(d_input, rows, GH, first, end, sum);
        for (int64_t c = first; c < end; c++) {
            if (s->dbias_ih) s->dbias_ih[c] += sum[c];
            if (s->dbias_hh && d_hidden == d_input) s->dbias_hh[c] += sum[c];
        }
    }
    if (s->dbias_hh && d_hidden != d_input) {
        sum_columns(d_hidden, rows, GH, first, end, sum);
        for (int64_t c = first; c < end; c++) s->dbias_hh[c] += sum[c];
    }
}

/* The batch is split between threads when the work is worth a fork; each
 * thread's GEMMs then run on that thread alone. A team of one runs the same
 * code, its barriers no-ops, its GEMMs threaded as oneDNN sees fit. */
static bool split_batch(const nerve_recurrent_sequence *s)
{
    int64_t GH = nerve_cell_gates(s->cell) * s->hidden;
    int64_t macs = s->steps * s->batch * GH * s->hidden;
    return s->batch > 1 && omp_get_max_threads() > 1 && macs >= NERVE_CPU_PARALLEL_MIN_MACS;
}

nerve_status nerve_cpu_recurrent_forward(const nerve_kernel_ctx *ctx,
                                         const nerve_recurrent_sequence *s)
{
    bool one_hot =
        one_hot_symbols(s->x, s->batch * s->steps, s->features, workspace_of(s).symbols);
    if (!split_batch(s)) {
        forward_team(s, one_hot, 0, 1);
        return NERVE_OK;
    }
#pragma omp parallel
    {
        int id = omp_get_thread_num(), count = omp_get_num_threads();
        omp_set_num_threads(1);
        forward_team(s, one_hot, id, count);
    }
    return NERVE_OK;
}

nerve_status nerve_cpu_recurrent_backward(const nerve_kernel_ctx *ctx,
                                          const nerve_recurrent_sequence *s)
{
    /* The workspace is not kept from forward: the symbols are read again. */
    bool one_hot = s->dweight_ih && one_hot_symbols(s->x, s->batch * s->steps, s->features,
                                                    workspace_of(s).symbols);
    if (!split_batch(s)) {
        backward_team(s, one_hot, 0, 1);
        return NERVE_OK;
    }
#pragma omp parallel
    {
        int id = omp_get_thread_num(), count = omp_get_num_threads();
        omp_set_num_threads(1);
        backward_team(s, one_hot, id, count);
    }
    return NERVE_OK;
}
