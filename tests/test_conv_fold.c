/* Folds (src/core/fold.c). In a forward-only plan, a batch norm in eval
 * mode that alone reads a convolution's output is folded into the
 * convolution's weight and bias, and a ReLU after a convolution (or its
 * folded batch norm) or a sum into it: the outputs agree with the unfolded
 * ones (a training plan in eval mode) to float rounding; a forward that stops at the
 * convolution, a training-mode forward, a batch norm without running
 * statistics and a convolution read twice are left alone (bit for bit). In a
 * training plan the ReLU after a batch norm or a sum is written by the
 * batch norm's or the sum's forward, and a batch norm alone reading a
 * convolution's output runs in the convolution's forward and backward: a
 * training step's loss and gradients are the same bits as without the
 * folds (a graph that keeps its gradients) where the convolutions keep
 * NCHW, and agree to float rounding where the CPU keeps their outputs in
 * oneDNN's blocked layout (16 channels). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/blocked16.h"
#include "backends/device.h"
#include "core/graph_internal.h"
#include "test_support.h"

#define BATCH 3
#define C_IN 3
#define SIDE 9

typedef struct net {
    nerve_graph *g;
    nerve_node x, conv1, bn1, conv2, bn2, conv3, bn3, sum, plain_conv, plain_bn, conv5, out;
} net;

static nerve_node conv(net *n, const char *name, nerve_node x, int64_t filters, int64_t groups,
                       bool bias, nerve_rng *rng)
{
    nerve_error err = {0};
    nerve_conv_layer_options o = nerve_conv_layer_options_default();
    o.filters = filters;
    o.kernel[0] = o.kernel[1] = 3;
    o.conv.padding[0] = o.conv.padding[1] = 1;
    o.conv.groups = groups;
    o.no_bias = !bias;
    return test_require_node(nerve_conv2d_layer(n->g, name, x, &o, rng, &err), &err);
}

static nerve_node batchnorm(net *n, const char *name, nerve_node x, bool running_stats)
{
    nerve_error err = {0};
    nerve_batchnorm_options o = nerve_batchnorm_defaults();
    o.no_running_stats = !running_stats;
    return test_require_node(nerve_batchnorm_layer(n->g, name, x, &o, &err), &err);
}

/* conv1 (bias) -> bn1 -> relu -> conv2 (groups 2, no bias) -> bn2, then
 * conv3 -> bn3, conv3 also added to bn3 (read twice: no fold) and a ReLU
 * over the sum, a batch norm without running statistics after its own
 * convolution, and conv5 -> relu. */
static net build(void)
{
    net n;
    nerve_error err = {0};
    nerve_rng rng;
    nerve_rng_seed(&rng, 11);
    n.g = nerve_graph_new();
    assert_non_null(n.g);
    int64_t dims[3] = {C_IN, SIDE, SIDE};
    n.x = test_require_node(nerve_input(n.g, "x", nerve_shape_make(3, dims), &err), &err);
    n.conv1 = conv(&n, "conv1", n.x, 4, 1, true, &rng);
    n.bn1 = batchnorm(&n, "bn1", n.conv1, true);
    nerve_node act = test_require_node(nerve_activate(n.g, n.bn1, NERVE_ACT_RELU, NULL, &err), &err);
    n.conv2 = conv(&n, "conv2", act, 6, 2, false, &rng);
    n.bn2 = batchnorm(&n, "bn2", n.conv2, true);
    n.conv3 = conv(&n, "conv3", n.bn2, 6, 1, true, &rng);
    n.bn3 = batchnorm(&n, "bn3", n.conv3, true);
    nerve_node both[2] = {n.bn3, n.conv3};
    n.sum = test_require_node(nerve_add(n.g, "sum", both, 2, &err), &err);
    nerve_node block_out =
        test_require_node(nerve_activate(n.g, n.sum, NERVE_ACT_RELU, NULL, &err), &err);
    n.plain_conv = conv(&n, "conv4", block_out, 5, 1, true, &rng);
    n.plain_bn = batchnorm(&n, "bn4", n.plain_conv, false);
    n.conv5 = conv(&n, "conv5", n.plain_bn, 5, 1, true, &rng);
    n.out = test_require_node(nerve_activate(n.g, n.conv5, NERVE_ACT_RELU, NULL, &err), &err);
    return n;
}

