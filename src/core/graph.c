/* Graph construction, the memory plan, and execution (forward and
 * reverse-mode autodiff). Nodes are appended in topological order, since an
 * op can only name nodes that already exist; execution is a walk over them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/registry.h"
#include "core/graph_internal.h"
#include "core/plan.h"
#include "dist/sync_batch_norm.h"

/* Runs g on device: its kernels, composites completed, and its context. */
static void use_device(nerve_graph *g, const nerve_device *device)
{
    g->device = device;
    nerve_kernels_complete(device, &g->kernels);
    g->ctx = (nerve_kernel_ctx){.device = device, .kernels = &g->kernels, .err = &g->error};
}

nerve_graph *nerve_graph_new(void)
{
    nerve_graph *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    /* NERVE_BACKEND picks the default; an unknown name, or a device that
     * cannot run here (cuda without a GPU), is reported when the graph is
     * planned or its model loaded (nerve_graph_new cannot fail with a
     * message), unless nerve_graph_set_backend chose one meanwhile. */
    const char *name = getenv("NERVE_BACKEND");
    const nerve_device *device = nerve_device_cpu();
    /* the lookup opens a GPU ("cuda:1": GPU 1), or fails where none is */
    if (name && *name && nerve_device_lookup(name, "NERVE_BACKEND", &device, NULL) != NERVE_OK) {
        snprintf(g->unknown_backend, sizeof g->unknown_backend, "%s", name);
        device = nerve_device_cpu();
    }
    use_device(g, device);
    g->batch = 1;
    g->training = true;
    return g;
}

void nerve_graph_free(nerve_graph *g)
{
    if (!g) return;
    for (int i = 0; i < g->node_count; i++)
        if (g->nodes[i].constants) g->device->release(&g->ctx, g->nodes[i].constants);
    free(g->nodes);
    free(g->needed);
    void *device_buffers[] = {g->params, g->param_grads, g->trainable, g->arena};
    for (size_t k = 0; k < sizeof device_buffers / sizeof device_buffers[0]; k++)
        if (device_buffers[k]) g->device->release(&g->ctx, device_buffers[k]);
    nerve_graph_sync_free(g->sync);
    free(g);
}

nerve_status nerve_graph_set_backend(nerve_graph *g, const char *name, nerve_error *err)
{
    /* A node's memory (parameters, constants, then the arena) belongs to
     * the device it was allocated on. */
    if (g->node_count > 0)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "backend '%s': the graph already has nodes on '%s' (choose the "
                               "backend before adding any)",
                               name, g->device->name);
    const nerve_device *device;
    nerve_status st = nerve_device_lookup(name, "backend", &device, err);
    if (st != NERVE_OK) return st;
    use_device(g, device);
    g->unknown_backend[0] = '\0';
    return NERVE_OK;
}

const char *nerve_graph_backend(const nerve_graph *g) { return g->device->name; }

nerve_status nerve_graph_check_backend(const nerve_graph *g, nerve_error *err)
{
    const nerve_device *device;
    if (!g->unknown_backend[0]) return NERVE_OK;
    return nerve_device_lookup(g->unknown_backend, "NERVE_BACKEND", &device, err);
}

nerve_status nerve_graph_zero(nerve_graph *g, nerve_real *x, int64_t n)
{
    return g->device->set(&g->ctx, x, 0, (size_t)n * sizeof *x);
}

nerve_status nerve_graph_copy(nerve_graph *g, nerve_real *dst, const nerve_real *src, int64_t n)
{
    return g->device->copy(&g->ctx, dst, src, (size_t)n * sizeof *dst);
}

nerve_status nerve_graph_fill(nerve_graph *g, nerve_real *x, int64_t n, nerve_real value)
{
    if (n < 1) return NERVE_OK;
    NERVE_TRY(nerve_graph_upload(g, x, &value, 1));
    return n > 1 ? NERVE_RUN(g, copy_block, n - 1, 1, x, 0, x + 1, 1) : NERVE_OK;
}

nerve_status nerve_graph_download(nerve_graph *g, nerve_real *host, const nerve_real *device,
                                  int64_t n)
{
    return g->device->download(&g->ctx, host, device, (size_t)n * sizeof *host);
}

nerve_status nerve_graph_upload(nerve_graph *g, nerve_real *device, const nerve_real *host,
                                int64_t n)
{
    return g->device->upload(&g->ctx, device, host, (size_t)n * sizeof *host);
}

nerve_status nerve_graph_gradients_finite(nerve_graph *g, bool *finite, nerve_error *err)
{
    nerve_status st =
        NERVE_RUN(g, all_finite, g->param_grads, g->trainable, (int64_t)g->param_count, finite);
    return nerve_graph_pass_error(g, st, err);
}

nerve_status nerve_graph_pass_error(const nerve_graph *g, nerve_status status, nerve_error *err)
{
    if (status != NERVE_OK) nerve_error_set(err, status, "%s", g->error.message);
    return status;
}

static bool valid_node(const nerve_graph *g, int n) { return n >= 0 && n < g->node_count; }
static void propagate_needs_grad(nerve_graph *g);

