/* data_parallel: a cfg's network trained by nerve_train on every rank of an
 * MPI launch (or alone), with the optimizer state sharded over the ranks
 * (ZeRO-1) when asked; each epoch, rank 0 prints the loss and every rank the
 * bytes of optimizer state it keeps: 1/N of the whole with --zero, the whole
 * again once training has gathered it back. Then the test set is evaluated
 * in shards.
 *
 * Usage: mpirun -np N data_parallel CFG [--zero]
 * Trains on the first TRAIN samples for one epoch; exits 1 if the test
 * accuracy is below 70%.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nerve.h>

enum { TRAIN = 4096, TEST = 1000 };

typedef struct run {
    nerve_model *model;
    nerve_comm *comm;
    nerve_optimizer *optimizer; /* ours, so that its state can be read during and after */
} run;

static int fail(const char *what, const nerve_error *err)
{
    fprintf(stderr, "data_parallel: %s: %s\n", what, err->message);
    return 1;
}

static void truncate_dataset(nerve_dataset *ds, int64_t keep)
{
    nerve_dataset rest;
    nerve_error err = {0};
    if (ds->count > keep && nerve_dataset_split(ds, ds->count - keep, &rest, &err) == NERVE_OK)
        nerve_dataset_free(&rest);
}

static void on_epoch(const nerve_epoch_report *r, void *user)
{
    const run *run = user;
    int rank = nerve_comm_rank(run->comm);
    if (rank == 0) printf("epoch %d: train loss %.4f\n", r->epoch, r->train_loss);
    printf("rank %d of %d: optimizer state %zu bytes\n", rank, nerve_comm_size(run->comm),
           nerve_optimizer_state_bytes(run->optimizer));
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: data_parallel CFG [--zero]\n");
        return 2;
    }
    nerve_error err = {0};
    run run = {NULL, nerve_comm_single(), NULL};
    if (nerve_comm_mpi_launched() && nerve_comm_mpi(&run.comm, &err) != NERVE_OK)
        return fail("MPI", &err);
    nerve_set_threads(1);
    const char *sets[] = {"net.epochs=1", NULL};
    nerve_dataset train = {0}, test = {0};
    int code = 0;
    if (nerve_model_load(argv[1], sets, &run.model, &err) != NERVE_OK ||
        nerve_model_load_data(run.model, &train, NULL, &test, &err) != NERVE_OK ||
        !(run.optimizer = nerve_model_optimizer_new(run.model, &err))) {
        code = fail(argv[1], &err);
    } else {
        truncate_dataset(&train, TRAIN);
        truncate_dataset(&test, TEST);
        nerve_train_options o = nerve_train_options_from(run.model);
        o.comm = run.comm;
        o.zero = argc > 2 && strcmp(argv[2], "--zero") == 0;
        o.on_epoch = on_epoch;
        o.user = &run;
        o.optimizer = run.optimizer;
        nerve_evaluation e;
        bool trained = nerve_train(run.model, &train, NULL, &o, &err) == NERVE_OK;
        if (trained && nerve_comm_rank(run.comm) == 0)
            printf("after training: optimizer state %zu bytes\n",
                   nerve_optimizer_state_bytes(run.optimizer));
        if (!trained)
            code = fail("training", &err);
        else if (nerve_evaluate_sharded(run.model, &test, 0, run.comm, &e, &err) != NERVE_OK)
            code = fail("evaluation", &err);
        else {
            if (nerve_comm_rank(run.comm) == 0) printf("test accuracy %.4f\n", e.accuracy);
            code = e.accuracy >= 0.7 ? 0 : 1;
            nerve_evaluation_free(&e);
        }
    }
    nerve_dataset_free(&train);
    nerve_dataset_free(&test);
    nerve_optimizer_free(run.optimizer);
    nerve_model_free(run.model);
    nerve_comm_free(run.comm);
    return code;
}