static int64_t count_of(nerve_graph *g, nerve_node node)
{
    nerve_shape s = nerve_node_shape(g, node);
    return nerve_shape_numel(&s);
}

/* Inputs, and running statistics and affine parameters far from 0 and 1. */
static void fill(net *n)
{
    nerve_error err = {0};
    nerve_real x[BATCH * C_IN * SIDE * SIDE];
    for (int i = 0; i < BATCH * C_IN * SIDE * SIDE; i++) x[i] = (nerve_real)sin(0.7 * i);
    test_require_ok(nerve_node_write(n->g, n->x, x, BATCH * C_IN * SIDE * SIDE, &err), &err);
    const char *names[] = {"bn1", "bn2", "bn3"};
    const char *parts[] = {"weight", "bias", "running_mean", "running_var"};
    for (int b = 0; b < 3; b++)
        for (int p = 0; p < 4; p++) {
            char name[64];
            snprintf(name, sizeof name, "%s.%s", names[b], parts[p]);
            nerve_node node = nerve_graph_find(n->g, name);
            assert_true(node >= 0);
            nerve_real v[8];
            int64_t count = count_of(n->g, node);
            for (int c = 0; c < count; c++)
                v[c] = (nerve_real)(p == 3 ? 0.5 + 0.3 * c : 0.4 * (c + 1) * (p == 2 ? -1 : 1) +
                                                                 0.1 * b);
            test_require_ok(nerve_node_write(n->g, node, v, count, &err), &err);
        }
}

static void read_all(nerve_graph *g, nerve_node node, nerve_real *values)
{
    nerve_error err = {0};
    test_require_ok(nerve_node_read(g, node, values, count_of(g, node), &err), &err);
}

/* reference: planned for training (never folds); folded: forward-only. */
static void plan_pair(net *reference, net *folded, bool training_mode)
{
    nerve_error err = {0};
    *reference = build();
    *folded = build();
    test_require_ok(nerve_graph_plan(reference->g, BATCH, &err), &err);
    test_require_ok(nerve_graph_plan_inference(folded->g, BATCH, &err), &err);
    for (int k = 0; k < 2; k++) {
        net *n = k ? folded : reference;
        nerve_graph_set_training(n->g, training_mode);
        fill(n);
    }
}

