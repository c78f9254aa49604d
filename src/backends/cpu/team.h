/* The host's threads on a shared machine (team.c, docs/benchmarks.md "A busy
 * machine"): how many a parallel loop whose result does not depend on their
 * number may take. The CPU backend's kernels use it, and so do the host
 * loops around them (a batch's gather) that run whatever the backend. */
#ifndef NERVE_CPU_TEAM_H
#define NERVE_CPU_TEAM_H

#include <stdbool.h>

/* The threads for a parallel loop whose result does not depend on their
 * number: the calling thread's OpenMP count (nerve_set_threads), less the
 * CPUs other processes keep busy (team.c, docs/benchmarks.md "A busy
 * machine"). */
int nerve_cpu_team(void);
/* The team for `requested` threads on `cpus` CPUs while other processes keep
 * `others` of them busy: the free CPUs rounded, within [1, requested]. */
int nerve_cpu_team_for(int requested, int cpus, double others);
/* Tests: a fixed team (0: follow the machine again). */
void nerve_cpu_team_fix(int team);
/* /proc/stat's text: the busy jiffies (all but idle and iowait) summed over
 * the "cpuN" lines with allowed[N] set (every line when allowed is NULL), and
 * how many there were; false when there were none. */
bool nerve_cpu_stat_busy(const char *text, const unsigned char *allowed, int allowed_count,
                         long long *busy, int *count);

#endif
