/* Data-parallel training is one-process training: in double precision (the
 * float64 engine), ten SGD steps of an MLP, a CNN with batch norm and
 * dropout, an LSTM, and the MLP with a class-weighted mean loss (also one
 * where class 0 weighs nothing and some ranks' slices hold only class 0:
 * their own mean would be 0 / 0) and with a summed loss (each rank's share
 * then is not its sample count's), on 19
 * samples in global batches of 8 (the last batch has 3: on 4 ranks one
 * rank has none), give parameters (running statistics included) within
 * 1e-12 of the same steps run whole in one process, on every rank, and
 * every rank holds exactly the same parameters. The gradient all-reduce in
 * buckets overlapped with backward (src/dist/buckets.c, buckets of a few
 * tensors here) gives parameters bit-identical to the one all-reduce. The training loop is
 * the trainer's (nerve_train): the same order on every rank, a contiguous
 * slice per rank (nerve_dist_slice), the backward pass seeded with the
 * slice's share of the loss, an empty slice joining batch norm's
 * collectives, then the gradient all-reduce; dropout's masks are keyed by
 * the step and each slice's first position in the epoch's order
 * (nerve_graph_set_position), so a rank's rows draw what they draw in the
 * whole batch. Writes rank 0's parameters to argv[1] (the script checks
 * that two runs on the same ranks are bit-identical). Augmentation, in the
 * float32 library only, is checked end to end by cli_distributed.sh.
 * Last, the buckets' progress helper: an all-reduce the hook started and
 * this thread then leaves alone finishes (Open MPI moves data only inside
 * its calls, so without the helper it would wait for the next one). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/graph_internal.h"
#include "dist/buckets.h"
#include "dist/data_parallel.h"
#include "nerve.h"

#define SAMPLES 19
#define BATCH 8
#define STEPS 10
#define TOLERANCE 1e-12

typedef struct model {
    const char *name;
    const nerve_loss_options *loss_options; /* NULL: the defaults */
    nerve_graph *g;
    nerve_node x, y, loss;
    int64_t features; /* per sample */
    double inputs[SAMPLES * 64];
    double labels[SAMPLES];
} model;

static nerve_error err;

static nerve_node param(model *m, nerve_rng *rng, const char *name, nerve_shape shape, double scale)
{
    nerve_node n = nerve_param(m->g, name, shape, &err);
    nerve_real *v = nerve_node_value(m->g, n);
    for (int64_t i = 0; i < nerve_shape_numel(&shape); i++)
        v[i] = scale * (2 * nerve_rng_uniform(rng) - 1);
    return n;
}

static void make_data(model *m, nerve_rng *rng, int classes)
{
    for (int64_t i = 0; i < SAMPLES * m->features; i++)
        m->inputs[i] = 2 * nerve_rng_uniform(rng) - 1;
    for (int i = 0; i < SAMPLES; i++)
        m->labels[i] = (double)nerve_rng_below(rng, (uint64_t)classes);
}

static void finish(model *m, nerve_node logits)
{
    m->loss = nerve_softmax_cross_entropy(m->g, logits, m->y, m->loss_options, &err);
    nerve_graph_plan(m->g, BATCH, &err);
}

static void build_mlp(model *m, nerve_rng *rng)
{
    m->name = "MLP";
    m->features = 6;
    m->x = nerve_input(m->g, "x", nerve_shape_1d(6), &err);
    m->y = nerve_input(m->g, "y", nerve_shape_make(0, NULL), &err);
    nerve_node h = nerve_activate(
        m->g,
        nerve_linear(m->g, m->x, param(m, rng, "fc1.weight", nerve_shape_2d(10, 6), 0.5),
                     param(m, rng, "fc1.bias", nerve_shape_1d(10), 0.1), &err),
        NERVE_ACT_TANH, NULL, &err);
    finish(m, nerve_linear(m->g, h, param(m, rng, "fc2.weight", nerve_shape_2d(3, 10), 0.5),
                           param(m, rng, "fc2.bias", nerve_shape_1d(3), 0.1), &err));
    make_data(m, rng, 3);
}