static nerve_status check_new_name(const nerve_graph *g, const char *name, nerve_error *err)
{
    if (nerve_graph_find(g, name) >= 0)
        return nerve_error_set(err, NERVE_ERR_INVALID, "duplicate node name '%s'", name);
    if (strlen(name) >= NERVE_NAME_MAX)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "node name '%.40s...' longer than %d characters", name,
                               NERVE_NAME_MAX - 1);
    return NERVE_OK;
}

nerve_status nerve_graph_rename(nerve_graph *g, nerve_node n, const char *name, nerve_error *err)
{
    if (!valid_node(g, n))
        return nerve_error_set(err, NERVE_ERR_INVALID, "rename: no node %d", n);
    nerve_status st = check_new_name(g, name, err);
    if (st == NERVE_OK) strcpy(g->nodes[n].name, name);
    return st;
}

static nerve_node_data *append_node(nerve_graph *g, nerve_node_kind kind, const char *name,
                                    nerve_error *err)
{
    if (name && name[0] && check_new_name(g, name, err) != NERVE_OK) return NULL;
    if (g->node_count == g->node_capacity) {
        int cap = g->node_capacity ? 2 * g->node_capacity : 32;
        nerve_node_data *nodes = realloc(g->nodes, (size_t)cap * sizeof *nodes);
        unsigned char *needed = realloc(g->needed, (size_t)cap);
        if (nodes) g->nodes = nodes;
        if (needed) g->needed = needed;
        if (!nodes || !needed) {
            nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory adding a graph node");
            return NULL;
        }
        g->node_capacity = cap;
    }
    nerve_node_data *n = &g->nodes[g->node_count];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    for (int k = 0; k < NERVE_MAX_INPUTS; k++) n->input[k] = -1;
    if (name && name[0])
        strcpy(n->name, name);
    else
        snprintf(n->name, sizeof n->name, "node%d", g->node_count);
    g->node_count++;
    return n;
}

nerve_node nerve_input(nerve_graph *g, const char *name, nerve_shape sample_shape, nerve_error *err)
{
    if (sample_shape.ndim < 0 || sample_shape.ndim >= NERVE_MAX_DIMS ||
        nerve_shape_numel(&sample_shape) < 0) {
        nerve_error_set(err, NERVE_ERR_SHAPE, "input '%s': a sample has at most %d dimensions",
                        name ? name : "", NERVE_MAX_DIMS - 1);
        return -1;
    }
    if (g->arena) {
        nerve_error_set(err, NERVE_ERR_INVALID, "input '%s': the graph is already planned",
                        name ? name : "");
        return -1;
    }
    nerve_node_data *n = append_node(g, NERVE_NODE_INPUT, name, err);
    if (!n) return -1;
    n->sample_shape = sample_shape;
    n->batched = true;
    n->shape.ndim = sample_shape.ndim + 1;
    n->shape.dim[0] = g->batch;
    for (int i = 0; i < sample_shape.ndim; i++) n->shape.dim[i + 1] = sample_shape.dim[i];
    return g->node_count - 1;
}

nerve_status nerve_graph_set_input_grad(nerve_graph *g, nerve_node input, bool takes_grad,
                                        nerve_error *err)
{
    if (!valid_node(g, input) || g->nodes[input].kind != NERVE_NODE_INPUT)
        return nerve_error_set(err, NERVE_ERR_INVALID, "set_input_grad: node %d is not an input",
                               input);
    if (g->arena)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "set_input_grad '%s': the graph is already planned",
                               g->nodes[input].name);
    g->nodes[input].takes_grad = takes_grad;
    propagate_needs_grad(g);
    return NERVE_OK;
}

/* Parameters live in one flat buffer that grows as they are declared; node
 * pointers into it are refreshed after each growth. */
static void refresh_param_pointers(nerve_graph *g)
{
    for (int i = 0; i < g->node_count; i++) {
        nerve_node_data *n = &g->nodes[i];
        if (n->kind != NERVE_NODE_PARAM) continue;
        n->value = g->params + n->param_offset;
        n->grad = g->param_grads + n->param_offset;
    }
}

/* *buffer, `kept` bytes of it, moved into a new device buffer of `bytes`
 * whose rest is `fill`. */
static bool grow_buffer(nerve_graph *g, void **buffer, size_t kept, size_t bytes, int fill)
{
    void *grown;
    if (g->device->allocate(&g->ctx, bytes, &grown) != NERVE_OK) return false;
    if ((kept && g->device->copy(&g->ctx, grown, *buffer, kept) != NERVE_OK) ||
        g->device->set(&g->ctx, (char *)grown + kept, fill, bytes - kept) != NERVE_OK) {
        g->device->release(&g->ctx, grown);
        return false;
    }
    if (*buffer) g->device->release(&g->ctx, *buffer);
    *buffer = grown;
    return true;
}

/* The flat buffers (values 0, gradients 0, trainable 1 for the new ones)
 * come from the device, and grow by a copy: parameters are declared while a
 * graph is built, never while it runs. */
static bool grow_params(nerve_graph *g, size_t count)
{
    size_t old = g->param_count, total = old + count;
    return grow_buffer(g, (void **)&g->params, old * sizeof *g->params,
                       total * sizeof *g->params, 0) &&
           grow_buffer(g, (void **)&g->param_grads, old * sizeof *g->param_grads,
                       total * sizeof *g->param_grads, 0) &&
           grow_buffer(g, (void **)&g->trainable, old, total, 1);
}

