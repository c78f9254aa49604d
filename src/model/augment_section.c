/* The [augment] section, and the augmentation pipeline it describes for a
 * model's training data. The values' ranges are the library's
 * (nerve_augment_options_problem), so the cfg and the API accept the same
 * settings; the cfg's message names the key's line. */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_internal.h"

/* Mixed into the seed: the augmentation's stream is apart from the weights'
 * and the shuffling's, which turning it on therefore leaves as they were. */
#define AUGMENT_STREAM 0xa0906e17ULL

/* The order in which transforms are named when one is needed. */
static const char *const transform_keys[] = {"crop_padding", "flip",     "rotation", "translate",
                                             "brightness",   "contrast", "erase",
                                             "noise"};

/* key = low, high: exactly two numbers. */
static bool read_pair(cfg_reader *r, const char *key, double pair[2])
{
    float *values;
    int64_t count;
    if (!cfg_read_list(r, key, -DBL_MAX, DBL_MAX, &values, &count)) return false;
    if (!values) return true;
    if (count == 2) {
        pair[0] = values[0];
        pair[1] = values[1];
    }
    free(values);
    return count == 2 || cfg_fail(r, key, "takes two values, min, max (%lld given)",
                                  (long long)count);
}

nerve_status nerve_read_augment_section(cfg_reader *r, nerve_augment_options *o)
{
    *o = nerve_augment_defaults();
    if (!cfg_read_int(r, "crop_padding", false, 0, INT64_MIN, INT64_MAX, &o->crop_padding) ||
        !cfg_read_double(r, "flip", false, 0, -DBL_MAX, DBL_MAX, &o->flip) ||
        !cfg_read_double(r, "rotation", false, 0, -DBL_MAX, DBL_MAX, &o->rotation) ||
        !cfg_read_double(r, "translate", false, 0, -DBL_MAX, DBL_MAX, &o->translate) ||
        !cfg_read_double(r, "brightness", false, 0, -DBL_MAX, DBL_MAX, &o->brightness) ||
        !cfg_read_double(r, "contrast", false, 0, -DBL_MAX, DBL_MAX, &o->contrast) ||
        !cfg_read_double(r, "erase", false, 0, -DBL_MAX, DBL_MAX, &o->erase) ||
        !read_pair(r, "erase_scale", o->erase_scale) ||
        !read_pair(r, "erase_ratio", o->erase_ratio) ||
        !cfg_read_double(r, "erase_value", false, 0, -DBL_MAX, DBL_MAX, &o->erase_value) ||
        !cfg_read_double(r, "noise", false, 0, -DBL_MAX, DBL_MAX, &o->noise))
        return r->status;
    char why[200];
    const char *key;
    if (nerve_augment_options_problem(o, &key, why, sizeof why))
        return cfg_fail(r, key, "%s", why), r->status;
    static const char *const erase_keys[] = {"erase_scale", "erase_ratio", "erase_value"};
    for (int i = 0; i < 3; i++)
        if (o->erase == 0 && cfg_has(r, erase_keys[i]))
            return cfg_fail(r, erase_keys[i], "only applies with erase > 0"), r->status;
    return cfg_reader_finish(r);
}

nerve_status nerve_check_augment_input(nerve_config *cfg, const nerve_model_settings *s,
                                       nerve_error *err)
{
    if (!nerve_augment_enabled(&s->augment) || s->input.ndim == 3) return NERVE_OK;
    for (int i = 0; i < nerve_config_section_count(cfg); i++) {
        nerve_config_section *sec = nerve_config_section_at(cfg, i);
        if (strcmp(sec->type, "augment") != 0) continue;
        cfg_reader r = cfg_reader_begin(cfg, sec, err);
        const char *key = NULL;
        for (size_t k = 0; !key && k < sizeof transform_keys / sizeof transform_keys[0]; k++)
            if (cfg_has(&r, transform_keys[k])) key = transform_keys[k];
        char shape[64];
        cfg_fail(&r, key, "augmentation takes images: [net] input must be CxHxW (e.g. 1x28x28), "
                          "not %s", nerve_shape_format(&s->input, shape, sizeof shape));
        return r.status;
    }
    return NERVE_OK;
}

nerve_augment *nerve_model_augment_new(const nerve_model *m, uint64_t seed, nerve_error *err)
{
    const nerve_model_settings *s = &m->settings;
    if (!nerve_augment_enabled(&s->augment)) {
        nerve_error_set(err, NERVE_ERR_INVALID,
                        "[augment] enables no transform (set e.g. flip = 0.5 or crop_padding = 4)");
        return NULL;
    }
    double gain, offset;
    nerve_model_input_transform(m, &gain, &offset);
    return nerve_augment_new(&s->augment, s->input, gain, offset, seed ^ AUGMENT_STREAM, err);
}
