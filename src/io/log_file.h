/* Closing a log written as it goes (the metrics log, the activation
 * statistics, the state gradients: CSV files appended row by row, not
 * replaced atomically): a write error anywhere in the file, or one at the
 * close, is one message naming the file and what it held. */
#ifndef NERVE_LOG_FILE_H
#define NERVE_LOG_FILE_H

#include <stdio.h>

#include "nerve.h"

/* Closes *file (NULL: nothing to do) and sets it to NULL; NERVE_ERR_IO,
 * "PATH: writing WHAT failed", when a write or the close failed. */
nerve_status nerve_log_file_close(FILE **file, const char *path, const char *what,
                                  nerve_error *err);

#endif
