/* Batch normalisation, dropout and activation noise against central finite differences, in
 * double precision (this program links the NERVE_F64 engine).
 *
 * Batch norm in training mode is checked through the batch statistics (the
 * full gradient), with running statistics present: a training forward moves
 * them, but the output does not read them, so the many forwards of the check
 * change nothing it measures. Eval mode is checked on its own, against
 * running statistics that stay fixed.
 *
 * Dropout draws a mask at every training forward; nerve_gradcheck starts each
 * forward from the same RNG state, so every forward sees the mask backward
 * used, and the tests assert that the mask really dropped and scaled values. */
#include <string.h>

#include "gradcheck_support.h"

#define GC_TEST(f) cmocka_unit_test_setup_teardown(f, gc_setup, gc_teardown)

typedef struct bn_inputs {
    nerve_node weight, bias, running_mean, running_var, count;
} bn_inputs;

/* weight near 1 and bias near 0 but not at them, so that each matters;
 * running statistics away from the batch's, variance positive. */
static bn_inputs bn_parameters(gc_fixture *f, int64_t channels, bool affine)
{
    bn_inputs in = {-1, -1, -1, -1, -1};
    if (affine) {
        in.weight = gc_random_param(f, "weight", nerve_shape_1d(channels), 1.5, 0.5);
        in.bias = gc_random_param(f, "bias", nerve_shape_1d(channels), 1, 0);
    }
    in.running_mean = nerve_buffer(f->g, "running_mean", nerve_shape_1d(channels), &f->err);
    in.running_var = nerve_buffer(f->g, "running_var", nerve_shape_1d(channels), &f->err);
    in.count = nerve_integer_buffer(f->g, "num_batches_tracked", nerve_shape_make(0, NULL),
                                    &f->err);
    assert_true(in.running_mean >= 0 && in.running_var >= 0 && in.count >= 0);
    for (int64_t c = 0; c < channels; c++) {
        nerve_node_value(f->g, in.running_mean)[c] = 0.3 * (double)c - 0.2;
        nerve_node_value(f->g, in.running_var)[c] = 0.5 + 0.25 * (double)c;
    }
    return in;
}

static void check_batch_norm(gc_fixture *f, int ndim, const int64_t *dims, bool affine,
                             bool training)
{
    nerve_node x = gc_random_param(f, "x", nerve_shape_make(ndim, dims), 2, 0);
    bn_inputs in = bn_parameters(f, dims[1], affine);
    nerve_node y = nerve_batch_norm(f->g, x, in.weight, in.bias, in.running_mean, in.running_var,
                                    in.count, 1e-5, 0.1, &f->err);
    nerve_graph_set_training(f->g, training);
    double worst = gc_check_through_mse(f, y);
    if (worst >= GC_TOLERANCE) print_error("batch_norm: error %g\n", worst);
    assert_true(worst < GC_TOLERANCE);
    /* Training forwards counted; eval forwards left the statistics alone. */
    double count = nerve_node_value(f->g, in.count)[0];
    if (training)
        assert_true(count > 0);
    else
        assert_true(count == 0 && nerve_node_value(f->g, in.running_mean)[0] == -0.2);
}

static const int64_t features[2] = {5, 3}, ncl[3] = {3, 2, 4}, nchw[4] = {2, 3, 2, 3};

static void test_batch_norm_training_2d(void **state)
{
    check_batch_norm(*state, 2, features, true, true);
}

static void test_batch_norm_training_2d_without_affine(void **state)
{
    check_batch_norm(*state, 2, features, false, true);
}

static void test_batch_norm_training_ncl(void **state)
{
    check_batch_norm(*state, 3, ncl, true, true);
}

static void test_batch_norm_training_4d(void **state)
{
    check_batch_norm(*state, 4, nchw, true, true);
}

static void test_batch_norm_training_4d_without_affine(void **state)
{
    check_batch_norm(*state, 4, nchw, false, true);
}

static void test_batch_norm_eval_2d(void **state)
{
    check_batch_norm(*state, 2, features, true, false);
}

static void test_batch_norm_eval_4d(void **state)
{
    check_batch_norm(*state, 4, nchw, true, false);
}

/* Without running statistics eval mode normalises with the batch's too. */
static void test_batch_norm_eval_without_running_statistics(void **state)
{
    gc_fixture *f = *state;
    nerve_node x = gc_random_param(f, "x", nerve_shape_make(4, nchw), 2, 0);
    nerve_node w = gc_random_param(f, "weight", nerve_shape_1d(3), 1.5, 0.5);
    nerve_node b = gc_random_param(f, "bias", nerve_shape_1d(3), 1, 0);
    nerve_node y = nerve_batch_norm(f->g, x, w, b, -1, -1, -1, 1e-3, 0.1, &f->err);
    nerve_graph_set_training(f->g, false);
    assert_true(gc_check_through_mse(f, y) < GC_TOLERANCE);
}

