/* Training on a stream (a text cut for [net] bptt): batch j is chunk j of
 * every lane, in order, every epoch (never shuffled); the recurrent state is
 * carried during training and evaluation, reset at every epoch's start and
 * around every evaluation, and carrying is off again afterwards; evaluation
 * reads a stream in batches of its lanes; independent samples train without
 * carrying. A probe op added to the model's graph counts the resets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_internal.h"
#include "test_support.h"

static int resets;

static nerve_status probe_infer_shape(nerve_graph *g, nerve_node_data *node, nerve_error *err)
{
    node->shape = nerve_node_input(g, node, 0)->shape;
    return NERVE_OK;
}

static nerve_status probe_noop(nerve_graph *g, nerve_node_data *node) { return NERVE_OK; }
static nerve_status probe_reset(nerve_graph *g, nerve_node_data *node)
{
    resets++;
    return NERVE_OK;
}

static const nerve_op probe_op = {
    .name = "probe",
    .infer_shape = probe_infer_shape,
    .forward = probe_noop,
    .backward = probe_noop,
    .reset_state = probe_reset,
};

/* "abcde" repeated: 5 characters, 2 + 5 * 60 = 302 of them. */
static const char *write_corpus(void)
{
    char text[400];
    int n = 0;
    for (int r = 0; r < 60; r++) n += snprintf(text + n, sizeof text - n, "abcde");
    n += snprintf(text + n, sizeof text - n, "ab");
    const char *path = test_tmppath("corpus.txt");
    test_write_file(path, text, (size_t)n);
    return path;
}

/* A text model of bptt = 1 that the engine can train today: a dense layer
 * reading the token id. The probe hangs off the input. */
static nerve_model *stream_model(const char *net)
{
    char cfg[1024];
    snprintf(cfg, sizeof cfg,
             "[net]\n%s\nbatch = 3\nepochs = 2\n[data]\nformat = text\ntrain = %s\n"
             "validation = 31\n[optimizer]\nlr = 0.05\n[dense]\nunits = 5\n",
             net, write_corpus());
    const char *path = test_tmppath("stream.cfg");
    test_write_file(path, cfg, strlen(cfg));
    nerve_model *m;
    nerve_error err = {0};
    test_require_ok(nerve_model_load(path, NULL, &m, &err), &err);
    nerve_node input = nerve_model_input(m);
    test_require_node(nerve_graph_add_op(nerve_model_graph(m), &probe_op, &input, 1, NULL, &err),
                      &err);
    return m;
}

typedef struct watch {
    nerve_model *m;
    const nerve_dataset *train;
    int64_t steps;
    int resets_at_first_step;
    bool always_carried, ever_carried, checked_order;
} watch;

/* Each step's batch must be chunk (step - 1) of every lane, in lane order. */
static void check_batch(const nerve_progress *p, void *user)
{
    watch *w = user;
    nerve_graph *g = nerve_model_graph(w->m);
    if (w->steps++ == 0) w->resets_at_first_step = resets;
    w->always_carried &= nerve_graph_carries_state(g);
    w->ever_carried |= nerve_graph_carries_state(g);
    if (!w->train->lanes) return;
    int64_t lanes = w->train->lanes, chunk = p->step - 1;
    assert_int_equal(nerve_graph_batch(g), lanes);
    nerve_real *x = malloc((size_t)lanes * sizeof *x);
    assert_non_null(x);
    nerve_error err = {0};
    test_require_ok(nerve_node_read(g, nerve_model_input(w->m), x, lanes, &err), &err);
    for (int64_t b = 0; b < lanes; b++)
        assert_true(x[b] == (nerve_real)w->train->inputs[chunk * lanes + b]);
    free(x);
    w->checked_order = true;
}

static void test_a_stream_trains_in_lane_order_with_the_state_carried(void **state)
{
    nerve_model *m = stream_model("bptt = 1");
    nerve_dataset train, val;
    nerve_error err = {0};
    test_require_ok(nerve_model_load_data(m, &train, &val, NULL, &err), &err);
    /* 271 training characters, 3 lanes of 90 steps; 31 held out, 3 lanes of 10. */
    assert_int_equal(train.lanes, 3);
    assert_int_equal(train.count, 270);
    assert_int_equal(val.lanes, 3);
    assert_int_equal(val.count, 30);
    /* Lane 1 starts 90 characters on: the text's 91st character, 'a'. */
    assert_true(train.inputs[1] == 0 && train.inputs[2] == 0);
    assert_true(train.inputs[3] == 1);

    watch w = {.m = m, .train = &train, .always_carried = true};
    nerve_train_options o = nerve_train_options_from(m);
    o.no_shuffle = false; /* a stream is never shuffled whatever this says */
    o.on_progress = check_batch;
    o.user = &w;
    resets = 0;
    test_require_ok(nerve_train(m, &train, &val, &o, &err), &err);
    assert_int_equal(w.steps, 2 * 90);
    assert_true(w.checked_order);
    assert_true(w.always_carried);
    assert_int_equal(w.resets_at_first_step, 1);
    /* Each epoch: a reset at its start, one before and one after validation. */
    assert_int_equal(resets, 2 * 3);
    assert_false(nerve_graph_carries_state(nerve_model_graph(m)));

    /* Evaluation reads the stream in batches of its lanes, state carried. */
    resets = 0;
    nerve_evaluation e;
    test_require_ok(nerve_evaluate(m, &val, 7, &e, &err), &err);
    assert_int_equal(nerve_graph_batch(nerve_model_graph(m)), 3);
    assert_int_equal(resets, 2);
    assert_int_equal(e.count, 30);
    assert_false(nerve_graph_carries_state(nerve_model_graph(m)));
    nerve_evaluation_free(&e);

    o.batch = 4;
    assert_int_equal(nerve_train(m, &train, NULL, &o, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, "a stream of 3 lanes trains in batches of 3, not 4");
    nerve_dataset_free(&train);
    nerve_dataset_free(&val);
    nerve_model_free(m);
}

static void test_independent_windows_train_without_carrying(void **state)
{
    nerve_model *m = stream_model("input = 1");
    nerve_dataset train;
    nerve_error err = {0};
    test_require_ok(nerve_model_load_data(m, &train, NULL, NULL, &err), &err);
    assert_int_equal(train.lanes, 0);
    nerve_graph_set_carry_state(nerve_model_graph(m), true);
    watch w = {.m = m, .train = &train};
    nerve_train_options o = nerve_train_options_from(m);
    o.on_progress = check_batch;
    o.user = &w;
    resets = 0;
    test_require_ok(nerve_train(m, &train, NULL, &o, &err), &err);
    assert_false(w.ever_carried);
    assert_int_equal(resets, 0);
    nerve_dataset_free(&train);
    nerve_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_stream_trains_in_lane_order_with_the_state_carried),
        cmocka_unit_test(test_independent_windows_train_without_carrying),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
