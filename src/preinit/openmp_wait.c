/* How nerve's OpenMP threads wait (docs/benchmarks.md, "A busy machine").
 *
 * GNU OpenMP spins a waiting thread for 300,000 rounds (milliseconds) before
 * it sleeps, and reads its settings once, from the environment, while it
 * initialises, before any library constructor of ours could run. On a
 * machine where another process keeps a core busy, threads that spin at
 * every barrier take the core from the thread they wait for, and training
 * collapses to a third of its idle rate. So the program's own
 * .preinit_array, which the dynamic loader runs before any shared library
 * initialises, gives the runtime a bounded spin (GOMP_SPINCOUNT) unless the
 * user chose one (GOMP_SPINCOUNT or OMP_WAIT_POLICY in the environment are
 * kept as they are).
 *
 * A .preinit_array belongs to an executable, never to a shared library, so
 * this object is a static library of its own (nerve_preinit), linked into
 * the nerve CLI, the tests and benchmarks, and into any application that
 * links nerve through CMake or pkg-config (--undefined=nerve_openmp_preinit
 * pulls it in). */
#include <stdlib.h>

/* Rounds of spinning before a waiting thread sleeps: about 0.1-0.3 ms here,
 * long enough to bridge the gaps between one kernel's parallel loop and the
 * next within a step, short enough that a thread waiting for a preempted
 * one yields its core. */
#define NERVE_OPENMP_SPINCOUNT "10000"

static void nerve_openmp_wait_setup(int argc, char **argv, char **envp)
{
    (void)argc, (void)argv, (void)envp;
    if (getenv("GOMP_SPINCOUNT") || getenv("OMP_WAIT_POLICY")) return;
    setenv("GOMP_SPINCOUNT", NERVE_OPENMP_SPINCOUNT, 0);
}

/* The symbol the link asks for, so that the archive member is linked. */
__attribute__((used, section(".preinit_array"))) void (*nerve_openmp_preinit)(
    int, char **, char **) = nerve_openmp_wait_setup;
