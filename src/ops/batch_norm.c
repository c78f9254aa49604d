/* Batch normalisation (Ioffe & Szegedy 2015), as torch.nn.functional.batch_norm
 * and the BatchNorm1d/2d modules that call it: statistics per channel (dim
 * 1), over the batch and every position. Inputs: x, then the optional
 * weight, bias, running_mean, running_var and num_batches_tracked, in that
 * order, at the slots attr.batch_norm names.
 *
 * aux holds the mean and variance the forward normalised with when they were
 * the batch's, and the host field forward_flag says so: backward then
 * differentiates through them (training) or treats them as constants (the
 * running statistics of eval mode), whatever the mode is by the time backward
 * runs. With a communicator (nerve_graph_set_comm) training statistics are the
 * global batch's (src/dist/sync_batch_norm.c), summed on the host, and
 * forward_synchronised is set. */
#include <math.h>

#include "core/graph_internal.h"
#include "dist/sync_batch_norm.h"
#include "ops/batch_norm.h"

static const nerve_node_data *optional_input(nerve_graph *g, const nerve_node_data *node, int slot)
{
    return slot ? nerve_node_input(g, node, slot) : NULL;
}

static nerve_real *optional_value(nerve_graph *g, const nerve_node_data *node, int slot)
{
    return slot ? nerve_node_input(g, node, slot)->value : NULL;
}

/* A per-channel input must be [C]; num_batches_tracked a single value. */
static nerve_status check_channel_input(nerve_graph *g, const nerve_node_data *node, int slot,
                                        const char *what, int64_t channels, nerve_error *err)
{
    const nerve_node_data *p = optional_input(g, node, slot);
    if (!p) return NERVE_OK;
    bool fits = p->shape.ndim == 1 && p->shape.dim[0] == channels;
    if (fits) return NERVE_OK;
    char ps[64];
    return nerve_error_set(err, NERVE_ERR_SHAPE, "batch_norm '%s': %s is %s, expected [%lld]",
                           node->name, what, nerve_shape_format(&p->shape, ps, sizeof ps),
                           (long long)channels);
}

static nerve_status batch_norm_infer_shape(nerve_graph *g, nerve_node_data *node,
                                           nerve_error *err)
{
    const nerve_node_data *x = nerve_node_input(g, node, 0);
    char xs[64];
    if (x->shape.ndim < 2)
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "batch_norm '%s': input %s has no channel dimension (dim 1)",
                               node->name, nerve_shape_format(&x->shape, xs, sizeof xs));
    int64_t channels = x->shape.dim[1];
    const nerve_batch_norm_attr *a = &node->attr.batch_norm;
    nerve_status st = check_channel_input(g, node, a->weight, "weight", channels, err);
    if (!st) st = check_channel_input(g, node, a->bias, "bias", channels, err);
    if (!st) st = check_channel_input(g, node, a->running_mean, "running_mean", channels, err);
    if (!st) st = check_channel_input(g, node, a->running_var, "running_var", channels, err);
    const nerve_node_data *counter = optional_input(g, node, a->num_batches_tracked);
    if (!st && counter && nerve_shape_numel(&counter->shape) != 1)
        st = nerve_error_set(err, NERVE_ERR_SHAPE,
                             "batch_norm '%s': num_batches_tracked must hold one value",
                             node->name);
    if (st) return st;
    node->shape = x->shape;
    node->aux_size = 2 * channels; /* mean, variance */
    return NERVE_OK;
}

/* x as [outer, channels, inner]. */
static void channel_view(const nerve_node_data *node, int64_t *outer, int64_t *channels,
                         int64_t *inner)
{
    *outer = node->shape.dim[0];
    *channels = node->shape.dim[1];
    *inner = nerve_shape_cols(&node->shape) / *channels;
}