/* torch's weighted mean divides by the batch's summed label weights: a
 * rank's share is its labels' weight over the global batch's. */
static void build_mlp_class_weights(model *m, nerve_rng *rng, const float *weights,
                                    const char *name)
{
    static nerve_loss_options o;
    o = nerve_loss_options_default();
    o.weights = weights;
    o.weight_count = 3;
    m->loss_options = &o;
    build_mlp(m, rng);
    m->name = name;
}

static void build_mlp_weighted(model *m, nerve_rng *rng)
{
    static const float weights[3] = {0.2f, 1, 3};
    build_mlp_class_weights(m, rng, weights, "MLP, class-weighted mean");
}

/* Class 0 weighs 0 and holds 9 of the 19 samples: on 2 to 4 ranks some
 * slices hold class 0 alone (counted in zero_weight_slices), whose own
 * weighted mean is 0 / 0: they must add 0 to the loss and the gradient,
 * not NaN. */
static int zero_weight_slices;

static void build_mlp_zero_weight(model *m, nerve_rng *rng)
{
    static const float weights[3] = {0, 1, 3};
    build_mlp_class_weights(m, rng, weights, "MLP, class-weighted mean, class 0 weighing 0");
    for (int i = 0; i < SAMPLES; i++)
        m->labels[i] = i % 2 ? 0 : 1 + (i / 2) % 2;
}

/* A sum over the global batch is the sum of the ranks' sums. */
static void build_mlp_sum(model *m, nerve_rng *rng)
{
    static nerve_loss_options o;
    o = nerve_loss_options_default();
    o.reduction = NERVE_REDUCTION_SUM;
    m->loss_options = &o;
    build_mlp(m, rng);
    m->name = "MLP, summed loss";
}

static void build_cnn(model *m, nerve_rng *rng)
{
    m->name = "CNN with batch norm and dropout";
    m->features = 36;
    int64_t image[3] = {1, 6, 6};
    m->x = nerve_input(m->g, "x", nerve_shape_make(3, image), &err);
    m->y = nerve_input(m->g, "y", nerve_shape_make(0, NULL), &err);
    int64_t kernel[4] = {4, 1, 3, 3};
    nerve_conv2d_options conv = nerve_conv2d_options_default();
    conv.padding[0] = conv.padding[1] = 1;
    nerve_node c =
        nerve_conv2d(m->g, m->x, param(m, rng, "conv.weight", nerve_shape_make(4, kernel), 0.5),
                     param(m, rng, "conv.bias", nerve_shape_1d(4), 0.1), &conv, &err);
    nerve_node mean = nerve_buffer(m->g, "bn.running_mean", nerve_shape_1d(4), &err);
    nerve_node var = nerve_buffer(m->g, "bn.running_var", nerve_shape_1d(4), &err);
    for (int i = 0; i < 4; i++)
        nerve_node_value(m->g, var)[i] = 1;
    nerve_node b = nerve_batch_norm(m->g, c, param(m, rng, "bn.weight", nerve_shape_1d(4), 1),
                                    param(m, rng, "bn.bias", nerve_shape_1d(4), 0.1), mean, var, -1,
                                    1e-5, 0.1, &err);
    nerve_pool2d_options pool = nerve_pool2d_defaults(2, 2);
    nerve_node p =
        nerve_max_pool2d(m->g, nerve_activate(m->g, b, NERVE_ACT_RELU, NULL, &err), &pool, &err);
    nerve_node dropped = nerve_dropout(m->g, p, 0.3, &err);
    finish(m, nerve_linear(m->g, nerve_flatten(m->g, dropped, &err),
                           param(m, rng, "fc.weight", nerve_shape_2d(3, 36), 0.3),
                           param(m, rng, "fc.bias", nerve_shape_1d(3), 0.1), &err));
    make_data(m, rng, 3);
}

