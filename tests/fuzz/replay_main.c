/* Replays fuzz inputs without libFuzzer: runs LLVMFuzzerTestOneInput once
 * on every file of the directories (or files) named on the command line, so
 * that `make test` checks each seed and past crasher in the ordinary and the
 * sanitizer builds. Fails when a directory is missing or a file unreadable;
 * a crash fails it the usual way. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_support.h"

static int replay_file(const char *path)
{
    FILE *file = fopen(path, "rb");
    if (!file) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return 1;
    }
    size_t size = 0, capacity = 4096;
    uint8_t *data = malloc(capacity);
    for (;;) {
        if (!data) break;
        size += fread(data + size, 1, capacity - size, file);
        if (size < capacity) break;
        uint8_t *grown = realloc(data, 2 * capacity);
        if (!grown) free(data);
        data = grown;
        capacity *= 2;
    }
    int failed = ferror(file) || !data;
    fclose(file);
    if (failed) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        free(data);
        return 1;
    }
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of dir, in name order (so that runs are repeatable). */
static int replay_directory(const char *dir, int *count)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "replay: cannot open directory %s\n", dir);
        return 1;
    }
    char **names = NULL;
    size_t n = 0, capacity = 0;
    int failed = 0;
    for (struct dirent *e; !failed && (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        if (n == capacity) {
            capacity = capacity ? 2 * capacity : 64;
            char **grown = realloc(names, capacity * sizeof *names);
            if (!grown) {
                failed = 1;
                break;
            }
            names = grown;
        }
        size_t length = strlen(dir) + strlen(e->d_name) + 2;
        names[n] = malloc(length);
        if (!names[n]) {
            failed = 1;
            break;
        }
        snprintf(names[n++], length, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, compare_names);
    for (size_t i = 0; i < n; i++) {
        struct stat info;
        if (!failed && stat(names[i], &info) == 0 && S_ISREG(info.st_mode)) {
            failed = replay_file(names[i]);
            ++*count;
        }
        free(names[i]);
    }
    free(names);
    return failed;
}

int main(int argc, char **argv)
{
    int count = 0, failed = 0;
    for (int i = 1; i < argc && !failed; i++) {
        struct stat info;
        if (stat(argv[i], &info) != 0) {
            fprintf(stderr, "replay: %s does not exist\n", argv[i]);
            failed = 1;
        } else if (S_ISDIR(info.st_mode)) {
            failed = replay_directory(argv[i], &count);
        } else {
            failed = replay_file(argv[i]);
            count++;
        }
    }
    if (!failed) printf("replay: %d inputs, no crash\n", count);
    return failed;
}
