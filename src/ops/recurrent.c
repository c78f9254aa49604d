/* recurrent: one direction of an RNN, LSTM or GRU layer over whole
 * sequences x [N, T, F] (batch-first), PyTorch's cells, weights and gate
 * order (nerve.h, nerve_recurrent_cell). The backend runs it whole
 * (nerve_recurrent_sequence): forward, the input's share of every step in
 * one GEMM, then the time loop, one GEMM and one fused pass over the gates
 * per step; backward (backpropagation through time), the loop backwards,
 * then dW_ih, dx and dW_hh each one GEMM over all steps (dW_hh = sum_t
 * dgates_t^T h_{t-1} reads the states entering each step, which forward
 * saves as a sequence of their own). The op lays out the memory.
 *
 * aux holds, first, the state carried between batches: the initial state of
 * the last forward and its final state (h, and c for an LSTM), sized for
 * the planned batch so that they stay put when the batch shrinks; then the
 * folded bias row and the per-batch sequences the forward saves for
 * backward, and, when the graph records them, the gradients reaching every
 * step's state (nerve_recurrent_state_gradient_norms). The arena is zeroed
 * when planned, so a fresh graph starts from a zero state. */

#include <math.h>

#include "core/graph_internal.h"
#include "ops/recurrent.h"

#define ATTR_CELL 0
#define ATTR_REVERSE 1
#define ATTR_LAST 2

int64_t nerve_recurrent_gate_count(nerve_recurrent_cell cell) { return nerve_cell_gates(cell); }

static const char *cell_name(nerve_recurrent_cell cell)
{
    switch (cell) {
    case NERVE_CELL_RNN_TANH: return "rnn (tanh)";
    case NERVE_CELL_RNN_RELU: return "rnn (relu)";
    case NERVE_CELL_LSTM: return "lstm";
    case NERVE_CELL_GRU: return "gru";
    }
    return "recurrent";
}

/* Where a node's tensors are for the current batch. */
typedef struct recurrent_layout {
    nerve_recurrent_cell cell;
    int64_t N, T, F, H, GH;
    bool reverse, last, bias;
    /* aux: the carried state, then the bias row and the sequences */
    nerve_real *h_initial, *c_initial, *h_final, *c_final;
    nerve_real *bias_row, *gates, *h_prev, *h, *c, *tanh_c, *hidden_n;
    nerve_real *dh_steps; /* [N, T, H] when the graph records state gradients, else NULL */
} recurrent_layout;

/* Elements of aux after the carried state, for batch N. */
static int64_t sequence_size(nerve_recurrent_cell cell, bool last, bool record, int64_t N,
                             int64_t T, int64_t H)
{
    int64_t GH = nerve_recurrent_gate_count(cell) * H, per_step = GH + H; /* gates, h_prev */
    if (cell == NERVE_CELL_LSTM) per_step += 2 * H;
    if (cell == NERVE_CELL_GRU) per_step += H;
    if (last) per_step += H; /* h, which is the output in sequence mode */
    if (record) per_step += H; /* dh_steps */
    return GH + N * T * per_step;
}

static int64_t state_size(nerve_recurrent_cell cell, int64_t rows, int64_t H)
{
    return (cell == NERVE_CELL_LSTM ? 4 : 2) * rows * H;
}

static recurrent_layout layout_of(nerve_graph *g, nerve_node_data *node)
{
    const nerve_node_data *x = nerve_node_input(g, node, 0), *w_hh = nerve_node_input(g, node, 2);
    recurrent_layout L = {.cell = (nerve_recurrent_cell)node->attr.i[ATTR_CELL],
                          .reverse = node->attr.i[ATTR_REVERSE],
                          .last = node->attr.i[ATTR_LAST],
                          .bias = node->input_count == 5};
    L.N = x->shape.dim[0], L.T = x->shape.dim[1], L.F = x->shape.dim[2];
    L.H = w_hh->shape.dim[1], L.GH = w_hh->shape.dim[0];
    /* The planned batch: the output's capacity over one sample's size. */
    int64_t planned = node->capacity / nerve_shape_cols(&node->shape);
    int64_t state = planned * L.H, sequence = L.N * L.T * L.H;
    nerve_real *p = node->aux;
    L.h_initial = p, p += state;
    if (L.cell == NERVE_CELL_LSTM) L.c_initial = p, p += state;
    L.h_final = p, p += state;
    if (L.cell == NERVE_CELL_LSTM) L.c_final = p, p += state;
    L.bias_row = p, p += L.GH;
    L.gates = p, p += L.N * L.T * L.GH;
    L.h_prev = p, p += sequence;
    if (L.cell == NERVE_CELL_LSTM) L.c = p, p += sequence, L.tanh_c = p, p += sequence;
    if (L.cell == NERVE_CELL_GRU) L.hidden_n = p, p += sequence;
    L.h = L.last ? p : node->value;
    if (L.last) p += sequence;
    L.dh_steps = g->record_state_gradients ? p : NULL;
    return L;
}

