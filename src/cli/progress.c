#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/progress.h"

/* Redrawing faster than this only costs time: the eye cannot follow it. */
#define REDRAW_SECONDS 0.1
#define BAR_MAX 30
/* Room kept for the figures after the bar; a fixed budget rather than their
 * current length, so that the bar does not change width as they change. */
#define METRICS_BUDGET 66

void cli_progress_init(cli_progress *p, int epochs, int64_t max_steps, bool classification)
{
    memset(p, 0, sizeof *p);
    /* Only rank 0 prints: the other ranks' stderr is not silenced. */
    p->draw_bar = isatty(STDERR_FILENO) && cli_dist_root();
    p->classification = classification;
    p->epochs = epochs;
    p->max_steps = max_steps;
    p->last_draw = -1;
}

static int terminal_columns(void)
{
    struct winsize size;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
    return 80;
}

static void format_duration(double seconds, char *buf, size_t size)
{
    if (!isfinite(seconds) || seconds < 0) {
        snprintf(buf, size, "?");
        return;
    }
    long s = lround(seconds);
    if (s >= 3600)
        snprintf(buf, size, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, size, "%ld:%02ld", s / 60, s % 60);
}

void cli_progress_clear(cli_progress *p)
{
    if (!p->bar_shown) return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    p->bar_shown = false;
}

void cli_progress_on_step(const nerve_progress *progress, void *user)
{
    cli_progress *p = user;
    p->epoch = progress->epoch;
    p->step = progress->step;
    p->steps_per_epoch = progress->steps_per_epoch;
    p->global_step = progress->global_step;
    bool epoch_done = progress->step == progress->steps_per_epoch;
    if (!p->draw_bar || (!epoch_done && p->last_draw >= 0 &&
                         progress->elapsed_seconds - p->last_draw < REDRAW_SECONDS))
        return;
    p->last_draw = progress->elapsed_seconds;

    /* The ETA extrapolates the mean step time of the whole run so far. */
    int64_t total = (int64_t)progress->epochs * progress->steps_per_epoch;
    if (p->max_steps > 0 && p->max_steps < total) total = p->max_steps;
    double eta = progress->global_step > 0
                     ? progress->elapsed_seconds / (double)progress->global_step *
                           (double)(total - progress->global_step)
                     : NAN;
    char eta_text[32], metrics[160], accuracy[32] = "";
    format_duration(eta, eta_text, sizeof eta_text);
    if (p->classification) snprintf(accuracy, sizeof accuracy, " acc %.4f", progress->accuracy);
    char steps[24];
    int steps_width = snprintf(steps, sizeof steps, "%lld", (long long)progress->steps_per_epoch);
    snprintf(metrics, sizeof metrics, " %*lld/%s  loss %.4f%s  %.0f samples/s  ETA %s",
             steps_width, (long long)progress->step, steps, progress->loss, accuracy,
             progress->samples_per_second, eta_text);
    char head[48];
    snprintf(head, sizeof head, "epoch %d/%d ", progress->epoch, progress->epochs);

    /* The bar takes what the terminal leaves, so that the line never wraps
     * (a wrapped line cannot be redrawn with \r). */
    int columns = terminal_columns() - 1;
    int bar = columns - (int)strlen(head) - METRICS_BUDGET - 2;
    if (bar > BAR_MAX) bar = BAR_MAX;
    char line[512];
    int length = snprintf(line, sizeof line, "%s", head);
    if (bar >= 5) {
        int filled = (int)((double)bar * (double)progress->step /
                           (double)(progress->steps_per_epoch > 0 ? progress->steps_per_epoch : 1));
        line[length++] = '[';
        for (int i = 0; i < bar; i++) line[length++] = i < filled ? '=' : ' ';
        line[length++] = ']';
        line[length] = '\0';
    }
    snprintf(line + length, sizeof line - (size_t)length, "%s", metrics);
    if (columns > 0 && (int)strlen(line) > columns) line[columns] = '\0';
    fprintf(stderr, "\r%s\033[K", line);
    fflush(stderr);
    p->bar_shown = true;
}

/* "  test loss 0.3725 acc 0.8943" (without acc for a regression). */
static void describe_evaluation(char *buf, size_t size, const char *what, double loss,
                                double accuracy, bool classification)
{
    if (classification)
        snprintf(buf, size, "  %s loss %.4f acc %.4f", what, loss, accuracy);
    else
        snprintf(buf, size, "  %s loss %.4f", what, loss);
}

void cli_progress_on_epoch(const nerve_epoch_report *report, void *user)
{
    cli_progress *p = user;
    cli_progress_clear(p);
    char train[96], val[96] = "";
    if (p->classification)
        snprintf(train, sizeof train, "train loss %.4f acc %.4f", report->train_loss,
                 report->train_accuracy);
    else
        snprintf(train, sizeof train, "train loss %.4f", report->train_loss);
    /* eval mode at the epoch's end: validation, the training set, the test set */
    char train_eval[96] = "", test[96] = "";
    if (!isnan(report->val_loss))
        describe_evaluation(val, sizeof val, "val", report->val_loss, report->val_accuracy,
                            p->classification);
    if (!isnan(report->train_eval_loss))
        describe_evaluation(train_eval, sizeof train_eval, "train (eval)",
                            report->train_eval_loss, report->train_eval_accuracy,
                            p->classification);
    if (!isnan(report->test_loss))
        describe_evaluation(test, sizeof test, "test", report->test_loss, report->test_accuracy,
                            p->classification);
    char partial[64] = "";
    if (p->epoch == report->epoch && p->step < p->steps_per_epoch)
        snprintf(partial, sizeof partial, " (%lld of %lld steps)", (long long)p->step,
                 (long long)p->steps_per_epoch);
    printf("epoch %d/%d%s  %s%s%s%s  %.0f samples/s  %.1f s\n", report->epoch, p->epochs,
           partial, train, val, train_eval, test, report->samples_per_second, report->seconds);
    fflush(stdout);
    p->last_draw = -1;
}

void cli_progress_print_cut_short(const cli_progress *p)
{
    if (p->max_steps <= 0 || p->global_step < p->max_steps) return;
    if (p->epoch == p->epochs && p->step == p->steps_per_epoch) return; /* the run was done */
    printf("stopped by --steps %lld in epoch %d/%d, after step %lld of %lld: the run is cut "
           "short\n",
           (long long)p->max_steps, p->epoch, p->epochs, (long long)p->step,
           (long long)p->steps_per_epoch);
}