/* A graph's parameters, all together, must fit under this: far beyond any
 * network trained on a CPU, and a cfg whose sizes ask for more is refused
 * before anything is allocated, not left to the allocator (which may
 * overcommit and fail at first touch). */
static int64_t param_limit = NERVE_PARAM_LIMIT;

void nerve_graph_set_param_limit(int64_t limit)
{
    param_limit = limit > 0 ? limit : NERVE_PARAM_LIMIT;
}

nerve_node nerve_param(nerve_graph *g, const char *name, nerve_shape shape, nerve_error *err)
{
    int64_t numel = nerve_shape_numel(&shape);
    char dims[128];
    if (numel < 0) {
        nerve_error_set(err, NERVE_ERR_SHAPE, "parameter '%s': shape %s overflows an element count",
                        name ? name : "", nerve_shape_format(&shape, dims, sizeof dims));
        return -1;
    }
    if (numel > param_limit - (int64_t)g->param_count) {
        nerve_error_set(err, NERVE_ERR_SHAPE,
                        "parameter '%s': shape %s (%lld elements) would take the network past "
                        "the limit of %lld parameters",
                        name ? name : "", nerve_shape_format(&shape, dims, sizeof dims),
                        (long long)numel, (long long)param_limit);
        return -1;
    }
    nerve_node_data *n = append_node(g, NERVE_NODE_PARAM, name, err);
    if (!n) return -1;
    if (!grow_params(g, (size_t)numel)) {
        g->node_count--;
        nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory for parameter '%s'", name);
        return -1;
    }
    n = &g->nodes[g->node_count - 1];
    n->shape = shape;
    n->sample_shape = shape;
    n->needs_grad = true;
    n->param_offset = g->param_count;
    g->param_count += (size_t)numel;
    refresh_param_pointers(g);
    return g->node_count - 1;
}

nerve_node nerve_buffer(nerve_graph *g, const char *name, nerve_shape shape, nerve_error *err)
{
    nerve_node n = nerve_param(g, name, shape, err);
    if (n < 0) return -1;
    nerve_node_set_frozen(g, n, true);
    g->nodes[n].buffer = true;
    return n;
}

nerve_node nerve_integer_buffer(nerve_graph *g, const char *name, nerve_shape shape,
                                nerve_error *err)
{
    nerve_node n = nerve_buffer(g, name, shape, err);
    if (n >= 0) g->nodes[n].integer = true;
    return n;
}

/* A node needs a gradient when some trainable parameter or gradient-taking
 * input feeds it. */
static void propagate_needs_grad(nerve_graph *g)
{
    for (int i = 0; i < g->node_count; i++) {
        nerve_node_data *n = &g->nodes[i];
        if (n->kind == NERVE_NODE_INPUT) {
            n->needs_grad = n->takes_grad;
        } else if (n->kind == NERVE_NODE_PARAM) {
            n->needs_grad = !n->frozen;
        } else {
            n->needs_grad = false;
            for (int k = 0; k < n->input_count; k++)
                n->needs_grad |= g->nodes[n->input[k]].needs_grad;
        }
    }
}

nerve_node nerve_graph_add_op(nerve_graph *g, const nerve_op *op, const int *inputs,
                              int input_count, const nerve_node_data *proto, nerve_error *err)
{
    if (g->arena) {
        nerve_error_set(err, NERVE_ERR_INVALID, "%s: the graph is already planned", op->name);
        return -1;
    }
    for (int k = 0; k < input_count; k++) {
        if (!valid_node(g, inputs[k])) {
            nerve_error_set(err, NERVE_ERR_INVALID, "%s: input %d is not a node of this graph",
                            op->name, k);
            return -1;
        }
    }
    nerve_node_data *n = append_node(g, NERVE_NODE_OP, proto ? proto->name : NULL, err);
    if (!n) return -1;
    if (proto) n->attr = proto->attr;
    n->op = op;
    n->input_count = input_count;
    for (int k = 0; k < input_count; k++) {
        n->input[k] = inputs[k];
        n->batched |= g->nodes[inputs[k]].batched;
        n->needs_grad |= g->nodes[inputs[k]].needs_grad;
    }
    nerve_status st = op->infer_shape(g, n, err);
    if (st == NERVE_OK && nerve_shape_numel(&n->shape) < 0)
        st = nerve_error_set(err, NERVE_ERR_SHAPE, "%s '%s': invalid output shape", op->name,
                             n->name);
    if (st != NERVE_OK) {
        g->node_count--;
        return -1;
    }
    return g->node_count - 1;
}

nerve_status nerve_graph_name_op(nerve_node_data *proto, const char *op, const char *name,
                                 nerve_error *err)
{
    if (!name) return NERVE_OK;
    if (strlen(name) >= sizeof proto->name)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "%s: name '%.40s...' longer than %d characters", op, name,
                               (int)sizeof proto->name - 1);
    strcpy(proto->name, name);
    return NERVE_OK;
}

