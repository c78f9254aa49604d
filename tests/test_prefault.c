/* The prefault helper (src/data/prefault.c) that faults a buffer's pages in
 * beside the IDX reader: what the filler writes survives it, and it never
 * runs more than NERVE_PREFAULT_AHEAD past what the filler asked for, so a
 * header that announces more data than arrives costs no more than that. */
#define _DEFAULT_SOURCE /* mincore, MAP_ANONYMOUS */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "test_support.h"
#include "data/prefault.h"

#define BUFFER_SIZE ((size_t)256 << 20) /* address space only: never all touched */

/* Bytes of buffer[0, size) resident in memory. */
static size_t resident_bytes(unsigned char *buffer, size_t size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), pages = size / page, resident = 0;
    unsigned char *present = malloc(pages);
    assert_non_null(present);
    assert_int_equal(mincore(buffer, size, present), 0);
    for (size_t i = 0; i < pages; i++) resident += present[i] & 1;
    free(present);
    return resident * page;
}

static unsigned char *map_untouched(void)
{
    void *buffer = mmap(NULL, BUFFER_SIZE, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    assert_true(buffer != MAP_FAILED);
    return buffer;
}

static void test_the_filler_data_survives_the_helper(void **state)
{
    unsigned char *buffer = map_untouched();
    nerve_prefault *p = nerve_prefault_start(buffer, BUFFER_SIZE);
    if (!p) skip(); /* no MADV_POPULATE_WRITE here: the reader faults its own pages */
    /* Filled in small steps, so that the helper populates pages right beside
     * those being written: populating leaves a present page as it is. */
    const size_t filled = (size_t)48 << 20, step = (size_t)64 << 10;
    for (size_t done = 0; done < filled; done += step) {
        nerve_prefault_advance(p, done + step);
        for (size_t i = done; i < done + step; i++) buffer[i] = (unsigned char)(i * 7 + i / 4099);
    }
    nerve_prefault_stop(p);
    for (size_t i = 0; i < filled; i++)
        if (buffer[i] != (unsigned char)(i * 7 + i / 4099)) fail_msg("byte %zu changed", i);
    munmap(buffer, BUFFER_SIZE);
}

static void test_the_helper_stays_within_its_lead(void **state)
{
    unsigned char *buffer = map_untouched();
    nerve_prefault *p = nerve_prefault_start(buffer, BUFFER_SIZE);
    if (!p) skip();
    const size_t asked = (size_t)1 << 20;
    nerve_prefault_advance(p, asked);
    /* Asynchronous: wait (10 s at most, a busy machine) until the helper has
     * reached the end of its lead, then give it time to go beyond it. */
    const size_t lead = asked + NERVE_PREFAULT_AHEAD - (size_t)sysconf(_SC_PAGESIZE);
    for (int i = 0; i < 1000 && resident_bytes(buffer, BUFFER_SIZE) < lead; i++)
        nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
    nanosleep(&(struct timespec){.tv_nsec = 50000000}, NULL);
    nerve_prefault_stop(p);
    size_t resident = resident_bytes(buffer, BUFFER_SIZE);
    assert_true(resident >= lead);
    assert_true(resident <= asked + NERVE_PREFAULT_AHEAD);
    munmap(buffer, BUFFER_SIZE);
}

static void test_no_helper_is_accepted_everywhere(void **state)
{
    nerve_prefault_advance(NULL, 4096);
    nerve_prefault_stop(NULL);
    unsigned char small[16];
    assert_null(nerve_prefault_start(small, sizeof small)); /* no whole page to populate */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_filler_data_survives_the_helper),
        cmocka_unit_test(test_the_helper_stays_within_its_lead),
        cmocka_unit_test(test_no_helper_is_accepted_everywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
