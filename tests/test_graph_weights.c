/* A graph's parameters saved to and loaded from safetensors: names as a
 * PyTorch state_dict, every tensor checked before any value changes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

/* x [4] -> fc1 (3) -> fc2 (2); fc1_out chooses fc1's width so that tests can
 * build a network that disagrees with a saved file. */
typedef struct mlp {
    nerve_graph *g;
    nerve_node fc1_weight, fc1_bias, fc2_weight, fc2_bias;
} mlp;

static mlp build_mlp(int64_t fc1_out, bool with_fc2)
{
    nerve_error err = {0};
    mlp m = {.g = nerve_graph_new(), .fc2_weight = -1, .fc2_bias = -1};
    assert_non_null(m.g);
    nerve_node x = nerve_input(m.g, "x", nerve_shape_1d(4), &err);
    m.fc1_weight = nerve_param(m.g, "fc1.weight", nerve_shape_2d(fc1_out, 4), &err);
    m.fc1_bias = nerve_param(m.g, "fc1.bias", nerve_shape_1d(fc1_out), &err);
    nerve_node h = nerve_linear(m.g, x, m.fc1_weight, m.fc1_bias, &err);
    assert_true(h >= 0);
    if (with_fc2) {
        m.fc2_weight = nerve_param(m.g, "fc2.weight", nerve_shape_2d(2, fc1_out), &err);
        m.fc2_bias = nerve_param(m.g, "fc2.bias", nerve_shape_1d(2), &err);
        assert_true(nerve_linear(m.g, h, m.fc2_weight, m.fc2_bias, &err) >= 0);
    }
    assert_int_equal(nerve_graph_plan(m.g, 2, &err), NERVE_OK);
    return m;
}

static void fill(nerve_graph *g, nerve_node n, float start)
{
    nerve_shape shape = nerve_node_shape(g, n);
    nerve_real *v = nerve_node_value(g, n);
    for (int64_t i = 0; i < nerve_shape_numel(&shape); i++) v[i] = start + 0.25f * (float)i;
}

static void fill_all(const mlp *m, float start)
{
    fill(m->g, m->fc1_weight, start);
    fill(m->g, m->fc1_bias, start + 100);
    if (m->fc2_weight >= 0) {
        fill(m->g, m->fc2_weight, start + 200);
        fill(m->g, m->fc2_bias, start + 300);
    }
}

static void assert_values_equal(mlp *a, nerve_node na, mlp *b, nerve_node nb)
{
    nerve_shape shape = nerve_node_shape(a->g, na);
    assert_memory_equal(nerve_node_value(a->g, na), nerve_node_value(b->g, nb),
                        (size_t)nerve_shape_numel(&shape) * sizeof(nerve_real));
}

static const char *saved_mlp_path(void)
{
    const char *path = test_tmppath("mlp.safetensors");
    mlp m = build_mlp(3, true);
    fill_all(&m, 1.0f);
    nerve_error err = {0};
    assert_int_equal(nerve_graph_save(m.g, path, &err), NERVE_OK);
    nerve_graph_free(m.g);
    return path;
}

static void save_writes_every_parameter_in_node_order(void **state)
{
    (void)state;
    const char *path = saved_mlp_path();
    nerve_safetensors *st = NULL;
    nerve_error err = {0};
    assert_int_equal(nerve_safetensors_open(path, &st, &err), NERVE_OK);
    assert_int_equal(nerve_safetensors_count(st), 4);
    assert_string_equal(nerve_safetensors_name(st, 0), "fc1.weight");
    assert_string_equal(nerve_safetensors_name(st, 1), "fc1.bias");
    assert_string_equal(nerve_safetensors_name(st, 2), "fc2.weight");
    assert_string_equal(nerve_safetensors_name(st, 3), "fc2.bias");
    nerve_shape shape;
    const float *w = nerve_safetensors_get(st, "fc2.weight", &shape);
    assert_int_equal(shape.ndim, 2);
    assert_int_equal(shape.dim[0], 2);
    assert_int_equal(shape.dim[1], 3);
    assert_true(w[0] == 201.0f && w[5] == 201.0f + 5 * 0.25f);
    nerve_safetensors_close(st);
}

