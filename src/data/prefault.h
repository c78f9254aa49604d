/* Faulting a buffer's pages in on a second thread, a little ahead of the
 * thread that fills it: on these virtual machines the first touch of a page
 * (the kernel zeroing it) is a third of loading Fashion-MNIST, and it can
 * run beside zlib's inflate instead of inside it. */
#ifndef NERVE_PREFAULT_H
#define NERVE_PREFAULT_H

#include <stddef.h>

typedef struct nerve_prefault nerve_prefault;

/* Starts a helper for buffer[0, size); NULL where it cannot help (no thread,
 * or a kernel without MADV_POPULATE_WRITE), which the other calls accept. */
nerve_prefault *nerve_prefault_start(void *buffer, size_t size);

/* The filler is about to write up to `filled` bytes: the helper faults in
 * the pages below filled + NERVE_PREFAULT_AHEAD, no further, so a buffer
 * larger than the data that reaches it costs at most that much more. */
#define NERVE_PREFAULT_AHEAD ((size_t)8 << 20)
void nerve_prefault_advance(nerve_prefault *p, size_t filled);

/* Stops the helper and waits for it; the buffer stays the caller's. */
void nerve_prefault_stop(nerve_prefault *p);

#endif
