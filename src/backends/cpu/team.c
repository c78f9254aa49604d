/* How many threads a parallel loop takes on a shared machine
 * (docs/benchmarks.md, "A busy machine").
 *
 * An OpenMP loop ends at a barrier: with 2 threads on 2 CPUs and another
 * process busy on one of them, every loop waits for the thread that shares
 * its CPU, a scheduler time slice at worst, and training fell to a third of
 * its idle rate. A loop on only the CPUs nobody else uses waits for nobody.
 * So every ~0.1 s the first loop to ask reads how much CPU time the machine
 * spent (/proc/stat, the CPUs this process may run on) besides this
 * process's own (CLOCK_PROCESS_CPUTIME_ID), and the team is the threads
 * nerve_set_threads asked for, less the CPUs the others kept busy, rounded
 * (at least 1). libgomp's own OMP_DYNAMIC reads the fifteen-minute load
 * average, our own threads included, at every region: too slow and blind.
 *
 * Only loops whose result does not depend on how many threads run them
 * (fixed chunks, no reduction across threads) take this team, so a run's
 * numbers never depend on the machine's load: the GEMM's slabs, the
 * optimizer's ranges, zeroing, oneDNN's forward convolutions.
 * NERVE_ADAPT_THREADS=0 turns it off. */
#define _GNU_SOURCE /* sched_getaffinity, CLOCK_MONOTONIC_COARSE */
#include <fcntl.h>
#include <omp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backends/cpu/team.h"

#ifndef CLOCK_MONOTONIC_COARSE /* Linux's: a clock read without a system call */
#define CLOCK_MONOTONIC_COARSE CLOCK_MONOTONIC
#endif

/* Long enough that /proc/stat's 10 ms ticks give the busy CPUs to about a
 * tenth, short enough to follow a job that starts or ends. */
#define SAMPLE_PERIOD_NS 100000000LL

static _Atomic int fixed_team;    /* nerve_cpu_team_fix; 0: follow the machine */
static _Atomic int others_tenths; /* the others' busy CPUs over the last period, x10 */
static _Atomic int machine_cpus;  /* the CPUs this process may run on, 0 before a sample */
static _Atomic long long next_sample_ns;
static atomic_flag sampling = ATOMIC_FLAG_INIT;
static pthread_once_t settings_once = PTHREAD_ONCE_INIT;
static bool adapt = true;

/* What one sample saw: the CPUs' busy jiffies, this process's CPU time and the clock. */
typedef struct {
    long long busy_ticks, own_ns, wall_ns;
    int cpus;
} load_sample;
static load_sample last;

static long long clock_ns(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void read_settings(void)
{
    const char *v = getenv("NERVE_ADAPT_THREADS");
    adapt = !(v && strcmp(v, "0") == 0);
}

bool nerve_cpu_stat_busy(const char *text, const unsigned char *allowed, int allowed_count,
                         long long *busy, int *count)
{
    *busy = 0;
    *count = 0;
    for (const char *line = text; line && *line; line = strchr(line, '\n'), line += !!line) {
        if (strncmp(line, "cpu", 3) != 0 || line[3] < '0' || line[3] > '9') continue;
        char *end;
        long cpu = strtol(line + 3, &end, 10);
        if (cpu < 0 || (allowed && (cpu >= allowed_count || !allowed[cpu]))) continue;
        /* user nice system idle iowait irq softirq steal: all but idle and iowait are busy. */
        long long field[8] = {0};
        for (int f = 0; f < 8; f++) field[f] = strtoll(end, &end, 10);
        *busy += field[0] + field[1] + field[2] + field[5] + field[6] + field[7];
        (*count)++;
    }
    return *count > 0;
}

/* The CPUs this process may use and their busy jiffies, from /proc/stat. */
static bool take_sample(load_sample *s)
{
    static char text[1 << 16]; /* these two are used under `sampling` only */
    static unsigned char allowed[CPU_SETSIZE];
    int fd = open("/proc/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    ssize_t length = read(fd, text, sizeof text - 1);
    close(fd);
    if (length <= 0) return false;
    text[length] = 0;
    cpu_set_t mask;
    bool masked = sched_getaffinity(0, sizeof mask, &mask) == 0;
    for (int cpu = 0; masked && cpu < CPU_SETSIZE; cpu++) allowed[cpu] = CPU_ISSET(cpu, &mask);
    s->own_ns = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    s->wall_ns = clock_ns(CLOCK_MONOTONIC);
    return nerve_cpu_stat_busy(text, masked ? allowed : NULL, CPU_SETSIZE, &s->busy_ticks,
                               &s->cpus);
}

int nerve_cpu_team_for(int requested, int cpus, double others)
{
    double free_cpus = cpus - others;
    int team = (int)(free_cpus + 0.5);
    if (team > requested) team = requested;
    return team < 1 ? 1 : team;
}

/* A new sample when the last is a period old; one thread samples, the
 * others carry on with the last figure. */
static void follow_the_machine(void)
{
    long long now = clock_ns(CLOCK_MONOTONIC_COARSE);
    if (now < atomic_load_explicit(&next_sample_ns, memory_order_relaxed)) return;
    if (atomic_flag_test_and_set(&sampling)) return;
    load_sample s;
    if (take_sample(&s)) {
        double wall = (double)(s.wall_ns - last.wall_ns);
        if (last.wall_ns && wall > 0 && s.cpus == last.cpus) {
            double ticks_ns = 1e9 / (double)sysconf(_SC_CLK_TCK);
            double busy = (double)(s.busy_ticks - last.busy_ticks) * ticks_ns;
            double others = (busy - (double)(s.own_ns - last.own_ns)) / wall;
            atomic_store(&others_tenths, others > 0 ? (int)(others * 10 + 0.5) : 0);
        }
        last = s;
        atomic_store(&machine_cpus, s.cpus);
    }
    atomic_store_explicit(&next_sample_ns, now + SAMPLE_PERIOD_NS, memory_order_relaxed);
    atomic_flag_clear(&sampling);
}

int nerve_cpu_team(void)
{
    int requested = omp_get_max_threads();
    int fixed = atomic_load_explicit(&fixed_team, memory_order_relaxed);
    if (fixed) return fixed < requested ? fixed : requested;
    pthread_once(&settings_once, read_settings);
    if (!adapt || requested == 1 || omp_in_parallel()) return requested;
    follow_the_machine();
    int cpus = atomic_load_explicit(&machine_cpus, memory_order_relaxed);
    return nerve_cpu_team_for(requested, cpus ? cpus : requested,
                              atomic_load_explicit(&others_tenths, memory_order_relaxed) / 10.0);
}

void nerve_cpu_team_fix(int team) { atomic_store(&fixed_team, team > 0 ? team : 0); }