nerve_status nerve_graph_set_constants(nerve_graph *g, nerve_node n, const float *values,
                                       int64_t count, nerve_error *err)
{
    if (!valid_node(g, n) || count < 1)
        return nerve_error_set(err, NERVE_ERR_INVALID, "constants: bad node or count");
    /* Converted on the host, then uploaded: the kernels read them. */
    nerve_real *host = malloc((size_t)count * sizeof *host);
    if (!host) return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory for constants");
    for (int64_t i = 0; i < count; i++) host[i] = values[i];
    void *copy = NULL;
    nerve_status st = g->device->allocate(&g->ctx, (size_t)count * sizeof *host, &copy);
    if (st == NERVE_OK) st = nerve_graph_upload(g, copy, host, count);
    free(host);
    if (st != NERVE_OK) {
        if (copy) g->device->release(&g->ctx, copy);
        return nerve_graph_pass_error(g, st, err);
    }
    if (g->nodes[n].constants) g->device->release(&g->ctx, g->nodes[n].constants);
    g->nodes[n].constants = copy;
    g->nodes[n].constant_count = count;
    return NERVE_OK;
}

/* Recomputes every shape for batch n; allocates nothing. */
static nerve_status infer_shapes(nerve_graph *g, int64_t batch, nerve_error *err)
{
    g->batch = batch;
    for (int i = 0; i < g->node_count; i++) {
        nerve_node_data *n = &g->nodes[i];
        if (n->kind == NERVE_NODE_INPUT) {
            n->shape.dim[0] = batch;
        } else if (n->kind == NERVE_NODE_OP) {
            nerve_status st = n->op->infer_shape(g, n, err);
            if (st != NERVE_OK) return st;
        }
    }
    return NERVE_OK;
}

/* Lays out and allocates the arena for max_batch samples: a training plan
 * (values, gradients, op state) or a forward-only one (core/plan.c). The
 * old arena is released first, so that a larger plan does not hold both at
 * once; on failure the graph is left unplanned. */
static nerve_status plan_arena(nerve_graph *g, int64_t max_batch, bool training, nerve_error *err)
{
    if (max_batch < 1)
        return nerve_error_set(err, NERVE_ERR_INVALID, "batch must be at least 1, got %lld",
                               (long long)max_batch);
    nerve_status backend_status = nerve_graph_check_backend(g, err);
    if (backend_status != NERVE_OK) return backend_status;
    nerve_status st = infer_shapes(g, max_batch, err);
    if (st != NERVE_OK) return st;
    propagate_needs_grad(g);

    int64_t workspace = 0;
    for (int i = 0; i < g->node_count; i++) {
        nerve_node_data *n = &g->nodes[i];
        if (n->kind == NERVE_NODE_PARAM) continue;
        if (n->kind == NERVE_NODE_OP && n->workspace_size > workspace) workspace = n->workspace_size;
        int64_t numel = nerve_shape_numel(&n->shape);
        if (numel < 0 || (uint64_t)numel > ((uint64_t)1 << 40))
            return nerve_error_set(err, NERVE_ERR_NOMEM, "node '%s': activation too large",
                                   n->name);
        n->capacity = numel;
    }
    g->workspace_size = workspace;
    nerve_plan_layout layout;
    st = nerve_plan_compute(g, training, &layout, err);
    if (st != NERVE_OK) return st;
    if (g->arena) g->device->release(&g->ctx, g->arena);
    g->arena = NULL;
    g->max_batch = 0;
    size_t total = layout.total + 1; /* never a zero-sized arena */
    void *memory = NULL;
    if (g->device->allocate(&g->ctx, total * sizeof(nerve_real), &memory) != NERVE_OK) {
        nerve_plan_layout_free(&layout);
        return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory planning %zu activation bytes",
                               total * sizeof(nerve_real));
    }
    nerve_real *arena = memory;
    /* Zeroed now, once: a fresh graph starts from zero state, and on the
     * host no training step pays for first touch. */
    nerve_status st_set = g->device->set(&g->ctx, arena, 0, total * sizeof *arena);
    if (st_set != NERVE_OK) {
        g->device->release(&g->ctx, arena);
        nerve_plan_layout_free(&layout);
        return nerve_graph_pass_error(g, st_set, err);
    }
    g->arena = arena;
    g->arena_size = total;
    g->max_batch = max_batch;
    g->plan_training = training;
    g->workspace = arena + layout.workspace;
    for (int i = 0; i < g->node_count; i++) {
        nerve_node_data *n = &g->nodes[i];
        if (n->kind == NERVE_NODE_PARAM) continue;
        if (n->kind == NERVE_NODE_OP && n->op->aliases_input) continue;
        n->value = arena + layout.value[i];
        bool has_grad = training && (n->kind == NERVE_NODE_OP || n->takes_grad);
        n->grad = has_grad ? arena + layout.grad[i] : NULL;
        if (n->kind == NERVE_NODE_OP) n->aux = arena + layout.aux[i];
    }
    /* Aliasing ops (flatten) take their source's memory, in node order. */
    for (int i = 0; i < g->node_count; i++) {
        nerve_node_data *n = &g->nodes[i];
        if (n->kind != NERVE_NODE_OP || !n->op->aliases_input) continue;
        const nerve_node_data *src = &g->nodes[n->input[0]];
        n->value = src->value;
        n->grad = src->grad;
    }
    nerve_plan_layout_free(&layout);
    nerve_graph_plan_folds(g);
    return NERVE_OK;
}

