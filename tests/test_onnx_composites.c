/* nerve's ONNX export composites (docs/onnx.md: GELU in both forms, swish
 * with a fixed and a learnable beta, SiLU, softplus with beta != 1, binary
 * step, CReLU, maxout, divisor_override pooling) read back by the importer:
 * each becomes the nerve layer it came from, with its settings and
 * parameters, and predicts as the original; a composite broken in any of
 * its nodes is refused with one message naming it and the node. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/onnx_internal.h"
#include "test_support.h"

#define BATCH 3

typedef struct exported {
    nerve_model *model;
    onnx_model onnx;
} exported;

static nerve_model *load(const char *cfg, const char *file)
{
    const char *path = test_tmppath(file);
    test_write_file(path, cfg, strlen(cfg));
    nerve_model *m;
    nerve_error err = {0};
    test_require_ok(nerve_model_load(path, NULL, &m, &err), &err);
    test_require_ok(nerve_graph_plan(nerve_model_graph(m), BATCH, &err), &err);
    return m;
}

/* The model of `layers` (after a [net] of the given input) and its export, parsed. */
static exported export_layers(const char *input, const char *layers)
{
    char cfg[2048];
    snprintf(cfg, sizeof cfg, "[net]\ninput = %s\nseed = 3\n[data]\nformat = csv\n"
                              "[loss]\ntype = mse\n%s", input, layers);
    exported e = {.model = load(cfg, "original.cfg")};
    unsigned char *data;
    size_t size;
    nerve_error err = {0};
    test_require_ok(nerve_model_export_onnx_buffer(e.model, NULL, &data, &size, &err), &err);
    test_require_ok(onnx_model_parse(data, size, "t.onnx", &e.onnx, &err), &err);
    free(data);
    return e;
}

static void release(exported *e)
{
    onnx_model_free(&e->onnx);
    nerve_model_free(e->model);
}

/* The prediction for BATCH fixed inputs in [-3, 3] (count values). */
static float *predict(nerve_model *m, int64_t *count)
{
    nerve_graph *g = nerve_model_graph(m);
    nerve_graph_set_training(g, false);
    nerve_node in = nerve_model_input(m), out = nerve_model_prediction(m);
    nerve_shape s = nerve_node_shape(g, in);
    nerve_real *x = nerve_node_value(g, in);
    for (int64_t k = 0; k < nerve_shape_numel(&s); k++) x[k] = (nerve_real)(3 * sin(1.7 * (double)k));
    nerve_error err = {0};
    test_require_ok(nerve_graph_forward(g, out, &err), &err);
    nerve_shape o = nerve_node_shape(g, out);
    *count = nerve_shape_numel(&o);
    float *y = malloc((size_t)*count * sizeof *y);
    for (int64_t k = 0; k < *count; k++) y[k] = (float)nerve_node_value(g, out)[k];
    return y;
}

/* Imports the export: its cfg must hold each of `expected` (NULL-ended), and
 * the imported model must predict as the original. */
static void roundtrip(exported *e, const char *const *expected)
{
    onnx_import_result r;
    nerve_error err = {0};
    test_require_ok(onnx_import_model(&e->onnx, "t.onnx", NULL, 0, &r, &err), &err);
    for (int k = 0; expected[k]; k++)
        if (!strstr(r.cfg, expected[k])) fail_msg("no '%s' in the imported cfg:\n%s", expected[k], r.cfg);
    const char *cfg = test_tmppath("imported.cfg"), *weights = test_tmppath("imported.st");
    test_require_ok(onnx_import_write(&r, cfg, weights, &err), &err);
    onnx_import_result_free(&r);
    nerve_model *m;
    test_require_ok(nerve_model_load(cfg, NULL, &m, &err), &err);
    test_require_ok(nerve_graph_plan(nerve_model_graph(m), BATCH, &err), &err);
    test_require_ok(nerve_model_load_weights(m, weights, &err), &err);
    int64_t n, n2;
    float *want = predict(e->model, &n), *got = predict(m, &n2);
    assert_int_equal(n, n2);
    nerve_real *gotr = malloc((size_t)n * sizeof *gotr);
    for (int64_t k = 0; k < n; k++) gotr[k] = got[k];
    test_assert_close("prediction", gotr, want, n, 1e-6);
    free(gotr);
    free(want);
    free(got);
    nerve_model_free(m);
}

static void test_activation_composites_import_as_their_layers(void **state)
{
    exported e = export_layers(
        "6",
        "[dense]\nname = fc\nunits = 8\n"
        "[activation]\nname = g\ntype = gelu\n"
        "[activation]\nname = gt\ntype = gelu\napproximate = tanh\n"
        "[activation]\nname = sw\ntype = swish\nbeta = 1.7\n"
        "[activation]\nname = learned\ntype = swish\nlearn_beta = 1\nbeta = 0.6\n"
        "[activation]\nname = si\ntype = silu\n"
        "[activation]\nname = sp\ntype = softplus\nbeta = 2\nthreshold = 3\n"
        "[dense]\nname = fc2\nunits = 5\n"
        "[activation]\nname = cr\ntype = crelu\n"
        "[dense]\nname = fc3\nunits = 4\n"
        "[activation]\nname = step\ntype = binary_step\n");
    roundtrip(&e, (const char *const[]){
                      "type = gelu\n\n", "type = gelu\napproximate = tanh\n",
                      "type = swish\nbeta = 1.70000005\n",
                      "name = learned\n", "type = swish\nlearn_beta = 1\n",
                      "type = silu\n", "type = softplus\nbeta = 2\nthreshold = 3\n",
                      "type = crelu\n", "type = binary_step\n", NULL});
    release(&e);
}

