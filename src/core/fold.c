/* Folds: one op's forward done by the op before it.
 *
 * Inference. Batch norm in eval mode is an affine map per channel,
 * y = x * s + t with s = gamma / sqrt(running_var + eps) and t = beta -
 * running_mean * s; after a convolution it folds into the convolution's
 * weight (each output channel's filter times s) and bias (b * s + t), so
 * that the convolution writes the normalised output in one pass and the
 * batch norm's own pass over the activations disappears (ops/conv2d.c).
 *
 * Only where nothing can tell: an inference plan (no backward reads the
 * convolution's output), the batch norm the only reader of that output and
 * writing over it (the plan's in-place chain: the raw output is gone after
 * the batch norm in any case). Whether a given forward folds is decided when
 * it runs (eval mode, running statistics, the batch norm needed by the
 * target).
 *
 * Training plans fold a ReLU into the batch norm before it instead: where
 * the ReLU alone reads the batch norm's output, the batch norm's forward
 * writes max(0, y) straight into the ReLU's value (one pass over the
 * activations rather than a write, a read and a write) and the ReLU's
 * forward is skipped. Nothing reads the batch norm's own value then: its
 * backward needs its input, and the ReLU's mask comes from its own output.
 * So that value is not written, and the plan gives the two one buffer (read
 * the ReLU's). Backward too is one pass
 * fewer: the ReLU leaves its gradient as it is and the batch norm's
 * backward reads it with the mask (batch_norm_relu_backward), so the plan
 * keeps the ReLU's gradient alive until then. A graph that keeps every
 * gradient for inspection (nerve_graph_set_keep_gradients) does not fold.
 *
 * A ReLU that alone reads an add's sum (a residual block's output) folds
 * into the add the same way: the add writes max(0, sum) (add_relu_forward)
 * into the buffer the two share, and its backward hands each input the
 * ReLU's gradient masked by the ReLU's output, in the pass that would have
 * copied it.
 *
 * Training plans fold a batch norm that alone reads a convolution's
 * output into the convolution, forward and backward: the convolution's
 * forward runs conv_batch_norm_forward (the batch norm's output, or its
 * folded ReLU's, written where the batch norm would write it) and its
 * backward conv_batch_norm_backward, while the batch norm's own passes are
 * skipped. The kernel pair may keep the convolution's output and its
 * gradient in a layout of its own (the CPU's: oneDNN's blocked one, which
 * saves a reorder each way; backends/cpu/conv_batch_norm.c), which nothing
 * else reads. Whether a forward folds is decided when it runs: only with
 * the batch's statistics (training mode), unsynchronised, the batch norm
 * needed and the convolution taking gradients (its backward must run).
 *
 * Inference plans also let a convolution hand its output (after the batch
 * norm and ReLU folded into it) to the convolution that alone reads it in
 * the backend's own layout (conv_hand_over; the CPU's: oneDNN's nChw16c),
 * which saves the reorder out of that layout and the one back in. It is
 * decided when the forward runs: every fold of the chain applied, the
 * reader needed, and the backend saying yes for that batch.
 *
 * Inference plans fold a ReLU that alone reads, in place, a convolution's,
 * a batch norm's or an add's output into that op: the convolution applies
 * it as its primitive's post-op (conv_columns_relu), also after a batch
 * norm folded into it; a batch norm that runs itself (a training-mode
 * forward) applies it as in training. */
#include "core/graph_internal.h"
#include "core/plan.h"

/* Ops reading n's memory, aliasing ops' readers counted as n's. */
static int readers(const nerve_graph *g, int n)
{
    int count = 0;
    for (int j = n + 1; j < g->node_count; j++) {
        const nerve_node_data *op = &g->nodes[j];
        if (op->kind != NERVE_NODE_OP) continue;
        for (int k = 0; k < op->input_count; k++)
            if (nerve_plan_owner(g, op->input[k]) == n) count++;
    }
    return count;
}

/* The op whose forward can apply ReLU `relu` as well, or -1: in training
 * plans a batch norm or add (absorbs_relu), in inference plans also a
 * convolution, writing over it in place. */
