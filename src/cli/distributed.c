/* nerve under mpirun or srun (docs/distributed.md): the launch is detected
 * from the environment and every command runs with cli_comm, MPI_COMM_WORLD's
 * ranks. Only rank 0 prints to stdout (the others' goes to /dev/null) and
 * writes files; errors go to stderr from the rank that met them, prefixed
 * "rank R:", and cli_dist_agree makes the other ranks exit non-zero quietly
 * rather than wait for it. */
#include <signal.h>
#include <stdio.h>

#include "cli/cli.h"

nerve_comm *cli_comm;

int cli_dist_start(void)
{
    if (!nerve_comm_mpi_launched()) return CLI_EXIT_OK;
    if (!nerve_comm_mpi_available()) {
        fprintf(stderr, "nerve: started by an MPI launcher, but this nerve was built without "
                        "MPI: every rank would train alone (rebuild with libopenmpi-dev)\n");
        return CLI_EXIT_USAGE;
    }
    /* MPI's own threads, started now, must not take SIGINT and SIGTERM: the
     * stop-signal thread (stop_signals.c) or the main thread does. */
    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, &old);
    nerve_error err = {0};
    nerve_status st = nerve_comm_mpi(&cli_comm, &err);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (st != NERVE_OK) return cli_fail(&err, CLI_EXIT_FAILURE);
    if (nerve_comm_rank(cli_comm) != 0 && !freopen("/dev/null", "w", stdout)) {
        fprintf(stderr, "nerve: rank %d: cannot silence stdout\n", nerve_comm_rank(cli_comm));
        return CLI_EXIT_FAILURE;
    }
    return CLI_EXIT_OK;
}

void cli_dist_end(void)
{
    nerve_comm_free(cli_comm);
    cli_comm = NULL;
}

bool cli_dist_root(void) { return !cli_comm || nerve_comm_rank(cli_comm) == 0; }

int cli_dist_agree(int code)
{
    nerve_error err = {0};
    nerve_status st = code ? NERVE_ERR_INVALID : NERVE_OK;
    double failed = code != 0;
    if (cli_comm) st = nerve_comm_allreduce(cli_comm, &failed, 1, NERVE_COMM_DOUBLE, &err);
    if (code) return code;
    if (st != NERVE_OK) return cli_fail(&err, CLI_EXIT_FAILURE);
    return failed > 0 ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
}
