/* safetensors (src/io/safetensors.c): header length, header JSON, dtypes,
 * shapes and offsets; then every accessor, and loading into two small graphs
 * (src/io/graph_weights.c) whose parameter names match the seeds, so that
 * missing, extra and misshapen tensors and dtype mismatches are reached. */
#include "fuzz_support.h"

#include "io/graph_weights.h"
#include "nerve.h"

/* The 8-16-12-4 MLP of tests/fixtures/state_dict.safetensors. */
static nerve_graph *mlp_graph(void)
{
    nerve_graph *g = nerve_graph_new();
    nerve_error err = {0};
    nerve_rng rng;
    nerve_rng_seed(&rng, 1);
    if (!g) return NULL;
    nerve_node x = nerve_input(g, "input", nerve_shape_1d(8), &err);
    static const struct {
        const char *name;
        int64_t units;
    } layers[] = {{"fc1", 16}, {"fc2", 12}, {"out", 4}};
    for (int i = 0; i < 3 && x >= 0; i++) {
        nerve_dense_options o = {.units = layers[i].units};
        x = nerve_dense(g, layers[i].name, x, &o, &rng, &err);
    }
    return g;
}

/* bn1 (BatchNorm2d over 3x4x4) -> fc(5) -> bn2 -> out(3), as
 * tests/fixtures/norm_state_dict.safetensors: it holds I64 buffers. */
static nerve_graph *norm_graph(void)
{
    nerve_graph *g = nerve_graph_new();
    nerve_error err = {0};
    nerve_rng rng;
    nerve_rng_seed(&rng, 1);
    if (!g) return NULL;
    int64_t image[3] = {3, 4, 4};
    nerve_node x = nerve_input(g, "input", nerve_shape_make(3, image), &err);
    nerve_dense_options fc = {.units = 5}, out = {.units = 3};
    if (x >= 0) x = nerve_batchnorm_layer(g, "bn1", x, NULL, &err);
    if (x >= 0) x = nerve_dense(g, "fc", x, &fc, &rng, &err);
    if (x >= 0) x = nerve_batchnorm_layer(g, "bn2", x, NULL, &err);
    if (x >= 0) x = nerve_dense(g, "out", x, &out, &rng, &err);
    return g;
}

/* Every value is read, so that ASan sees any tensor pointing outside the data. */
static volatile float value_sum;

static void use(const nerve_safetensors *st, const char *path)
{
    for (int i = 0; i < nerve_safetensors_count(st); i++) {
        const char *name = nerve_safetensors_name(st, i);
        nerve_shape shape;
        const float *values = nerve_safetensors_get(st, name, &shape);
        for (int64_t k = 0; k < nerve_shape_numel(&shape); k++) value_sum += values[k];
        (void)nerve_safetensors_dtype(st, name);
    }
    (void)nerve_safetensors_metadata(st, "description");
    nerve_graph *graphs[2] = {mlp_graph(), norm_graph()};
    for (int i = 0; i < 2; i++) {
        nerve_error err = {0};
        if (graphs[i]) nerve_graph_load_from(graphs[i], st, path, &err);
        nerve_graph_free(graphs[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[FUZZ_PATH_SIZE];
    int fd = fuzz_file_open(data, size, path);
    if (fd < 0) return 0;
    nerve_safetensors *st = NULL;
    nerve_error err = {0};
    if (nerve_safetensors_open(path, &st, &err) == NERVE_OK) {
        use(st, path);
        nerve_safetensors_close(st);
    }
    fuzz_file_close(fd);
    return 0;
}