nerve_status nerve_graph_plan(nerve_graph *g, int64_t max_batch, nerve_error *err)
{
    if (g->arena && g->plan_training && max_batch >= 1 && max_batch <= g->max_batch)
        return nerve_graph_set_batch(g, max_batch, err);
    return plan_arena(g, max_batch, true, err);
}

nerve_status nerve_graph_plan_inference(nerve_graph *g, int64_t max_batch, nerve_error *err)
{
    if (g->arena && max_batch >= 1 && max_batch <= g->max_batch)
        return nerve_graph_set_batch(g, max_batch, err);
    return plan_arena(g, max_batch, false, err);
}

bool nerve_graph_planned_for_training(const nerve_graph *g) { return g->arena && g->plan_training; }

void nerve_graph_set_keep_gradients(nerve_graph *g, bool keep) { g->keep_gradients = keep; }

void nerve_graph_set_record_state_gradients(nerve_graph *g, bool record)
{
    if (g->record_state_gradients == record) return;
    g->record_state_gradients = record;
    /* Unplanned: nothing may point into the released arena. */
    if (g->arena) g->device->release(&g->ctx, g->arena);
    g->arena = NULL;
    g->workspace = NULL;
    g->max_batch = 0;
    g->plan_training = false;
    for (int i = 0; i < g->node_count; i++) {
        nerve_node_data *n = &g->nodes[i];
        if (n->kind != NERVE_NODE_PARAM) n->value = n->grad = n->aux = NULL;
    }
}

nerve_status nerve_graph_plan_bytes(nerve_graph *g, int64_t max_batch, bool training,
                                    size_t *bytes, nerve_error *err)
{
    *bytes = 0;
    if (max_batch < 1)
        return nerve_error_set(err, NERVE_ERR_INVALID, "batch must be at least 1, got %lld",
                               (long long)max_batch);
    int64_t batch = g->batch;
    nerve_status st = infer_shapes(g, max_batch, err);
    if (st == NERVE_OK) {
        int64_t workspace = 0;
        for (int i = 0; i < g->node_count; i++) {
            nerve_node_data *n = &g->nodes[i];
            if (n->kind == NERVE_NODE_PARAM) continue;
            if (n->kind == NERVE_NODE_OP && n->workspace_size > workspace)
                workspace = n->workspace_size;
            n->capacity = nerve_shape_numel(&n->shape);
        }
        int64_t planned_workspace = g->workspace_size;
        g->workspace_size = workspace;
        nerve_plan_layout layout;
        st = nerve_plan_compute(g, training, &layout, err);
        g->workspace_size = planned_workspace;
        if (st == NERVE_OK) {
            *bytes = (layout.total + 1) * sizeof(nerve_real);
            nerve_plan_layout_free(&layout);
        }
    }
    /* Back to the planned capacities and the current batch's shapes. */
    nerve_error ignored;
    if (g->arena) {
        (void)infer_shapes(g, g->max_batch, &ignored);
        for (int i = 0; i < g->node_count; i++)
            if (g->nodes[i].kind != NERVE_NODE_PARAM)
                g->nodes[i].capacity = nerve_shape_numel(&g->nodes[i].shape);
        (void)infer_shapes(g, batch, &ignored);
    } else {
        g->batch = batch;
    }
    return st;
}

nerve_status nerve_graph_set_batch(nerve_graph *g, int64_t n, nerve_error *err)
{
    if (!g->arena)
        return nerve_error_set(err, NERVE_ERR_INVALID, "the graph is not planned yet");
    if (n < 1 || n > g->max_batch)
        return nerve_error_set(err, NERVE_ERR_INVALID, "batch %lld outside the planned 1..%lld",
                               (long long)n, (long long)g->max_batch);
    if (n == g->batch) return NERVE_OK;
    return infer_shapes(g, n, err);
}

int64_t nerve_graph_batch(const nerve_graph *g) { return g->batch; }
void nerve_graph_set_training(nerve_graph *g, bool training) { g->training = training; }

void nerve_graph_set_carry_state(nerve_graph *g, bool carry) { g->carry_state = carry; }
bool nerve_graph_carries_state(const nerve_graph *g) { return g->carry_state; }

void nerve_graph_reset_state(nerve_graph *g)
{
    for (int i = 0; i < g->node_count; i++) {
        nerve_node_data *node = &g->nodes[i];
        if (node->op && node->op->reset_state && node->aux) node->op->reset_state(g, node);
    }
}
bool nerve_graph_training(const nerve_graph *g) { return g->training; }
void nerve_graph_set_seed(nerve_graph *g, uint64_t seed) { g->noise_seed = seed; }

void nerve_graph_set_position(nerve_graph *g, int64_t step, int64_t first_sample)
{
    g->noise_step = step;
    g->noise_first_sample = first_sample;
}