static nerve_status recurrent_infer_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    const nerve_node_data *x = nerve_node_input(g, node, 0);
    const nerve_node_data *w_ih = nerve_node_input(g, node, 1);
    const nerve_node_data *w_hh = nerve_node_input(g, node, 2);
    nerve_recurrent_cell cell = (nerve_recurrent_cell)node->attr.i[ATTR_CELL];
    int64_t G = nerve_recurrent_gate_count(cell);
    char xs[64], ws[64], hs[64];
    if (x->shape.ndim != 3 || x->shape.dim[1] < 1)
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "%s '%s': input %s is not a batch of sequences [N, T, features]",
                               cell_name(cell), node->name,
                               nerve_shape_format(&x->shape, xs, sizeof xs));
    int64_t T = x->shape.dim[1], F = x->shape.dim[2];
    int64_t H = w_hh->shape.ndim == 2 ? w_hh->shape.dim[1] : 0;
    if (H < 1 || w_hh->shape.dim[0] != G * H)
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "%s '%s': weight_hh %s is not [%lld H, H]", cell_name(cell),
                               node->name, nerve_shape_format(&w_hh->shape, hs, sizeof hs),
                               (long long)G);
    if (w_ih->shape.ndim != 2 || w_ih->shape.dim[0] != G * H || w_ih->shape.dim[1] != F)
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "%s '%s': weight_ih %s does not fit input %s and hidden size "
                               "%lld (expected [%lld, %lld])",
                               cell_name(cell), node->name,
                               nerve_shape_format(&w_ih->shape, ws, sizeof ws),
                               nerve_shape_format(&x->shape, xs, sizeof xs), (long long)H,
                               (long long)(G * H), (long long)F);
    for (int k = 3; k < node->input_count; k++) {
        const nerve_node_data *b = nerve_node_input(g, node, k);
        if (b->shape.ndim != 1 || b->shape.dim[0] != G * H)
            return nerve_error_set(err, NERVE_ERR_SHAPE, "%s '%s': %s must have shape [%lld]",
                                   cell_name(cell), node->name, k == 3 ? "bias_ih" : "bias_hh",
                                   (long long)(G * H));
    }
    int64_t N = x->shape.dim[0];
    bool last = node->attr.i[ATTR_LAST];
    if (last) {
        node->shape = nerve_shape_2d(N, H);
    } else {
        int64_t dims[3] = {N, T, H};
        node->shape = nerve_shape_make(3, dims);
    }
    node->aux_size =
        state_size(cell, N, H) + sequence_size(cell, last, g->record_state_gradients, N, T, H);
    return nerve_graph_pass_error(
        g, NERVE_RUN(g, recurrent_workspace, cell, N, T, F, H, &node->workspace_size), err);
}

static nerve_recurrent_sequence sequence_of(nerve_graph *g, nerve_node_data *node,
                                            const recurrent_layout *L)
{
    const nerve_real *b_hh = L->bias ? nerve_node_input(g, node, 4)->value : NULL;
    return (nerve_recurrent_sequence){
        .cell = L->cell,
        .batch = L->N,
        .steps = L->T,
        .features = L->F,
        .hidden = L->H,
        .reverse = L->reverse,
        .x = nerve_node_input(g, node, 0)->value,
        .weight_ih = nerve_node_input(g, node, 1)->value,
        .weight_hh = nerve_node_input(g, node, 2)->value,
        .bias = L->bias_row,
        /* Without biases the row is zeros, b_hn's share included. */
        .bias_hn = L->cell != NERVE_CELL_GRU ? NULL
                   : b_hh                    ? b_hh + 2 * L->H
                                             : L->bias_row + 2 * L->H,
        .gates = L->gates,
        .h = L->h,
        .h_prev = L->h_prev,
        .h0 = L->h_initial,
        .c0 = L->c_initial,
        .c = L->c,
        .tanh_c = L->tanh_c,
        .hidden_n = L->hidden_n,
        .workspace = g->workspace,
    };
}

