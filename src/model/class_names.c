/* A classifier's class names: from [data] class_names, from the training
 * data (a CSV's string labels, a folder's class folders) or from the
 * weights' metadata, where they are saved (a JSON array of strings) beside
 * the training images' shape. Every other data set's named classes are
 * mapped onto them by name, so that a test file that lacks a class, or
 * lists them in another order, still means the same classes. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_internal.h"

#define CLASSES_KEY "nerve.classes"
#define IMAGE_SHAPE_KEY "nerve.image_shape"

bool nerve_class_names_add(nerve_class_names *c, const char *name)
{
    char **names = realloc(c->names, (size_t)(c->count + 1) * sizeof *names);
    if (!names) return false;
    c->names = names;
    return (c->names[c->count] = strdup(name)) != NULL && ++c->count;
}

void nerve_class_names_free(nerve_class_names *c)
{
    for (int i = 0; i < c->count; i++) free(c->names[i]);
    free(c->names);
    memset(c, 0, sizeof *c);
}

const char *nerve_model_class_name(const nerve_model *m, int c)
{
    return c >= 0 && c < m->class_names.count ? m->class_names.names[c] : NULL;
}

nerve_shape nerve_model_image_shape(const nerve_model *m) { return m->image_shape; }

/* The names count against the network's classes; the message points at
 * the class_names line. */
nerve_status nerve_model_check_class_names(const nerve_model *m, nerve_config *cfg,
                                           nerve_error *err)
{
    if (m->class_names.count == 0 || m->class_names.count == m->classes) return NERVE_OK;
    for (int i = 0; i < nerve_config_section_count(cfg); i++) {
        nerve_config_section *sec = nerve_config_section_at(cfg, i);
        if (strcmp(sec->type, "data") != 0) continue;
        cfg_reader r = cfg_reader_begin(cfg, sec, err);
        if (m->classes == 0)
            cfg_fail(&r, "class_names", "names %d classes, but the network is a regression "
                     "(its loss takes no class labels)", m->class_names.count);
        else
            cfg_fail(&r, "class_names", "names %d classes, the network has %d",
                     m->class_names.count, m->classes);
        return r.status;
    }
    return nerve_error_set(err, NERVE_ERR_INVALID, "[data] class_names names %d classes, the "
                           "network has %d", m->class_names.count, m->classes);
}

nerve_status nerve_model_match_classes(nerve_model *m, nerve_dataset *ds, const char *path,
                                       bool adopt, nerve_error *err)
{
    if (!ds->class_names) return NERVE_OK;
    nerve_class_names *own = &m->class_names;
    if (own->count == 0 && adopt) {
        for (int c = 0; c < ds->num_classes; c++)
            if (!nerve_class_names_add(own, ds->class_names[c])) {
                nerve_class_names_free(own);
                return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory for class names");
            }
        return NERVE_OK;
    }
    if (own->count == 0)
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "%s: the labels are class names (such as '%s'), but the model's "
                               "classes are numbered: its weights name no classes, and [data] "
                               "class_names is not set", path, ds->class_names[0]);
    return nerve_dataset_map_classes(ds, (const char *const *)own->names, own->count, path, err);
}

nerve_status nerve_model_class_metadata(const nerve_model *m, const char **pairs, int *count,
                                        char **owned, nerve_error *err)
{
    owned[0] = owned[1] = NULL;
    if (m->class_names.count) {
        json_t *names = json_array();
        for (int c = 0; names && c < m->class_names.count; c++)
            json_array_append_new(names, json_string(m->class_names.names[c]));
        owned[0] = names ? json_dumps(names, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
        json_decref(names);
        if (!owned[0])
            return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory for the class names");
        pairs[(*count)++] = CLASSES_KEY;
        pairs[(*count)++] = owned[0];
    }
    if (m->image_shape.ndim) {
        owned[1] = malloc(64);
        if (!owned[1]) return nerve_error_set(err, NERVE_ERR_NOMEM, "out of memory");
        nerve_shape_format(&m->image_shape, owned[1], 64);
        pairs[(*count)++] = IMAGE_SHAPE_KEY;
        pairs[(*count)++] = owned[1];
    }
    return NERVE_OK;
}

/* "CxHxW" of an input's size, C 1 to 4. */
static bool parse_image_shape(const char *text, int64_t size, nerve_shape *out)
{
    long long c, h, w;
    char end;
    if (sscanf(text, "%lldx%lldx%lld%c", &c, &h, &w, &end) != 3 || c < 1 || c > 4 || h < 1 ||
        w < 1 || c * h * w != size)
        return false;
    *out = nerve_shape_3d(c, h, w);
    return true;
}

nerve_status nerve_model_read_class_metadata(const nerve_model *m,
                                             const nerve_safetensors *file, const char *path,
                                             nerve_class_names *names, nerve_shape *image_shape,
                                             nerve_error *err)
{
    memset(names, 0, sizeof *names);
    memset(image_shape, 0, sizeof *image_shape);
    const char *shape_text = nerve_safetensors_metadata(file, IMAGE_SHAPE_KEY);
    if (shape_text &&
        !parse_image_shape(shape_text, nerve_shape_numel(&m->settings.input), image_shape))
        return nerve_error_set(err, NERVE_ERR_FORMAT,
                               "%s: metadata %s '%.40s' is not a CxHxW image shape of the "
                               "input's size", path, IMAGE_SHAPE_KEY, shape_text);
    const char *text = nerve_safetensors_metadata(file, CLASSES_KEY);
    if (!text) return NERVE_OK;
    json_error_t parse_error;
    json_t *list = json_loads(text, 0, &parse_error);
    bool ok = json_is_array(list) && json_array_size(list) > 0;
    for (size_t i = 0; ok && i < json_array_size(list); i++) {
        json_t *name = json_array_get(list, i);
        ok = json_is_string(name) && json_string_length(name) > 0 &&
             strlen(json_string_value(name)) == json_string_length(name);
        for (size_t k = 0; ok && k < i; k++)
            ok = strcmp(json_string_value(json_array_get(list, k)), json_string_value(name)) != 0;
    }
    int count = ok ? (int)json_array_size(list) : 0;
    nerve_status st = NERVE_OK;
    if (!ok)
        st = nerve_error_set(err, NERVE_ERR_FORMAT,
                             "%s: metadata %s is not a JSON array of distinct, non-empty names",
                             path, CLASSES_KEY);
    else if (count != m->classes)
        st = nerve_error_set(err, NERVE_ERR_SHAPE,
                             "%s: metadata %s names %d classes, the network has %d", path,
                             CLASSES_KEY, count, m->classes);
    for (int i = 0; st == NERVE_OK && i < count; i++)
        if (!nerve_class_names_add(names, json_string_value(json_array_get(list, (size_t)i))))
            st = nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory for class names", path);
    json_decref(list);
    if (st != NERVE_OK) nerve_class_names_free(names);
    return st;
}