static nerve_status batch_norm_forward(nerve_graph *g, nerve_node_data *node)
{
    node->grad_from_relu = false; /* set by the next backward's ReLU, if any */
    if (node->forward_folded) return NERVE_OK; /* the convolution before applied it */
    const nerve_batch_norm_attr *a = &node->attr.batch_norm;
    const nerve_node_data *x = nerve_node_input(g, node, 0);
    int64_t outer, channels, inner;
    channel_view(node, &outer, &channels, &inner);
    nerve_real *running_mean = optional_value(g, node, a->running_mean);
    nerve_real *running_var = optional_value(g, node, a->running_var);
    const nerve_real *mean = running_mean, *var = running_var;
    /* Only a training forward moves the running statistics, so evaluation
     * and prediction (eval mode) leave them as training left them. */
    bool batch_statistics = nerve_graph_training(g) || !running_mean;
    bool synchronised = g->sync && nerve_graph_training(g);
    if (synchronised) {
        /* The synchronised statistics are summed by the host (src/dist). */
        if (!g->device->host_memory)
            return nerve_error_set(&g->error, NERVE_ERR_INVALID,
                                   "synchronised batch norm needs a backend with host memory");
        nerve_sync_batch_norm_statistics(g, node, x->value, node->aux, node->aux + channels,
                                         outer, channels, inner);
        mean = node->aux;
        var = node->aux + channels;
    } else if (batch_statistics) {
        bool update = nerve_graph_training(g) && running_mean;
        NERVE_TRY(NERVE_RUN(g, batch_norm_statistics, x->value, node->aux, node->aux + channels,
                            a->momentum, update ? running_mean : NULL, running_var,
                            optional_value(g, node, a->num_batches_tracked), outer, channels,
                            inner));
        mean = node->aux;
        var = node->aux + channels;
    }
    node->forward_flag = batch_statistics;
    node->forward_synchronised = synchronised;
    nerve_node_data *relu = nerve_fold_take(g, node); /* the ReLU folded into it */
    if (relu)
        return NERVE_RUN(g, batch_norm_relu_forward, x->value, mean, var, a->eps,
                         optional_value(g, node, a->weight), optional_value(g, node, a->bias),
                         relu->value, outer, channels, inner);
    NERVE_TRY(NERVE_RUN(g, batch_norm_forward, x->value, mean, var, a->eps,
                        optional_value(g, node, a->weight), optional_value(g, node, a->bias),
                        node->value, outer, channels, inner));
    return NERVE_OK;
}

static nerve_real *gradient_of(nerve_graph *g, const nerve_node_data *node, int slot)
{
    nerve_node_data *p = nerve_node_input(g, node, slot);
    return p->needs_grad ? p->grad : NULL;
}

/* The kernels only add into weight's and bias's gradients (a parameter's
 * always accumulates): zeroed before their first contribution. */
static nerve_status prepare_parameter_grads(nerve_graph *g, const nerve_node_data *node)
{
    for (int slot = 1; slot < node->input_count; slot++) {
        const nerve_node_data *p = nerve_node_input(g, node, slot);
        if (p->needs_grad) NERVE_TRY(nerve_graph_grad_prepare_add(g, p));
    }
    return NERVE_OK;
}

