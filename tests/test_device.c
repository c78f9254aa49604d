/* The device seam: every generic composite gives what the CPU's own kernel
 * gives, a device that lacks a core kernel fails a pass with a message naming
 * the op, the node, the kernel and the device, and node values are read and
 * written through the device. */
#include <math.h>
#include <string.h>

#include "backends/generic.h"
#include "core/graph_internal.h"
#include "test_support.h"

#define ROWS 7
#define COLS 13
#define COUNT (ROWS * COLS)

static void random_values(nerve_real *v, int64_t n, uint64_t seed)
{
    nerve_rng rng;
    nerve_rng_seed(&rng, seed);
    for (int64_t i = 0; i < n; i++) v[i] = (nerve_real)(2 * nerve_rng_uniform(&rng) - 1);
}

static void assert_close(const nerve_real *a, const nerve_real *b, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (fabs((double)a[i] - (double)b[i]) > 1e-5 * (1 + fabs((double)a[i])))
            fail_msg("element %lld: %g against %g", (long long)i, (double)a[i], (double)b[i]);
}

/* The CPU device's context, with its kernels as they are. */
static nerve_kernel_ctx cpu_ctx(nerve_kernels *table, nerve_error *err)
{
    nerve_kernels_complete(nerve_device_cpu(), table);
    return (nerve_kernel_ctx){.device = nerve_device_cpu(), .kernels = table, .err = err};
}

static void test_generic_composites_match_the_cpu_kernels(void **state)
{
    nerve_error err = {0};
    nerve_kernels table;
    nerve_kernel_ctx ctx = cpu_ctx(&table, &err);
    const nerve_kernels *cpu = nerve_device_cpu()->kernels;
    static nerve_real x[COUNT], y[COUNT], native[COUNT], generic[COUNT], argmax[COUNT],
        argmax_generic[COUNT];
    random_values(x, COUNT, 1);
    random_values(y, COUNT, 2);

    assert_int_equal(cpu->fill_rows(&ctx, native, x, ROWS, COLS), NERVE_OK);
    assert_int_equal(nerve_generic_fill_rows(&ctx, generic, x, ROWS, COLS), NERVE_OK);
    assert_close(native, generic, COUNT);

    memcpy(native, y, sizeof native);
    memcpy(generic, y, sizeof generic);
    assert_int_equal(cpu->sum_rows(&ctx, x, native, ROWS, COLS), NERVE_OK);
    assert_int_equal(nerve_generic_sum_rows(&ctx, x, generic, ROWS, COLS), NERVE_OK);
    assert_close(native, generic, COLS);

    assert_int_equal(cpu->mean_rows(&ctx, x, native, ROWS, COLS), NERVE_OK);
    assert_int_equal(nerve_generic_mean_rows(&ctx, x, generic, ROWS, COLS), NERVE_OK);
    assert_close(native, generic, ROWS);

    memcpy(native, y, sizeof native);
    memcpy(generic, y, sizeof generic);
    assert_int_equal(cpu->mean_rows_backward(&ctx, x, native, ROWS, COLS), NERVE_OK);
    assert_int_equal(nerve_generic_mean_rows_backward(&ctx, x, generic, ROWS, COLS), NERVE_OK);
    assert_close(native, generic, COUNT);

    const nerve_real *three[3] = {x, y, x};
    assert_int_equal(cpu->add_forward(&ctx, three, 3, native, COUNT), NERVE_OK);
    assert_int_equal(nerve_generic_add_forward(&ctx, three, 3, generic, COUNT), NERVE_OK);
    assert_close(native, generic, COUNT);

    assert_int_equal(cpu->maxout_forward(&ctx, x, native, argmax, ROWS, COLS), NERVE_OK);
    assert_int_equal(nerve_generic_maxout_forward(&ctx, x, generic, argmax_generic, ROWS, COLS),
                     NERVE_OK);
    assert_close(native, generic, ROWS);
    assert_close(argmax, argmax_generic, ROWS);
    memcpy(native, y, sizeof native);
    memcpy(generic, y, sizeof generic);
    assert_int_equal(cpu->maxout_backward(&ctx, argmax, x, native, ROWS, COLS), NERVE_OK);
    assert_int_equal(nerve_generic_maxout_backward(&ctx, argmax, x, generic, ROWS, COLS), NERVE_OK);
    assert_close(native, generic, COUNT);

    nerve_noise_at at = {.seed = 5, .step = 3, .first_sample = 11, .stream = 2};
    assert_int_equal(cpu->dropout_mask(&ctx, &at, ROWS, COLS, 0.3, native), NERVE_OK);
    assert_int_equal(nerve_generic_dropout_mask(&ctx, &at, ROWS, COLS, 0.3, generic), NERVE_OK);
    assert_memory_equal(native, generic, COUNT * sizeof *native);
    assert_int_equal(cpu->uniform_noise(&ctx, &at, ROWS, COLS, 0.1, 0.4, native), NERVE_OK);
    assert_int_equal(nerve_generic_uniform_noise(&ctx, &at, ROWS, COLS, 0.1, 0.4, generic),
                     NERVE_OK);
    assert_memory_equal(native, generic, COUNT * sizeof *native);

    /* all_finite: a NaN counts only where the mask counts it; more values
     * than one chunk of the generic version. */
    static nerve_real big[3000];
    static unsigned char mask[3000];
    random_values(big, 3000, 3);
    memset(mask, 1, sizeof mask);
    bool finite_native = false, finite_generic = false;
    assert_int_equal(cpu->all_finite(&ctx, big, mask, 3000, &finite_native), NERVE_OK);
    assert_int_equal(nerve_generic_all_finite(&ctx, big, mask, 3000, &finite_generic), NERVE_OK);
    assert_true(finite_native && finite_generic);
    big[2500] = NAN;
    assert_int_equal(cpu->all_finite(&ctx, big, mask, 3000, &finite_native), NERVE_OK);
    assert_int_equal(nerve_generic_all_finite(&ctx, big, mask, 3000, &finite_generic), NERVE_OK);
    assert_false(finite_native || finite_generic);
    mask[2500] = 0;
    assert_int_equal(cpu->all_finite(&ctx, big, mask, 3000, &finite_native), NERVE_OK);
    assert_int_equal(nerve_generic_all_finite(&ctx, big, mask, 3000, &finite_generic), NERVE_OK);
    assert_true(finite_native && finite_generic);
    assert_int_equal(nerve_generic_all_finite(&ctx, big, NULL, 3000, &finite_generic), NERVE_OK);
    assert_false(finite_generic);

    int64_t size = -1;
    nerve_conv_geometry geo = {.channels = 1,
                               .height = 4,
                               .width = 4,
                               .col_channels = 1,
                               .col_height = 2,
                               .col_width = 2,
                               .kernel = {3, 3},
                               .stride = {1, 1},
                               .dilation = {1, 1},
                               .groups = 1};
    assert_int_equal(nerve_generic_conv_workspace(&ctx, &geo, 2, &size), NERVE_OK);
    assert_int_equal(size, 0);
}

