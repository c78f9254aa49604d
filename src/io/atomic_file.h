/* Atomic replacement of a file: the content goes to a temporary file in the
 * same directory, which is synced and renamed over the target, so a reader
 * sees either the old file or the complete new one, never a torn write. */
#ifndef NERVE_ATOMIC_FILE_H
#define NERVE_ATOMIC_FILE_H

#include <stdio.h>

#include "nerve.h"

typedef struct nerve_atomic_file {
    FILE *stream; /* write the new content here */
    char *path;
    char *temp_path;
} nerve_atomic_file;

/* Creates the temporary file beside path. */
nerve_status nerve_atomic_file_open(nerve_atomic_file *file, const char *path, nerve_error *err);
/* Flushes, fsyncs, renames over the target and fsyncs the directory. On
 * failure the temporary file is removed and the target left as it was. The
 * file is closed either way. */
nerve_status nerve_atomic_file_commit(nerve_atomic_file *file, nerve_error *err);
/* Closes and removes the temporary file; the target is untouched. */
void nerve_atomic_file_abort(nerve_atomic_file *file);

#endif
