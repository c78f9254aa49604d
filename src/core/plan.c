/* The memory plan's layout: where each node's value, gradient and op state
 * lie in the arena. Every buffer has a lifetime on one timeline, the
 * forward pass (node i runs at time i) followed by the backward pass (node
 * i at time 2n - 1 - i); buffers whose lifetimes do not overlap share
 * space. Placement is greedy, the largest buffer first, each at the lowest
 * offset where it overlaps no placed buffer that is alive at the same time
 * (the offset-assignment heuristic of TensorFlow Lite's arena planner).
 *
 * What lives how long:
 * - the workspace, the inputs' values (the caller writes them before a
 *   pass), every op's state (aux: kept between passes, e.g. recurrent
 *   state), the gradients of gradient-taking inputs: always;
 * - training: every op's value for the whole step (backward reads them,
 *   and the caller reads the loss and the logits after it); an op's
 *   gradient from the backward of its last consumer (the first to add into
 *   it) to its own backward, or for the whole step when gradients are kept
 *   (nerve_graph_set_keep_gradients); a ReLU folded into the batch norm
 *   or add before it (core/fold.c) and that op share one value (the
 *   ReLU's output: nothing reads the op's own) and one gradient, alive
 *   until the op's backward (which reads it); a batch norm folded into the
 *   convolution before it keeps its gradient (or its ReLU's) until the
 *   convolution's backward, which runs the batch norm's;
 * - inference (no gradients): an op's value from its forward to its last
 *   consumer's; the value of a node nothing reads is kept (it is what a
 *   forward pass is run for). An op that can run in place (forward_in_place:
 *   the activations) and is the last consumer of its input op's value
 *   writes over it: the two share one buffer, alive from the input's forward
 *   to the output's last consumer (at batch 256 that is LeNet's conv1 output,
 *   24.5 MiB of its 89.6). Training keeps both: backward reads them. */
#include <stdint.h>
#include <stdlib.h>

#include "core/graph_internal.h"
#include "core/plan.h"

typedef struct interval {
    int64_t first, last; /* alive over [first, last] */
    size_t size;         /* elements, rounded to the alignment */
    size_t *offset;      /* where the placement goes */
} interval;

size_t nerve_plan_round(size_t n)
{
    const size_t unit = NERVE_ALIGNMENT / sizeof(nerve_real);
    return (n + unit - 1) & ~(unit - 1);
}

/* The node whose memory n's value and gradient are (aliasing ops own none). */
int nerve_plan_owner(const nerve_graph *g, int n)
{
    while (g->nodes[n].kind == NERVE_NODE_OP && g->nodes[n].op->aliases_input)
        n = g->nodes[n].input[0];
    return n;
}

static int by_size_descending(const void *a, const void *b)
{
    size_t x = ((const interval *)a)->size, y = ((const interval *)b)->size;
    return x < y ? 1 : x > y ? -1 : 0;
}

static int by_offset(const void *a, const void *b)
{
    size_t x = *(*(const interval *const *)a)->offset, y = *(*(const interval *const *)b)->offset;
    return x < y ? -1 : x > y ? 1 : 0;
}

/* Places count intervals; returns the arena's size in elements. */
static size_t place(interval *all, int count, const interval **scratch)
{
    qsort(all, (size_t)count, sizeof *all, by_size_descending);
    size_t total = 0;
    for (int k = 0; k < count; k++) {
        interval *v = &all[k];
        int live = 0;
        for (int j = 0; j < k; j++)
            if (all[j].first <= v->last && v->first <= all[j].last) scratch[live++] = &all[j];
        qsort(scratch, (size_t)live, sizeof *scratch, by_offset);
        size_t offset = 0;
        for (int j = 0; j < live; j++) {
            size_t start = *scratch[j]->offset, end = start + scratch[j]->size;
            if (start >= offset + v->size) break; /* the gap below fits */
            if (end > offset) offset = end;
        }
        *v->offset = offset;
        if (offset + v->size > total) total = offset + v->size;
    }
    return total;
}