static void build_lstm(model *m, nerve_rng *rng)
{
    m->name = "LSTM";
    m->features = 15;
    m->x = nerve_input(m->g, "x", nerve_shape_2d(5, 3), &err);
    m->y = nerve_input(m->g, "y", nerve_shape_make(0, NULL), &err);
    nerve_node h = nerve_recurrent(
        m->g, NERVE_CELL_LSTM, m->x, param(m, rng, "lstm.weight_ih", nerve_shape_2d(16, 3), 0.5),
        param(m, rng, "lstm.weight_hh", nerve_shape_2d(16, 4), 0.5),
        param(m, rng, "lstm.bias_ih", nerve_shape_1d(16), 0.1),
        param(m, rng, "lstm.bias_hh", nerve_shape_1d(16), 0.1), false, true, &err);
    finish(m, nerve_linear(m->g, h, param(m, rng, "fc.weight", nerve_shape_2d(2, 4), 0.5),
                           param(m, rng, "fc.bias", nerve_shape_1d(2), 0.1), &err));
    make_data(m, rng, 2);
}

/* STEPS of SGD with momentum 0.9, lr 0.1; comm's ranks split each batch;
 * bucket_mb > 0: the gradients all-reduced in buckets during backward. */
static void train(model *m, nerve_comm *comm, double bucket_mb)
{
    nerve_graph *g = m->g;
    dist_buckets buckets;
    if (bucket_mb > 0) dist_buckets_init(&buckets, comm, g, bucket_mb, &err);
    if (nerve_graph_set_comm(g, comm, &err) != NERVE_OK) {
        fprintf(stderr, "dist_equivalence: %s\n", err.message);
        exit(1);
    }
    nerve_graph_set_training(g, true);
    nerve_graph_set_seed(g, 7);
    size_t count = nerve_graph_param_count(g);
    double *momentum = calloc(count, sizeof *momentum);
    int64_t order[SAMPLES];
    for (int i = 0; i < SAMPLES; i++)
        order[i] = i;
    nerve_rng shuffle;
    nerve_rng_seed(&shuffle, 5);
    int64_t position = SAMPLES;
    for (int step = 0; step < STEPS; step++) {
        if (position >= SAMPLES) {
            nerve_rng_shuffle(&shuffle, order, SAMPLES);
            position = 0;
        }
        int64_t n = SAMPLES - position < BATCH ? SAMPLES - position : BATCH, first, mine;
        nerve_dist_slice(n, nerve_comm_rank(comm), nerve_comm_size(comm), &first, &mine);
        nerve_graph_zero_grad(g);
        if (mine > 0) {
            nerve_graph_set_batch(g, mine, &err);
            nerve_real *x = nerve_node_value(g, m->x), *y = nerve_node_value(g, m->y);
            for (int64_t i = 0; i < mine; i++) {
                int64_t s = order[position + first + i];
                memcpy(x + i * m->features, m->inputs + s * m->features,
                       (size_t)m->features * sizeof *x);
                y[i] = m->labels[s];
            }
            nerve_graph_set_position(g, step, position + first);
        }
        nerve_node_data *loss = &g->nodes[m->loss];
        if (mine > 0 && nerve_comm_size(comm) > 1 && loss->constants &&
            loss->op->divisor(g, loss) == 0)
            zero_weight_slices++;
        double share;
        bool summed;
        nerve_dist_loss_weight(comm, g, m->loss, mine, n, &share, &summed, &err);
        if (bucket_mb > 0) dist_buckets_begin(&buckets);
        if (mine > 0) {
            if (nerve_graph_forward(g, m->loss, &err)) {
                fprintf(stderr, "dist_equivalence: %s\n", err.message);
                exit(1);
            }
            nerve_real weight = share;
            nerve_graph_backward_from(g, m->loss, &weight, &err);
        } else {
            nerve_graph_join_empty_step(g, m->loss);
        }
        nerve_dist_loss_end(g, m->loss, summed);
        double comm_seconds, exposed_seconds;
        if (bucket_mb > 0)
            dist_buckets_finish(&buckets, &comm_seconds, &exposed_seconds, &err);
        else
            nerve_dist_allreduce_gradients(g, comm, &err);
        nerve_real *p = nerve_graph_params(g);
        const nerve_real *grad = nerve_graph_grads(g);
        const unsigned char *trainable = nerve_graph_trainable_mask(g);
        for (size_t i = 0; i < count; i++) {
            if (!trainable[i])
                continue;
            momentum[i] = step == 0 ? grad[i] : 0.9 * momentum[i] + grad[i];
            p[i] -= 0.1 * momentum[i];
        }
        position += n;
    }
    if (bucket_mb > 0) dist_buckets_free(&buckets);
    free(momentum);
}

