/* ZeRO stage 1 (Rajbhandari et al. 2020): with N ranks, each keeps the
 * optimizer state of one contiguous shard of the flat buffers and updates
 * only those parameters; the trainer reduce-scatters the gradients into the
 * shards before the step and all-gathers the parameters after it
 * (train/distributed.c). The state per rank is 1/N of the whole. The shard
 * is a sub-range of the buffers: segments cut to it and made relative to
 * its start, so the update kernels run unchanged. */
#include <stdlib.h>
#include <string.h>

#include "core/graph_internal.h"
#include "dist/data_parallel.h"
#include "optim/optimizer.h"

/* Optimizer state lives in the graph's device memory (optim_add_state); the
 * communicators read and write it directly, so data-parallel training runs
 * on backends with host memory (cpu, ref). */
static nerve_real *state_new(const nerve_optimizer *opt, int64_t n)
{
    nerve_graph *g = opt->graph;
    void *memory;
    if (g->device->allocate(&g->ctx, (size_t)(n ? n : 1) * sizeof(nerve_real), &memory) != NERVE_OK)
        return NULL;
    return memory;
}

static void state_free(const nerve_optimizer *opt, nerve_real *state)
{
    if (state) opt->graph->device->release(&opt->graph->ctx, state);
}

nerve_status optim_shard(nerve_optimizer *opt, nerve_comm *comm, int64_t begin, int64_t end,
                         nerve_error *err)
{
    if (opt->full_segments)
        return nerve_error_set(err, NERVE_ERR_INVALID, "the optimizer is already sharded");
    nerve_optim_segment *cut = calloc((size_t)opt->segment_count + 1, sizeof *cut);
    nerve_node *nodes = calloc((size_t)opt->segment_count + 1, sizeof *nodes);
    nerve_real *state[NERVE_OPTIM_MAX_STATE] = {0};
    bool fits = cut && nodes;
    for (int k = 0; fits && k < NERVE_OPTIM_MAX_STATE; k++) {
        if (!opt->state[k]) continue;
        state[k] = state_new(opt, end - begin);
        fits = state[k] != NULL;
    }
    if (!fits) {
        free(cut);
        free(nodes);
        for (int k = 0; k < NERVE_OPTIM_MAX_STATE; k++) state_free(opt, state[k]);
        return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory sharding the optimizer");
    }
    int count = 0;
    for (int s = 0; s < opt->segment_count; s++) {
        nerve_optim_segment segment = opt->segments[s];
        segment.begin = (segment.begin > begin ? segment.begin : begin) - begin;
        segment.end = (segment.end < end ? segment.end : end) - begin;
        if (segment.end <= segment.begin) continue;
        nodes[count] = opt->nodes[s];
        cut[count++] = segment;
    }
    /* The state was the whole buffer's: keep the shard's part. */
    for (int k = 0; k < NERVE_OPTIM_MAX_STATE; k++) {
        if (!opt->state[k]) continue;
        memcpy(state[k], opt->state[k] + begin, (size_t)(end - begin) * sizeof *state[k]);
        state_free(opt, opt->state[k]);
        opt->state[k] = state[k];
    }
    opt->full_segments = opt->segments;
    opt->full_nodes = opt->nodes;
    opt->full_segment_count = opt->segment_count;
    opt->segments = cut;
    opt->nodes = nodes;
    opt->segment_count = count;
    opt->offset = begin;
    opt->count = end - begin;
    opt->comm = comm;
    return NERVE_OK;
}

/* Every rank's shard is nerve_dist_slice of the buffer, as the trainer cuts it. */
nerve_status optim_unshard(nerve_optimizer *opt, nerve_error *err)
{
    if (!opt->full_segments) return NERVE_OK;
    nerve_comm *comm = opt->comm;
    int size = nerve_comm_size(comm);
    int64_t total = (int64_t)nerve_graph_param_count(opt->graph), first;
    int64_t *counts = malloc((size_t)size * sizeof *counts);
    nerve_real *state[NERVE_OPTIM_MAX_STATE] = {0};
    bool fits = counts != NULL;
    for (int k = 0; fits && k < NERVE_OPTIM_MAX_STATE; k++)
        if (opt->state[k]) fits = (state[k] = state_new(opt, total));
    nerve_status st = fits ? NERVE_OK
                           : nerve_error_set(err, NERVE_ERR_NOMEM,
                                             "out of memory gathering the optimizer's state");
    for (int r = 0; fits && r < size; r++) nerve_dist_slice(total, r, size, &first, &counts[r]);
    for (int k = 0; st == NERVE_OK && k < NERVE_OPTIM_MAX_STATE; k++)
        if (opt->state[k])
            st = nerve_comm_allgather(comm, opt->state[k], state[k], counts, NERVE_COMM_REAL, err);
    free(counts);
    if (st != NERVE_OK) {
        for (int k = 0; k < NERVE_OPTIM_MAX_STATE; k++) state_free(opt, state[k]);
        return st;
    }
    for (int k = 0; k < NERVE_OPTIM_MAX_STATE; k++) {
        if (!opt->state[k]) continue;
        state_free(opt, opt->state[k]);
        opt->state[k] = state[k];
    }
    free(opt->segments);
    free(opt->nodes);
    opt->segments = opt->full_segments;
    opt->nodes = opt->full_nodes;
    opt->segment_count = opt->full_segment_count;
    opt->full_segments = NULL;
    opt->full_nodes = NULL;
    opt->offset = 0;
    opt->count = total;
    opt->comm = NULL;
    return NERVE_OK;
}
