/* Initialisers: each draws from its formula's distribution (mean and
 * variance over a large tensor), orthogonal is orthogonal, the fans, gains,
 * bounds and stds are torch's to the bit (tests/fixtures/init.safetensors),
 * a dense layer starts as nn.Linear does, the cfg spelling parses with every
 * mistake reported at its file:line, and a seed gives the same weights. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

/* A large weight [out, in]: fan_in 1024, fan_out 512. */
#define ROWS 512
#define COLS 1024

typedef struct moments {
    double mean, variance, low, high;
} moments;

static moments moments_of(const nerve_real *w, int64_t n)
{
    moments m = {0, 0, INFINITY, -INFINITY};
    for (int64_t i = 0; i < n; i++) {
        m.mean += w[i];
        m.low = fmin(m.low, w[i]);
        m.high = fmax(m.high, w[i]);
    }
    m.mean /= (double)n;
    for (int64_t i = 0; i < n; i++) m.variance += (w[i] - m.mean) * (w[i] - m.mean);
    m.variance /= (double)n;
    return m;
}

/* Fills a tensor of shape from seed; the caller frees it. */
static nerve_real *filled(const char *spelling, nerve_shape shape, uint64_t seed)
{
    nerve_real *w = malloc((size_t)nerve_shape_numel(&shape) * sizeof *w);
    assert_non_null(w);
    nerve_init init = test_parse_init(spelling);
    nerve_rng rng;
    nerve_rng_seed(&rng, seed);
    nerve_error err = {0};
    test_require_ok(nerve_init_fill(w, shape, &init, &rng, &err), &err);
    return w;
}

/* Every initialiser with the mean and variance of its formula for a
 * [512, 1024] weight (fan_in = 1024, fan_out = 512). */
static const struct {
    const char *spelling;
    double mean, variance;
} formulas[] = {
    {"zeros", 0, 0},
    {"ones", 1, 0},
    {"constant(0.1)", 0.1, 0},
    {"uniform", 0.5, 1.0 / 12},
    {"uniform(-0.5, 1.5)", 0.5, 4.0 / 12},
    {"normal", 0, 1},
    {"normal(1, 0.5)", 1, 0.25},
    {"normal(mean=0, std=0.01)", 0, 1e-4},
    {"xavier_uniform", 0, 2.0 / (COLS + ROWS)},
    {"xavier_uniform(gain=2)", 0, 4 * 2.0 / (COLS + ROWS)},
    {"xavier_normal", 0, 2.0 / (COLS + ROWS)},
    {"xavier_normal(tanh)", 0, 25.0 / 9 * 2.0 / (COLS + ROWS)},
    {"kaiming_uniform", 0, 2.0 / COLS},
    {"he_uniform", 0, 2.0 / COLS},
    {"kaiming_uniform(a=2.2360679774997896)", 0, 1.0 / 3 / COLS},
    {"kaiming_normal(mode=fan_out, nonlinearity=relu)", 0, 2.0 / ROWS},
    {"he_normal(0.2)", 0, 2.0 / 1.04 / COLS},
    {"kaiming_normal(nonlinearity=tanh)", 0, 25.0 / 9 / COLS},
    {"kaiming_uniform(nonlinearity=selu, mode=fan_out)", 0, 9.0 / 16 / ROWS},
    {"kaiming_normal(nonlinearity=sigmoid)", 0, 1.0 / COLS},
    {"lecun_uniform", 0, 1.0 / COLS},
    {"lecun_normal", 0, 1.0 / COLS},
    /* Orthonormal rows of length 1024: the squares of each row sum to 1. */
    {"orthogonal", 0, 1.0 / COLS},
    {"orthogonal(gain=3)", 0, 9.0 / COLS},
};
#define FORMULA_COUNT (int)(sizeof formulas / sizeof formulas[0])

