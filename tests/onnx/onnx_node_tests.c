/* onnx_node_tests DATA_DIR: ONNX's own tests (Debian's libonnx-testdata,
 * DATA_DIR = /usr/share/libonnx-testdata/data).
 *   1. Every model of every directory under DATA_DIR is read and imported
 *      (most refused): nothing may crash, which the ASan build checks.
 *   2. The node tests (DATA_DIR/node/test_*) of the operators nerve reads:
 *      the model imported, with its extra inputs (weights) bound to their
 *      values from input_<k>.pb; the network run on input_0.pb; the output
 *      compared with output_0.pb (|got - want| <= 1e-4 + 1e-3 |want|, ONNX's
 *      backend test tolerance loosened for float32 sums). A test the importer
 *      refuses is listed with the reason (docs/onnx.md, "Node tests"); a
 *      mismatch fails.
 * Exits 77 when DATA_DIR is absent. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/onnx_internal.h"
#include "nerve.h"

/* The operators nerve maps to layers (docs/onnx.md). */
static const char *const supported[] = {
    "Gemm", "MatMul", "Conv", "ConvTranspose", "BatchNormalization", "MaxPool", "AveragePool",
    "GlobalAveragePool", "Flatten", "Reshape", "Add", "Sum", "Concat", "Softmax", "LogSoftmax",
    "PRelu", "Relu", "Sigmoid", "Tanh", "Softplus", "LeakyRelu", "Elu", "Selu", "Clip",
    "Identity", "Dropout", "LSTM", "GRU", "RNN", "Gather", "OneHot", NULL};

static bool is_supported(const char *op)
{
    for (int i = 0; supported[i]; i++)
        if (strcmp(supported[i], op) == 0) return true;
    return false;
}

static unsigned char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = malloc(n > 0 ? (size_t)n : 1);
    if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
        free(data);
        data = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return data;
}

static bool read_tensor(const char *path, onnx_tensor *t)
{
    size_t size;
    unsigned char *data = slurp(path, &size);
    nerve_error err = {0};
    bool ok = data && onnx_tensor_parse(data, size, path, t, &err) == NERVE_OK;
    free(data);
    return ok;
}

/* Reads every model.onnx under dir (recursively); counts them. */
static int parse_all(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int count = 0;
    struct dirent *e;
    struct stat st;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (strcmp(e->d_name, "model.onnx") == 0) {
            onnx_model m;
            nerve_error err = {0};
            if (onnx_model_read(path, &m, &err) == NERVE_OK) {
                onnx_import_result r;
                if (onnx_import_model(&m, path, NULL, 0, &r, &err) == NERVE_OK)
                    onnx_import_result_free(&r);
                onnx_model_free(&m);
            }
            count++;
        } else if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            count += parse_all(path);
        }
    }
    closedir(d);
    return count;
}

typedef enum { PASS, REFUSED, FAIL } outcome;

