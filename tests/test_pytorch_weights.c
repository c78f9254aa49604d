/* Weights move both ways between PyTorch and nerve: a state_dict saved by
 * PyTorch loads into the same network described by a .cfg and gives
 * PyTorch's outputs; nerve saves it back under the same names and shapes. */
#include <string.h>

#include "test_support.h"

static const char *const mlp_cfg =
    "[net]\ninput = 8\nbatch = 2\n"
    "[dense]\nname = fc1\nunits = 16\nactivation = relu\n"
    "[dense]\nname = fc2\nunits = 12\nactivation = tanh\n"
    "[dense]\nname = out\nunits = 4\n";

static nerve_model *load_mlp(void)
{
    const char *path = test_tmppath("mlp.cfg");
    test_write_file(path, mlp_cfg, strlen(mlp_cfg));
    nerve_model *m;
    nerve_error err = {0};
    assert_int_equal(nerve_model_load(path, NULL, &m, &err), NERVE_OK);
    return m;
}

static void test_pytorch_state_dict_gives_pytorch_outputs(void **state)
{
    nerve_model *m = load_mlp();
    nerve_error err = {0};
    assert_int_equal(nerve_model_load_weights(m, test_source_path("tests/fixtures/state_dict.safetensors"), &err),
                     NERVE_OK);
    nerve_safetensors *io;
    assert_int_equal(nerve_safetensors_open(test_source_path("tests/fixtures/state_dict_outputs.safetensors"),
                                            &io, &err),
                     NERVE_OK);
    nerve_shape shape;
    const float *x = nerve_safetensors_get(io, "x", &shape);
    const float *expected = nerve_safetensors_get(io, "probabilities", &shape);
    assert_non_null(x);
    float probabilities[3 * 4];
    /* Three samples through a network planned for batches of two: the last
     * batch is partial. */
    assert_int_equal(nerve_predict(m, x, 3, probabilities, &err), NERVE_OK);
    test_assert_close("probabilities", probabilities, expected, 12, 1e-5);

    nerve_graph *g = nerve_model_graph(m);
    assert_int_equal(nerve_graph_set_batch(g, 2, &err), NERVE_OK);
    memcpy(nerve_node_value(g, nerve_model_input(m)), x, 2 * 8 * sizeof(float));
    assert_int_equal(nerve_graph_forward(g, nerve_model_output(m), NULL), NERVE_OK);
    test_assert_close("logits", nerve_node_value(g, nerve_model_output(m)),
                      nerve_safetensors_get(io, "logits", &shape), 8, 1e-5);
    nerve_safetensors_close(io);
    nerve_model_free(m);
}

static void test_saved_weights_keep_the_state_dict_names_and_values(void **state)
{
    nerve_model *m = load_mlp();
    nerve_error err = {0};
    const char *original = test_source_path("tests/fixtures/state_dict.safetensors");
    const char *saved = test_tmppath("saved.safetensors");
    assert_int_equal(nerve_model_load_weights(m, original, &err), NERVE_OK);
    assert_int_equal(nerve_model_save_weights(m, saved, &err), NERVE_OK);

    nerve_safetensors *a, *b;
    assert_int_equal(nerve_safetensors_open(original, &a, &err), NERVE_OK);
    assert_int_equal(nerve_safetensors_open(saved, &b, &err), NERVE_OK);
    assert_int_equal(nerve_safetensors_count(a), nerve_safetensors_count(b));
    for (int i = 0; i < nerve_safetensors_count(a); i++) {
        const char *name = nerve_safetensors_name(a, i);
        nerve_shape sa, sb;
        const float *va = nerve_safetensors_get(a, name, &sa);
        const float *vb = nerve_safetensors_get(b, name, &sb);
        assert_non_null(vb);
        assert_true(nerve_shape_equal(&sa, &sb));
        assert_memory_equal(va, vb, (size_t)nerve_shape_numel(&sa) * sizeof(float));
    }
    nerve_safetensors_close(a);
    nerve_safetensors_close(b);
    nerve_model_free(m);
}

static void test_weights_of_another_shape_are_refused_by_name(void **state)
{
    const char *wide = "[net]\ninput = 8\n[dense]\nname = fc1\nunits = 17\nactivation = relu\n"
                       "[dense]\nname = fc2\nunits = 12\n[dense]\nname = out\nunits = 4\n";
    const char *path = test_tmppath("wide.cfg");
    test_write_file(path, wide, strlen(wide));
    nerve_model *m;
    nerve_error err = {0};
    assert_int_equal(nerve_model_load(path, NULL, &m, &err), NERVE_OK);
    nerve_graph *g = nerve_model_graph(m);
    nerve_real before = nerve_graph_params(g)[0];
    assert_int_not_equal(nerve_model_load_weights(m, test_source_path("tests/fixtures/state_dict.safetensors"), &err),
                         NERVE_OK);
    test_assert_message_contains(&err, "state_dict.safetensors");
    test_assert_message_contains(&err, "fc1.weight");
    assert_true(nerve_graph_params(g)[0] == before); /* nothing loaded */
    nerve_model_free(m);
}

static void test_bad_metadata_is_refused_before_any_weight_changes(void **state)
{
    nerve_model *m = load_mlp();
    nerve_error err = {0};
    nerve_safetensors *original;
    test_require_ok(nerve_safetensors_open(test_source_path("tests/fixtures/state_dict.safetensors"),
                                           &original, &err),
                    &err);
    nerve_named_tensor tensors[6] = {0};
    int count = nerve_safetensors_count(original);
    assert_int_equal(count, 6);
    for (int i = 0; i < count; i++) {
        tensors[i].name = nerve_safetensors_name(original, i);
        tensors[i].data = nerve_safetensors_get(original, tensors[i].name, &tensors[i].shape);
    }
    const char *const metadata[] = {"nerve.normalize.mean", "not a number", NULL};
    const char *path = test_tmppath("bad_metadata.safetensors");
    test_require_ok(nerve_safetensors_write(path, tensors, count, metadata, &err), &err);
    nerve_safetensors_close(original);

    nerve_graph *g = nerve_model_graph(m);
    nerve_real before = nerve_graph_params(g)[0];
    assert_int_equal(nerve_model_load_weights(m, path, &err), NERVE_ERR_FORMAT);
    test_assert_message_contains(&err, "bad_metadata.safetensors");
    test_assert_message_contains(&err, "nerve.normalize.mean");
    assert_true(nerve_graph_params(g)[0] == before);
    nerve_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pytorch_state_dict_gives_pytorch_outputs),
        cmocka_unit_test(test_saved_weights_keep_the_state_dict_names_and_values),
        cmocka_unit_test(test_weights_of_another_shape_are_refused_by_name),
        cmocka_unit_test(test_bad_metadata_is_refused_before_any_weight_changes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
