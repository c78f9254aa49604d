/* Batch norm's state moves both ways between PyTorch and nerve: a PyTorch
 * state_dict with its int64 num_batches_tracked (I64) loads into the same
 * network described by a .cfg and gives PyTorch's eval-mode outputs; nerve
 * saves it back with the same names, shapes, values and dtypes. */
#include <stdio.h>
#include <string.h>

#include "test_support.h"

static const char *const norm_cfg =
    "[net]\ninput = 3x4x4\nbatch = 4\n"
    "[batchnorm]\nname = bn1\n"
    "[flatten]\n"
    "[dense]\nname = fc\nunits = 5\n"
    "[batchnorm]\nname = bn2\n"
    "[dense]\nname = out\nunits = 3\n";

static nerve_model *load_norm_net(void)
{
    const char *path = test_tmppath("norm.cfg");
    test_write_file(path, norm_cfg, strlen(norm_cfg));
    nerve_model *m;
    nerve_error err = {0};
    test_require_ok(nerve_model_load(path, NULL, &m, &err), &err);
    return m;
}

static const char *fixture(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "tests/fixtures/%s.safetensors", name);
    return test_source_path(path);
}

/* The eval-mode logits of m for the fixture's x, compared with PyTorch's. */
static void expect_pytorch_logits(nerve_model *m)
{
    nerve_error err = {0};
    nerve_safetensors *io;
    test_require_ok(nerve_safetensors_open(fixture("norm_state_dict_outputs"), &io, &err), &err);
    nerve_shape shape;
    const float *x = nerve_safetensors_get(io, "x", &shape);
    const float *expected = nerve_safetensors_get(io, "logits", &shape);
    nerve_graph *g = nerve_model_graph(m);
    test_require_ok(nerve_graph_plan(g, 4, &err), &err);
    test_require_ok(nerve_graph_set_batch(g, 4, &err), &err);
    nerve_real *input = nerve_node_value(g, nerve_model_input(m));
    for (int64_t i = 0; i < 4 * 48; i++) input[i] = x[i];
    nerve_graph_set_training(g, false);
    assert_int_equal(nerve_graph_forward(g, nerve_model_output(m), NULL), NERVE_OK);
    test_assert_close("logits", nerve_node_value(g, nerve_model_output(m)), expected, 12, 1e-5);
    nerve_safetensors_close(io);
}

static void test_pytorch_batchnorm_state_dict_gives_pytorch_outputs(void **state)
{
    nerve_model *m = load_norm_net();
    nerve_error err = {0};
    test_require_ok(nerve_model_load_weights(m, fixture("norm_state_dict"), &err), &err);
    nerve_graph *g = nerve_model_graph(m);
    assert_true(nerve_node_value(g, nerve_graph_find(g, "bn1.num_batches_tracked"))[0] == 3);
    assert_true(nerve_node_is_buffer(g, nerve_graph_find(g, "bn2.running_var")));
    expect_pytorch_logits(m);
    nerve_model_free(m);
}

/* Every tensor of `saved` is in `original` with the same dtype, shape and values. */
static void expect_same_tensors(const char *saved, const char *original)
{
    nerve_error err = {0};
    nerve_safetensors *a, *b;
    test_require_ok(nerve_safetensors_open(saved, &a, &err), &err);
    test_require_ok(nerve_safetensors_open(original, &b, &err), &err);
    assert_int_equal(nerve_safetensors_count(a), nerve_safetensors_count(b));
    for (int i = 0; i < nerve_safetensors_count(a); i++) {
        const char *name = nerve_safetensors_name(a, i);
        nerve_shape shape_a, shape_b;
        const float *va = nerve_safetensors_get(a, name, &shape_a);
        const float *vb = nerve_safetensors_get(b, name, &shape_b);
        if (!vb) fail_msg("'%s' is not in %s", name, original);
        assert_true(nerve_shape_equal(&shape_a, &shape_b));
        assert_string_equal(nerve_safetensors_dtype(a, name), nerve_safetensors_dtype(b, name));
        assert_memory_equal(va, vb, (size_t)nerve_shape_numel(&shape_a) * sizeof *va);
    }
    nerve_safetensors_close(a);
    nerve_safetensors_close(b);
}

static void test_saved_batchnorm_state_keeps_int64_counts(void **state)
{
    nerve_model *m = load_norm_net();
    nerve_error err = {0};
    const char *saved = test_tmppath("norm_saved.safetensors");
    test_require_ok(nerve_model_load_weights(m, fixture("norm_state_dict"), &err), &err);
    test_require_ok(nerve_model_save_weights(m, saved, &err), &err);
    expect_same_tensors(saved, fixture("norm_state_dict"));

    nerve_safetensors *st;
    test_require_ok(nerve_safetensors_open(saved, &st, &err), &err);
    nerve_shape shape;
    assert_non_null(nerve_safetensors_get(st, "bn2.num_batches_tracked", &shape));
    assert_int_equal(shape.ndim, 0);
    assert_string_equal(nerve_safetensors_dtype(st, "bn2.num_batches_tracked"), "I64");
    nerve_safetensors_close(st);

    nerve_model *again = load_norm_net();
    test_require_ok(nerve_model_load_weights(again, saved, &err), &err);
    expect_pytorch_logits(again);
    nerve_model_free(again);
    nerve_model_free(m);
}

/* A count stored as a float is not PyTorch's state_dict: refused by name. */
static void test_a_float_count_is_refused(void **state)
{
    nerve_error err = {0};
    nerve_safetensors *original;
    test_require_ok(nerve_safetensors_open(fixture("norm_state_dict"), &original, &err), &err);
    int count = nerve_safetensors_count(original);
    nerve_named_tensor tensors[16];
    assert_true(count <= 16);
    for (int i = 0; i < count; i++) {
        tensors[i].name = nerve_safetensors_name(original, i);
        tensors[i].data = nerve_safetensors_get(original, tensors[i].name, &tensors[i].shape);
        tensors[i].dtype = NERVE_DTYPE_F32;
    }
    const char *path = test_tmppath("float_count.safetensors");
    test_require_ok(nerve_safetensors_write(path, tensors, count, NULL, &err), &err);
    nerve_safetensors_close(original);

    nerve_model *m = load_norm_net();
    assert_int_equal(nerve_model_load_weights(m, path, &err), NERVE_ERR_FORMAT);
    test_assert_message_contains(&err, "num_batches_tracked' is F32, the network expects I64");
    nerve_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pytorch_batchnorm_state_dict_gives_pytorch_outputs),
        cmocka_unit_test(test_saved_batchnorm_state_keeps_int64_counts),
        cmocka_unit_test(test_a_float_count_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
