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
 * kept as they are). That early, the C library has not taken its
 * environment yet (setenv's result would be replaced by the kernel's
 * array), so the program executes itself again, once, with the setting
 * added to the environment it was given: a millisecond or two at start.
 * Under valgrind (its preload in LD_PRELOAD) nothing is done, so that a
 * memcheck run keeps checking the program it started.
 *
 * A .preinit_array belongs to an executable, never to a shared library, so
 * this object is a static library of its own (nerve_preinit), linked into
 * the nerve CLI, the tests and benchmarks, and into any application that
 * links nerve through CMake or pkg-config (--undefined=nerve_openmp_preinit
 * pulls it in). */
#include <string.h>
#include <unistd.h>

/* Rounds of spinning before a waiting thread sleeps: about 0.1-0.3 ms here,
 * long enough to bridge the gaps between one kernel's parallel loop and the
 * next within a step, short enough that a thread waiting for a preempted
 * one yields its core. */
#define NERVE_OPENMP_SPIN "GOMP_SPINCOUNT=10000"

/* The value of name in envp, or NULL. */
static const char *lookup(char **envp, const char *name)
{
    size_t length = strlen(name);
    for (char **e = envp; e && *e; e++)
        if (strncmp(*e, name, length) == 0 && (*e)[length] == '=') return *e + length + 1;
    return NULL;
}

static void nerve_openmp_wait_setup(int argc, char **argv, char **envp)
{
    (void)argc;
    if (!envp || lookup(envp, "GOMP_SPINCOUNT") || lookup(envp, "OMP_WAIT_POLICY")) return;
    const char *preload = lookup(envp, "LD_PRELOAD");
    if (preload && strstr(preload, "vgpreload")) return;
    size_t count = 0;
    while (envp[count]) count++;
    char *with_spin[count + 2];
    memcpy(with_spin, envp, count * sizeof *envp);
    with_spin[count] = (char *)NERVE_OPENMP_SPIN;
    with_spin[count + 1] = NULL;
    /* The program's own path rather than /proc/self/exe, whose name the
     * process would then carry (ps, pgrep and top would show "exe"). */
    char path[4096];
    ssize_t length = readlink("/proc/self/exe", path, sizeof path - 1);
    if (length <= 0) return;
    path[length] = 0;
    execve(path, argv, with_spin); /* returns only if it failed: carry on */
}

/* The symbol the link asks for, so that the archive member is linked. */
__attribute__((used, section(".preinit_array"))) void (*nerve_openmp_preinit)(
    int, char **, char **) = nerve_openmp_wait_setup;
