/* The .cfg model-load path: tokenizer (src/io/config.c), settings sections,
 * strict key checks and the building of every layer, from the file's bytes
 * as nerve_model_load reads them. A network that loads and is small is then
 * planned and run forward and backward once on zeros (as `nerve train`
 * would next), so that a cfg which builds but breaks an op is found too. */
#include "fuzz_support.h"

#include "core/graph_internal.h"
#include "nerve.h"

/* 4 Mi parameters (a LeNet, some 40 MB with gradients) keep each run fast
 * and well inside -rss_limit_mb; the library's own limit is far higher
 * (NERVE_PARAM_LIMIT). */
#define FUZZ_PARAM_LIMIT ((int64_t)1 << 22)
/* Activation elements of one sample, all nodes together, under which a
 * network is also run: a training step of a LeNet takes milliseconds. */
#define FUZZ_RUN_LIMIT ((int64_t)1 << 20)

static int64_t activation_elements(const nerve_graph *g)
{
    int64_t total = 0;
    for (nerve_node n = 0; n < nerve_graph_node_count(g); n++) {
        nerve_shape s = nerve_node_shape(g, n);
        int64_t numel = nerve_shape_numel(&s);
        if (numel < 0 || numel > FUZZ_RUN_LIMIT) return -1;
        total += numel;
    }
    return total;
}

static void run_once(nerve_model *model)
{
    nerve_graph *g = nerve_model_graph(model);
    int64_t elements = activation_elements(g);
    nerve_error err = {0};
    if (elements < 0 || elements > FUZZ_RUN_LIMIT || nerve_graph_plan(g, 2, &err) != NERVE_OK)
        return;
    nerve_graph_set_training(g, true);
    if (nerve_graph_forward(g, nerve_model_loss(model), &err) == NERVE_OK)
        nerve_graph_backward(g, nerve_model_loss(model), &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nerve_graph_set_param_limit(FUZZ_PARAM_LIMIT);
    char path[FUZZ_PATH_SIZE];
    int fd = fuzz_file_open(data, size, path);
    if (fd < 0) return 0;
    nerve_model *model = NULL;
    nerve_error err = {0};
    if (nerve_model_load(path, NULL, &model, &err) == NERVE_OK) {
        run_once(model);
        nerve_model_free(model);
    }
    fuzz_file_close(fd);
    return 0;
}
