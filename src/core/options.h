/* Reading the structs a caller fills (nerve/core.h, NERVE_SIZED): each
 * starts with the size the caller's header gave it, and the library reads
 * what that size covers into a struct of its own layout. */
#ifndef NERVE_CORE_OPTIONS_H
#define NERVE_CORE_OPTIONS_H

#include <stddef.h>

#include "nerve.h"

/* The bytes of `type` up to and including `last`: the layout a size of 0
 * stands for (the fields the struct had in nerve 0.2, where sizes began). */
#define NERVE_OPTIONS_BASE(type, last) (offsetof(type, last) + sizeof(((type *)0)->last))

/* Copies the caller's struct `in` into `out` (`full` bytes, this library's
 * layout): the first in->size bytes (0: `base`), every later field zero,
 * then out's size set to `full`. in NULL: out all zero (the caller decides
 * what NULL means before). A size below `base` or above `full` (a program
 * built against a newer nerve.h) fails with a message naming `what`, the
 * function that was called. */
bool nerve_options_read(void *out, size_t full, const void *in, size_t base, const char *what,
                        nerve_error *err);
/* Writes the library's `value` (`full` bytes) into the caller's `out` of
 * `size` bytes: the fields both layouts have, zero past the library's, and
 * out's size set to `size`: what the *_sized defaults functions do. */
void nerve_options_write(void *out, size_t size, const void *value, size_t full);

/* At the top of a public function taking `const type *p` (NULL where it
 * means the defaults): p then points at a copy in this library's layout,
 * read with the fields up to `last` as the base; a caller's struct of the
 * wrong size returns `fail` from the function (the message in err, when
 * the function has one). */
#define NERVE_OPTIONS_IN(type, p, last, what, err, fail)                                      \
    type p##_in;                                                                             \
    if (p) {                                                                                 \
        if (!nerve_options_read(&p##_in, sizeof p##_in, p, NERVE_OPTIONS_BASE(type, last),    \
                                what, err))                                                  \
            return fail;                                                                     \
        p = &p##_in;                                                                         \
    }                                                                                        \
    (void)0

#endif