static void test_every_initialiser_has_its_formula_s_mean_and_variance(void **state)
{
    nerve_shape shape = nerve_shape_2d(ROWS, COLS);
    for (int i = 0; i < FORMULA_COUNT; i++) {
        nerve_real *w = filled(formulas[i].spelling, shape, 42);
        moments m = moments_of(w, ROWS * COLS);
        double expected_std = sqrt(formulas[i].variance);
        bool ok = fabs(m.variance - formulas[i].variance) <= 0.02 * formulas[i].variance &&
                  (formulas[i].mean == 0
                       ? fabs(m.mean) <= 0.02 * expected_std
                       : fabs(m.mean - formulas[i].mean) <= 0.02 * fabs(formulas[i].mean));
        nerve_init law;
        nerve_init init = test_parse_init(formulas[i].spelling);
        nerve_error err = {0};
        test_require_ok(nerve_init_resolve(&init, shape, &law, &err), &err);
        if (law.kind == NERVE_INIT_UNIFORM) /* every draw inside the bounds */
            ok = ok && m.low >= (nerve_real)law.a && m.high <= (nerve_real)law.b;
        if (law.kind == NERVE_INIT_CONSTANT) ok = ok && m.low == m.high;
        if (!ok)
            fail_msg("%s: mean %.6g variance %.6g [%.4g, %.4g]; expected mean %.6g variance %.6g",
                     formulas[i].spelling, m.mean, m.variance, m.low, m.high, formulas[i].mean,
                     formulas[i].variance);
        free(w);
    }
}

/* W W^T = gain^2 I for a wide weight, W^T W = gain^2 I for a tall one. */
static void assert_orthogonal(const char *spelling, nerve_shape shape, double gain)
{
    int64_t rows = shape.dim[0], cols = nerve_shape_numel(&shape) / rows;
    nerve_real *w = filled(spelling, shape, 3);
    bool wide = rows <= cols;
    int64_t n = wide ? rows : cols, length = wide ? cols : rows;
    double worst = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j <= i; j++) {
            double dot = 0;
            for (int64_t k = 0; k < length; k++)
                dot += wide ? (double)w[i * cols + k] * w[j * cols + k]
                            : (double)w[k * cols + i] * w[k * cols + j];
            worst = fmax(worst, fabs(dot - (i == j ? gain * gain : 0)));
        }
    if (worst > 1e-5 * gain * gain)
        fail_msg("%s on %lldx%lld: off by %.3g from gain^2 I", spelling, (long long)rows,
                 (long long)cols, worst);
    free(w);
}

static void test_orthogonal_rows_or_columns_are_orthonormal(void **state)
{
    assert_orthogonal("orthogonal", nerve_shape_2d(64, 200), 1);  /* wide: W W^T */
    assert_orthogonal("orthogonal", nerve_shape_2d(200, 64), 1);  /* tall: W^T W */
    assert_orthogonal("orthogonal", nerve_shape_2d(50, 50), 1);
    assert_orthogonal("orthogonal", nerve_shape_2d(1, 10), 1);
    assert_orthogonal("orthogonal", nerve_shape_2d(10, 1), 1);
    assert_orthogonal("orthogonal(2)", nerve_shape_2d(30, 70), 2);
    assert_orthogonal("orthogonal(gain=relu)", nerve_shape_2d(70, 30), sqrt(2.0));
    const int64_t conv[] = {8, 3, 3, 3}; /* rows 8, columns 3*3*3 */
    assert_orthogonal("orthogonal(0.5)", nerve_shape_make(4, conv), 0.5);
}

/* ---------------------------------------------------------------- torch's numbers */

static nerve_safetensors *open_fixture(void);

/* eye is torch's eye_, wide and tall; it takes matrices only. */
static void test_eye_is_torch_s_identity(void **state)
{
    nerve_safetensors *st = open_fixture();
    const char *names[] = {"eye.3x5", "eye.5x3"};
    nerve_shape shapes[] = {nerve_shape_2d(3, 5), nerve_shape_2d(5, 3)};
    for (int i = 0; i < 2; i++) {
        nerve_shape shape;
        const float *expected = nerve_safetensors_get(st, names[i], &shape);
        assert_non_null(expected);
        nerve_real *w = filled("eye", shapes[i], 3);
        test_assert_close(names[i], w, expected, 15, 0);
        free(w);
    }
    nerve_safetensors_close(st);
    nerve_init eye = test_parse_init("eye"), law;
    nerve_error err = {0};
    const int64_t conv[] = {4, 2, 3, 3};
    assert_int_equal(nerve_init_resolve(&eye, nerve_shape_1d(4), &law, &err), NERVE_ERR_SHAPE);
    assert_int_equal(nerve_init_resolve(&eye, nerve_shape_make(4, conv), &law, &err),
                     NERVE_ERR_SHAPE);
    test_assert_message_contains(&err, "eye needs a matrix");
}

