/* SIGINT and SIGTERM during training: the handler records the signal and
 * nothing else (an assignment to a volatile sig_atomic_t is all a handler
 * may safely do); the trainer polls the flag after every step, writes its
 * checkpoint and returns, and the command exits with 128 + the signal. */
#include <string.h>

#include "cli/cli.h"

volatile sig_atomic_t cli_stop_signal;

static void record_stop_signal(int signal_number) { cli_stop_signal = signal_number; }

void cli_catch_stop_signals(void)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = record_stop_signal;
    sigemptyset(&action.sa_mask);
    /* A second signal, while the first is being honoured, kills at once. */
    action.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
}