typedef void (*builder)(model *m, nerve_rng *rng);

/* Non-zero when this rank's parameters stray from the one-process run's or
 * from rank 0's. */
static int check(builder build, nerve_comm *comm, FILE *out)
{
    model *serial = calloc(1, sizeof *serial), *parallel = calloc(1, sizeof *parallel);
    model *bucketed = calloc(1, sizeof *bucketed);
    nerve_rng rng;
    serial->g = nerve_graph_new();
    nerve_rng_seed(&rng, 3);
    build(serial, &rng);
    parallel->g = nerve_graph_new();
    nerve_rng_seed(&rng, 3);
    build(parallel, &rng);
    bucketed->g = nerve_graph_new();
    nerve_rng_seed(&rng, 3);
    build(bucketed, &rng);
    if (err.status) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    train(serial, nerve_comm_single(), 0);
    train(parallel, comm, 0);
    /* About 24 doubles a bucket: several buckets, most of one tensor or two. */
    train(bucketed, comm, 24 * sizeof(double) / (1024.0 * 1024.0));
    if (err.status) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    size_t count = nerve_graph_param_count(parallel->g);
    const nerve_real *a = nerve_graph_params(serial->g), *b = nerve_graph_params(parallel->g);
    double worst = 0, moved = 0;
    bool finite = true;
    for (size_t i = 0; i < count; i++) {
        worst = fmax(worst, fabs(a[i] - b[i]));
        finite &= isfinite(a[i]) && isfinite(b[i]);
    }
    /* Every rank holds rank 0's parameters, bit for bit. */
    double *root = malloc(count * sizeof *root);
    memcpy(root, b, count * sizeof *root);
    nerve_comm_broadcast(comm, root, (int64_t)count, NERVE_COMM_DOUBLE, 0, &err);
    bool same = memcmp(root, b, count * sizeof *root) == 0;
    nerve_graph *fresh = nerve_graph_new();
    model *initial = calloc(1, sizeof *initial);
    initial->g = fresh;
    nerve_rng_seed(&rng, 3);
    build(initial, &rng);
    for (size_t i = 0; i < count; i++)
        moved = fmax(moved, fabs(nerve_graph_params(fresh)[i] - a[i]));
    bool overlap_same = memcmp(nerve_graph_params(bucketed->g), b, count * sizeof *b) == 0;
    int rank = nerve_comm_rank(comm);
    int failed = !finite || !(worst <= TOLERANCE) || !same || !(moved > 1e-3) || !overlap_same;
    if (rank == 0 || failed)
        printf("rank %d, %d ranks, %s: largest difference from one process %.3g (tolerance %g), "
               "parameters moved by up to %.3g%s, ranks %s, bucketed all-reduce %s\n",
               rank, nerve_comm_size(comm), serial->name, worst, TOLERANCE, moved,
               finite ? "" : ", NOT FINITE", same ? "identical" : "DIFFER",
               overlap_same ? "identical" : "DIFFERS");
    if (out)
        fwrite(b, sizeof *b, count, out);
    free(root);
    nerve_graph_free(serial->g);
    nerve_graph_free(parallel->g);
    nerve_graph_free(bucketed->g);
    nerve_graph_free(fresh);
    free(serial);
    free(parallel);
    free(bucketed);
    free(initial);
    return failed;
}