static float fixture_value(const nerve_safetensors *st, const char *name)
{
    nerve_shape shape;
    const float *v = nerve_safetensors_get(st, name, &shape);
    if (!v) fail_msg("init.safetensors has no '%s'", name);
    return v[0];
}

static nerve_safetensors *open_fixture(void)
{
    nerve_safetensors *st;
    nerve_error err = {0};
    test_require_ok(nerve_safetensors_open(test_source_path("tests/fixtures/init.safetensors"),
                                           &st, &err),
                    &err);
    return st;
}

/* Compares in float32, the precision the fixture keeps: the same double
 * computed in the same order rounds to the same float. */
static void expect_torch(const nerve_safetensors *st, const char *name, double nerve_value)
{
    float expected = fixture_value(st, name);
    if ((float)nerve_value != expected)
        fail_msg("%s: nerve %.9g, torch %.9g", name, (float)nerve_value, expected);
}

static void test_gains_are_torch_s_calculate_gain(void **state)
{
    nerve_safetensors *st = open_fixture();
    expect_torch(st, "gain.linear", nerve_init_gain(NERVE_NONLINEARITY_LINEAR, 0));
    expect_torch(st, "gain.sigmoid", nerve_init_gain(NERVE_NONLINEARITY_SIGMOID, 0));
    expect_torch(st, "gain.tanh", nerve_init_gain(NERVE_NONLINEARITY_TANH, 0));
    expect_torch(st, "gain.relu", nerve_init_gain(NERVE_NONLINEARITY_RELU, 0));
    expect_torch(st, "gain.selu", nerve_init_gain(NERVE_NONLINEARITY_SELU, 0));
    expect_torch(st, "gain.leaky_relu", nerve_init_gain(NERVE_NONLINEARITY_LEAKY_RELU, 0.01));
    expect_torch(st, "gain.leaky_relu_0.2", nerve_init_gain(NERVE_NONLINEARITY_LEAKY_RELU, 0.2));
    /* A gain spelt as a nonlinearity is its calculate_gain value. */
    expect_torch(st, "gain.leaky_relu", test_parse_init("xavier_normal(gain=leaky_relu)").gain);
    nerve_safetensors_close(st);
}

/* The fixture's cases (tests/reference/fixtures_init.py) in the cfg spelling. */
static const struct {
    const char *fixture_case, *spelling;
} torch_cases[] = {
    {"xavier_uniform", "xavier_uniform"},
    {"xavier_normal", "xavier_normal()"},
    {"xavier_uniform_tanh", "xavier_uniform(gain=tanh)"},
    {"kaiming_uniform", "kaiming_uniform"},
    {"kaiming_normal_fan_out_relu", "kaiming_normal(mode=fan_out, nonlinearity=relu)"},
    {"kaiming_uniform_leaky_0.2", "kaiming_uniform(0.2)"},
    {"kaiming_normal_selu", "he_normal(nonlinearity=selu)"},
    {"kaiming_uniform_tanh_fan_out", "kaiming_uniform(0, fan_out, tanh)"},
    {"lecun_uniform", "lecun_uniform"},
    {"lecun_normal", "lecun_normal"},
};
#define TORCH_CASE_COUNT (int)(sizeof torch_cases / sizeof torch_cases[0])

/* The law's two numbers against torch's: low/high for uniform, mean/std for normal. */
static void expect_law(const nerve_safetensors *st, const char *prefix, const nerve_init *law)
{
    char name[200];
    bool uniform = law->kind == NERVE_INIT_UNIFORM;
    snprintf(name, sizeof name, "%s%s", prefix, uniform ? "low" : "mean");
    expect_torch(st, name, uniform ? law->a : law->mean);
    snprintf(name, sizeof name, "%s%s", prefix, uniform ? "high" : "std");
    expect_torch(st, name, uniform ? law->b : law->std);
}

