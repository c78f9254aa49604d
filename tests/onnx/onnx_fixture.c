/* onnx_fixture CFG WEIGHTS INPUTS.csv COUNT [SECTION.KEY=VALUE...]: the model of CFG with weights
 * from its [net] seed, batch norm running statistics and the normalisation
 * statistics made non-trivial (so that exporting them is tested), saved to
 * WEIGHTS (CFG with the overrides given); COUNT random samples in the data's own units (token ids for a
 * token model) written to INPUTS.csv. Prints the input's per-sample shape
 * ("1x28x28") and the parameter count. The ONNX tests (tests/onnx/export_examples.sh) feed
 * the samples to nerve predict and to ONNX Runtime. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_settings.h" /* [net] input, [data] scale */
#include "nerve.h"

static double uniform(nerve_rng *rng) { return nerve_rng_uniform(rng); }

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s CFG WEIGHTS INPUTS.csv COUNT [SECTION.KEY=VALUE...]\n", argv[0]);
        return 2;
    }
    nerve_error err = {0};
    nerve_model *m;
    if (nerve_model_load(argv[1], (const char *const *)argv + 5, &m, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    nerve_graph *g = nerve_model_graph(m);
    if (nerve_graph_plan(g, 1, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    nerve_rng rng;
    nerve_rng_seed(&rng, 7);
    for (int i = 0; i < nerve_graph_node_count(g); i++) {
        const char *name = nerve_node_name(g, i);
        size_t len = strlen(name);
        bool mean = len > 13 && strcmp(name + len - 13, ".running_mean") == 0;
        bool var = len > 12 && strcmp(name + len - 12, ".running_var") == 0;
        if (!mean && !var) continue;
        nerve_shape s = nerve_node_shape(g, i);
        nerve_real *v = nerve_node_value(g, i);
        for (int64_t k = 0; k < nerve_shape_numel(&s); k++)
            v[k] = (nerve_real)(mean ? uniform(&rng) - 0.5 : 0.5 + uniform(&rng));
    }
    nerve_model_set_normalization(m, 0.28, 0.35);
    if (nerve_model_save_weights(m, argv[2], &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    const nerve_model_settings *s = nerve_model_settings_of(m);
    int64_t features = nerve_shape_numel(&s->input), count = atoll(argv[4]);
    int64_t tokens = nerve_graph_token_limit(g, nerve_model_input(m));
    FILE *csv = fopen(argv[3], "w");
    if (!csv) return 1;
    for (int64_t i = 0; i < count; i++)
        for (int64_t k = 0; k < features; k++) {
            double v = tokens ? (double)(int64_t)(uniform(&rng) * (double)tokens)
                              : uniform(&rng) * s->data.scale;
            fprintf(csv, k + 1 < features ? "%.9g," : "%.9g\n", v);
        }
    fclose(csv);
    for (int d = 0; d < s->input.ndim; d++)
        printf(d ? "x%lld" : "%lld", (long long)s->input.dim[d]);
    printf(" %zu\n", nerve_graph_param_count(g));
    nerve_model_free(m);
    return 0;
}