static void test_maxout_and_divisor_override_import_as_their_layers(void **state)
{
    exported e = export_layers("12", "[maxout]\nname = mx\nunits = 4\npieces = 3\n"
                                     "[dense]\nname = out\nunits = 2\n");
    roundtrip(&e, (const char *const[]){"[maxout]\nname = mx\ninput = input\nunits = 4\npieces = 3\n",
                                        NULL});
    release(&e);
    e = export_layers("2x5x5", "[avgpool2d]\nname = pool\nkernel = 2\nstride = 1\n"
                               "divisor_override = 3\n"
                               "[flatten]\n[dense]\nname = out\nunits = 2\n");
    roundtrip(&e, (const char *const[]){"[avgpool2d]\nname = avgpool", "divisor_override = 3\n",
                                        NULL});
    release(&e);
}

static onnx_node *node_named(onnx_model *m, const char *name)
{
    for (int i = 0; i < m->graph.node_count; i++)
        if (strcmp(m->graph.nodes[i].name, name) == 0) return &m->graph.nodes[i];
    fail_msg("no node '%s'", name);
    return NULL;
}

static void set_string(char **field, const char *value)
{
    free(*field);
    *field = strdup(value);
}

static void set_attr(onnx_node *n, const char *name, int64_t value)
{
    onnx_attr *a = (onnx_attr *)onnx_node_attr(n, name);
    assert_non_null(a);
    if (a->ints_count) a->ints[0] = value;
    else a->i = value;
}

/* The import must fail naming each of `needles`. */
static void refused(exported *e, const char *const *needles)
{
    onnx_import_result r;
    nerve_error err = {0};
    assert_int_not_equal(onnx_import_model(&e->onnx, "t.onnx", NULL, 0, &r, &err), NERVE_OK);
    for (int k = 0; needles[k]; k++) test_assert_message_contains(&err, needles[k]);
    release(e);
}

static const char *const activations =
    "[activation]\nname = a\ntype = %s\n%s[dense]\nname = out\nunits = 2\n";

static exported export_activation(const char *type, const char *settings)
{
    char layers[512];
    snprintf(layers, sizeof layers, activations, type, settings);
    return export_layers("4", layers);
}

static void test_incomplete_composites_are_refused(void **state)
{
    exported e = export_activation("gelu", "");
    set_string(&node_named(&e.onnx, "a/erf")->op_type, "Tanh");
    refused(&e, (const char *const[]){"node 'a/scaled' (Mul, opset 17)",
                                      "not a complete GELU composite",
                                      "node 'a/erf' (Tanh) does not fit its step 2", NULL});

    e = export_activation("gelu", "approximate = tanh\n");
    set_string(&node_named(&e.onnx, "a")->op_type, "Add");
    refused(&e, (const char *const[]){"not a complete GELU (tanh) composite",
                                      "node 'a' (Add) does not fit its step 9", NULL});

    /* a value inside the composite read by the next layer */
    e = export_activation("gelu", "");
    set_string(&node_named(&e.onnx, "out")->inputs[0], "a/erf");
    refused(&e, (const char *const[]){"a value between its nodes is read outside it", NULL});

    e = export_activation("softplus", "beta = 2\n");
    set_string(&node_named(&e.onnx, "a/linear")->op_type, "Less");
    refused(&e, (const char *const[]){"not a complete softplus composite",
                                      "node 'a/linear' (Less) does not fit its step 4", NULL});

    e = export_activation("swish", "beta = 2\n");
    set_string(&node_named(&e.onnx, "a")->op_type, "Add");
    refused(&e, (const char *const[]){"not a complete swish composite",
                                      "node 'a' (Add) does not fit its step 3", NULL});

    e = export_activation("binary_step", "");
    set_attr(node_named(&e.onnx, "a"), "to", ONNX_INT64);
    refused(&e, (const char *const[]){"not a complete binary step composite",
                                      "node 'a' (Cast) does not fit its step 2", NULL});

    e = export_activation("crelu", "");
    set_attr(node_named(&e.onnx, "a"), "axis", 0);
    refused(&e, (const char *const[]){"node 'a/positive' (Relu", "not a complete CReLU composite",
                                      "node 'a' (Concat) does not fit its step 4", NULL});

    /* a node of a composite on its own */
    e = export_activation("crelu", "");
    set_string(&node_named(&e.onnx, "a/positive")->op_type, "Sigmoid");
    refused(&e, (const char *const[]){"node 'a/negated' (Neg",
                                      "Neg is read only inside nerve's export composites (CReLU",
                                      NULL});

    e = export_layers("6", "[maxout]\nname = mx\nunits = 2\npieces = 3\n");
    set_attr(node_named(&e.onnx, "mx"), "keepdims", 1);
    refused(&e, (const char *const[]){"node 'mx.affine' (Gemm", "not a complete maxout composite",
                                      "node 'mx' (ReduceMax) does not fit its step 2", NULL});

    e = export_layers("1x4x4", "[avgpool2d]\nname = pool\nkernel = 2\ndivisor_override = 3\n"
                               "[flatten]\n");
    set_attr(node_named(&e.onnx, "pool/mean"), "count_include_pad", 0);
    refused(&e, (const char *const[]){"node 'pool/mean' (AveragePool",
                                      "divisor_override only with count_include_pad = 1", NULL});
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_activation_composites_import_as_their_layers),
        cmocka_unit_test(test_maxout_and_divisor_override_import_as_their_layers),
        cmocka_unit_test(test_incomplete_composites_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
