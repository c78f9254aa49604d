/* The .cfg model-load path: tokenizer (src/io/config.c), settings sections,
 * strict key checks and the building of every layer, from the file's bytes
 * as nerve_model_load reads them. */
#include "fuzz_support.h"

#include "core/graph_internal.h"
#include "nerve.h"

/* 4 Mi parameters (a LeNet, some 40 MB with gradients) keep each run fast
 * and well inside -rss_limit_mb; the library's own limit is far higher
 * (NERVE_PARAM_LIMIT). */
#define FUZZ_PARAM_LIMIT ((int64_t)1 << 22)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nerve_graph_set_param_limit(FUZZ_PARAM_LIMIT);
    char path[FUZZ_PATH_SIZE];
    int fd = fuzz_file_open(data, size, path);
    if (fd < 0) return 0;
    nerve_model *model = NULL;
    nerve_error err = {0};
    if (nerve_model_load(path, NULL, &model, &err) == NERVE_OK) nerve_model_free(model);
    fuzz_file_close(fd);
    return 0;
}