/* Marks target and everything it depends on. */
void nerve_graph_mark_needed(nerve_graph *g, nerve_node target)
{
    memset(g->needed, 0, (size_t)g->node_count);
    g->needed[target] = 1;
    for (int i = target; i >= 0; i--) {
        if (!g->needed[i]) continue;
        const nerve_node_data *n = &g->nodes[i];
        for (int k = 0; k < n->input_count; k++) g->needed[n->input[k]] = 1;
    }
}

/* A failed op's status, its message prefixed with the op and the node. */
static nerve_status op_failed(nerve_graph *g, const nerve_node_data *n, const char *pass,
                              nerve_status status, nerve_error *err)
{
    return nerve_error_set(err, status, "%s '%s' (%s): %s", n->op->name, n->name, pass,
                           g->error.message);
}

nerve_status nerve_graph_forward(nerve_graph *g, nerve_node target, nerve_error *err)
{
    if (!valid_node(g, target)) target = g->node_count - 1;
    if (!g->arena)
        return nerve_error_set(err, NERVE_ERR_INVALID, "forward: the graph is not planned");
    nerve_graph_mark_needed(g, target);
    g->forward_target = target;
    for (int i = 0; i <= target; i++) {
        nerve_node_data *n = &g->nodes[i];
        if (n->kind != NERVE_NODE_OP || !g->needed[i]) continue;
        double start = nerve_profile_start(g);
        nerve_status st = nerve_profile_stop(g, n, 0, start, n->op->forward(g, n));
        if (st != NERVE_OK) return op_failed(g, n, "forward", st, err);
    }
    return NERVE_OK;
}

/* A forward-only plan has no gradients to run backward into. */
static nerve_status inference_plan(const nerve_graph *g, nerve_error *err)
{
    if (!g->arena || g->plan_training) return NERVE_OK;
    return nerve_error_set(err, NERVE_ERR_INVALID,
                           "backward: the graph is planned for inference only "
                           "(nerve_graph_plan_inference); plan it with nerve_graph_plan");
}

/* Zeroes the gradient memory of each input of op n that takes a gradient,
 * unless a run of this pass wrote it already: an op's gradient may share
 * memory with another's whose lifetime has ended (core/plan.c), so it is
 * zeroed when its first contribution is about to be added. needed[] marks
 * the written ones with 2. An op that assigns its first contribution
 * (assigns_grads) needs none of it. */
static nerve_status zero_input_grads(nerve_graph *g, const nerve_node_data *n)
{
    if (n->op->assigns_grads) return NERVE_OK;
    for (int k = 0; k < n->input_count; k++) {
        int owner = nerve_plan_owner(g, n->input[k]);
        nerve_node_data *in = &g->nodes[owner];
        if (in->kind == NERVE_NODE_PARAM || !in->needs_grad || !in->grad || g->needed[owner] == 2)
            continue;
        g->needed[owner] = 2;
        nerve_status st = nerve_graph_zero(g, in->grad, nerve_shape_numel(&in->shape));
        if (st != NERVE_OK) return st;
    }
    return NERVE_OK;
}

bool nerve_graph_grad_accumulate(nerve_graph *g, const nerve_node_data *input)
{
    int owner = nerve_plan_owner(g, (int)(input - g->nodes));
    if (g->nodes[owner].kind == NERVE_NODE_PARAM || g->needed[owner] == 2) return true;
    g->needed[owner] = 2;
    return false;
}

nerve_status nerve_graph_grad_prepare_add(nerve_graph *g, const nerve_node_data *input)
{
    if (nerve_graph_grad_accumulate(g, input)) return NERVE_OK;
    return nerve_graph_zero(g, input->grad, nerve_shape_numel(&input->shape));
}

/* Seeds node's gradient with upstream (all ones when NULL) and runs the ops
 * it depends on in reverse; each op adds into its inputs' gradients, each
 * zeroed just before the first op that adds into it runs, or assigned by
 * that op where it can (assigns_grads). */
static nerve_status backward_seeded(nerve_graph *g, nerve_node node, const nerve_real *upstream,
                                    nerve_error *err)
{
    nerve_node_data *l = &g->nodes[node];
    nerve_graph_mark_needed(g, node);
    g->needed[nerve_plan_owner(g, node)] = 2; /* the seed is its first write */
    int64_t m = nerve_shape_numel(&l->shape);
    nerve_status st;
    if (upstream)
        st = nerve_graph_upload(g, l->grad, upstream, m);
    else
        st = nerve_graph_fill(g, l->grad, m, 1);
    if (st != NERVE_OK) return nerve_graph_pass_error(g, st, err);
    for (int i = node; i >= 0; i--) {
        nerve_node_data *n = &g->nodes[i];
        if (n->kind == NERVE_NODE_OP && n->needs_grad && g->needed[i]) {
            double start = nerve_profile_start(g);
            st = zero_input_grads(g, n);
            if (st != NERVE_OK) return nerve_graph_pass_error(g, st, err);
            st = nerve_profile_stop(g, n, 1, start, n->op->backward(g, n));
            if (st != NERVE_OK) return op_failed(g, n, "backward", st, err);
        }
        if (g->backward_hook) g->backward_hook(g, i, g->backward_hook_user);
    }
    return NERVE_OK;
}

