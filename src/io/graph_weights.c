/* A graph's parameters in a safetensors file, one tensor per parameter node
 * under the node's name (as a PyTorch state_dict: "fc1.weight", "fc1.bias"). */
#include "io/graph_weights.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_internal.h"

/* The io sources are compiled into the float32 library only. */
_Static_assert(sizeof(nerve_real) == sizeof(float), "graph weights are stored as float32");

/* Parameter values exist once the graph is planned (the engine may allocate
 * them earlier); a NULL value means there is nothing to save or load into. */
static nerve_status require_param_values(const nerve_graph *g, const char *path, nerve_error *err)
{
    for (int i = 0; i < g->node_count; i++) {
        const nerve_node_data *node = &g->nodes[i];
        if (node->kind == NERVE_NODE_PARAM && !node->value && nerve_shape_numel(&node->shape) > 0)
            return nerve_error_set(err, NERVE_ERR_INVALID,
                                   "%s: parameter '%s' is not allocated yet "
                                   "(call nerve_graph_plan first)",
                                   path, node->name);
    }
    return NERVE_OK;
}

nerve_status nerve_graph_save_with_metadata(nerve_graph *g, const char *path,
                                            const nerve_named_tensor *extra, int extra_count,
                                            const char *const *metadata, nerve_error *err)
{
    nerve_status status = require_param_values(g, path, err);
    if (status) return status;
    /* The parameters as the host sees them: one download of the flat buffer
     * on a device without host memory. */
    nerve_real *params = g->param_count ? nerve_graph_host_view(g, g->params,
                                                                (int64_t)g->param_count, true, err)
                                        : NULL;
    if (g->param_count && !params) return err ? err->status : NERVE_ERR_NOMEM;
    nerve_named_tensor *tensors =
        calloc((size_t)g->node_count + (size_t)extra_count + 1, sizeof *tensors);
    if (!tensors) {
        nerve_graph_host_view_end(g, g->params, params, (int64_t)g->param_count, false, err);
        return nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory", path);
    }
    int count = 0;
    for (int i = 0; i < g->node_count; i++) {
        const nerve_node_data *node = &g->nodes[i];
        if (node->kind != NERVE_NODE_PARAM) continue;
        tensors[count].name = node->name;
        tensors[count].shape = node->shape;
        tensors[count].data = params + node->param_offset;
        tensors[count].dtype = node->integer ? NERVE_DTYPE_I64 : NERVE_DTYPE_F32;
        count++;
    }
    for (int i = 0; i < extra_count; i++) tensors[count++] = extra[i];
    status = nerve_safetensors_write(path, tensors, count, metadata, err);
    free(tensors);
    nerve_graph_host_view_end(g, g->params, params, (int64_t)g->param_count, false, err);
    return status;
}

nerve_status nerve_graph_save(nerve_graph *g, const char *path, nerve_error *err)
{
    return nerve_graph_save_with_metadata(g, path, NULL, 0, NULL, err);
}

static bool graph_has_param(const nerve_graph *g, const char *name)
{
    for (int i = 0; i < g->node_count; i++)
        if (g->nodes[i].kind == NERVE_NODE_PARAM && strcmp(g->nodes[i].name, name) == 0)
            return true;
    return false;
}

/* Integer buffers are stored as I64 (as PyTorch's long tensors), the rest as
 * F32 (or F64, which converts exactly enough). */
static bool dtype_fits(const nerve_node_data *node, const char *dtype)
{
    if (node->integer) return strcmp(dtype, "I64") == 0;
    return strcmp(dtype, "F32") == 0 || strcmp(dtype, "F64") == 0;
}

static bool is_training_state(const char *name)
{
    return strncmp(name, "optimizer.", 10) == 0 || strncmp(name, "state.", 6) == 0;
}

/* Every parameter present with the same shape and a fitting dtype, and
 * nothing else in the file. */
static nerve_status check_file_matches(const nerve_graph *g, const nerve_safetensors *st,
                                       const char *path, nerve_error *err)
{
    for (int i = 0; i < g->node_count; i++) {
        const nerve_node_data *node = &g->nodes[i];
        if (node->kind != NERVE_NODE_PARAM) continue;
        nerve_shape shape;
        char expected[128], found[128];
        nerve_shape_format(&node->shape, expected, sizeof expected);
        if (!nerve_safetensors_get(st, node->name, &shape))
            return nerve_error_set(err, NERVE_ERR_FORMAT,
                                   "%s: no tensor '%s' (the network expects shape %s)", path,
                                   node->name, expected);
        if (!nerve_shape_equal(&shape, &node->shape))
            return nerve_error_set(
                err, NERVE_ERR_SHAPE, "%s: tensor '%s' has shape %s, the network expects %s", path,
                node->name, nerve_shape_format(&shape, found, sizeof found), expected);
        const char *dtype = nerve_safetensors_dtype(st, node->name);
        if (!dtype_fits(node, dtype))
            return nerve_error_set(err, NERVE_ERR_FORMAT,
                                   "%s: tensor '%s' is %s, the network expects %s", path,
                                   node->name, dtype, node->integer ? "I64" : "F32");
    }
    char extra[384] = "";
    int extra_count = 0;
    bool checkpoint = nerve_safetensors_metadata(st, NERVE_CHECKPOINT_KEY) != NULL;
    for (int i = 0; i < nerve_safetensors_count(st); i++) {
        const char *name = nerve_safetensors_name(st, i);
        if (graph_has_param(g, name) || (checkpoint && is_training_state(name))) continue;
        size_t used = strlen(extra);
        snprintf(extra + used, sizeof extra - used, "%s'%s'", extra_count ? ", " : "", name);
        extra_count++;
    }
    if (extra_count)
        return nerve_error_set(err, NERVE_ERR_FORMAT, "%s: %d tensor%s not in the network: %s",
                               path, extra_count, extra_count == 1 ? "" : "s", extra);
    return NERVE_OK;
}

nerve_status nerve_graph_load_from(nerve_graph *g, const nerve_safetensors *st, const char *path,
                                   nerve_error *err)
{
    nerve_status status = require_param_values(g, path, err);
    if (!status) status = check_file_matches(g, st, path, err);
    for (int i = 0; !status && i < g->node_count; i++) {
        nerve_node_data *node = &g->nodes[i];
        if (node->kind != NERVE_NODE_PARAM || !node->value) continue;
        const float *values = nerve_safetensors_get(st, node->name, NULL);
        status = nerve_graph_pass_error(
            g, nerve_graph_upload(g, node->value, values, nerve_shape_numel(&node->shape)), err);
    }
    return status;
}

nerve_status nerve_graph_load(nerve_graph *g, const char *path, nerve_error *err)
{
    nerve_status status = require_param_values(g, path, err);
    if (status) return status;
    nerve_safetensors *st;
    status = nerve_safetensors_open(path, &st, err);
    if (status) return status;
    status = nerve_graph_load_from(g, st, path, err);
    nerve_safetensors_close(st);
    return status;
}