static void test_folds_where_nothing_can_tell(void **state)
{
    net reference, folded;
    plan_pair(&reference, &folded, false);
    nerve_graph *g = folded.g;
    /* The plan: bn1 and bn2 fold; bn3 does not (conv3 is read twice), nor
     * bn4 (no running statistics, so batch statistics in eval mode too). */
    assert_int_equal(g->nodes[folded.conv1].fold_consumer, folded.bn1 + 1);
    assert_int_equal(g->nodes[folded.conv2].fold_consumer, folded.bn2 + 1);
    assert_int_equal(g->nodes[folded.conv3].fold_consumer, 0);
    assert_int_equal(g->nodes[folded.plain_conv].fold_consumer, folded.plain_bn + 1);
    /* A training plan folds bn1 into conv1 for training-mode forwards only. */
    assert_int_equal(reference.g->nodes[reference.conv1].fold_consumer, reference.bn1 + 1);
    /* The ReLUs after bn1 (conv1 applies both), the sum and conv5 fold. */
    assert_int_equal(g->nodes[folded.bn1].fold_consumer, folded.bn1 + 2);
    assert_int_equal(g->nodes[folded.sum].fold_consumer, folded.sum + 2);
    assert_int_equal(g->nodes[folded.conv5].fold_consumer, folded.out + 1);
    /* Each forward to its own target: an inference plan keeps only the
     * target's value to the end. */
    nerve_node compared[] = {folded.bn2, folded.sum, folded.out};
    for (int k = 0; k < 3; k++) {
        nerve_error err = {0};
        test_require_ok(nerve_graph_forward(reference.g, compared[k], &err), &err);
        test_require_ok(nerve_graph_forward(g, compared[k], &err), &err);
        assert_true(g->nodes[folded.bn1].forward_folded && g->nodes[folded.bn2].forward_folded);
        assert_true(g->nodes[folded.bn1 + 1].forward_folded);
        assert_true((k == 2) == g->nodes[folded.sum + 1].forward_folded); /* its ReLU needed */
        assert_false(k == 2 && g->nodes[folded.plain_bn].forward_folded);
        assert_true((k == 2) == g->nodes[folded.out].forward_folded);
        int64_t count = count_of(g, compared[k]);
        nerve_real *a = malloc((size_t)count * sizeof *a), *b = malloc((size_t)count * sizeof *b);
        read_all(reference.g, compared[k], a);
        read_all(g, compared[k], b);
        double worst = 0;
        for (int64_t i = 0; i < count; i++) {
            double d = fabs((double)a[i] - b[i]) / fmax(1, fabs((double)a[i]));
            if (d > worst) worst = d;
        }
        assert_true(worst < 2e-5);
        assert_false(reference.g->nodes[reference.bn1].forward_folded); /* eval mode */
        free(a), free(b);
    }
    nerve_graph_free(reference.g);
    nerve_graph_free(folded.g);
}

/* A forward that ends at a convolution gets its raw output; a training-mode
 * forward normalises with the batch's statistics: nothing folds. */
static void test_unfolded_forwards_are_exact(void **state)
{
    for (int training = 0; training < 2; training++) {
        net reference, folded;
        plan_pair(&reference, &folded, training);
        nerve_node target = training ? folded.out : folded.conv1;
        nerve_error err = {0};
        test_require_ok(nerve_graph_forward(reference.g, target, &err), &err);
        test_require_ok(nerve_graph_forward(folded.g, target, &err), &err);
        assert_false(folded.g->nodes[folded.bn1].forward_folded);
        int64_t count = count_of(folded.g, target);
        nerve_real *a = malloc((size_t)count * sizeof *a), *b = malloc((size_t)count * sizeof *b);
        read_all(reference.g, target, a);
        read_all(folded.g, target, b);
        assert_memory_equal(a, b, (size_t)count * sizeof *a);
        free(a), free(b);
        nerve_graph_free(reference.g);
        nerve_graph_free(folded.g);
    }
}

/* Two training steps on a graph that folds bn1's ReLU and the sum's, and on
 * one that keeps every gradient (and so folds nothing): the same loss,
 * parameter gradients and running statistics, bit for bit. */