static void test_fans_bounds_and_stds_are_torch_s(void **state)
{
    static const int64_t shapes[][4] = {{256, 784}, {10, 128}, {3, 7}, {1, 5}, {16, 3, 5, 5}};
    static const int ndims[] = {2, 2, 2, 2, 4};
    nerve_safetensors *st = open_fixture();
    nerve_error err = {0};
    for (int s = 0; s < 5; s++) {
        nerve_shape shape = nerve_shape_make(ndims[s], shapes[s]);
        char dims[64], prefix[160];
        nerve_shape_format(&shape, dims, sizeof dims);
        int64_t fan_in, fan_out;
        test_require_ok(nerve_init_fans(shape, &fan_in, &fan_out, &err), &err);
        snprintf(prefix, sizeof prefix, "%s.fan_in", dims);
        expect_torch(st, prefix, (double)fan_in);
        snprintf(prefix, sizeof prefix, "%s.fan_out", dims);
        expect_torch(st, prefix, (double)fan_out);
        for (int c = 0; c < TORCH_CASE_COUNT; c++) {
            nerve_init init = test_parse_init(torch_cases[c].spelling), law;
            test_require_ok(nerve_init_resolve(&init, shape, &law, &err), &err);
            snprintf(prefix, sizeof prefix, "%s.%s.", dims, torch_cases[c].fixture_case);
            expect_law(st, prefix, &law);
        }
        if (shape.ndim != 2) continue;
        /* nn.Linear(in, out).reset_parameters */
        nerve_init weight = nerve_dense_default_weight_init(), bias, law;
        test_require_ok(nerve_init_resolve(&weight, shape, &law, &err), &err);
        snprintf(prefix, sizeof prefix, "%s.linear.weight.", dims);
        expect_law(st, prefix, &law);
        bias = nerve_dense_default_bias_init(fan_in);
        test_require_ok(nerve_init_resolve(&bias, nerve_shape_1d(shape.dim[0]), &law, &err), &err);
        snprintf(prefix, sizeof prefix, "%s.linear.bias.", dims);
        expect_law(st, prefix, &law);
    }
    nerve_safetensors_close(st);
}

/* ---------------------------------------------------------------- dense defaults */

/* A dense layer in -> units with the given initialisers; returns its graph. */
static nerve_graph *dense_layer(int64_t in, int64_t units, const char *init,
                                const char *bias_init)
{
    nerve_error err = {0};
    nerve_graph *g = nerve_graph_new();
    nerve_rng rng;
    nerve_rng_seed(&rng, 11);
    nerve_node x = test_require_node(nerve_input(g, "x", nerve_shape_1d(in), &err), &err);
    nerve_dense_options options = {.units = units, .init = test_parse_init(init),
                                   .bias_init = test_parse_init(bias_init)};
    test_require_node(nerve_dense(g, "fc", x, &options, &rng, &err), &err);
    return g;
}

/* Draws from U(-bound, bound): inside it, reaching near both ends, with
 * variance bound^2 / 3. */
static void assert_uniform_within(const char *name, const nerve_real *w, int64_t n, double bound)
{
    moments m = moments_of(w, n);
    double variance = bound * bound / 3;
    if (m.low < -(nerve_real)bound || m.high > (nerve_real)bound || m.low > -0.99 * bound ||
        m.high < 0.99 * bound || fabs(m.variance - variance) > 0.02 * variance ||
        fabs(m.mean) > 0.02 * sqrt(variance))
        fail_msg("%s: [%.6g, %.6g] mean %.4g variance %.6g; expected U(+-%.6g), variance %.6g",
                 name, m.low, m.high, m.mean, m.variance, bound, variance);
}

static void test_dense_defaults_are_pytorch_linear_s(void **state)
{
    /* 65536 units give the bias enough draws for its statistics. */
    const int64_t in = 16, units = 65536;
    nerve_graph *g = dense_layer(in, units, "default", "default");
    assert_uniform_within("fc.weight", nerve_node_value(g, nerve_graph_find(g, "fc.weight")),
                          in * units, 1 / sqrt((double)in));
    assert_uniform_within("fc.bias", nerve_node_value(g, nerve_graph_find(g, "fc.bias")), units,
                          1 / sqrt((double)in));
    nerve_graph_free(g);
}

static void test_the_bias_keeps_its_default_whatever_the_weight_s_initialiser(void **state)
{
    const int64_t in = 16, units = 65536;
    nerve_graph *g = dense_layer(in, units, "zeros", "default");
    assert_uniform_within("fc.bias", nerve_node_value(g, nerve_graph_find(g, "fc.bias")), units,
                          1 / sqrt((double)in));
    nerve_graph_free(g);

    g = dense_layer(4, 3, "xavier_uniform", "constant(0.5)");
    const nerve_real *b = nerve_node_value(g, nerve_graph_find(g, "fc.bias"));
    for (int i = 0; i < 3; i++) assert_true(b[i] == 0.5f);
    nerve_graph_free(g);
}

