/* [data] format = adding: the adding problem's training and test sets,
 * generated rather than read. */
#include "model/model_internal.h"

/* The adding problem's samples, each set from its own stream derived from
 * [net] seed (apart from the weights' and the shuffling's). */
static nerve_status generate_adding(const nerve_model *m, const char *name, int64_t count,
                                    uint64_t stream, nerve_dataset *out, nerve_error *err)
{
    const nerve_model_settings *s = &m->settings;
    nerve_status st = nerve_adding_generate(s->data.length, count, s->seed ^ stream, out, err);
    if (st == NERVE_OK) st = nerve_model_check_data(m, name, NULL, out, err);
    if (st != NERVE_OK) nerve_dataset_free(out);
    return st;
}

nerve_status nerve_model_load_adding(nerve_model *m, nerve_dataset *train, nerve_dataset *val,
                                     nerve_dataset *test, nerve_error *err)
{
    const nerve_data_settings *d = &m->settings.data;
    nerve_dataset all = {0}, held = {0};
    nerve_status st = NERVE_OK;
    if (test && d->test_samples == 0)
        return nerve_error_set(err, NERVE_ERR_INVALID, "[data] test_samples is 0: no test set");
    if (train || val) {
        st = generate_adding(m, "the adding problem's training samples", d->train_samples,
                             0xadd17a1200000001ULL, &all, err);
        if (st == NERVE_OK && d->validation >= all.count)
            st = nerve_error_set(err, NERVE_ERR_INVALID,
                                 "[data] validation = %lld leaves no training samples out of %lld",
                                 (long long)d->validation, (long long)all.count);
        if (st == NERVE_OK && d->validation > 0)
            st = nerve_dataset_split(&all, d->validation, &held, err);
    }
    if (st == NERVE_OK && test)
        st = generate_adding(m, "the adding problem's test samples", d->test_samples,
                             0xadd7e57000000002ULL, test, err);
    if (st != NERVE_OK) {
        nerve_dataset_free(&all);
        nerve_dataset_free(&held);
        return st;
    }
    if (train) *train = all; else nerve_dataset_free(&all);
    if (val) *val = held; else nerve_dataset_free(&held);
    return NERVE_OK;
}