/* Values away from 0, so that a dropped element is told from a kept one. */
static void check_dropout(gc_fixture *f, nerve_node x, nerve_node y, double p)
{
    assert_true(gc_check_through_mse(f, y) < GC_TOLERANCE);
    nerve_shape shape = nerve_node_shape(f->g, x);
    const nerve_real *xv = nerve_node_value(f->g, x), *yv = nerve_node_value(f->g, y);
    int64_t dropped = 0, kept = 0;
    for (int64_t i = 0; i < nerve_shape_numel(&shape); i++) {
        if (yv[i] == 0) {
            dropped++;
        } else {
            assert_true(fabs(yv[i] - xv[i] / (1 - p)) < 1e-12);
            kept++;
        }
    }
    assert_true(dropped > 0 && kept > 0);
}

static void test_dropout(void **state)
{
    gc_fixture *f = *state;
    nerve_node x = gc_random_param(f, "x", nerve_shape_2d(6, 8), 2, 0.1);
    check_dropout(f, x, nerve_dropout(f->g, x, 0.4, &f->err), 0.4);
}

static void test_dropout2d(void **state)
{
    gc_fixture *f = *state;
    int64_t dims[4] = {4, 3, 2, 2};
    nerve_node x = gc_random_param(f, "x", nerve_shape_make(4, dims), 2, 0.1);
    check_dropout(f, x, nerve_dropout2d(f->g, x, 0.5, &f->err), 0.5);
}

static void test_dropout_eval(void **state)
{
    gc_fixture *f = *state;
    nerve_node x = gc_random_param(f, "x", nerve_shape_2d(4, 5), 2, 0);
    nerve_node y = nerve_dropout(f->g, x, 0.5, &f->err);
    nerve_graph_set_training(f->g, false);
    assert_true(gc_check_through_mse(f, y) < GC_TOLERANCE);
}

/* Activation noise: y = x s_j + b_j per unit j, s and b shared by the
 * rows (samples) and within their ranges; the derivative is checked at a
 * fixed step, whose draws are a function of the position. */
static void test_activation_noise(void **state)
{
    gc_fixture *f = *state;
    nerve_node x = gc_random_param(f, "x", nerve_shape_2d(6, 8), 2, 0.1);
    nerve_node y = nerve_activation_noise(f->g, x, 0.3, 0.5, &f->err);
    assert_true(y >= 0);
    assert_true(gc_check_through_mse(f, y) < GC_TOLERANCE);
    const nerve_real *xv = nerve_node_value(f->g, x), *yv = nerve_node_value(f->g, y);
    double scales[8];
    bool moved = false;
    for (int j = 0; j < 8; j++) {
        double s = (yv[j] - yv[8 + j]) / (xv[j] - xv[8 + j]), b = yv[j] - xv[j] * s;
        assert_true(s >= 0.7 - 1e-9 && s <= 1.3 + 1e-9 && fabs(b) <= 0.5 + 1e-9);
        for (int n = 2; n < 6; n++) assert_true(fabs(yv[n * 8 + j] - (xv[n * 8 + j] * s + b)) < 1e-9);
        scales[j] = s;
        moved = moved || fabs(s - 1) > 1e-3;
    }
    assert_true(moved);
    /* Another step draws other scales. */
    nerve_graph_set_position(f->g, 7, 0);
    assert_int_equal(nerve_graph_forward(f->g, y, &f->err), NERVE_OK);
    double s0 = (yv[0] - yv[8]) / (xv[0] - xv[8]);
    assert_true(fabs(s0 - scales[0]) > 1e-9);
}

static void test_activation_noise_eval(void **state)
{
    gc_fixture *f = *state;
    nerve_node x = gc_random_param(f, "x", nerve_shape_2d(4, 5), 2, 0);
    nerve_node y = nerve_activation_noise(f->g, x, 0.3, 0.5, &f->err);
    nerve_graph_set_training(f->g, false);
    assert_true(gc_check_through_mse(f, y) < GC_TOLERANCE);
    const nerve_real *xv = nerve_node_value(f->g, x), *yv = nerve_node_value(f->g, y);
    for (int i = 0; i < 20; i++) assert_true(yv[i] == xv[i]);
    assert_int_equal(nerve_activation_noise(f->g, x, 1, 0, &f->err), -1);
    assert_non_null(strstr(f->err.message, "scale must be in [0, 1)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        GC_TEST(test_batch_norm_training_2d),
        GC_TEST(test_batch_norm_training_2d_without_affine),
        GC_TEST(test_batch_norm_training_ncl),
        GC_TEST(test_batch_norm_training_4d),
        GC_TEST(test_batch_norm_training_4d_without_affine),
        GC_TEST(test_batch_norm_eval_2d),
        GC_TEST(test_batch_norm_eval_4d),
        GC_TEST(test_batch_norm_eval_without_running_statistics),
        GC_TEST(test_dropout),
        GC_TEST(test_dropout2d),
        GC_TEST(test_dropout_eval),
        GC_TEST(test_activation_noise),
        GC_TEST(test_activation_noise_eval),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
