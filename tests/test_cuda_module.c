/* The CUDA backend is a module loaded at run time (docs/cuda.md, "The
 * module"): a CPU training run maps none of the CUDA libraries, checked in
 * /proc/self/maps after every step, and listing the backends loads nothing;
 * in a build with the backend, asking for cuda does map them (the check
 * sees what it looks for), GPU or not. tests/cli_cuda_module.sh checks the
 * programs' NEEDED entries, the module's exports and its installed copy. */
#include <stdio.h>
#include <string.h>

#include "test_support.h"

/* The first line of /proc/self/maps naming one of the CUDA objects, in
 * line (empty when none). */
static void cuda_mapping(char *line, size_t size)
{
    static const char *const names[] = {"libnerve_cuda", "libcudart", "libcublas", "libcudnn",
                                        "libcuda.so"};
    FILE *f = fopen("/proc/self/maps", "r");
    line[0] = '\0';
    if (!f) return;
    char text[4096];
    while (!line[0] && fgets(text, sizeof text, f))
        for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
            if (strstr(text, names[k])) snprintf(line, size, "%s", text);
    fclose(f);
}

static bool cuda_built(void)
{
    for (int i = 0; i < nerve_backend_count(); i++)
        if (strcmp(nerve_backend_name(i), "cuda") == 0) return true;
    return false;
}

static void test_cpu_training_maps_no_cuda_library(void **state)
{
    char line[4096];
    FILE *maps = fopen("/proc/self/maps", "r");
    if (!maps) skip(); /* no procfs */
    fclose(maps);
    nerve_error err = {0};
    nerve_graph *g = nerve_graph_new();
    test_require_ok(nerve_graph_set_backend(g, "cpu", &err), &err);
    nerve_rng rng;
    nerve_rng_seed(&rng, 3);
    nerve_node x = nerve_input(g, "x", nerve_shape_1d(2), &err);
    nerve_node labels = nerve_input(g, "labels", nerve_shape_make(0, NULL), &err);
    nerve_dense_options hidden = {.units = 8, .activation = NERVE_ACT_TANH};
    nerve_dense_options out = {.units = 2};
    nerve_node h = nerve_dense(g, "hidden", x, &hidden, &rng, &err);
    nerve_node logits = test_require_node(nerve_dense(g, "out", h, &out, &rng, &err), &err);
    nerve_node loss =
        test_require_node(nerve_softmax_cross_entropy(g, logits, labels, NULL, &err), &err);
    test_require_ok(nerve_graph_plan(g, 4, &err), &err);
    nerve_sgd_options sgd = {.lr = 0.1};
    nerve_optimizer *opt = nerve_sgd_new(g, &sgd, &err);
    assert_non_null(opt);
    nerve_real *xv = nerve_node_value(g, x), *yv = nerve_node_value(g, labels);
    for (int i = 0; i < 4; i++) {
        xv[2 * i] = (nerve_real)(i & 1);
        xv[2 * i + 1] = (nerve_real)(i >> 1);
        yv[i] = (nerve_real)((i & 1) ^ (i >> 1));
    }
    for (int step = 0; step < 20; step++) {
        nerve_graph_zero_grad(g);
        assert_int_equal(nerve_graph_forward(g, loss, &err), NERVE_OK);
        assert_int_equal(nerve_graph_backward(g, loss, &err), NERVE_OK);
        assert_int_equal(nerve_optimizer_step(opt), NERVE_OK);
        cuda_mapping(line, sizeof line);
        if (line[0]) fail_msg("step %d of a CPU run maps %s", step, line);
    }
    /* Naming the backends (cuda among them where built) loads nothing. */
    for (int i = 0; i < nerve_backend_count(); i++) assert_non_null(nerve_backend_name(i));
    cuda_mapping(line, sizeof line);
    if (line[0]) fail_msg("listing the backends maps %s", line);
    nerve_optimizer_free(opt);
    nerve_graph_free(g);
}

/* Where the backend is built, the module and its libraries are mapped once
 * cuda is asked for, whether a GPU answers or not. */
static void test_asking_for_cuda_loads_the_module(void **state)
{
    if (!cuda_built()) skip();
    nerve_error err = {0};
    nerve_graph *g = nerve_graph_new();
    nerve_status st = nerve_graph_set_backend(g, "cuda", &err);
    if (st != NERVE_OK) {
        /* no GPU: the GPU's answer, never the module's */
        test_assert_message_contains(&err, "cuda: no CUDA GPU is available (");
    }
    char line[4096];
    FILE *f = fopen("/proc/self/maps", "r");
    assert_non_null(f);
    bool module = false, runtime = false;
    while (fgets(line, sizeof line, f)) {
        module = module || strstr(line, "libnerve_cuda.so");
        runtime = runtime || strstr(line, "libcudart");
    }
    fclose(f);
    assert_true(module);
    assert_true(runtime);
    nerve_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpu_training_maps_no_cuda_library),
        cmocka_unit_test(test_asking_for_cuda_loads_the_module),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