static void test_training_folds_relu_into_batch_norm_and_sum(void **state)
{
    nerve_error err = {0};
    net n[2];
    nerve_node loss[2];
    for (int k = 0; k < 2; k++) {
        n[k] = build();
        nerve_graph_set_keep_gradients(n[k].g, k == 1);
        nerve_node target = test_require_node(
            nerve_input(n[k].g, "target", nerve_shape_make(3, (int64_t[]){5, SIDE, SIDE}), &err),
            &err);
        loss[k] = test_require_node(nerve_mse(n[k].g, n[k].out, target, NULL, &err), &err);
        test_require_ok(nerve_graph_plan(n[k].g, BATCH, &err), &err);
        fill(&n[k]);
        nerve_real t[BATCH * 5 * SIDE * SIDE];
        for (int i = 0; i < BATCH * 5 * SIDE * SIDE; i++) t[i] = (nerve_real)cos(0.3 * i);
        test_require_ok(nerve_node_write(n[k].g, target, t, BATCH * 5 * SIDE * SIDE, &err), &err);
    }
    nerve_graph *folded = n[0].g, *kept = n[1].g;
    assert_int_equal(folded->nodes[n[0].bn1].fold_consumer, n[0].bn1 + 2); /* its ReLU */
    assert_int_equal(kept->nodes[n[1].bn1].fold_consumer, 0);
    assert_int_equal(folded->nodes[n[0].sum].fold_consumer, n[0].sum + 2);
    assert_int_equal(kept->nodes[n[1].sum].fold_consumer, 0);
    for (int step = 0; step < 2; step++) {
        nerve_real l[2];
        for (int k = 0; k < 2; k++) {
            nerve_graph_zero_grad(n[k].g);
            test_require_ok(nerve_graph_forward(n[k].g, loss[k], &err), &err);
            test_require_ok(nerve_graph_backward(n[k].g, loss[k], &err), &err);
            test_require_ok(nerve_node_read(n[k].g, loss[k], &l[k], 1, &err), &err);
        }
        assert_true(folded->nodes[n[0].bn1 + 1].forward_folded);
        assert_true(folded->nodes[n[0].sum + 1].forward_folded);
        assert_memory_equal(&l[0], &l[1], sizeof l[0]);
        size_t count = nerve_graph_param_count(folded);
        assert_memory_equal(nerve_graph_grads(folded), nerve_graph_grads(kept),
                            count * sizeof(nerve_real));
        assert_memory_equal(nerve_graph_params(folded), nerve_graph_params(kept),
                            count * sizeof(nerve_real));
    }
    nerve_graph_free(folded);
    nerve_graph_free(kept);
}

/* conv (3 -> 16, no bias) -> bn -> relu -> conv (16 -> 16, no bias) -> bn,
 * plus the first ReLU's output -> relu -> conv (16 -> 16, bias) -> bn ->
 * relu -> conv (16 -> 16) -> bn -> relu: channels in whole blocks, so that
 * the CPU keeps the convolutions' outputs blocked in training (the third's
 * with its bias's gradient summed there), and in inference the third hands
 * its output to the fourth. */
typedef struct blocked_net {
    nerve_graph *g;
    nerve_node x, target, loss, out, conv[4], bn[4];
} blocked_net;

enum { WIDE = 16, WIDE_BATCH = 4 };