static void test_a_layer_without_bias_refuses_a_bias_initialiser(void **state)
{
    nerve_error err = {0};
    nerve_graph *g = nerve_graph_new();
    nerve_rng rng;
    nerve_rng_seed(&rng, 1);
    nerve_node x = test_require_node(nerve_input(g, "x", nerve_shape_1d(3), &err), &err);
    nerve_dense_options options = {.units = 2, .no_bias = true,
                                   .bias_init = test_parse_init("zeros")};
    assert_true(nerve_dense(g, "fc", x, &options, &rng, &err) < 0);
    test_assert_message_contains(&err, "bias_init given for a layer without a bias");
    nerve_graph_free(g);
}

/* ---------------------------------------------------------------- the C API */

static void test_parse_reads_positional_and_keyword_arguments(void **state)
{
    nerve_init init = test_parse_init("  normal ( 0.5 , std = 0.25 ) ");
    assert_int_equal(init.kind, NERVE_INIT_NORMAL);
    assert_true(init.mean == 0.5 && init.std == 0.25);
    init = test_parse_init("kaiming_normal(0.1, fan_out)");
    assert_int_equal(init.kind, NERVE_INIT_KAIMING_NORMAL);
    assert_true(init.a == 0.1);
    assert_int_equal(init.mode, NERVE_FAN_OUT);
    assert_int_equal(init.nonlinearity, NERVE_NONLINEARITY_LEAKY_RELU); /* torch's default */
    init = test_parse_init("he_uniform(nonlinearity=relu)");
    assert_int_equal(init.kind, NERVE_INIT_KAIMING_UNIFORM);
    assert_int_equal(init.nonlinearity, NERVE_NONLINEARITY_RELU);
    assert_string_equal(nerve_init_kind_name(init.kind), "kaiming_uniform");
    init = test_parse_init("uniform(b=2)");
    assert_true(init.a == 0 && init.b == 2);
    init = test_parse_init("orthogonal(gain=tanh)");
    assert_true(init.gain == 5.0 / 3);
    assert_int_equal(test_parse_init("zeros()").kind, NERVE_INIT_ZEROS);
    assert_int_equal(test_parse_init("default").kind, NERVE_INIT_DEFAULT);
    assert_true(test_parse_init("constant(-1e-3)").val == -1e-3);
}

static void test_resolve_refuses_what_torch_refuses(void **state)
{
    nerve_init law, init = test_parse_init("xavier_uniform");
    nerve_error err = {0};
    assert_int_not_equal(nerve_init_resolve(&init, nerve_shape_1d(10), &law, &err), NERVE_OK);
    test_assert_message_contains(&err, "xavier_uniform needs a weight of at least 2 dimensions");
    init = test_parse_init("orthogonal");
    assert_int_not_equal(nerve_init_resolve(&init, nerve_shape_1d(10), &law, &err), NERVE_OK);
    init = nerve_init_of(NERVE_INIT_DEFAULT);
    assert_int_not_equal(nerve_init_resolve(&init, nerve_shape_2d(2, 2), &law, &err), NERVE_OK);
    test_assert_message_contains(&err, "the layer type decides");
    init = nerve_init_of(NERVE_INIT_NORMAL);
    init.std = -1;
    assert_int_not_equal(nerve_init_resolve(&init, nerve_shape_2d(2, 2), &law, &err), NERVE_OK);
    test_assert_message_contains(&err, "std (-1) is negative");
    init = nerve_init_of(NERVE_INIT_UNIFORM);
    assert_int_equal(nerve_init_resolve(&init, nerve_shape_1d(3), &law, &err), NERVE_OK);
    assert_true(law.kind == NERVE_INIT_UNIFORM && law.a == 0 && law.b == 1);
}

/* ---------------------------------------------------------------- the cfg */

static const char *const cfg_head =
    "[net]\n"              /* 1 */
    "input = 6\n"          /* 2 */
    "seed = 5\n"           /* 3 */
    "\n"                   /* 4 */
    "[dense]\n"            /* 5 */
    "name = hidden\n"      /* 6 */
    "units = 8\n"          /* 7 */
    "activation = relu\n"; /* 8 */
