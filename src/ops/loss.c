/* Shared by the loss ops: options with PyTorch's defaults, input checks,
 * reductions. */
#include <math.h>
#include <stdlib.h>

#include "core/options.h"
#include "ops/loss.h"

static nerve_loss_options nerve_loss_options_default_value(void)
{
    return (nerve_loss_options){.reduction = NERVE_REDUCTION_MEAN,
                                .delta = 1,
                                .beta = 1,
                                .gamma = 2,
                                .temperature = 1,
                                .soft_weight = 0.9,
                                .margin = 2,
                                .lambda_power = 1};
}

void nerve_loss_options_default_sized(nerve_loss_options *out, size_t size)
{
    nerve_loss_options value = nerve_loss_options_default_value();
    nerve_options_write(out, size, &value, sizeof value);
}

nerve_loss_options loss_options_or_default(const nerve_loss_options *options)
{
    return options ? *options : nerve_loss_options_default();
}

bool loss_check_option(bool ok, const char *loss, const char *what, const char *range,
                       nerve_error *err)
{
    if (!ok) nerve_error_set(err, NERVE_ERR_INVALID, "%s: %s must be %s", loss, what, range);
    return ok;
}

static bool weights_fit(const nerve_graph *g, const nerve_op *op, nerve_node scores,
                        const nerve_loss_options *o, loss_weights kind, nerve_error *err)
{
    if (!o->weights) return true;
    if (kind == LOSS_NO_WEIGHTS)
        return loss_check_option(false, op->name, "weights", "NULL (it takes none)", err);
    for (int64_t i = 0; i < o->weight_count; i++)
        if (!isfinite(o->weights[i]) || o->weights[i] < 0)
            return loss_check_option(false, op->name, "every weight", "finite and >= 0", err);
    nerve_shape s = nerve_node_shape(g, scores);
    int64_t columns = loss_cols(&s);
    if (s.ndim < 2 || o->weight_count == columns ||
        (kind == LOSS_OUTPUT_WEIGHTS && o->weight_count == 1))
        return true; /* a wrong shape is infer_shape's to report */
    nerve_error_set(err, NERVE_ERR_SHAPE, "%s: %lld weights for %lld %s", op->name,
                    (long long)o->weight_count, (long long)columns,
                    kind == LOSS_CLASS_WEIGHTS ? "classes" : "outputs");
    return false;
}

nerve_node loss_add(nerve_graph *g, const nerve_op *op, const int *inputs, int input_count,
                    const nerve_loss_options *o, loss_weights weights, int margin, double param,
                    nerve_error *err)
{
    bool known_reduction =
        o->reduction == NERVE_REDUCTION_MEAN || o->reduction == NERVE_REDUCTION_SUM;
    if (!loss_check_option(known_reduction, op->name, "reduction", "mean or sum", err) ||
        !weights_fit(g, op, inputs[0], o, weights, err))
        return -1;
    nerve_node_data proto = {0};
    proto.attr.loss.reduction = o->reduction;
    proto.attr.loss.margin = margin;
    proto.attr.loss.param = param;
    nerve_node n = nerve_graph_add_op(g, op, inputs, input_count, &proto, err);
    if (n < 0 || !o->weights) return n;
    nerve_shape s = nerve_node_shape(g, inputs[0]);
    int64_t columns = loss_cols(&s);
    float *expanded = NULL;
    const float *values = o->weights;
    if (o->weight_count == 1 && columns > 1) { /* one pos_weight for every output */
        expanded = malloc((size_t)columns * sizeof *expanded);
        if (!expanded) {
            nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory for the weights of %s", op->name);
            return -1;
        }
        for (int64_t i = 0; i < columns; i++) expanded[i] = o->weights[0];
        values = expanded;
    }
    nerve_status st = nerve_graph_set_constants(g, n, values, columns, err);
    free(expanded);
    return st == NERVE_OK ? n : -1;
}