/* The biases every step adds: b_ih + b_hh, but for a GRU's n gate, whose
 * b_hn sits inside r (W_hn h + b_hn), b_in alone. */
static nerve_status fold_biases(nerve_graph *g, const recurrent_layout *L, const nerve_real *b_ih,
                                const nerve_real *b_hh)
{
    const nerve_real *both[2] = {b_ih, b_hh};
    int64_t summed = L->cell == NERVE_CELL_GRU ? 2 * L->H : L->GH;
    NERVE_TRY(NERVE_RUN(g, add_forward, both, 2, L->bias_row, summed));
    if (summed < L->GH)
        return NERVE_RUN(g, copy_block, 1, L->GH - summed, b_ih + summed, 0, L->bias_row + summed,
                         0);
    return NERVE_OK;
}

static nerve_status recurrent_forward(nerve_graph *g, nerve_node_data *node)
{
    recurrent_layout L = layout_of(g, node);
    int64_t state = L.N * L.H;
    if (L.bias)
        NERVE_TRY(fold_biases(g, &L, nerve_node_input(g, node, 3)->value,
                              nerve_node_input(g, node, 4)->value));
    else
        NERVE_TRY(nerve_graph_zero(g, L.bias_row, L.GH));
    /* The carried state is a constant of this batch: copied, not linked. */
    if (g->carry_state) {
        NERVE_TRY(nerve_graph_copy(g, L.h_initial, L.h_final, state));
        if (L.c_initial) NERVE_TRY(nerve_graph_copy(g, L.c_initial, L.c_final, state));
    } else {
        NERVE_TRY(nerve_graph_zero(g, L.h_initial, state));
        if (L.c_initial) NERVE_TRY(nerve_graph_zero(g, L.c_initial, state));
    }
    nerve_recurrent_sequence s = sequence_of(g, node, &L);
    s.initial_zero = !g->carry_state;
    NERVE_TRY(NERVE_RUN(g, recurrent_forward, &s));

    int64_t last_step = L.reverse ? 0 : L.T - 1;
    NERVE_TRY(NERVE_RUN(g, copy_block, L.N, L.H, L.h + last_step * L.H, L.T * L.H, L.h_final, L.H));
    if (L.c)
        NERVE_TRY(
            NERVE_RUN(g, copy_block, L.N, L.H, L.c + last_step * L.H, L.T * L.H, L.c_final, L.H));
    if (L.last) NERVE_TRY(NERVE_RUN(g, copy_block, L.N, L.H, L.h_final, L.H, node->value, L.H));
    return NERVE_OK;
}

/* The gradient of input k, or NULL where it takes none. */
static nerve_real *gradient_of(nerve_graph *g, nerve_node_data *node, int k)
{
    if (k >= node->input_count) return NULL;
    nerve_node_data *input = nerve_node_input(g, node, k);
    return input->needs_grad ? input->grad : NULL;
}

static nerve_status recurrent_backward(nerve_graph *g, nerve_node_data *node)
{
    recurrent_layout L = layout_of(g, node);
    nerve_recurrent_sequence s = sequence_of(g, node, &L);
    s.dy = node->grad;
    s.dy_last_only = L.last;
    s.dx = gradient_of(g, node, 0);
    s.dweight_ih = gradient_of(g, node, 1);
    s.dweight_hh = gradient_of(g, node, 2);
    s.dbias_ih = gradient_of(g, node, 3);
    s.dbias_hh = gradient_of(g, node, 4);
    s.dh_steps = L.dh_steps;
    NERVE_TRY(NERVE_RUN(g, recurrent_backward, &s));
    return NERVE_OK;
}

static nerve_status recurrent_reset_state(nerve_graph *g, nerve_node_data *node)
{
    recurrent_layout L = layout_of(g, node);
    int64_t planned = node->capacity / nerve_shape_cols(&node->shape);
    return nerve_graph_zero(g, node->aux, state_size(L.cell, planned, L.H));
}