/* Runs one node test; *why says what was refused or what failed. */
static outcome run_test(const char *dir, const onnx_model *m, char *why, size_t why_size)
{
    const onnx_graph *g = &m->graph;
    onnx_tensor inputs[8] = {0}, want = {0};
    int bound = 0;
    outcome result = FAIL;
    char path[8400], cfg_path[] = "/tmp/nerve_node_XXXXXX";
    nerve_error err = {0};
    int first = -1;
    for (int k = 0; k < g->input_count && k < 8; k++) {
        snprintf(path, sizeof path, "%s/test_data_set_0/input_%d.pb", dir, k);
        if (!read_tensor(path, &inputs[k])) {
            snprintf(why, why_size, "input %d is not a tensor (a sequence or an optional)", k);
            result = REFUSED;
            goto done;
        }
        free(inputs[k].name); /* bound by the graph's name for it */
        inputs[k].name = strdup(g->inputs[k].name);
        if (first < 0) first = k;
        else bound++;
    }
    snprintf(path, sizeof path, "%s/test_data_set_0/output_0.pb", dir);
    if (first < 0 || !read_tensor(path, &want)) {
        snprintf(why, why_size, "no input or output data");
        goto done;
    }
    onnx_import_result r;
    if (onnx_import_model(m, dir, inputs + 1, bound, &r, &err) != NERVE_OK) {
        snprintf(why, why_size, "%s", strstr(err.message, ": ") ? strstr(err.message, ": ") + 2 : err.message);
        result = REFUSED;
        goto done;
    }
    int fd = mkstemp(cfg_path);
    char weights_path[sizeof cfg_path + 16];
    snprintf(weights_path, sizeof weights_path, "%s.st", cfg_path);
    if (fd >= 0) close(fd);
    nerve_model *model = NULL;
    bool probabilities = strstr(r.cfg, "type = softmax_cross_entropy") != NULL;
    if (onnx_import_write(&r, cfg_path, weights_path, &err) != NERVE_OK ||
        nerve_model_load(cfg_path, NULL, &model, &err) != NERVE_OK ||
        nerve_model_load_weights(model, weights_path, &err) != NERVE_OK) {
        snprintf(why, why_size, "nerve cannot load the import: %.400s", err.message);
        result = REFUSED; /* a shape nerve's layers refuse (e.g. a 1-D input) */
        goto cleanup;
    }
    nerve_graph *graph = nerve_model_graph(model);
    int64_t batch = inputs[first].ndim ? inputs[first].dims[0] : 1;
    nerve_node in = nerve_model_input(model);
    nerve_node out = probabilities ? nerve_model_prediction(model) : nerve_model_output(model);
    if (nerve_graph_plan(graph, batch, &err) || nerve_graph_set_batch(graph, batch, &err)) {
        snprintf(why, why_size, "%s", err.message);
        goto cleanup;
    }
    nerve_graph_set_training(graph, false);
    nerve_real *x = nerve_node_value(graph, in);
    for (int64_t i = 0; i < inputs[first].count; i++)
        x[i] = inputs[first].f ? inputs[first].f[i] : (nerve_real)inputs[first].i[i];
    if (nerve_graph_forward(graph, out, &err)) {
        snprintf(why, why_size, "%s", err.message);
        goto cleanup;
    }
    nerve_shape s = nerve_node_shape(graph, out);
    if (nerve_shape_numel(&s) != want.count || !want.f) {
        snprintf(why, why_size, "output has %lld values, expected %lld",
                 (long long)nerve_shape_numel(&s), (long long)want.count);
        goto cleanup;
    }
    const nerve_real *y = nerve_node_value(graph, out);
    double worst = 0;
    int64_t at = 0;
    for (int64_t i = 0; i < want.count; i++) {
        double excess = fabs(y[i] - want.f[i]) - (1e-4 + 1e-3 * fabs(want.f[i]));
        if (!(excess <= worst)) {
            worst = isnan(excess) ? INFINITY : excess;
            at = i;
        }
    }
    if (worst > 0)
        snprintf(why, why_size, "value %lld is %g, expected %g", (long long)at, y[at], want.f[at]);
    else
        result = PASS;
cleanup:
    nerve_model_free(model);
    onnx_import_result_free(&r);
    unlink(cfg_path);
    unlink(weights_path);
done:
    for (int k = 0; k < 8; k++) onnx_tensor_free(&inputs[k]);
    onnx_tensor_free(&want);
    return result;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int main(int argc, char **argv)
{
    const char *data = argc > 1 ? argv[1] : "/usr/share/libonnx-testdata/data";
    char node_dir[4096];
    snprintf(node_dir, sizeof node_dir, "%s/node", data);
    DIR *d = opendir(node_dir);
    if (!d) {
        printf("SKIP: %s not found (libonnx-testdata, scripts/deps.sh onnx)\n", node_dir);
        return 77;
    }
    printf("read and imported %d models without a crash\n", parse_all(data));
    char **names = NULL;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "test_", 5) != 0) continue;
        names = realloc(names, (size_t)(count + 1) * sizeof *names);
        names[count++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)count, sizeof *names, compare_names);
    int passed = 0, refused = 0, failed = 0;
    for (int i = 0; i < count; i++) {
        char dir[8192], path[8300], why[512] = "";
        snprintf(dir, sizeof dir, "%s/%s", node_dir, names[i]);
        snprintf(path, sizeof path, "%s/model.onnx", dir);
        onnx_model m;
        nerve_error err = {0};
        if (onnx_model_read(path, &m, &err) == NERVE_OK) {
            if (m.graph.node_count == 1 && is_supported(m.graph.nodes[0].op_type)) {
                outcome o = run_test(dir, &m, why, sizeof why);
                printf("%-8s %-52s %s\n", o == PASS ? "pass" : o == REFUSED ? "refused" : "FAIL",
                       names[i], why);
                passed += o == PASS;
                refused += o == REFUSED;
                failed += o == FAIL;
            }
            onnx_model_free(&m);
        }
        free(names[i]);
    }
    free(names);
    printf("node tests of the operators nerve reads: %d passed, %d refused (listed), %d failed\n",
           passed, refused, failed);
    return failed ? 1 : 0;
}