/* The CPU device with the kernels of `table` instead of its own. */
static nerve_device device_with(const nerve_kernels *table, const char *name)
{
    nerve_device d = *nerve_device_cpu();
    d.name = name;
    d.kernels = table;
    return d;
}

static void test_supports_tells_native_generic_and_missing(void **state)
{
    nerve_kernels lacking = *nerve_device_cpu()->kernels;
    lacking.fill_rows = NULL;
    lacking.gemm = NULL;
    nerve_device d = device_with(&lacking, "lacking");
    assert_int_equal(nerve_device_supports(nerve_device_cpu(), NERVE_KERNEL_gemm),
                     NERVE_KERNEL_NATIVE);
    assert_int_equal(nerve_device_supports(&d, NERVE_KERNEL_fill_rows), NERVE_KERNEL_GENERIC);
    assert_int_equal(nerve_device_supports(&d, NERVE_KERNEL_gemm), NERVE_KERNEL_MISSING);
    assert_int_equal(nerve_device_supports(&d, NERVE_KERNEL_softmax), NERVE_KERNEL_NATIVE);
    assert_string_equal(nerve_kernel_name(NERVE_KERNEL_gemm), "gemm");
    nerve_kernels completed;
    nerve_kernels_complete(&d, &completed);
    assert_ptr_equal(completed.fill_rows, nerve_generic_fill_rows);
    assert_null(completed.gemm);
}