static int relu_producer(const nerve_graph *g, int relu, bool training)
{
    const nerve_node_data *op = &g->nodes[relu];
    if (op->kind != NERVE_NODE_OP || !op->op->activation ||
        op->attr.activation.kind != NERVE_ACT_RELU || g->keep_gradients)
        return -1;
    int producer = op->input[0];
    const nerve_node_data *p = &g->nodes[producer];
    if (p->kind != NERVE_NODE_OP || readers(g, producer) != 1) return -1;
    if (training) return p->op->absorbs_relu ? producer : -1;
    return (p->op->absorbs_relu || p->op->absorbs_relu_in_inference) && p->value == op->value
               ? producer
               : -1;
}

int nerve_fold_relu_producer(const nerve_graph *g, int relu)
{
    return relu_producer(g, relu, true);
}

int nerve_fold_batch_norm_producer(const nerve_graph *g, int bn)
{
    const nerve_node_data *op = &g->nodes[bn];
    if (op->kind != NERVE_NODE_OP || !op->op->folds_into_input || g->keep_gradients)
        return -1;
    int producer = op->input[0];
    const nerve_node_data *p = &g->nodes[producer];
    return p->kind == NERVE_NODE_OP && p->op->absorbs_batch_norm_in_training &&
                   p->needs_grad && readers(g, producer) == 1
               ? producer
               : -1;
}

nerve_node_data *nerve_fold_take(nerve_graph *g, const nerve_node_data *producer)
{
    if (!producer->fold_consumer) return NULL;
    int i = producer->fold_consumer - 1;
    g->nodes[i].forward_folded = g->needed[i];
    return g->needed[i] ? &g->nodes[i] : NULL;
}

/* The op that alone reads n's memory, or -1. */
static int only_reader(const nerve_graph *g, int n)
{
    if (readers(g, n) != 1) return -1;
    for (int j = n + 1; j < g->node_count; j++) {
        const nerve_node_data *op = &g->nodes[j];
        if (op->kind != NERVE_NODE_OP) continue;
        for (int k = 0; k < op->input_count; k++)
            if (nerve_plan_owner(g, op->input[k]) == n) return j;
    }
    return -1;
}

/* Inference plans: the convolution that alone reads convolution c's
 * output, after the batch norm and ReLU folded into c, as its image, or -1. */
static int layout_consumer(const nerve_graph *g, int c)
{
    int last = c;
    for (int step = 0; step < 2 && g->nodes[last].fold_consumer; step++)
        last = g->nodes[last].fold_consumer - 1;
    int reader = only_reader(g, last);
    if (reader < 0) return -1;
    const nerve_node_data *r = &g->nodes[reader];
    return r->op->absorbs_channel_affine && r->input[0] == last &&
                   g->nodes[last].value == g->nodes[c].value
               ? reader
               : -1;
}

void nerve_graph_plan_folds(nerve_graph *g)
{
    for (int i = 0; i < g->node_count; i++) {
        g->nodes[i].fold_consumer = g->nodes[i].layout_consumer = 0;
        g->nodes[i].forward_folded = g->nodes[i].grad_from_relu = false;
        g->nodes[i].input_private = false;
    }
    for (int i = 0; i < g->node_count; i++) {
        const nerve_node_data *op = &g->nodes[i];
        if (op->kind != NERVE_NODE_OP || op->input_count < 1) continue;
        int relu = relu_producer(g, i, g->plan_training);
        if (relu >= 0) g->nodes[relu].fold_consumer = i + 1;
        int conv = g->plan_training ? nerve_fold_batch_norm_producer(g, i) : -1;
        if (conv >= 0) g->nodes[conv].fold_consumer = i + 1;
        if (g->plan_training || relu >= 0) continue;
        nerve_node_data *producer = &g->nodes[op->input[0]];
        if (op->op->folds_into_input && producer->kind == NERVE_NODE_OP &&
            producer->op->absorbs_channel_affine && readers(g, op->input[0]) == 1 &&
            producer->value == op->value)
            producer->fold_consumer = i + 1;
    }
    for (int i = 0; !g->plan_training && i < g->node_count; i++) {
        const nerve_node_data *op = &g->nodes[i];
        if (op->kind != NERVE_NODE_OP || !op->op->absorbs_channel_affine) continue;
        int reader = layout_consumer(g, i);
        if (reader >= 0) g->nodes[i].layout_consumer = reader + 1;
    }
}
