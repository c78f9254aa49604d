/* Writes tests/fixtures/checkpoints/ with the nerve it is built against: for
 * the MLP and the LSTM of tests/checkpoint_runs.h, a checkpoint inside a run
 * (after step 9 of the MLP, inside its second epoch; after step 70 of the
 * LSTM, inside its second epoch with carried state) and the weights of the
 * uninterrupted run at its end (step 16; step 80), one thread.
 * test_checkpoint.c resumes those checkpoints with the nerve of today: built
 * against an older libnerve, this keeps that release's checkpoints readable.
 * The fixtures in the tree were written by nerve 0.2.1 (main's library of
 * 2026-12-07, before the checkpoint state protocol; checkpoint format 2):
 *
 *   cc -std=c11 -I include -I tests tests/reference/checkpoint_fixtures.c \
 *      -L OLD/build -lnerve -Wl,-rpath,OLD/build -o /tmp/checkpoint_fixtures
 *   /tmp/checkpoint_fixtures tests/fixtures/checkpoints
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint_runs.h"

static int fail(const char *what, const nerve_error *err)
{
    fprintf(stderr, "checkpoint_fixtures: %s: %s\n", what, err->message);
    return 1;
}

/* Trains cfg_path `steps` steps in all: a checkpoint at the end when
 * checkpoint is not NULL, the weights when weights is not NULL. */
static int run(const char *cfg_path, int64_t size, int64_t steps, const char *checkpoint,
               const char *weights)
{
    nerve_error err = {0};
    nerve_model *m;
    if (nerve_model_load(cfg_path, NULL, &m, &err) != NERVE_OK) return fail(cfg_path, &err);
    nerve_dataset train = {0}, val = {0};
    if (size > 0) {
        train = features(96, size, 5);
        val = features(32, size, 6);
    } else if (nerve_model_load_data(m, &train, &val, NULL, &err) != NERVE_OK) {
        return fail("data", &err);
    }
    nerve_train_options o = nerve_train_options_from(m);
    o.max_steps = steps;
    o.checkpoint_path = checkpoint;
    int code = 0;
    if (nerve_train(m, &train, val.count ? &val : NULL, &o, &err) != NERVE_OK)
        code = fail("training", &err);
    else if (weights && nerve_model_save_weights(m, weights, &err) != NERVE_OK)
        code = fail(weights, &err);
    nerve_dataset_free(&train);
    nerve_dataset_free(&val);
    nerve_model_free(m);
    return code;
}

static int write_file(const char *path, const char *text, size_t n)
{
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(text, 1, n, f) == n;
    if (f && fclose(f) != 0) ok = 0;
    if (!ok) fprintf(stderr, "checkpoint_fixtures: cannot write %s\n", path);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: checkpoint_fixtures OUT_DIR\n");
        return 2;
    }
    nerve_set_threads(1);
    char work[] = "/tmp/checkpoint-fixtures-XXXXXX";
    if (!mkdtemp(work)) return 1;
    char mlp[600], corpus[600], lstm[600], lstm_text[1024], text[2400], out[4][600];
    snprintf(mlp, sizeof mlp, "%s/mlp.cfg", work);
    snprintf(corpus, sizeof corpus, "%s/corpus.txt", work);
    snprintf(lstm, sizeof lstm, "%s/lstm.cfg", work);
    const char *names[4] = {"mlp_step9", "mlp_final", "lstm_step70", "lstm_final"};
    for (int i = 0; i < 4; i++)
        snprintf(out[i], sizeof out[i], "%s/%s.safetensors", argv[1], names[i]);
    lstm_cfg_for(corpus, lstm_text, sizeof lstm_text);
    int n = lstm_corpus(text, sizeof text);
    if (write_file(mlp, mlp_cfg, strlen(mlp_cfg)) || write_file(corpus, text, (size_t)n) ||
        write_file(lstm, lstm_text, strlen(lstm_text)))
        return 1;
    return run(mlp, 10, 9, out[0], NULL) || run(mlp, 10, 16, NULL, out[1]) ||
           run(lstm, 0, 70, out[2], NULL) || run(lstm, 0, 80, NULL, out[3]);
}