nerve_status nerve_graph_backward(nerve_graph *g, nerve_node loss, nerve_error *err)
{
    if (!valid_node(g, loss))
        return nerve_error_set(err, NERVE_ERR_INVALID, "backward: no node %d", loss);
    nerve_status st = inference_plan(g, err);
    if (st != NERVE_OK) return st;
    if (!g->nodes[loss].grad) return NERVE_OK; /* nothing trainable feeds it */
    return backward_seeded(g, loss, NULL, err);
}

nerve_status nerve_graph_backward_from(nerve_graph *g, nerve_node node, const nerve_real *upstream,
                                       nerve_error *err)
{
    if (!valid_node(g, node) || g->nodes[node].kind != NERVE_NODE_OP)
        return nerve_error_set(err, NERVE_ERR_INVALID, "backward_from: node %d is not an op",
                               node);
    nerve_status st = inference_plan(g, err);
    if (st != NERVE_OK) return st;
    if (!g->nodes[node].needs_grad || !g->nodes[node].grad)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "backward_from '%s': no trainable parameter or gradient-taking "
                               "input feeds it (or the graph is not planned)",
                               g->nodes[node].name);
    return backward_seeded(g, node, upstream, err);
}

void nerve_graph_zero_grad(nerve_graph *g)
{
    (void)nerve_graph_zero(g, g->param_grads, (int64_t)g->param_count);
}

int nerve_graph_node_count(const nerve_graph *g) { return g->node_count; }

nerve_node nerve_graph_find(const nerve_graph *g, const char *name)
{
    for (int i = 0; i < g->node_count; i++)
        if (strcmp(g->nodes[i].name, name) == 0) return i;
    return -1;
}

const char *nerve_node_name(const nerve_graph *g, nerve_node n)
{
    return valid_node(g, n) ? g->nodes[n].name : NULL;
}

const char *nerve_node_op_name(const nerve_graph *g, nerve_node n)
{
    if (!valid_node(g, n)) return NULL;
    const nerve_node_data *d = &g->nodes[n];
    return d->kind == NERVE_NODE_INPUT ? "input" : d->kind == NERVE_NODE_PARAM ? "param" : d->op->name;
}

nerve_shape nerve_node_shape(const nerve_graph *g, nerve_node n)
{
    nerve_shape none = {0};
    return valid_node(g, n) ? g->nodes[n].shape : none;
}

nerve_real *nerve_node_value(nerve_graph *g, nerve_node n)
{
    return valid_node(g, n) ? g->nodes[n].value : NULL;
}

/* Node n's value (its gradient where `gradient`) if count values of it can
 * be copied; NULL with err set otherwise. */
static nerve_real *copyable(nerve_graph *g, nerve_node n, int64_t count, bool gradient,
                            const char *what, nerve_error *err)
{
    if (!valid_node(g, n)) {
        nerve_error_set(err, NERVE_ERR_INVALID, "%s: no node %d", what, n);
        return NULL;
    }
    const nerve_node_data *d = &g->nodes[n];
    int64_t numel = nerve_shape_numel(&d->shape);
    if (!d->value) {
        nerve_error_set(err, NERVE_ERR_INVALID, "%s '%s': the graph is not planned", what,
                        d->name);
        return NULL;
    }
    if (gradient && !d->grad) {
        nerve_error_set(err, NERVE_ERR_INVALID,
                        "%s '%s': the node has no gradient (an input without "
                        "nerve_graph_set_input_grad, or a forward-only plan)",
                        what, d->name);
        return NULL;
    }
    if (count < 0 || count > numel) {
        nerve_error_set(err, NERVE_ERR_INVALID, "%s '%s': %lld values asked, it has %lld", what,
                        d->name, (long long)count, (long long)numel);
        return NULL;
    }
    return gradient ? d->grad : d->value;
}

nerve_status nerve_node_read(nerve_graph *g, nerve_node n, nerve_real *values, int64_t count,
                             nerve_error *err)
{
    const nerve_real *value = copyable(g, n, count, false, "node_read", err);
    if (!value) return NERVE_ERR_INVALID;
    return nerve_graph_pass_error(g, nerve_graph_download(g, values, value, count), err);
}

nerve_status nerve_node_read_grad(nerve_graph *g, nerve_node n, nerve_real *values,
                                  int64_t count, nerve_error *err)
{
    const nerve_real *grad = copyable(g, n, count, true, "node_read_grad", err);
    if (!grad) return NERVE_ERR_INVALID;
    return nerve_graph_pass_error(g, nerve_graph_download(g, values, grad, count), err);
}

nerve_status nerve_node_write(nerve_graph *g, nerve_node n, const nerve_real *values,
                              int64_t count, nerve_error *err)
{
    nerve_real *value = copyable(g, n, count, false, "node_write", err);
    if (!value) return NERVE_ERR_INVALID;
    return nerve_graph_pass_error(g, nerve_graph_upload(g, value, values, count), err);
}

nerve_real *nerve_graph_host_view(nerve_graph *g, nerve_real *device, int64_t count, bool read,
                                  nerve_error *err)
{
    if (g->device->host_memory) return device;
    nerve_real *host = malloc((size_t)(count > 0 ? count : 1) * sizeof *host);
    if (!host) {
        nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory for a host copy of %lld values",
                        (long long)count);
        return NULL;
    }
    if (read && nerve_graph_pass_error(g, nerve_graph_download(g, host, device, count), err)) {
        free(host);
        return NULL;
    }
    return host;
}