static nerve_real *recurrent_carried_state(nerve_graph *g, nerve_node_data *node, nerve_real **c,
                                           int64_t *hidden)
{
    if (!node->aux) return NULL;
    recurrent_layout L = layout_of(g, node);
    if (c) *c = L.c_final;
    if (hidden) *hidden = L.H;
    return L.h_final;
}

static int64_t recurrent_flops(const nerve_graph *g, const nerve_node_data *node)
{
    const nerve_node_data *x = &g->nodes[node->input[0]], *w_hh = &g->nodes[node->input[2]];
    int64_t T = x->shape.dim[1], F = x->shape.dim[2], GH = w_hh->shape.dim[0];
    int64_t H = w_hh->shape.dim[1];
    /* The two GEMMs per step, and about ten operations per gate. */
    return T * (2 * GH * (F + H) + 10 * GH);
}

static const nerve_op recurrent_op = {
    .name = "recurrent",
    .infer_shape = recurrent_infer_shape,
    .forward = recurrent_forward,
    .backward = recurrent_backward,
    .flops = recurrent_flops,
    .reset_state = recurrent_reset_state,
    .carried_state = recurrent_carried_state,
};

nerve_node nerve_recurrent(nerve_graph *g, nerve_recurrent_cell cell, nerve_node x,
                           nerve_node weight_ih, nerve_node weight_hh, nerve_node bias_ih,
                           nerve_node bias_hh, bool reverse, bool last, nerve_error *err)
{
    if (cell < NERVE_CELL_RNN_TANH || cell > NERVE_CELL_GRU) {
        nerve_error_set(err, NERVE_ERR_INVALID, "recurrent: unknown cell %d", (int)cell);
        return -1;
    }
    if ((bias_ih < 0) != (bias_hh < 0)) {
        nerve_error_set(err, NERVE_ERR_INVALID,
                        "%s: give both bias_ih and bias_hh, or neither", cell_name(cell));
        return -1;
    }
    nerve_node_data proto = {0};
    proto.attr.i[ATTR_CELL] = cell;
    proto.attr.i[ATTR_REVERSE] = reverse;
    proto.attr.i[ATTR_LAST] = last;
    int inputs[5] = {x, weight_ih, weight_hh, bias_ih, bias_hh};
    return nerve_graph_add_op(g, &recurrent_op, inputs, bias_ih >= 0 ? 5 : 3, &proto, err);
}

nerve_real *nerve_recurrent_state(nerve_graph *g, nerve_node n, nerve_real **c)
{
    if (n < 0 || n >= g->node_count || g->nodes[n].op != &recurrent_op) return NULL;
    return recurrent_carried_state(g, &g->nodes[n], c, NULL);
}

int64_t nerve_recurrent_steps(const nerve_graph *g, nerve_node n)
{
    if (n < 0 || n >= g->node_count || g->nodes[n].op != &recurrent_op) return 0;
    return nerve_node_input((nerve_graph *)g, &g->nodes[n], 0)->shape.dim[1];
}

nerve_status nerve_recurrent_state_gradient_norms(nerve_graph *g, nerve_node n, double *norms,
                                                  nerve_error *err)
{
    int64_t T = nerve_recurrent_steps(g, n);
    if (T == 0 || !g->nodes[n].aux || !g->record_state_gradients)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "node %d: not a recurrent op planned with its state gradients "
                               "recorded", (int)n);
    recurrent_layout L = layout_of(g, &g->nodes[n]);
    int64_t size = L.N * L.T * L.H;
    /* read on the host: a copy on a device without host memory */
    nerve_real *dh = nerve_graph_host_view(g, L.dh_steps, size, true, err);
    if (!dh) return err ? err->status : NERVE_ERR_NOMEM;
    for (int64_t t = 0; t < T; t++) {
        double squares = 0;
        for (int64_t i = 0; i < L.N; i++)
            for (int64_t j = 0; j < L.H; j++) {
                double d = dh[(i * T + t) * L.H + j];
                squares += d * d;
            }
        norms[t] = sqrt(squares);
    }
    return nerve_graph_host_view_end(g, L.dh_steps, dh, size, false, err);
}