static blocked_net build_blocked(bool keep_gradients, bool inference)
{
    nerve_error err = {0};
    blocked_net b;
    net n = {.g = nerve_graph_new()};
    assert_non_null(n.g);
    b.g = n.g;
    nerve_graph_set_keep_gradients(b.g, keep_gradients);
    nerve_rng rng;
    nerve_rng_seed(&rng, 5);
    int64_t in_dims[3] = {C_IN, SIDE, SIDE}, out_dims[3] = {WIDE, SIDE, SIDE};
    b.x = test_require_node(nerve_input(b.g, "x", nerve_shape_make(3, in_dims), &err), &err);
    b.conv[0] = conv(&n, "conv1", b.x, WIDE, 1, false, &rng);
    b.bn[0] = batchnorm(&n, "bn1", b.conv[0], true);
    nerve_node act =
        test_require_node(nerve_activate(b.g, b.bn[0], NERVE_ACT_RELU, NULL, &err), &err);
    b.conv[1] = conv(&n, "conv2", act, WIDE, 1, false, &rng);
    b.bn[1] = batchnorm(&n, "bn2", b.conv[1], true);
    nerve_node both[2] = {b.bn[1], act};
    nerve_node sum = test_require_node(nerve_add(b.g, "sum", both, 2, &err), &err);
    nerve_node block_out =
        test_require_node(nerve_activate(b.g, sum, NERVE_ACT_RELU, NULL, &err), &err);
    b.conv[2] = conv(&n, "conv3", block_out, WIDE, 1, true, &rng);
    b.bn[2] = batchnorm(&n, "bn3", b.conv[2], true);
    nerve_node third =
        test_require_node(nerve_activate(b.g, b.bn[2], NERVE_ACT_RELU, NULL, &err), &err);
    b.conv[3] = conv(&n, "conv4", third, WIDE, 1, false, &rng);
    b.bn[3] = batchnorm(&n, "bn4", b.conv[3], true);
    nerve_node out = b.out =
        test_require_node(nerve_activate(b.g, b.bn[3], NERVE_ACT_RELU, NULL, &err), &err);
    b.target = test_require_node(nerve_input(b.g, "target", nerve_shape_make(3, out_dims), &err),
                                 &err);
    b.loss = test_require_node(nerve_mse(b.g, out, b.target, NULL, &err), &err);
    if (inference)
        test_require_ok(nerve_graph_plan_inference(b.g, WIDE_BATCH, &err), &err);
    else
        test_require_ok(nerve_graph_plan(b.g, WIDE_BATCH, &err), &err);
    nerve_real x[WIDE_BATCH * C_IN * SIDE * SIDE], t[WIDE_BATCH * WIDE * SIDE * SIDE];
    for (int i = 0; i < WIDE_BATCH * C_IN * SIDE * SIDE; i++) x[i] = (nerve_real)sin(0.7 * i);
    for (int i = 0; i < WIDE_BATCH * WIDE * SIDE * SIDE; i++) t[i] = (nerve_real)cos(0.3 * i);
    test_require_ok(nerve_node_write(b.g, b.x, x, WIDE_BATCH * C_IN * SIDE * SIDE, &err), &err);
    test_require_ok(nerve_node_write(b.g, b.target, t, WIDE_BATCH * WIDE * SIDE * SIDE, &err),
                    &err);
    return b;
}

/* The worst of |a - b| / max(1, |a|). */
static double worst_difference(const nerve_real *a, const nerve_real *b, size_t count)
{
    double worst = 0;
    for (size_t i = 0; i < count; i++) {
        double d = fabs((double)a[i] - b[i]) / fmax(1, fabs((double)a[i]));
        if (d > worst) worst = d;
    }
    return worst;
}

/* Two training steps with every batch norm folded into its convolution
 * (forward and backward), and on a graph that folds nothing: the losses,
 * parameter gradients and running statistics agree to float rounding; an
 * eval-mode forward of the training plan folds nothing and gives the same
 * bits. */
static void test_training_folds_batch_norm_into_convolution(void **state)
{
    nerve_error err = {0};
    blocked_net folded = build_blocked(false, false), kept = build_blocked(true, false);
    for (int k = 0; k < 4; k++) {
        assert_int_equal(folded.g->nodes[folded.conv[k]].fold_consumer, folded.bn[k] + 1);
        assert_int_equal(kept.g->nodes[kept.conv[k]].fold_consumer, 0);
    }
    size_t count = nerve_graph_param_count(folded.g);
    for (int step = 0; step < 2; step++) {
        nerve_real l[2];
        for (int k = 0; k < 2; k++) {
            blocked_net *b = k ? &kept : &folded;
            nerve_graph_zero_grad(b->g);
            test_require_ok(nerve_graph_forward(b->g, b->loss, &err), &err);
            test_require_ok(nerve_graph_backward(b->g, b->loss, &err), &err);
            test_require_ok(nerve_node_read(b->g, b->loss, &l[k], 1, &err), &err);
        }
        for (int k = 0; k < 4; k++) assert_true(folded.g->nodes[folded.bn[k]].forward_folded);
        assert_true(worst_difference(&l[1], &l[0], 1) < 1e-5);
        assert_true(worst_difference(nerve_graph_grads(kept.g), nerve_graph_grads(folded.g),
                                     count) < 2e-4);
        assert_true(worst_difference(nerve_graph_params(kept.g), nerve_graph_params(folded.g),
                                     count) < 1e-5);
    }
    nerve_real l[2];
    for (int k = 0; k < 2; k++) {
        blocked_net *b = k ? &kept : &folded;
        nerve_graph_set_training(b->g, false);
        test_require_ok(nerve_graph_forward(b->g, b->loss, &err), &err);
        test_require_ok(nerve_node_read(b->g, b->loss, &l[k], 1, &err), &err);
    }
    assert_false(folded.g->nodes[folded.bn[0]].forward_folded);
    assert_memory_equal(&l[0], &l[1], sizeof l[0]);
    nerve_graph_free(folded.g);
    nerve_graph_free(kept.g);
}