nerve_status nerve_graph_host_view_end(nerve_graph *g, nerve_real *device, nerve_real *host,
                                       int64_t count, bool write, nerve_error *err)
{
    if (!host || host == device) return NERVE_OK;
    nerve_status st = NERVE_OK;
    if (write) st = nerve_graph_pass_error(g, nerve_graph_upload(g, device, host, count), err);
    free(host);
    return st;
}

nerve_status nerve_graph_transfer(nerve_graph *to, nerve_real *dst, nerve_graph *from,
                                  const nerve_real *src, int64_t n, nerve_error *err)
{
    nerve_real *host = nerve_graph_host_view(to, dst, n, false, err);
    if (!host) return err ? err->status : NERVE_ERR_NOMEM;
    nerve_status st = nerve_graph_pass_error(from, nerve_graph_download(from, host, src, n), err);
    nerve_status end = nerve_graph_host_view_end(to, dst, host, n, st == NERVE_OK, err);
    return st != NERVE_OK ? st : end;
}

nerve_real *nerve_node_host_view(nerve_graph *g, nerve_node n, bool read, nerve_error *err)
{
    nerve_real *value = copyable(g, n, 0, false, "node", err);
    if (!value) return NULL;
    return nerve_graph_host_view(g, value, nerve_shape_numel(&g->nodes[n].shape), read, err);
}

nerve_status nerve_node_host_view_end(nerve_graph *g, nerve_node n, nerve_real *host, bool write,
                                      nerve_error *err)
{
    if (!valid_node(g, n)) return NERVE_OK;
    return nerve_graph_host_view_end(g, g->nodes[n].value, host,
                                     nerve_shape_numel(&g->nodes[n].shape), write, err);
}

nerve_real *nerve_node_grad(nerve_graph *g, nerve_node n)
{
    return valid_node(g, n) ? g->nodes[n].grad : NULL;
}

bool nerve_node_is_param(const nerve_graph *g, nerve_node n)
{
    return valid_node(g, n) && g->nodes[n].kind == NERVE_NODE_PARAM;
}

/* Sets one parameter's flag and its optimizer mask; the caller then
 * propagates needs_grad once. */
static void mark_frozen(nerve_graph *g, nerve_node_data *d, bool frozen)
{
    d->frozen = frozen;
    (void)g->device->set(&g->ctx, g->trainable + d->param_offset, frozen ? 0 : 1,
                         (size_t)nerve_shape_numel(&d->shape));
}

void nerve_node_set_frozen(nerve_graph *g, nerve_node n, bool frozen)
{
    if (!nerve_node_is_param(g, n) || g->nodes[n].buffer) return;
    mark_frozen(g, &g->nodes[n], frozen);
    propagate_needs_grad(g);
}

int nerve_graph_freeze_prefix(nerve_graph *g, const char *prefix, bool frozen)
{
    int count = 0;
    size_t length = strlen(prefix);
    for (int i = 0; i < g->node_count; i++) {
        nerve_node_data *d = &g->nodes[i];
        if (d->kind != NERVE_NODE_PARAM || d->buffer || strncmp(d->name, prefix, length) != 0)
            continue;
        mark_frozen(g, d, frozen);
        count++;
    }
    propagate_needs_grad(g);
    return count;
}

bool nerve_node_is_buffer(const nerve_graph *g, nerve_node n)
{
    return nerve_node_is_param(g, n) && g->nodes[n].buffer;
}

bool nerve_node_frozen(const nerve_graph *g, nerve_node n)
{
    return nerve_node_is_param(g, n) && g->nodes[n].frozen;
}

int64_t nerve_node_flops(const nerve_graph *g, nerve_node n)
{
    if (!valid_node(g, n)) return 0;
    const nerve_node_data *d = &g->nodes[n];
    if (d->kind != NERVE_NODE_OP) return 0;
    if (d->op->flops) return d->op->flops(g, d);
    return d->op->aliases_input ? 0 : nerve_shape_cols(&d->shape);
}

nerve_real *nerve_graph_params(nerve_graph *g) { return g->params; }
nerve_real *nerve_graph_grads(nerve_graph *g) { return g->param_grads; }
size_t nerve_graph_param_count(const nerve_graph *g) { return g->param_count; }
const unsigned char *nerve_graph_trainable_mask(nerve_graph *g) { return g->trainable; }

int64_t nerve_graph_token_limit(const nerve_graph *g, nerve_node n)
{
    int64_t limit = 0;
    if (!valid_node(g, n)) return 0;
    for (int i = n + 1; i < g->node_count; i++) {
        const nerve_node_data *op = &g->nodes[i];
        if (op->kind != NERVE_NODE_OP || !op->op->token_limit) continue;
        int source = op->input[0];
        while (g->nodes[source].kind == NERVE_NODE_OP && g->nodes[source].op->aliases_input)
            source = g->nodes[source].input[0];
        int64_t op_limit = op->op->token_limit(g, op);
        if (source == n && (limit == 0 || op_limit < limit)) limit = op_limit;
    }
    return limit;
}