static nerve_status batch_norm_backward(nerve_graph *g, nerve_node_data *node)
{
    if (node->forward_folded) return NERVE_OK; /* the convolution's backward runs it */
    const nerve_batch_norm_attr *a = &node->attr.batch_norm;
    const nerve_node_data *x = nerve_node_input(g, node, 0);
    int64_t outer, channels, inner;
    channel_view(node, &outer, &channels, &inner);
    bool batch_statistics = node->forward_flag;
    const nerve_real *mean = node->aux, *var = node->aux + channels;
    if (!batch_statistics) {
        mean = optional_value(g, node, a->running_mean);
        var = optional_value(g, node, a->running_var);
    }
    NERVE_TRY(prepare_parameter_grads(g, node));
    /* x's first contribution is assigned */
    bool accumulate = !x->needs_grad || nerve_graph_grad_accumulate(g, x);
    if (node->forward_synchronised) {
        if (!accumulate) NERVE_TRY(nerve_graph_zero(g, x->grad, nerve_shape_numel(&x->shape)));
        nerve_sync_batch_norm_backward(g, node, x->value, node->grad, mean, var,
                                       optional_value(g, node, a->weight), gradient_of(g, node, 0),
                                       a->weight ? gradient_of(g, node, a->weight) : NULL,
                                       a->bias ? gradient_of(g, node, a->bias) : NULL, outer,
                                       channels, inner);
        return NERVE_OK;
    }
    if (node->grad_from_relu) { /* core/fold.c */
        node->grad_from_relu = false;
        nerve_node_data *relu = &g->nodes[node->fold_consumer - 1];
        return NERVE_RUN(g, batch_norm_relu_backward, x->value, relu->value, relu->grad, mean, var,
                         a->eps, optional_value(g, node, a->weight), batch_statistics,
                         accumulate, gradient_of(g, node, 0),
                         a->weight ? gradient_of(g, node, a->weight) : NULL,
                         a->bias ? gradient_of(g, node, a->bias) : NULL, outer, channels, inner);
    }
    NERVE_TRY(NERVE_RUN(g, batch_norm_backward, x->value, node->grad, mean, var, a->eps,
                        optional_value(g, node, a->weight), batch_statistics, accumulate,
                        gradient_of(g, node, 0), a->weight ? gradient_of(g, node, a->weight) : NULL,
                        a->bias ? gradient_of(g, node, a->bias) : NULL, outer, channels, inner));
    return NERVE_OK;
}

bool nerve_batch_norm_training_pass(nerve_graph *g, nerve_node_data *bn,
                                    nerve_batch_norm_pass *pass)
{
    const nerve_batch_norm_attr *a = &bn->attr.batch_norm;
    nerve_real *running_mean = optional_value(g, bn, a->running_mean);
    bool training = nerve_graph_training(g);
    if (!g->needed[bn - g->nodes] || !(training || !running_mean) || (g->sync && training))
        return false;
    int64_t channels = bn->shape.dim[1];
    *pass = (nerve_batch_norm_pass){
        .mean = bn->aux, .var = bn->aux + channels, .momentum = a->momentum, .eps = a->eps,
        .running_mean = training ? running_mean : NULL,
        .running_var = optional_value(g, bn, a->running_var),
        .counter = optional_value(g, bn, a->num_batches_tracked),
        .weight = optional_value(g, bn, a->weight), .bias = optional_value(g, bn, a->bias),
        .y = bn->value};
    nerve_node_data *relu = nerve_fold_take(g, bn); /* the ReLU folded into it */
    if (relu) pass->relu = true, pass->y = relu->value;
    bn->forward_flag = true;
    bn->forward_synchronised = false;
    return true;
}

nerve_status nerve_batch_norm_backward_pass(nerve_graph *g, nerve_node_data *bn,
                                            nerve_batch_norm_pass *pass)
{
    const nerve_batch_norm_attr *a = &bn->attr.batch_norm;
    int64_t channels = bn->shape.dim[1];
    NERVE_TRY(prepare_parameter_grads(g, bn));
    *pass = (nerve_batch_norm_pass){
        .mean = bn->aux, .var = bn->aux + channels, .eps = a->eps,
        .weight = optional_value(g, bn, a->weight), .y = bn->value, .dy = bn->grad,
        .dweight = a->weight ? gradient_of(g, bn, a->weight) : NULL,
        .dbias = a->bias ? gradient_of(g, bn, a->bias) : NULL};
    if (bn->grad_from_relu) { /* core/fold.c */
        const nerve_node_data *relu = &g->nodes[bn->fold_consumer - 1];
        pass->relu = true;
        pass->y = relu->value;
        pass->dy = relu->grad;
        bn->grad_from_relu = false;
    }
    return NERVE_OK;
}

