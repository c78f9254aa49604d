/* Token ids in a model's input data: an [embedding] or [one_hot] reads its
 * input as ids, so every value must be an integer id it has a row for. The
 * ops turn a bad id into NaN; this check names the file and the sample
 * before training or prediction gets that far. */
#include <math.h>

#include "model/model_internal.h"

/* The ids of count samples: float inputs, or stored pixels (their values). */
static nerve_status check_ids(const nerve_model *m, const float *inputs,
                              const unsigned char *pixels, const float *pixel_values,
                              int64_t count, const char *source, nerve_error *err)
{
    int64_t limit = nerve_graph_token_limit(m->graph, m->input);
    int64_t per_sample = nerve_shape_numel(&m->settings.input);
    if (limit == 0) return NERVE_OK;
    for (int64_t i = 0; i < count * per_sample; i++) {
        float id = pixels ? pixel_values[pixels[i]] : inputs[i];
        if (id >= 0 && id < (float)limit && id == floorf(id)) continue;
        if (per_sample == 1)
            return nerve_error_set(err, NERVE_ERR_INVALID,
                                   "%s: sample %lld: token id %g is not an integer in [0, %lld)",
                                   source, (long long)i, (double)id, (long long)limit);
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "%s: sample %lld, step %lld: token id %g is not an integer in "
                               "[0, %lld)",
                               source, (long long)(i / per_sample), (long long)(i % per_sample),
                               (double)id, (long long)limit);
    }
    return NERVE_OK;
}

nerve_status nerve_model_check_tokens(const nerve_model *m, const float *inputs, int64_t count,
                                      const char *source, nerve_error *err)
{
    return check_ids(m, inputs, NULL, NULL, count, source, err);
}

nerve_status nerve_model_check_dataset_tokens(const nerve_model *m, const nerve_dataset *ds,
                                              const char *source, nerve_error *err)
{
    return check_ids(m, ds->inputs, ds->pixels, ds->pixel_values, ds->count, source, err);
}