static void load_restores_every_parameter(void **state)
{
    (void)state;
    const char *path = saved_mlp_path();
    mlp original = build_mlp(3, true);
    fill_all(&original, 1.0f);
    mlp loaded = build_mlp(3, true);
    fill_all(&loaded, -50.0f);
    nerve_error err = {0};
    assert_int_equal(nerve_graph_load(loaded.g, path, &err), NERVE_OK);
    assert_values_equal(&original, original.fc1_weight, &loaded, loaded.fc1_weight);
    assert_values_equal(&original, original.fc1_bias, &loaded, loaded.fc1_bias);
    assert_values_equal(&original, original.fc2_weight, &loaded, loaded.fc2_weight);
    assert_values_equal(&original, original.fc2_bias, &loaded, loaded.fc2_bias);
    nerve_graph_free(original.g);
    nerve_graph_free(loaded.g);
}

/* On any error the graph keeps the values it had. */
static void assert_load_fails_unchanged(mlp *m, const char *path, nerve_status expected_status,
                                        const char *expected)
{
    size_t count = nerve_graph_param_count(m->g);
    nerve_real *before = malloc(count * sizeof *before + 1);
    assert_non_null(before);
    memcpy(before, nerve_graph_params(m->g), count * sizeof *before);
    nerve_error err = {0};
    assert_int_equal(nerve_graph_load(m->g, path, &err), expected_status);
    test_assert_message_contains(&err, expected);
    assert_null(strchr(err.message, '\n'));
    assert_memory_equal(nerve_graph_params(m->g), before, count * sizeof *before);
    free(before);
}

static void load_rejects_a_shape_that_differs(void **state)
{
    (void)state;
    const char *path = saved_mlp_path();
    mlp wider = build_mlp(5, true);
    fill_all(&wider, 7.0f);
    char expected[600];
    snprintf(expected, sizeof expected,
             "%s: tensor 'fc1.weight' has shape 3x4, the network expects 5x4", path);
    assert_load_fails_unchanged(&wider, path, NERVE_ERR_SHAPE, expected);
    nerve_graph_free(wider.g);
}

static void load_rejects_a_missing_tensor(void **state)
{
    (void)state;
    const char *path = test_tmppath("fc1_only.safetensors");
    mlp small = build_mlp(3, false);
    nerve_error err = {0};
    assert_int_equal(nerve_graph_save(small.g, path, &err), NERVE_OK);
    nerve_graph_free(small.g);

    mlp full = build_mlp(3, true);
    fill_all(&full, 7.0f);
    assert_load_fails_unchanged(&full, path, NERVE_ERR_FORMAT, "no tensor 'fc2.weight'");
    nerve_graph_free(full.g);
}

static void load_rejects_tensors_the_network_lacks(void **state)
{
    (void)state;
    const char *path = saved_mlp_path();
    mlp small = build_mlp(3, false);
    fill_all(&small, 7.0f);
    assert_load_fails_unchanged(&small, path, NERVE_ERR_FORMAT,
                                "2 tensors not in the network: 'fc2.weight', 'fc2.bias'");
    nerve_graph_free(small.g);
}

static void load_rejects_a_foreign_dtype_naming_the_tensor(void **state)
{
    (void)state;
    const char *header = "{\"fc1.weight\":{\"dtype\":\"I64\",\"shape\":[3,4],"
                         "\"data_offsets\":[0,96]}}";
    size_t header_size = strlen(header), size = 8 + header_size + 96;
    unsigned char *bytes = calloc(size, 1);
    assert_non_null(bytes);
    bytes[0] = (unsigned char)header_size;
    memcpy(bytes + 8, header, header_size);
    const char *path = test_tmppath("int.safetensors");
    test_write_file(path, bytes, size);
    free(bytes);

    mlp m = build_mlp(3, false);
    fill_all(&m, 7.0f);
    assert_load_fails_unchanged(&m, path, NERVE_ERR_FORMAT,
                                "tensor 'fc1.weight' is I64, the network expects F32");
    nerve_graph_free(m.g);
}

static void load_reports_a_missing_file(void **state)
{
    (void)state;
    mlp m = build_mlp(3, true);
    assert_load_fails_unchanged(&m, test_tmppath("absent.safetensors"), NERVE_ERR_IO,
                                "absent.safetensors");
    nerve_graph_free(m.g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(save_writes_every_parameter_in_node_order),
        cmocka_unit_test(load_restores_every_parameter),
        cmocka_unit_test(load_rejects_a_shape_that_differs),
        cmocka_unit_test(load_rejects_a_missing_tensor),
        cmocka_unit_test(load_rejects_tensors_the_network_lacks),
        cmocka_unit_test(load_rejects_a_foreign_dtype_naming_the_tensor),
        cmocka_unit_test(load_reports_a_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
