#include "train/state_gradients.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_internal.h"
#include "io/log_file.h"
#include "ops/recurrent.h"
#include "train/batching.h"

static void free_buffers(state_gradients *s)
{
    free(s->ops);
    free(s->norms);
    s->ops = NULL;
    s->norms = NULL;
}

nerve_status state_gradients_open(state_gradients *s, const nerve_train_options *o,
                                  nerve_graph *g, nerve_error *err)
{
    memset(s, 0, sizeof *s);
    if (!o->state_gradients_path) return NERVE_OK;
    s->path = o->state_gradients_path;
    if (o->state_gradients_every < 0)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "the state gradients' interval must be at least 0");
    if (o->comm)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "state gradients are taken in one process, not under mpirun");
    int nodes = g->node_count;
    int64_t longest = 1;
    s->ops = malloc((size_t)(nodes ? nodes : 1) * sizeof *s->ops);
    for (nerve_node n = 0; s->ops && n < nodes; n++) {
        int64_t steps = nerve_recurrent_steps(g, n);
        if (steps == 0) continue;
        s->ops[s->op_count++] = n;
        if (steps > longest) longest = steps;
    }
    s->norms = malloc((size_t)longest * sizeof *s->norms);
    if (!s->ops || !s->norms) {
        free_buffers(s);
        return nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory for the state gradients",
                               s->path);
    }
    if (s->op_count == 0) {
        free_buffers(s);
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "%s: per-time-step state gradients need a recurrent layer "
                               "([rnn], [lstm] or [gru]); the network has none",
                               s->path);
    }
    s->file = fopen(s->path, "w");
    if (!s->file) {
        free_buffers(s);
        return nerve_error_set(err, NERVE_ERR_IO, "%s: cannot write the state gradients: %s",
                               s->path, strerror(errno));
    }
    s->graph = g;
    s->every = o->state_gradients_every;
    s->start = nerve_seconds_now();
    fputs("epoch,step,elapsed", s->file);
    for (int k = 0; k < s->op_count; k++) {
        int64_t steps = nerve_recurrent_steps(g, s->ops[k]);
        for (int64_t t = 0; t < steps; t++)
            fprintf(s->file, ",dh:%s:%lld", nerve_node_name(g, s->ops[k]), (long long)t);
    }
    fputc('\n', s->file);
    nerve_graph_set_record_state_gradients(g, true);
    return NERVE_OK;
}

nerve_status state_gradients_step(state_gradients *s, int epoch, int64_t step, bool epoch_end,
                                  nerve_error *err)
{
    if (!s->file) return NERVE_OK;
    if (s->every > 0 ? step % s->every != 0 : !epoch_end) return NERVE_OK;
    fprintf(s->file, "%d,%lld,%.6g", epoch, (long long)step, nerve_seconds_now() - s->start);
    for (int k = 0; k < s->op_count; k++) {
        nerve_status st = nerve_recurrent_state_gradient_norms(s->graph, s->ops[k], s->norms, err);
        if (st != NERVE_OK) return st;
        int64_t steps = nerve_recurrent_steps(s->graph, s->ops[k]);
        for (int64_t t = 0; t < steps; t++) fprintf(s->file, ",%.6g", s->norms[t]);
    }
    fputc('\n', s->file);
    fflush(s->file);
    return NERVE_OK;
}

nerve_status state_gradients_close(state_gradients *s, nerve_error *err)
{
    free_buffers(s);
    if (!s->file) return NERVE_OK;
    nerve_graph_set_record_state_gradients(s->graph, false);
    return nerve_log_file_close(&s->file, s->path, "the state gradients", err);
}