nerve_status nerve_plan_compute(const nerve_graph *g, bool training, nerve_plan_layout *out,
                               nerve_error *err)
{
    int n = g->node_count;
    const int64_t end = 2 * (int64_t)n; /* after the whole step */
    out->value = calloc((size_t)n * 3 + 1, sizeof *out->value);
    int *last_reader = malloc(((size_t)n + 1) * sizeof *last_reader);
    interval *all = malloc(((size_t)n * 3 + 1) * sizeof *all);
    const interval **scratch = malloc(((size_t)n * 3 + 1) * sizeof *scratch);
    if (!out->value || !last_reader || !all || !scratch) {
        free(out->value), free(last_reader), free(all), free(scratch);
        out->value = NULL;
        return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory planning %d nodes", n);
    }
    out->grad = out->value + n;
    out->aux = out->grad + n;
    /* The last op that reads each node's memory, -1 for none. */
    for (int i = 0; i < n; i++) last_reader[i] = -1;
    for (int j = 0; j < n; j++) {
        const nerve_node_data *op = &g->nodes[j];
        if (op->kind != NERVE_NODE_OP) continue;
        for (int k = 0; k < op->input_count; k++) {
            int owner = nerve_plan_owner(g, op->input[k]);
            if (j > last_reader[owner]) last_reader[owner] = j;
        }
    }
    /* Inference: in_place[i] is the node whose value buffer op i writes
     * over (the first of a chain), at[j] that node's interval; else -1. */
    int *in_place = malloc(((size_t)n + 1) * 3 * sizeof *in_place), *at = in_place + n;
    /* Training: grad_of[i] is the ReLU folded into op i (core/fold.c),
     * whose gradient memory is i's too, alive from the ReLU's last reader's
     * backward to i's; else -1. */
    int *grad_of = at + n;
    if (!in_place) {
        free(out->value), free(last_reader), free(all), free(scratch);
        out->value = NULL;
        return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory planning %d nodes", n);
    }
    for (int i = 0; i < 3 * n; i++) in_place[i] = -1;
    /* Training: in_place[i] is the op ReLU i is folded into, whose value
     * buffer is i's too. */
    for (int i = 0; training && i < n; i++) {
        int producer = nerve_fold_relu_producer(g, i);
        if (producer >= 0) grad_of[producer] = i, in_place[i] = producer;
    }
    int count = 0;
    all[count++] = (interval){0, end, nerve_plan_round((size_t)g->workspace_size),
                              &out->workspace};
    for (int i = 0; i < n; i++) {
        const nerve_node_data *d = &g->nodes[i];
        if (d->kind == NERVE_NODE_PARAM) continue;
        if (d->kind == NERVE_NODE_OP && d->op->aliases_input) continue;
        size_t size = nerve_plan_round((size_t)d->capacity);
        int reader = last_reader[i];
        if (d->kind == NERVE_NODE_INPUT) {
            all[count++] = (interval){0, end, size, &out->value[i]};
            if (training && d->takes_grad) all[count++] = (interval){0, end, size, &out->grad[i]};
            continue;
        }
        int64_t value_last = training || reader < 0 ? end : reader;
        if (!training && d->op->forward_in_place) {
            int x = nerve_plan_owner(g, d->input[0]);
            if (g->nodes[x].kind == NERVE_NODE_OP && last_reader[x] == i &&
                g->nodes[x].capacity == d->capacity)
                in_place[i] = in_place[x] >= 0 ? in_place[x] : x;
        }
        if (in_place[i] >= 0) {
            all[at[in_place[i]]].last = value_last;
        } else {
            at[i] = count;
            all[count++] = (interval){i, value_last, size, &out->value[i]};
        }
        all[count++] = (interval){0, end, nerve_plan_round((size_t)d->aux_size), &out->aux[i]};
        if (!training) continue;
        /* Backward time of node k: end - 1 - k. */
        int64_t first = end - 1 - (reader < 0 ? i : reader), last = end - 1 - i;
        if (grad_of[i] >= 0) continue; /* it is its ReLU's */
        if (in_place[i] >= 0) last = end - 1 - in_place[i]; /* a folded ReLU's */
        /* A batch norm folded into a convolution: its backward runs in the
         * convolution's. */
        int conv = nerve_fold_batch_norm_producer(g, in_place[i] >= 0 ? in_place[i] : i);
        if (conv >= 0) last = end - 1 - conv;
        if (g->keep_gradients) first = 0, last = end;
        all[count++] = (interval){first, last, size, &out->grad[i]};
    }
    out->total = place(all, count, scratch);
    for (int i = 0; i < n; i++) {
        if (g->nodes[i].kind == NERVE_NODE_OP && !g->nodes[i].op->aliases_input &&
            in_place[i] >= 0)
            out->value[i] = out->value[in_place[i]];
        if (grad_of[i] >= 0) out->grad[i] = out->grad[grad_of[i]];
    }
    free(last_reader), free(all), free(scratch), free(in_place);
    return NERVE_OK;
}

void nerve_plan_layout_free(nerve_plan_layout *layout)
{
    free(layout->value);
    layout->value = layout->grad = layout->aux = NULL;
}