static const char *const cfg_tail =
    "\n"                   /* after the extra lines */
    "[dense]\n"
    "name = out\n"
    "units = 3\n";

/* base cfg with `extra` (lines 9...) in [dense] hidden. */
static nerve_status load_cfg(const char *extra, const char *const *overrides, nerve_model **m,
                             nerve_error *err)
{
    char text[2048];
    snprintf(text, sizeof text, "%s%s%s", cfg_head, extra, cfg_tail);
    const char *path = test_tmppath("model.cfg");
    test_write_file(path, text, strlen(text));
    return nerve_model_load(path, overrides, m, err);
}

static const nerve_real *param(nerve_model *m, const char *name)
{
    nerve_graph *g = nerve_model_graph(m);
    nerve_node n = nerve_graph_find(g, name);
    if (n < 0) fail_msg("no parameter '%s'", name);
    return nerve_node_value(g, n);
}

static void test_cfg_keys_set_weight_and_bias(void **state)
{
    nerve_model *m;
    nerve_error err = {0};
    const char *extra = "init = constant(0.25)\nbias_init = constant(val=-1)\n";
    test_require_ok(load_cfg(extra, NULL, &m, &err), &err);
    for (int i = 0; i < 8 * 6; i++) assert_true(param(m, "hidden.weight")[i] == 0.25f);
    for (int i = 0; i < 8; i++) assert_true(param(m, "hidden.bias")[i] == -1.0f);
    nerve_model_free(m);

    const char *const overrides[] = {"hidden.init=kaiming_normal(mode=fan_out, nonlinearity=relu)",
                                     "hidden.bias_init=zeros", NULL};
    test_require_ok(load_cfg("", overrides, &m, &err), &err);
    for (int i = 0; i < 8; i++) assert_true(param(m, "hidden.bias")[i] == 0);
    nerve_model_free(m);
}

static void test_cfg_names_of_earlier_releases_still_load(void **state)
{
    static const char *const names[] = {"default", "zeros", "xavier_uniform", "xavier_normal",
                                        "he_uniform", "he_normal"};
    for (int i = 0; i < 6; i++) {
        char extra[64];
        snprintf(extra, sizeof extra, "init = %s\n", names[i]);
        nerve_model *m;
        nerve_error err = {0};
        test_require_ok(load_cfg(extra, NULL, &m, &err), &err);
        nerve_model_free(m);
    }
}

/* [net] init is the init of every layer that sets none; a layer's own
 * init wins, and biases keep their default. --set net.init works too. */
