/* A helper thread that populates a buffer's pages ahead of its filler
 * (prefault.h). MADV_POPULATE_WRITE (Linux 5.14) faults pages in writable
 * and leaves pages already present as they are, so the helper never races
 * with the data the filler writes; where it fails the helper stops and the
 * filler faults its pages itself, as without it. */
#define _DEFAULT_SOURCE /* madvise */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "data/prefault.h"

struct nerve_prefault {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    uintptr_t begin, end; /* the buffer's whole pages */
    uintptr_t done;       /* populated below this */
    uintptr_t target;     /* asked to populate below this */
    bool stop;
};

static void *populate_ahead(void *arg)
{
    nerve_prefault *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->stop && p->done >= p->target) pthread_cond_wait(&p->wake, &p->lock);
        if (p->stop) break;
        uintptr_t from = p->done, to = p->target;
        pthread_mutex_unlock(&p->lock);
        bool ok = madvise((void *)from, to - from, MADV_POPULATE_WRITE) == 0;
        pthread_mutex_lock(&p->lock);
        p->done = ok ? to : p->end; /* failed: leave the pages to the filler */
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

nerve_prefault *nerve_prefault_start(void *buffer, size_t size)
{
#ifdef MADV_POPULATE_WRITE
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t begin = ((uintptr_t)buffer + page - 1) & ~(page - 1);
    uintptr_t end = ((uintptr_t)buffer + size) & ~(page - 1);
    if (end <= begin) return NULL;
    nerve_prefault *p = malloc(sizeof *p);
    if (!p) return NULL;
    *p = (nerve_prefault){.begin = begin, .end = end, .done = begin, .target = begin};
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    if (pthread_create(&p->thread, NULL, populate_ahead, p) == 0) return p;
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p);
#else
    (void)buffer, (void)size;
#endif
    return NULL;
}

void nerve_prefault_advance(nerve_prefault *p, size_t filled)
{
    if (!p) return;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t want = p->begin + ((filled + NERVE_PREFAULT_AHEAD) & ~(page - 1));
    pthread_mutex_lock(&p->lock);
    if (want > p->end) want = p->end;
    if (want > p->target) {
        p->target = want;
        pthread_cond_signal(&p->wake);
    }
    pthread_mutex_unlock(&p->lock);
}

void nerve_prefault_stop(nerve_prefault *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    p->stop = true;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
