/* [data] format = folder: root/<class name>/<image>, as torchvision's
 * ImageFolder reads it. Two passes: the listing first (class folders and
 * their images, each sorted, so that the classes and the sample order do not
 * depend on the file system's order), then the decoding into buffers of the
 * final size. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/image.h"

typedef struct name_list {
    char **names;
    int count, capacity;
} name_list;

static void list_free(name_list *l)
{
    for (int i = 0; i < l->count; i++) free(l->names[i]);
    free(l->names);
    memset(l, 0, sizeof *l);
}

static bool list_add(name_list *l, const char *name)
{
    if (l->count == l->capacity) {
        int capacity = l->capacity ? 2 * l->capacity : 16;
        char **names = realloc(l->names, (size_t)capacity * sizeof *names);
        if (!names) return false;
        l->names = names;
        l->capacity = capacity;
    }
    return (l->names[l->count] = strdup(name)) != NULL && ++l->count;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_directory(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The entries of folder `path` that are folders (want_folders) or image
 * files, hidden ones skipped, sorted. */
static nerve_status list_entries(const char *path, bool want_folders, name_list *out,
                                 nerve_error *err)
{
    DIR *dir = opendir(path);
    if (!dir)
        return nerve_error_set(err, NERVE_ERR_IO, "%s: cannot open the folder: %s", path,
                               strerror(errno));
    nerve_status st = NERVE_OK;
    char full[4096];
    struct dirent *e;
    while (st == NERVE_OK && (e = readdir(dir))) {
        if (e->d_name[0] == '.') continue;
        if (snprintf(full, sizeof full, "%s/%s", path, e->d_name) >= (int)sizeof full) {
            st = nerve_error_set(err, NERVE_ERR_IO, "%s/%s: path too long", path, e->d_name);
            break;
        }
        bool folder = is_directory(full);
        if (want_folders ? !folder : folder || !nerve_image_named_like_one(e->d_name)) continue;
        if (!list_add(out, e->d_name))
            st = nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory listing it", path);
    }
    closedir(dir);
    if (st == NERVE_OK && out->count)
        qsort(out->names, (size_t)out->count, sizeof *out->names, compare_names);
    return st;
}

/* Every image of every class, "class/file" in order, and each one's class. */
typedef struct folder_listing {
    name_list classes, images;
    int *labels;
} folder_listing;

static nerve_status list_images(const char *root, folder_listing *l, nerve_error *err)
{
    nerve_status st = list_entries(root, true, &l->classes, err);
    if (st == NERVE_OK && l->classes.count == 0)
        st = nerve_error_set(err, NERVE_ERR_FORMAT,
                             "%s: no class folders (the layout is %s/<class name>/<image>.png)",
                             root, root);
    char folder[4096];
    for (int c = 0; st == NERVE_OK && c < l->classes.count; c++) {
        snprintf(folder, sizeof folder, "%s/%s", root, l->classes.names[c]);
        name_list files = {0};
        st = list_entries(folder, false, &files, err);
        if (st == NERVE_OK && files.count == 0)
            st = nerve_error_set(err, NERVE_ERR_FORMAT,
                                 "%s: a class folder without images (.png, .jpg or .jpeg)",
                                 folder);
        int *labels = st == NERVE_OK ? realloc(l->labels, (size_t)(l->images.count + files.count) *
                                                              sizeof *labels)
                                     : NULL;
        if (labels) l->labels = labels;
        else if (st == NERVE_OK)
            st = nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory listing it", folder);
        for (int i = 0; st == NERVE_OK && i < files.count; i++) {
            snprintf(folder, sizeof folder, "%s/%s/%s", root, l->classes.names[c],
                     files.names[i]);
            l->labels[l->images.count] = c;
            if (!list_add(&l->images, folder))
                st = nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory listing it", root);
        }
        list_free(&files);
    }
    return st;
}

nerve_status nerve_folder_load(const char *root, const nerve_shape *shape, nerve_dataset *out,
                               nerve_error *err)
{
    memset(out, 0, sizeof *out);
    int channels, height, width;
    char text[64];
    if (!nerve_image_layout(shape, &channels, &height, &width))
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "%s: a folder of images needs an image input, CxHxW (C 1 to 4) "
                               "or HxW, not %s", root, nerve_shape_format(shape, text, sizeof text));
    folder_listing l = {0};
    nerve_status st = list_images(root, &l, err);
    int64_t size = (int64_t)channels * height * width, count = l.images.count;
    float *inputs = NULL, *targets = NULL;
    if (st == NERVE_OK) {
        inputs = malloc((size_t)(count * size) * sizeof *inputs);
        targets = malloc((size_t)count * sizeof *targets);
        if (!inputs || !targets)
            st = nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory for %lld images", root,
                                 (long long)count);
    }
    for (int64_t i = 0; st == NERVE_OK && i < count; i++) {
        st = nerve_image_read(l.images.names[i], channels, height, width, false,
                              inputs + i * size, err);
        targets[i] = (float)l.labels[i];
    }
    list_free(&l.images);
    free(l.labels);
    if (st != NERVE_OK) {
        list_free(&l.classes);
        free(inputs);
        free(targets);
        return st;
    }
    out->count = count;
    out->sample_shape = shape->ndim == 3 ? *shape : nerve_shape_3d(1, height, width);
    out->sample_size = size;
    out->inputs = inputs;
    out->target_size = 1;
    out->targets = targets;
    out->num_classes = l.classes.count;
    out->class_names = l.classes.names; /* the list's array, now the data set's */
    return NERVE_OK;
}