/* An inference plan of the same network in eval mode: conv3 hands its
 * output (after bn3 and the ReLU, folded into it) to conv4 in the
 * backend's layout where the backend can (the CPU on AVX-512); conv1's
 * goes to conv2 and the sum, conv2's to the sum, conv4's is the output.
 * The output agrees with the training plan's eval-mode forward to float
 * rounding; a forward that stops at conv3's ReLU or at conv4 hands nothing
 * over (conv4's input stays readable). */
static void test_inference_hands_layout_to_next_convolution(void **state)
{
    nerve_error err = {0};
    blocked_net plain = build_blocked(false, false), handed = build_blocked(false, true);
    nerve_graph *g = handed.g;
    assert_int_equal(g->nodes[handed.conv[2]].layout_consumer, handed.conv[3] + 1);
    for (int k = 0; k < 4; k++) {
        if (k != 2) assert_int_equal(g->nodes[handed.conv[k]].layout_consumer, 0);
        assert_int_equal(plain.g->nodes[plain.conv[k]].layout_consumer, 0);
    }
    int64_t count = count_of(g, handed.out);
    nerve_real *a = malloc((size_t)count * sizeof *a), *b = malloc((size_t)count * sizeof *b);
    nerve_graph_set_training(plain.g, false);
    nerve_graph_set_training(g, false);
    test_require_ok(nerve_graph_forward(plain.g, plain.out, &err), &err);
    test_require_ok(nerve_graph_forward(g, handed.out, &err), &err);
#ifdef NERVE_CPU_BLOCKED16 /* the CPU hands it over in nChw16c */
    if (strcmp(g->device->name, "cpu") == 0) assert_true(g->nodes[handed.conv[3]].input_private);
#endif
    assert_false(plain.g->nodes[plain.conv[3]].input_private);
    read_all(plain.g, plain.out, a);
    read_all(g, handed.out, b);
    assert_true(worst_difference(a, b, (size_t)count) < 1e-4);
    nerve_node relu = g->nodes[handed.conv[3]].input[0]; /* conv3's output, after its folds */
    test_require_ok(nerve_graph_forward(g, relu, &err), &err);
    assert_false(g->nodes[handed.conv[3]].input_private);
    /* A forward to conv4 itself leaves conv4's input readable (NCHW). */
    int64_t inner = count_of(g, relu);
    nerve_real *c = malloc((size_t)inner * sizeof *c), *d = malloc((size_t)inner * sizeof *d);
    test_require_ok(nerve_graph_forward(plain.g, handed.conv[3], &err), &err);
    test_require_ok(nerve_graph_forward(g, handed.conv[3], &err), &err);
    assert_false(g->nodes[handed.conv[3]].input_private);
    read_all(plain.g, relu, c);
    read_all(g, relu, d);
    assert_true(worst_difference(c, d, (size_t)inner) < 1e-4);
    free(c), free(d);
    free(a), free(b);
    nerve_graph_free(plain.g);
    nerve_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_folds_where_nothing_can_tell),
        cmocka_unit_test(test_unfolded_forwards_are_exact),
        cmocka_unit_test(test_training_folds_relu_into_batch_norm_and_sum),
        cmocka_unit_test(test_training_folds_batch_norm_into_convolution),
        cmocka_unit_test(test_inference_hands_layout_to_next_convolution),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