/* y = x W^T + b on a graph moved to device d before anything is planned. */
static nerve_graph *linear_graph(const nerve_device *d, nerve_node *x, nerve_node *y)
{
    nerve_error err = {0};
    nerve_graph *g = nerve_graph_new();
    g->device = d;
    nerve_kernels_complete(d, &g->kernels);
    g->ctx.device = d;
    *x = nerve_input(g, "x", nerve_shape_1d(3), &err);
    nerve_node w = nerve_param(g, "fc.weight", nerve_shape_2d(2, 3), &err);
    nerve_node b = nerve_param(g, "fc.bias", nerve_shape_1d(2), &err);
    *y = nerve_linear(g, *x, w, b, &err);
    assert_true(*y >= 0);
    test_require_ok(nerve_graph_plan(g, 2, &err), &err);
    return g;
}

static void test_a_missing_kernel_fails_naming_op_node_kernel_and_device(void **state)
{
    nerve_kernels lacking = *nerve_device_cpu()->kernels;
    lacking.gemm = NULL;
    lacking.fill_rows = NULL; /* the generic one runs: through copy_block */
    nerve_device d = device_with(&lacking, "no-gemm");
    nerve_node x, y;
    nerve_graph *g = linear_graph(&d, &x, &y);
    nerve_error err = {0};
    assert_int_equal(nerve_graph_forward(g, y, &err), NERVE_ERR_INVALID);
    assert_non_null(strstr(err.message, "linear"));
    assert_non_null(strstr(err.message, nerve_node_name(g, y)));
    assert_non_null(strstr(err.message, "'gemm'"));
    assert_non_null(strstr(err.message, "'no-gemm'"));
    nerve_graph_free(g);
}

static void test_node_read_and_write_copy_through_the_device(void **state)
{
    nerve_node x, y;
    nerve_graph *g = linear_graph(nerve_device_cpu(), &x, &y);
    nerve_error err = {0};
    const nerve_real in[6] = {1, 2, 3, -1, 0, 4};
    nerve_real out[6] = {0};
    test_require_ok(nerve_node_write(g, x, in, 6, &err), &err);
    test_require_ok(nerve_node_read(g, x, out, 6, &err), &err);
    assert_memory_equal(in, out, sizeof in);
    nerve_node w = nerve_graph_find(g, "fc.weight");
    const nerve_real weight[6] = {1, 0, 0, 0, 1, 0}, bias[2] = {0.5f, -0.5f};
    test_require_ok(nerve_node_write(g, w, weight, 6, &err), &err);
    test_require_ok(nerve_node_write(g, nerve_graph_find(g, "fc.bias"), bias, 2, &err), &err);
    test_require_ok(nerve_graph_forward(g, y, &err), &err);
    test_require_ok(nerve_node_read(g, y, out, 4, &err), &err);
    const nerve_real expected[4] = {1.5f, 1.5f, -0.5f, -0.5f};
    assert_close(expected, out, 4);
    assert_int_equal(nerve_node_read(g, y, out, 5, &err), NERVE_ERR_INVALID);
    assert_non_null(strstr(err.message, "5 values asked, it has 4"));
    assert_int_equal(nerve_node_write(g, 99, in, 1, &err), NERVE_ERR_INVALID);
    nerve_graph_free(g);
}

static void test_forward_on_an_unplanned_graph_fails(void **state)
{
    nerve_error err = {0};
    nerve_graph *g = nerve_graph_new();
    nerve_node x = nerve_input(g, "x", nerve_shape_1d(2), &err);
    nerve_node y = nerve_activate(g, x, NERVE_ACT_RELU, NULL, &err);
    assert_int_equal(nerve_graph_forward(g, y, &err), NERVE_ERR_INVALID);
    assert_non_null(strstr(err.message, "not planned"));
    nerve_real value;
    assert_int_equal(nerve_node_read(g, y, &value, 1, &err), NERVE_ERR_INVALID);
    nerve_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generic_composites_match_the_cpu_kernels),
        cmocka_unit_test(test_supports_tells_native_generic_and_missing),
        cmocka_unit_test(test_a_missing_kernel_fails_naming_op_node_kernel_and_device),
        cmocka_unit_test(test_node_read_and_write_copy_through_the_device),
        cmocka_unit_test(test_forward_on_an_unplanned_graph_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