/* A 4 MiB weight's gradient: the hook starts its bucket as backward
 * would, then this thread makes no MPI call and only watches (under the
 * buckets' lock) for up to 10 s whether it completes. Every rank does the
 * same. NERVE_MPI_PROGRESS_THREAD=0 turns the helper off: then only that is
 * checked (the wait proper completes it). */
static int check_progress_helper(nerve_comm *comm)
{
    if (nerve_comm_size(comm) < 2)
        return 0;
    model *m = calloc(1, sizeof *m);
    nerve_rng rng;
    nerve_rng_seed(&rng, 3);
    m->g = nerve_graph_new();
    m->features = 8;
    m->x = nerve_input(m->g, "x", nerve_shape_1d(8), &err);
    m->y = nerve_input(m->g, "y", nerve_shape_make(0, NULL), &err);
    finish(m, nerve_linear(m->g, m->x, param(m, &rng, "fc.weight", nerve_shape_2d(65536, 8), 0.1),
                           param(m, &rng, "fc.bias", nerve_shape_1d(65536), 0.1), &err));
    dist_buckets b;
    if (err.status || dist_buckets_init(&b, comm, m->g, 1, &err) != NERVE_OK) {
        fprintf(stderr, "dist_equivalence: %s\n", err.message);
        return 1;
    }
    const char *env = getenv("NERVE_MPI_PROGRESS_THREAD");
    bool wanted = !(env && strcmp(env, "0") == 0), helper = b.helper;
    dist_buckets_begin(&b);
    m->g->backward_hook(m->g, 0, m->g->backward_hook_user);
    int left = -1;
    for (int waited = 0; helper && waited < 1000 && left != 0; waited++) {
        const struct timespec tick = {0, 10 * 1000000L};
        nanosleep(&tick, NULL);
        pthread_mutex_lock(&b.lock);
        left = b.in_flight;
        pthread_mutex_unlock(&b.lock);
    }
    double comm_seconds, exposed_seconds;
    nerve_status st = dist_buckets_finish(&b, &comm_seconds, &exposed_seconds, &err);
    dist_buckets_free(&b);
    nerve_graph_free(m->g);
    free(m);
    int failed = st != NERVE_OK || helper != wanted || (helper && left != 0);
    if (nerve_comm_rank(comm) == 0 || failed)
        printf("rank %d, %d ranks: progress helper %s (wanted %s), all-reduces still under way "
               "after the hook started them and the thread left them alone: %d%s\n",
               nerve_comm_rank(comm), nerve_comm_size(comm), helper ? "on" : "off",
               wanted ? "on" : "off", left, st != NERVE_OK ? ", FINISH FAILED" : "");
    return failed;
}

int main(int argc, char **argv)
{
    nerve_set_threads(1);
    nerve_comm *comm;
    if (nerve_comm_mpi(&comm, &err) != NERVE_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    FILE *out = argc > 1 && nerve_comm_rank(comm) == 0 ? fopen(argv[1], "wb") : NULL;
    int failed = check(build_mlp, comm, out) + check(build_cnn, comm, out) +
                 check(build_lstm, comm, out) + check(build_mlp_weighted, comm, out) +
                 check(build_mlp_sum, comm, out);
    /* The zero-weight slices happened (on 2 or more ranks; counted over all). */
    int slices = check(build_mlp_zero_weight, comm, out) ? -1 : 0;
    double counted = zero_weight_slices;
    nerve_comm_allreduce(comm, &counted, 1, NERVE_COMM_DOUBLE, &err);
    if (nerve_comm_rank(comm) == 0)
        printf("%d ranks: %.0f slices whose labels all weigh 0\n", nerve_comm_size(comm), counted);
    if (slices < 0 || (nerve_comm_size(comm) >= 2 && counted == 0))
        failed++;
    failed += check_progress_helper(comm);
    if (out)
        fclose(out);
    nerve_comm_free(comm);
    return failed ? 1 : 0;
}
