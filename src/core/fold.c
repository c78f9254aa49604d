/* Inference folding. Batch norm in eval mode is an affine map per channel,
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
 * target). Training plans never fold. */
#include "core/graph_internal.h"

/* Ops reading n's memory, aliasing ops' readers counted as n's. */
static int readers(const nerve_graph *g, int n)
{
    int count = 0;
    for (int j = n + 1; j < g->node_count; j++) {
        const nerve_node_data *op = &g->nodes[j];
        if (op->kind != NERVE_NODE_OP) continue;
        for (int k = 0; k < op->input_count; k++) {
            int x = op->input[k];
            while (g->nodes[x].kind == NERVE_NODE_OP && g->nodes[x].op->aliases_input)
                x = g->nodes[x].input[0];
            if (x == n) count++;
        }
    }
    return count;
}

void nerve_graph_plan_folds(nerve_graph *g)
{
    for (int i = 0; i < g->node_count; i++) {
        g->nodes[i].fold_consumer = 0;
        g->nodes[i].forward_folded = false;
    }
    if (g->plan_training) return;
    for (int i = 0; i < g->node_count; i++) {
        const nerve_node_data *bn = &g->nodes[i];
        if (bn->kind != NERVE_NODE_OP || !bn->op->folds_into_input) continue;
        nerve_node_data *conv = &g->nodes[bn->input[0]];
        if (conv->kind != NERVE_NODE_OP || !conv->op->absorbs_channel_affine) continue;
        if (conv->value == bn->value && readers(g, bn->input[0]) == 1) conv->fold_consumer = i + 1;
    }
}