static void test_net_init_is_every_layer_s_default(void **state)
{
    nerve_model *m;
    nerve_error err = {0};
    const char *const constant[] = {"net.init=constant(0.5)", NULL};
    test_require_ok(load_cfg("", constant, &m, &err), &err);
    for (int i = 0; i < 8 * 6; i++) assert_true(param(m, "hidden.weight")[i] == 0.5f);
    for (int i = 0; i < 3 * 8; i++) assert_true(param(m, "out.weight")[i] == 0.5f);
    /* nn.Linear's bias: uniform within 1/sqrt(fan_in), never 0.5 */
    for (int i = 0; i < 8; i++) assert_true(fabsf(param(m, "hidden.bias")[i]) <= 1 / sqrtf(6.f));
    nerve_model_free(m);

    test_require_ok(load_cfg("init = zeros\n", constant, &m, &err), &err);
    for (int i = 0; i < 8 * 6; i++) assert_true(param(m, "hidden.weight")[i] == 0);
    for (int i = 0; i < 3 * 8; i++) assert_true(param(m, "out.weight")[i] == 0.5f);
    nerve_model_free(m);

    const char *const bad[] = {"net.init=xavier_unifrom", NULL};
    assert_int_equal(load_cfg("", bad, &m, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "model.cfg (--set): [net] init: unknown initialiser "
                                       "'xavier_unifrom'");
}

/* examples/initialisers.cfg builds with the initialisers it names. */
static void test_the_example_cfg_builds(void **state)
{
    nerve_model *m;
    nerve_error err = {0};
    test_require_ok(nerve_model_load(test_source_path("examples/initialisers.cfg"), NULL, &m, &err),
                    &err);
    const nerve_real *w = param(m, "fc1.weight");
    double row_norm2 = 0; /* orthogonal(gain=relu): rows of squared norm 2 */
    for (int i = 0; i < 784; i++) row_norm2 += (double)w[i] * w[i];
    assert_float_equal(row_norm2, 2, 1e-5);
    for (int i = 0; i < 128; i++) assert_true(param(m, "fc1.bias")[i] == 0);
    for (int i = 0; i < 64; i++) assert_true(param(m, "fc2.bias")[i] == 0.01f);
    nerve_model_free(m);
}

/* Each mistake, the lines it adds to [dense] hidden (from line 9), and the
 * message it must produce. */
static const struct {
    const char *extra, *message;
} cfg_errors[] = {
    {"init = xavier_unifrom\n",
     "model.cfg:9: [dense] init: unknown initialiser 'xavier_unifrom' (one of: default, zeros"},
    {"bias = 1\ninit = normal(0, sdt=1)\n",
     "model.cfg:10: [dense] init: normal has no argument 'sdt' (it takes at most 2 arguments "
     "(mean, std))"},
    {"init = normal(0, 0.0l)\n",
     "model.cfg:9: [dense] init: normal: std: '0.0l' is not a finite number"},
    {"init = constant(nan)\n",
     "model.cfg:9: [dense] init: constant: val: 'nan' is not a finite number"},
    {"init = constant(1, 2)\n",
     "model.cfg:9: [dense] init: constant takes at most 1 argument (val); '2' is one too many"},
    {"init = zeros(1)\n", "model.cfg:9: [dense] init: zeros takes no arguments"},
    {"init = normal(0, mean=1)\n",
     "model.cfg:9: [dense] init: normal: argument 'mean' given twice"},
    {"init = normal(std=1, 0)\n",
     "model.cfg:9: [dense] init: normal: positional argument '0' after a keyword argument"},
    {"init = constant\n", "model.cfg:9: [dense] init: constant requires the argument 'val'"},
    {"init = constant()\n", "model.cfg:9: [dense] init: constant requires the argument 'val'"},
    {"init = normal(0,)\n", "model.cfg:9: [dense] init: normal: an argument is empty"},
    {"init = normal(0, std=)\n", "model.cfg:9: [dense] init: normal: std: no value after '='"},
    {"init = normal(0, 1\n", "model.cfg:9: [dense] init: 'normal(0, 1': missing ')'"},
    {"init = normal(0, 1) x\n",
     "model.cfg:9: [dense] init: 'normal(0, 1) x': unexpected 'x' after ')'"},
    {"init = kaiming_normal(mode=fan_inn)\n",
     "model.cfg:9: [dense] init: kaiming_normal: mode: 'fan_inn' is not one of: fan_in, fan_out"},
    {"init = he_uniform(nonlinearity=swish)\n",
     "model.cfg:9: [dense] init: he_uniform: nonlinearity: 'swish' is not one of: linear, "
     "sigmoid, tanh, relu, leaky_relu, selu"},
    {"init = xavier_uniform(gain=tan)\n",
     "model.cfg:9: [dense] init: xavier_uniform: gain: 'tan' is neither a number nor a "
     "nonlinearity"},
    {"init = kaiming_normal(a=0.1, nonlinearity=relu)\n",
     "model.cfg:9: [dense] init: kaiming_normal: a (leaky_relu's negative slope) only applies with "
     "nonlinearity leaky_relu, not relu"},
    {"init = normal(0, -1)\n", "model.cfg:9: [dense] init: normal: std (-1) is negative"},
    {"init = uniform(1, 0)\n", "model.cfg:9: [dense] init: uniform: a (1) is greater than b (0)"},
    {"bias_init = xavier_uniform\n",
     "model.cfg:9: [dense] bias_init: xavier_uniform needs a weight of at least 2 dimensions, "
     "not a tensor of shape [8]"},
    {"bias = 0\nbias_init = zeros\n",
     "model.cfg:10: [dense] bias_init: the layer has no bias (bias = 0)"},
    {"bias_init = orthogonal\n", "model.cfg:9: [dense] bias_init: orthogonal needs a weight"},
};
#define CFG_ERROR_COUNT (int)(sizeof cfg_errors / sizeof cfg_errors[0])

static void test_cfg_mistakes_name_file_line_and_what_is_wrong(void **state)
{
    for (int i = 0; i < CFG_ERROR_COUNT; i++) {
        nerve_model *m = NULL;
        nerve_error err = {0};
        assert_int_not_equal(load_cfg(cfg_errors[i].extra, NULL, &m, &err), NERVE_OK);
        assert_null(m);
        test_assert_message_contains(&err, cfg_errors[i].message);
    }
}

static void test_cfg_mistake_in_an_override_says_set(void **state)
{
    const char *const overrides[] = {"hidden.init=normal(0, x)", NULL};
    nerve_model *m = NULL;
    nerve_error err = {0};
    assert_int_not_equal(load_cfg("", overrides, &m, &err), NERVE_OK);
    test_assert_message_contains(&err, "model.cfg (--set): [dense] init: normal: std: 'x' is not a "
                                       "finite number");
}

/* ---------------------------------------------------------------- reproducibility */

static void test_the_same_seed_gives_the_same_weights(void **state)
{
    nerve_shape shape = nerve_shape_2d(40, 70);
    for (int i = 0; i < FORMULA_COUNT; i++) {
        nerve_real *first = filled(formulas[i].spelling, shape, 9);
        nerve_real *again = filled(formulas[i].spelling, shape, 9);
        nerve_real *other = filled(formulas[i].spelling, shape, 10);
        size_t bytes = 40 * 70 * sizeof *first;
        if (memcmp(first, again, bytes) != 0)
            fail_msg("%s: seed 9 twice differs", formulas[i].spelling);
        if (formulas[i].variance > 0 && memcmp(first, other, bytes) == 0)
            fail_msg("%s: seeds 9 and 10 give the same weights", formulas[i].spelling);
        free(first), free(again), free(other);
    }
}

static void test_the_net_seed_reproduces_a_model_s_weights(void **state)
{
    const char *const seed6[] = {"net.seed=6", NULL};
    nerve_model *a, *b, *c;
    nerve_error err = {0};
    const char *extra = "init = orthogonal\nbias_init = normal(0, 0.1)\n";
    test_require_ok(load_cfg(extra, NULL, &a, &err), &err);
    test_require_ok(load_cfg(extra, NULL, &b, &err), &err);
    test_require_ok(load_cfg(extra, seed6, &c, &err), &err);
    size_t count = nerve_graph_param_count(nerve_model_graph(a));
    size_t bytes = count * sizeof(nerve_real);
    assert_memory_equal(nerve_graph_params(nerve_model_graph(a)),
                        nerve_graph_params(nerve_model_graph(b)), bytes);
    assert_memory_not_equal(nerve_graph_params(nerve_model_graph(a)),
                            nerve_graph_params(nerve_model_graph(c)), bytes);
    nerve_model_free(a);
    nerve_model_free(b);
    nerve_model_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_initialiser_has_its_formula_s_mean_and_variance),
        cmocka_unit_test(test_orthogonal_rows_or_columns_are_orthonormal),
        cmocka_unit_test(test_eye_is_torch_s_identity),
        cmocka_unit_test(test_gains_are_torch_s_calculate_gain),
        cmocka_unit_test(test_fans_bounds_and_stds_are_torch_s),
        cmocka_unit_test(test_dense_defaults_are_pytorch_linear_s),
        cmocka_unit_test(test_the_bias_keeps_its_default_whatever_the_weight_s_initialiser),
        cmocka_unit_test(test_a_layer_without_bias_refuses_a_bias_initialiser),
        cmocka_unit_test(test_parse_reads_positional_and_keyword_arguments),
        cmocka_unit_test(test_resolve_refuses_what_torch_refuses),
        cmocka_unit_test(test_cfg_keys_set_weight_and_bias),
        cmocka_unit_test(test_cfg_names_of_earlier_releases_still_load),
        cmocka_unit_test(test_net_init_is_every_layer_s_default),
        cmocka_unit_test(test_the_example_cfg_builds),
        cmocka_unit_test(test_cfg_mistakes_name_file_line_and_what_is_wrong),
        cmocka_unit_test(test_cfg_mistake_in_an_override_says_set),
        cmocka_unit_test(test_the_same_seed_gives_the_same_weights),
        cmocka_unit_test(test_the_net_seed_reproduces_a_model_s_weights),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
