/* Numeric CSV (src/data/csv.c), plain rows and sequences. Input: an options
 * byte, then the file. Bit 0: header; bits 1-2: the label column (last,
 * first, second, none); bits 3-4: regression targets (0-3, 0: classes);
 * bit 5: sequences, their id in column (bits 6-7). */
#include "fuzz_support.h"

#include "nerve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    static const int label_columns[4] = {-1, 0, 1, NERVE_CSV_NO_LABEL};
    unsigned bits = data[0];
    nerve_csv_options options = {
        .header = bits & 1,
        .label_column = label_columns[bits >> 1 & 3],
        .targets = (int)(bits >> 3 & 3),
        .sequences = bits >> 5 & 1,
        .sequence_column = (int)(bits >> 6 & 3),
    };
    char path[FUZZ_PATH_SIZE];
    int fd = fuzz_file_open(data + 1, size - 1, path);
    if (fd < 0) return 0;
    nerve_dataset ds;
    nerve_error err = {0};
    if (nerve_csv_load(path, &options, &ds, &err) == NERVE_OK) nerve_dataset_free(&ds);
    fuzz_file_close(fd);
    return 0;
}
