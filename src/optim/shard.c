/* ZeRO stage 1 (Rajbhandari et al. 2020): with N ranks, each keeps the
 * optimizer state of one contiguous shard of the flat buffers and updates
 * only those parameters; the trainer reduce-scatters the gradients into the
 * shards before the step and all-gathers the parameters after it
 * (train/distributed.c). The state per rank is 1/N of the whole. The shard
 * is a sub-range of the buffers: segments cut to it and made relative to
 * its start, so the update kernels run unchanged. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dist/data_parallel.h"
#include "optim/optimizer.h"

double optim_sum_over_ranks(const nerve_optimizer *opt, double squares)
{
    if (!opt->comm) return squares;
    nerve_error err = {0};
    if (nerve_comm_allreduce(opt->comm, &squares, 1, NERVE_COMM_DOUBLE, &err) != NERVE_OK)
        return NAN;
    return squares;
}

nerve_status optim_shard(nerve_optimizer *opt, nerve_comm *comm, int64_t begin, int64_t end,
                         nerve_error *err)
{
    if (opt->full_segments)
        return nerve_error_set(err, NERVE_ERR_INVALID, "the optimizer is already sharded");
    optim_segment *cut = calloc((size_t)opt->segment_count + 1, sizeof *cut);
    nerve_real *state[OPTIM_MAX_STATE] = {0};
    bool fits = cut != NULL;
    for (int k = 0; fits && k < OPTIM_MAX_STATE; k++) {
        if (!opt->state[k]) continue;
        state[k] = malloc((size_t)(end - begin + 1) * sizeof *state[k]);
        fits = state[k] != NULL;
    }
    if (!fits) {
        free(cut);
        for (int k = 0; k < OPTIM_MAX_STATE; k++) free(state[k]);
        return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory sharding the optimizer");
    }
    int count = 0;
    for (int s = 0; s < opt->segment_count; s++) {
        optim_segment segment = opt->segments[s];
        segment.begin = (segment.begin > begin ? segment.begin : begin) - begin;
        segment.end = (segment.end < end ? segment.end : end) - begin;
        if (segment.end > segment.begin) cut[count++] = segment;
    }
    /* The state was the whole buffer's: keep the shard's part. */
    for (int k = 0; k < OPTIM_MAX_STATE; k++) {
        if (!opt->state[k]) continue;
        memcpy(state[k], opt->state[k] + begin, (size_t)(end - begin) * sizeof *state[k]);
        free(opt->state[k]);
        opt->state[k] = state[k];
    }
    opt->full_segments = opt->segments;
    opt->full_segment_count = opt->segment_count;
    opt->segments = cut;
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
    nerve_real *state[OPTIM_MAX_STATE] = {0};
    bool fits = counts != NULL;
    for (int k = 0; fits && k < OPTIM_MAX_STATE; k++)
        if (opt->state[k]) fits = (state[k] = malloc((size_t)(total + 1) * sizeof *state[k]));
    nerve_status st = fits ? NERVE_OK
                           : nerve_error_set(err, NERVE_ERR_NOMEM,
                                             "out of memory gathering the optimizer's state");
    for (int r = 0; fits && r < size; r++) nerve_dist_slice(total, r, size, &first, &counts[r]);
    for (int k = 0; st == NERVE_OK && k < OPTIM_MAX_STATE; k++)
        if (opt->state[k])
            st = nerve_comm_allgather(comm, opt->state[k], state[k], counts, NERVE_COMM_REAL, err);
    free(counts);
    if (st != NERVE_OK) {
        for (int k = 0; k < OPTIM_MAX_STATE; k++) free(state[k]);
        return st;
    }
    for (int k = 0; k < OPTIM_MAX_STATE; k++) {
        if (!opt->state[k]) continue;
        free(opt->state[k]);
        opt->state[k] = state[k];
    }
    free(opt->segments);
    opt->segments = opt->full_segments;
    opt->segment_count = opt->full_segment_count;
    opt->full_segments = NULL;
    opt->offset = 0;
    opt->count = total;
    opt->comm = NULL;
    return NERVE_OK;
}
