/* A program as its author compiles it against some nerve.h: tests/api_compat.sh
 * builds it against today's header and against the previous one (today's
 * less the fields added since the size base), links both to today's
 * libnerve.so and runs them. NEW_HEADER: the fields of today's header are
 * there to be used. Usage: program WORK_DIR; exits 0 when every check
 * holds, naming the first that does not otherwise. */
#include <stdio.h>
#include <string.h>

#include "nerve.h"

static int failed(const char *what, const nerve_error *err)
{
    printf("FAIL: %s: %s\n", what, err ? err->message : "");
    return 1;
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) return 0;
    fputs(text, f);
    return fclose(f) == 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) return 2;
    char comma[512], semicolon[512];
    snprintf(comma, sizeof comma, "%s/comma.csv", argv[1]);
    snprintf(semicolon, sizeof semicolon, "%s/semicolon.csv", argv[1]);
    if (!write_file(comma, "1,2,0\n3,4,1\n5,6,1\n") || !write_file(semicolon, "1;2;0\n3;4;1\n"))
        return failed("writing the data files", NULL);
    nerve_error err = {0};
    nerve_dataset ds;

    /* Sized by this program's header: the library takes a field the
     * header lacks (delimiter, for the previous header) at zero, ','. */
    nerve_csv_options sized = {NERVE_SIZED(nerve_csv_options), .label_column = -1};
    if (nerve_csv_load(comma, &sized, &ds, &err) != NERVE_OK) return failed("sized options", &err);
    if (ds.count != 3 || ds.sample_size != 2 || ds.num_classes != 2)
        return failed("sized options: 3 samples of 2 features, 2 classes", NULL);
    nerve_dataset_free(&ds);

    /* Zeroed, no size: the layout of the size base. */
    nerve_csv_options zeroed = {.label_column = -1};
    if (nerve_csv_load(comma, &zeroed, &ds, &err) != NERVE_OK) return failed("size 0", &err);
    nerve_dataset_free(&ds);

    /* Defaults returned by value come in this program's layout. */
    nerve_optimizer_options adam = nerve_optimizer_defaults(NERVE_OPTIMIZER_ADAM);
    if (adam.size != sizeof adam || adam.lr != 0.001 || adam.beta2 != 0.999)
        return failed("nerve_optimizer_defaults in the caller's layout", NULL);

    /* A struct larger than the library's: built against a newer nerve.h. */
    struct {
        nerve_csv_options options;
        char field_of_the_future[16];
    } newer;
    memset(&newer, 0, sizeof newer);
    newer.options.size = sizeof newer;
    newer.options.label_column = -1;
    if (nerve_csv_load(comma, &newer.options, &ds, &err) != NERVE_ERR_INVALID ||
        !strstr(err.message, "newer nerve.h"))
        return failed("options larger than the library's are an error", &err);

#ifdef NEW_HEADER
    nerve_csv_options semi = {NERVE_SIZED(nerve_csv_options), .label_column = -1,
                              .delimiter = ';'};
    if (nerve_csv_load(semicolon, &semi, &ds, &err) != NERVE_OK || ds.count != 2 ||
        ds.sample_size != 2)
        return failed("delimiter ';'", &err);
    nerve_dataset_free(&ds);
#endif
    if (strcmp(nerve_version(), NERVE_VERSION) != 0 && nerve_version_number() < NERVE_VERSION_NUMBER)
        return failed("the library is older than the header", NULL);
    printf("ok: %s header, library %s\n", NERVE_VERSION, nerve_version());
    return 0;
}