bool nerve_batch_norm_foldable(const nerve_graph *g, const nerve_node_data *bn)
{
    return !nerve_graph_training(g) && bn->attr.batch_norm.running_mean;
}

/* The batch norm's own kernel computes both: the weight as [1, channels,
 * per_channel] normalised with mean 0 and no bias gives weight * s, and the
 * bias (or zeros) as [1, channels, 1] the rest. */
nerve_status nerve_batch_norm_fold(nerve_graph *g, const nerve_node_data *bn,
                                   const nerve_real *weight, const nerve_real *bias,
                                   int64_t channels, int64_t per_channel,
                                   nerve_real *folded_weight, nerve_real *folded_bias,
                                   nerve_real *zeros)
{
    const nerve_batch_norm_attr *a = &bn->attr.batch_norm;
    const nerve_real *gamma = optional_value(g, bn, a->weight);
    const nerve_real *var = optional_value(g, bn, a->running_var);
    NERVE_TRY(nerve_graph_zero(g, zeros, channels));
    NERVE_TRY(NERVE_RUN(g, batch_norm_forward, weight, zeros, var, a->eps, gamma, NULL,
                        folded_weight, 1, channels, per_channel));
    return NERVE_RUN(g, batch_norm_forward, bias ? bias : zeros,
                     optional_value(g, bn, a->running_mean), var, a->eps, gamma,
                     optional_value(g, bn, a->bias), folded_bias, 1, channels, 1);
}

/* Per element: subtract, multiply, add; the statistics add about as much
 * again in training. */
static int64_t batch_norm_flops(const nerve_graph *g, const nerve_node_data *node)
{
    return 3 * nerve_shape_cols(&node->shape);
}

static const nerve_op nerve_batch_norm_op = {
    .name = "batch_norm",
    .infer_shape = batch_norm_infer_shape,
    .forward = batch_norm_forward,
    .backward = batch_norm_backward,
    .flops = batch_norm_flops,
    .batch_statistics = true,
    .assigns_grads = true,
    .forward_in_place = true,
    .folds_into_input = true,
    .absorbs_relu = true,
};

/* Appends n to inputs when present and returns its slot, 0 when absent. */
static int add_optional(int *inputs, int *count, nerve_node n)
{
    if (n < 0) return 0;
    inputs[*count] = n;
    return (*count)++;
}

nerve_node nerve_batch_norm(nerve_graph *g, nerve_node x, nerve_node weight, nerve_node bias,
                            nerve_node running_mean, nerve_node running_var,
                            nerve_node num_batches_tracked, double eps, double momentum,
                            nerve_error *err)
{
    if (!(isfinite(eps) && eps > 0) || !(momentum >= 0 && momentum <= 1)) {
        nerve_error_set(err, NERVE_ERR_INVALID,
                        "batch_norm: need eps > 0 and momentum in [0, 1], got %g and %g", eps,
                        momentum);
        return -1;
    }
    if ((running_mean < 0) != (running_var < 0) || (num_batches_tracked >= 0 && running_mean < 0)) {
        nerve_error_set(err, NERVE_ERR_INVALID,
                        "batch_norm: running_mean and running_var come together, and "
                        "num_batches_tracked only with them");
        return -1;
    }
    int inputs[NERVE_MAX_INPUTS] = {x}, count = 1;
    nerve_node_data proto = {0};
    proto.attr.batch_norm.eps = eps;
    proto.attr.batch_norm.momentum = momentum;
    proto.attr.batch_norm.weight = add_optional(inputs, &count, weight);
    proto.attr.batch_norm.bias = add_optional(inputs, &count, bias);
    proto.attr.batch_norm.running_mean = add_optional(inputs, &count, running_mean);
    proto.attr.batch_norm.running_var = add_optional(inputs, &count, running_var);
    proto.attr.batch_norm.num_batches_tracked = add_optional(inputs, &count, num_batches_tracked);
    return nerve_graph_add_op(g, &nerve_batch_norm_op, inputs, count, &proto, err);
}
