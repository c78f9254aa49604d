/* SIGINT and SIGTERM during training. They are blocked in every thread and
 * taken by one thread of their own with sigwait, rather than by a handler.
 * With a handler, which runs on whichever compute thread the signal
 * interrupts, about 1 SIGTERM in 50 ended in heap corruption inside oneDNN's
 * JIT GEMM (a handler frame pushed below an interrupted kernel's stack
 * pointer is the likely cause; it was not proven). With sigwait no compute
 * thread is ever interrupted: 60 runs of 60 were clean. The waiting thread
 * only records the signal; the trainer polls the flag after every step,
 * writes its checkpoint and returns, and the command exits with 128 + the
 * signal. A second signal ends the process at once. */
#include <pthread.h>
#include <string.h>

#include "cli/cli.h"

volatile sig_atomic_t cli_stop_signal;

static sigset_t stop_signals;

static void *wait_for_stop_signals(void *unused)
{
    int signal_number;
    if (sigwait(&stop_signals, &signal_number) != 0) return NULL;
    cli_stop_signal = signal_number;
    if (sigwait(&stop_signals, &signal_number) != 0) return NULL;
    /* The second: end as the default action would. */
    signal(signal_number, SIG_DFL);
    pthread_sigmask(SIG_UNBLOCK, &stop_signals, NULL);
    raise(signal_number);
    return NULL;
}

void cli_catch_stop_signals(void)
{
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    /* Threads started from here on (OpenMP's) inherit the blocked mask. */
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    pthread_t thread;
    if (pthread_create(&thread, NULL, wait_for_stop_signals, NULL) == 0)
        pthread_detach(thread);
    else
        pthread_sigmask(SIG_UNBLOCK, &stop_signals, NULL);
}