void loss_set_scalar(nerve_node_data *node)
{
    node->shape = nerve_shape_1d(1);
    node->batched = false;
}

nerve_status loss_infer_same_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    const nerve_node_data *pred = nerve_node_input(g, node, 0);
    const nerve_node_data *target = nerve_node_input(g, node, 1);
    char ps[64], ts[64];
    if (nerve_shape_numel(&pred->shape) != nerve_shape_numel(&target->shape) ||
        nerve_shape_rows(&pred->shape) != nerve_shape_rows(&target->shape))
        return nerve_error_set(err, NERVE_ERR_SHAPE, "%s: prediction %s and target %s differ",
                               node->op->name, nerve_shape_format(&pred->shape, ps, sizeof ps),
                               nerve_shape_format(&target->shape, ts, sizeof ts));
    loss_set_scalar(node);
    return NERVE_OK;
}

nerve_status loss_infer_labels(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    const nerve_node_data *scores = nerve_node_input(g, node, 0);
    const nerve_node_data *labels = nerve_node_input(g, node, 1);
    char ss[64], ls[64];
    if ((scores->shape.ndim != 2 && scores->shape.ndim != 3) ||
        nerve_shape_numel(&labels->shape) != loss_rows(&scores->shape))
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "%s: scores %s and labels %s do not agree (expected [N, C] and "
                               "N labels, or [N, T, C] and N x T labels)",
                               node->op->name, nerve_shape_format(&scores->shape, ss, sizeof ss),
                               nerve_shape_format(&labels->shape, ls, sizeof ls));
    loss_set_scalar(node);
    return NERVE_OK;
}

int64_t loss_cols(const nerve_shape *s) { return s->ndim > 1 ? s->dim[s->ndim - 1] : 1; }

int64_t loss_rows(const nerve_shape *s)
{
    return loss_cols(s) > 0 ? nerve_shape_numel(s) / loss_cols(s) : 0;
}

double loss_reduction_factor(const nerve_node_data *node, double count)
{
    return node->attr.loss.reduction == NERVE_REDUCTION_SUM ? 1 : 1 / count;
}

double loss_divisor(const nerve_graph *g, const nerve_node_data *node)
{
    if (node->attr.loss.reduction == NERVE_REDUCTION_SUM) return 0;
    return (double)g->nodes[node->input[0]].shape.dim[0];
}

/* The labels are read where they are: data-parallel training needs a
 * host-memory backend (docs/distributed.md). */
double loss_label_weight_divisor(const nerve_graph *g, const nerve_node_data *node)
{
    if (node->attr.loss.reduction == NERVE_REDUCTION_SUM || !node->constants)
        return loss_divisor(g, node);
    /* The labels and the class weights are in the device's memory: read
     * through host views (no copy on a host-memory device). NaN if they
     * cannot be read, which the caller's finiteness checks report. */
    nerve_graph *graph = (nerve_graph *)g;
    const nerve_node label_node = node->input[1];
    int64_t count = nerve_shape_numel(&g->nodes[label_node].shape), classes = node->constant_count;
    nerve_error err = {0};
    nerve_real *labels = nerve_node_host_view(graph, label_node, true, &err);
    nerve_real *weights =
        labels ? nerve_graph_host_view(graph, node->constants, classes, true, &err) : NULL;
    double total = NAN;
    if (weights) {
        total = 0;
        for (int64_t i = 0; i < count; i++) {
            int64_t k = (int64_t)labels[i];
            if (k >= 0 && k < classes) total += weights[k];
        }
        nerve_graph_host_view_end(graph, node->constants, weights, classes, false, &err);
    }
    if (labels) nerve_node_host_view_end(graph, label_node, labels, false, &err);
    return total;
}

int64_t loss_flops_per_column(const nerve_graph *g, const nerve_node_data *node,
                              int64_t per_element)
{
    return per_element * nerve_shape_cols(&g->nodes[node->input[0]].shape);
}
