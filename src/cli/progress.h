/* Training progress for nerve train: one line per epoch on stdout, and, when
 * stderr is a terminal, a progress bar on stderr that redraws in place. */
#ifndef NERVE_CLI_PROGRESS_H
#define NERVE_CLI_PROGRESS_H

#include <stdbool.h>

#include "nerve.h"

typedef struct cli_progress {
    bool draw_bar;        /* stderr is a terminal */
    bool classification;  /* print accuracies */
    int epochs;
    int64_t max_steps;    /* 0: epochs * steps per epoch */
    double last_draw;     /* elapsed seconds at the last redraw */
    bool bar_shown;
    /* The last step's position: an epoch line for fewer steps than the
     * epoch has says so, and the command says where --steps stopped. */
    int64_t step, steps_per_epoch, global_step;
    int epoch;
} cli_progress;

void cli_progress_init(cli_progress *p, int epochs, int64_t max_steps, bool classification);
/* nerve_train_options callbacks; user is the cli_progress. */
void cli_progress_on_step(const nerve_progress *progress, void *user);
void cli_progress_on_epoch(const nerve_epoch_report *report, void *user);
/* Erases the bar, so that a message can follow on a clean line. */
void cli_progress_clear(cli_progress *p);
/* After a run that --steps cut short: one line saying where it stopped. */
void cli_progress_print_cut_short(const cli_progress *p);

#endif
