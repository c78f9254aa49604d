/* safetensors (https://github.com/huggingface/safetensors): an 8-byte
 * little-endian header length N, N bytes of JSON describing each tensor,
 * then the raw little-endian data; data_offsets count from the byte after
 * the header. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/atomic_file.h"
#include "nerve.h"

/* The reference implementation's limit: a larger header is a corrupt or
 * hostile file, and is refused before anything is allocated. */
#define HEADER_SIZE_LIMIT ((uint64_t)100 << 20)
/* The reference pads the header with spaces so that the data starts aligned. */
#define HEADER_ALIGNMENT 8
#define METADATA_KEY "__metadata__"

typedef struct dtype_info dtype_info;

typedef struct tensor_entry {
    char *name;
    const dtype_info *dtype; /* as stored in the file */
    nerve_shape shape;
    size_t offset; /* in floats, into nerve_safetensors.data */
} tensor_entry;

struct nerve_safetensors {
    tensor_entry *tensors;
    int count;
    char **metadata; /* key, value, key, value, ... */
    int metadata_count;
    float *data;
};

struct dtype_info {
    const char *name;
    int size;
    bool supported;
};

static const dtype_info dtypes[] = {
    {"F32", 4, true},   {"F64", 8, true},      {"F16", 2, false},     {"BF16", 2, false},
    {"I64", 8, true},  {"I32", 4, false},     {"I16", 2, false},     {"I8", 1, false},
    {"U64", 8, false},  {"U32", 4, false},     {"U16", 2, false},     {"U8", 1, false},
    {"BOOL", 1, false}, {"F8_E4M3", 1, false}, {"F8_E5M2", 1, false},
};

static const dtype_info *find_dtype(const char *name)
{
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (strcmp(dtypes[i].name, name) == 0) return &dtypes[i];
    return NULL;
}

static uint64_t load_u64_le(const unsigned char *b)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | b[i];
    return v;
}

static void store_u64_le(unsigned char *b, uint64_t v)
{
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
}

static float load_f32_le(const unsigned char *b)
{
    uint32_t bits =
        (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    float v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

static void store_f32_le(unsigned char *b, float v)
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    for (int i = 0; i < 4; i++) b[i] = (unsigned char)(bits >> (8 * i));
}

static double load_f64_le(const unsigned char *b)
{
    uint64_t bits = load_u64_le(b);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

/* Two's complement, whatever the host's integer layout. */
static int64_t load_i64_le(const unsigned char *b)
{
    uint64_t bits = load_u64_le(b);
    return bits <= (uint64_t)INT64_MAX ? (int64_t)bits : -(int64_t)(~bits) - 1;
}

/* ---------------------------------------------------------------- reading */

void nerve_safetensors_close(nerve_safetensors *st)
{
    if (!st) return;
    for (int i = 0; i < st->count; i++) free(st->tensors[i].name);
    for (int i = 0; i < 2 * st->metadata_count; i++) free(st->metadata[i]);
    free(st->tensors);
    free(st->metadata);
    free(st->data);
    free(st);
}

/* A tensor's description, checked against the data section. */
typedef struct tensor_layout {
    const dtype_info *dtype;
    nerve_shape shape;
    int64_t numel;
    uint64_t begin, end;
} tensor_layout;

static nerve_status read_shape(const char *path, const char *name, json_t *array,
                               tensor_layout *layout, nerve_error *err)
{
    if (!json_is_array(array))
        return nerve_error_set(err, NERVE_ERR_FORMAT, "%s: tensor '%s': shape is not an array",
                               path, name);
    size_t ndim = json_array_size(array);
    if (ndim > NERVE_MAX_DIMS)
        return nerve_error_set(err, NERVE_ERR_FORMAT,
                               "%s: tensor '%s': %zu dimensions, at most %d are supported", path,
                               name, ndim, NERVE_MAX_DIMS);
    layout->shape.ndim = (int)ndim;
    for (size_t i = 0; i < ndim; i++) {
        json_t *dim = json_array_get(array, i);
        if (!json_is_integer(dim) || json_integer_value(dim) < 0)
            return nerve_error_set(err, NERVE_ERR_FORMAT,
                                   "%s: tensor '%s': shape[%zu] is not a non-negative integer",
                                   path, name, i);
        layout->shape.dim[i] = json_integer_value(dim);
    }
    layout->numel = nerve_shape_numel(&layout->shape);
    if (layout->numel < 0 || layout->numel > INT64_MAX / layout->dtype->size)
        return nerve_error_set(err, NERVE_ERR_FORMAT, "%s: tensor '%s': shape overflows", path,
                               name);
    return NERVE_OK;
}

static nerve_status read_offsets(const char *path, const char *name, json_t *array,
                                 uint64_t data_size, tensor_layout *layout, nerve_error *err)
{
    json_t *begin = json_array_get(array, 0), *end = json_array_get(array, 1);
    if (!json_is_array(array) || json_array_size(array) != 2 || !json_is_integer(begin) ||
        !json_is_integer(end) || json_integer_value(begin) < 0 || json_integer_value(end) < 0)
        return nerve_error_set(err, NERVE_ERR_FORMAT,
                               "%s: tensor '%s': data_offsets is not [begin, end]", path, name);
    layout->begin = (uint64_t)json_integer_value(begin);
    layout->end = (uint64_t)json_integer_value(end);
    if (layout->begin > layout->end || layout->end > data_size)
        return nerve_error_set(err, NERVE_ERR_FORMAT,
                               "%s: tensor '%s': data_offsets [%llu, %llu] outside the %llu bytes "
                               "of data",
                               path, name, (unsigned long long)layout->begin,
                               (unsigned long long)layout->end, (unsigned long long)data_size);
    uint64_t expected = (uint64_t)layout->numel * (uint64_t)layout->dtype->size;
    if (layout->end - layout->begin != expected) {
        char shape[128];
        return nerve_error_set(err, NERVE_ERR_FORMAT,
                               "%s: tensor '%s': data_offsets span %llu bytes, shape %s of %s "
                               "needs %llu",
                               path, name, (unsigned long long)(layout->end - layout->begin),
                               nerve_shape_format(&layout->shape, shape, sizeof shape),
                               layout->dtype->name, (unsigned long long)expected);
    }
    return NERVE_OK;
}

static nerve_status read_layout(const char *path, const char *name, json_t *info,
                                uint64_t data_size, tensor_layout *layout, nerve_error *err)
{
    if (!json_is_object(info))
        return nerve_error_set(err, NERVE_ERR_FORMAT, "%s: tensor '%s': not a JSON object", path,
                               name);
    const char *key;
    json_t *value;
    json_object_foreach(info, key, value) {
        if (strcmp(key, "dtype") != 0 && strcmp(key, "shape") != 0 &&
            strcmp(key, "data_offsets") != 0)
            return nerve_error_set(err, NERVE_ERR_FORMAT, "%s: tensor '%s': unknown field '%s'",
                                   path, name, key);
    }
    const char *required[] = {"dtype", "shape", "data_offsets"};
    for (int i = 0; i < 3; i++)
        if (!json_object_get(info, required[i]))
            return nerve_error_set(err, NERVE_ERR_FORMAT, "%s: tensor '%s': missing %s", path, name,
                                   required[i]);
    json_t *dtype = json_object_get(info, "dtype");
    if (!json_is_string(dtype))
        return nerve_error_set(err, NERVE_ERR_FORMAT, "%s: tensor '%s': dtype is not a string",
                               path, name);
    layout->dtype = find_dtype(json_string_value(dtype));
    if (!layout->dtype)
        return nerve_error_set(err, NERVE_ERR_FORMAT, "%s: tensor '%s': unknown dtype '%s'", path,
                               name, json_string_value(dtype));
    if (!layout->dtype->supported)
        return nerve_error_set(err, NERVE_ERR_FORMAT,
                               "%s: tensor '%s': dtype %s not supported (F32, F64 and I64 are)",
                               path,
                               name, layout->dtype->name);
    nerve_status status = read_shape(path, name, json_object_get(info, "shape"), layout, err);
    if (status) return status;
    return read_offsets(path, name, json_object_get(info, "data_offsets"), data_size, layout, err);
}

static nerve_status read_metadata(const char *path, json_t *object, nerve_safetensors *st,
                                  nerve_error *err)
{
    if (!json_is_object(object))
        return nerve_error_set(err, NERVE_ERR_FORMAT, "%s: %s is not a JSON object", path,
                               METADATA_KEY);
    st->metadata = calloc(2 * json_object_size(object) + 1, sizeof *st->metadata);
    if (!st->metadata) return nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory", path);
    const char *key;
    json_t *value;
    json_object_foreach(object, key, value) {
        if (!json_is_string(value))
            return nerve_error_set(err, NERVE_ERR_FORMAT, "%s: %s: value of '%s' is not a string",
                                   path, METADATA_KEY, key);
        char *key_copy = strdup(key), *value_copy = strdup(json_string_value(value));
        st->metadata[2 * st->metadata_count] = key_copy;
        st->metadata[2 * st->metadata_count + 1] = value_copy;
        st->metadata_count++;
        if (!key_copy || !value_copy)
            return nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory", path);
    }
    return NERVE_OK;
}

/* Reads one tensor's bytes and converts them into floats at out. */
static nerve_status read_tensor_data(FILE *file, const char *path, const char *name,
                                     uint64_t data_start, const tensor_layout *layout, float *out,
                                     nerve_error *err)
{
    size_t bytes = (size_t)(layout->end - layout->begin);
    if (bytes == 0) return NERVE_OK;
    unsigned char *raw = layout->dtype->size == 4 ? (unsigned char *)out : malloc(bytes);
    if (!raw)
        return nerve_error_set(err, NERVE_ERR_NOMEM, "%s: tensor '%s': out of memory", path, name);
    nerve_status status = NERVE_OK;
    if (fseeko(file, (off_t)(data_start + layout->begin), SEEK_SET) != 0 ||
        fread(raw, 1, bytes, file) != bytes) {
        status = nerve_error_set(err, NERVE_ERR_IO,
                                 "%s: tensor '%s': read failed (file truncated?)", path, name);
    } else if (layout->dtype->size == 4) {
        /* In place: on little-endian hosts this is the identity. */
        for (int64_t i = 0; i < layout->numel; i++) out[i] = load_f32_le(raw + 4 * i);
    } else if (strcmp(layout->dtype->name, "I64") == 0) {
        for (int64_t i = 0; i < layout->numel; i++) out[i] = (float)load_i64_le(raw + 8 * i);
    } else {
        for (int64_t i = 0; i < layout->numel; i++) out[i] = (float)load_f64_le(raw + 8 * i);
    }
    if (raw != (unsigned char *)out) free(raw);
    return status;
}

static nerve_status read_header(FILE *file, const char *path, json_t **header, uint64_t *data_start,
                                uint64_t *data_size, nerve_error *err)
{
    struct stat info;
    if (fstat(fileno(file), &info) != 0 || !S_ISREG(info.st_mode))
        return nerve_error_set(err, NERVE_ERR_IO, "%s: not a regular file", path);
    uint64_t file_size = (uint64_t)info.st_size;
    unsigned char prefix[8];
    if (file_size < 8 || fread(prefix, 1, 8, file) != 8)
        return nerve_error_set(err, NERVE_ERR_FORMAT,
                               "%s: %llu bytes, too short for a safetensors header", path,
                               (unsigned long long)file_size);
    uint64_t header_size = load_u64_le(prefix);
    if (header_size > file_size - 8)
        return nerve_error_set(
            err, NERVE_ERR_FORMAT, "%s: header of %llu bytes does not fit in a file of %llu bytes",
            path, (unsigned long long)header_size, (unsigned long long)file_size);
    if (header_size > HEADER_SIZE_LIMIT)
        return nerve_error_set(err, NERVE_ERR_FORMAT,
                               "%s: header of %llu bytes is over the 100 MiB limit", path,
                               (unsigned long long)header_size);
    char *text = malloc(header_size + 1);
    if (!text) return nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory", path);
    if (fread(text, 1, header_size, file) != header_size) {
        free(text);
        return nerve_error_set(err, NERVE_ERR_IO, "%s: cannot read the header", path);
    }
    json_error_t json_error;
    *header = json_loadb(text, header_size, JSON_REJECT_DUPLICATES, &json_error);
    free(text);
    if (!*header)
        return nerve_error_set(err, NERVE_ERR_FORMAT, "%s: header is not valid JSON: %s (byte %d)",
                               path, json_error.text, json_error.position);
    if (!json_is_object(*header)) {
        json_decref(*header);
        *header = NULL;
        return nerve_error_set(err, NERVE_ERR_FORMAT, "%s: header is not a JSON object", path);
    }
    *data_start = 8 + header_size;
    *data_size = file_size - 8 - header_size;
    return NERVE_OK;
}

/* Checks every entry, then reads the data: nothing is allocated for the
 * data until the whole header is known to be consistent with the file. */
static nerve_status read_tensors(FILE *file, const char *path, json_t *header, uint64_t data_start,
                                 uint64_t data_size, nerve_safetensors *st, nerve_error *err)
{
    size_t count = json_object_size(header) - (json_object_get(header, METADATA_KEY) ? 1 : 0);
    if (count > INT32_MAX)
        return nerve_error_set(err, NERVE_ERR_FORMAT, "%s: too many tensors", path);
    tensor_layout *layouts = calloc(count + 1, sizeof *layouts);
    st->tensors = calloc(count + 1, sizeof *st->tensors);
    if (!layouts || !st->tensors) {
        free(layouts);
        return nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory", path);
    }
    nerve_status status = NERVE_OK;
    size_t total_floats = 0;
    const char *name;
    json_t *value;
    json_object_foreach(header, name, value) {
        if (strcmp(name, METADATA_KEY) == 0) {
            status = read_metadata(path, value, st, err);
            if (status) break;
            continue;
        }
        tensor_layout *layout = &layouts[st->count];
        status = read_layout(path, name, value, data_size, layout, err);
        if (status) break;
        tensor_entry *entry = &st->tensors[st->count++];
        entry->name = strdup(name);
        entry->dtype = layout->dtype;
        entry->shape = layout->shape;
        entry->offset = total_floats;
        /* Bounded by data_size because every tensor's bytes lie in the data. */
        total_floats += (size_t)layout->numel;
        if (!entry->name) {
            status = nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory", path);
            break;
        }
    }
    if (!status) {
        st->data = malloc(total_floats * sizeof *st->data + 1);
        if (!st->data) status = nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory", path);
    }
    for (int i = 0; !status && i < st->count; i++)
        status = read_tensor_data(file, path, st->tensors[i].name, data_start, &layouts[i],
                                  st->data + st->tensors[i].offset, err);
    free(layouts);
    return status;
}

nerve_status nerve_safetensors_open(const char *path, nerve_safetensors **out, nerve_error *err)
{
    *out = NULL;
    FILE *file = fopen(path, "rb");
    if (!file) return nerve_error_set(err, NERVE_ERR_IO, "%s: %s", path, strerror(errno));
    json_t *header = NULL;
    uint64_t data_start = 0, data_size = 0;
    nerve_status status = read_header(file, path, &header, &data_start, &data_size, err);
    nerve_safetensors *st = NULL;
    if (!status) {
        st = calloc(1, sizeof *st);
        if (!st) status = nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory", path);
    }
    if (!status) status = read_tensors(file, path, header, data_start, data_size, st, err);
    json_decref(header);
    fclose(file);
    if (status) {
        nerve_safetensors_close(st);
        return status;
    }
    *out = st;
    return NERVE_OK;
}

int nerve_safetensors_count(const nerve_safetensors *st) { return st->count; }

const char *nerve_safetensors_name(const nerve_safetensors *st, int i)
{
    return i >= 0 && i < st->count ? st->tensors[i].name : NULL;
}

const float *nerve_safetensors_get(const nerve_safetensors *st, const char *name,
                                   nerve_shape *shape)
{
    for (int i = 0; i < st->count; i++) {
        if (strcmp(st->tensors[i].name, name) != 0) continue;
        if (shape) *shape = st->tensors[i].shape;
        return st->data + st->tensors[i].offset;
    }
    return NULL;
}

const char *nerve_safetensors_dtype(const nerve_safetensors *st, const char *name)
{
    for (int i = 0; i < st->count; i++)
        if (strcmp(st->tensors[i].name, name) == 0) return st->tensors[i].dtype->name;
    return NULL;
}

const char *nerve_safetensors_metadata(const nerve_safetensors *st, const char *key)
{
    for (int i = 0; i < st->metadata_count; i++)
        if (strcmp(st->metadata[2 * i], key) == 0) return st->metadata[2 * i + 1];
    return NULL;
}

/* ---------------------------------------------------------------- writing */

/* json_*_set_new and json_array_append_new take ownership of the value even
 * when they fail, so a failed step leaks nothing. */
static json_t *tensor_info_json(const char *dtype, const nerve_shape *shape, uint64_t begin,
                                uint64_t end)
{
    json_t *dims = json_array();
    for (int i = 0; i < shape->ndim; i++)
        if (json_array_append_new(dims, json_integer(shape->dim[i])) != 0) {
            json_decref(dims);
            return NULL;
        }
    json_t *info = json_object();
    if (!info) {
        json_decref(dims);
        return NULL;
    }
    /* Every call runs (no short-circuit) so that each value changes hands. */
    int failed = json_object_set_new(info, "dtype", json_string(dtype));
    failed |= json_object_set_new(info, "shape", dims);
    failed |= json_object_set_new(info, "data_offsets",
                                  json_pack("[II]", (json_int_t)begin, (json_int_t)end));
    if (failed) {
        json_decref(info);
        return NULL;
    }
    return info;
}

static nerve_status build_metadata(const char *path, const char *const *metadata, json_t *header,
                                   nerve_error *err)
{
    json_t *object = json_object();
    if (!object || json_object_set_new(header, METADATA_KEY, object) != 0)
        return nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory", path);
    for (int i = 0; metadata[i]; i += 2) {
        const char *key = metadata[i], *value = metadata[i + 1];
        if (!value)
            return nerve_error_set(err, NERVE_ERR_INVALID, "%s: metadata '%s' has no value", path,
                                   key);
        if (json_object_get(object, key))
            return nerve_error_set(err, NERVE_ERR_INVALID, "%s: metadata key '%s' given twice",
                                   path, key);
        json_t *string = json_string(value);
        if (!string || json_object_set_new(object, key, string) != 0)
            return nerve_error_set(err, NERVE_ERR_INVALID,
                                   "%s: metadata '%s' is not valid UTF-8 text", path, key);
    }
    return NERVE_OK;
}

static const dtype_info *written_dtype(nerve_dtype dtype)
{
    switch (dtype) {
    case NERVE_DTYPE_F32: return find_dtype("F32");
    case NERVE_DTYPE_I64: return find_dtype("I64");
    }
    return NULL;
}

/* The header as the reference writes it: metadata first, then the tensors in
 * the order given, their data contiguous in that order. */
static nerve_status build_header(const char *path, const nerve_named_tensor *tensors, int count,
                                 const char *const *metadata, json_t **out, nerve_error *err)
{
    json_t *header = json_object();
    if (!header) return nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory", path);
    nerve_status status = NERVE_OK;
    if (metadata && metadata[0]) status = build_metadata(path, metadata, header, err);
    uint64_t offset = 0;
    for (int i = 0; !status && i < count; i++) {
        const nerve_named_tensor *t = &tensors[i];
        int64_t numel = nerve_shape_numel(&t->shape);
        const dtype_info *dtype = written_dtype(t->dtype);
        if (!t->name || !t->name[0] || strcmp(t->name, METADATA_KEY) == 0)
            status =
                nerve_error_set(err, NERVE_ERR_INVALID, "%s: tensor %d has an invalid name '%s'",
                                path, i, t->name ? t->name : "(null)");
        else if (json_object_get(header, t->name))
            status = nerve_error_set(err, NERVE_ERR_INVALID, "%s: tensor name '%s' used twice",
                                     path, t->name);
        else if (!dtype)
            status = nerve_error_set(err, NERVE_ERR_INVALID, "%s: tensor '%s': unknown dtype %d",
                                     path, t->name, (int)t->dtype);
        else if (numel < 0 || (uint64_t)numel > ((uint64_t)INT64_MAX - offset) / 8)
            status = nerve_error_set(err, NERVE_ERR_SHAPE, "%s: tensor '%s': invalid shape", path,
                                     t->name);
        else if (numel > 0 && !t->data)
            status =
                nerve_error_set(err, NERVE_ERR_INVALID, "%s: tensor '%s': no data", path, t->name);
        if (status) break;
        uint64_t end = offset + (uint64_t)numel * (uint64_t)dtype->size;
        json_t *info = tensor_info_json(dtype->name, &t->shape, offset, end);
        if (!info) {
            status = nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory", path);
        } else if (json_object_set_new(header, t->name, info) != 0) {
            status = nerve_error_set(err, NERVE_ERR_INVALID,
                                     "%s: tensor name '%s' is not valid UTF-8", path, t->name);
        }
        offset = end;
    }
    if (status) {
        json_decref(header);
        return status;
    }
    *out = header;
    return NERVE_OK;
}

/* F32 as it is, or I64 rounded, little-endian. */
static void write_values(FILE *stream, const float *data, int64_t count, nerve_dtype dtype)
{
    unsigned char chunk[1 << 16];
    const int size = dtype == NERVE_DTYPE_I64 ? 8 : 4;
    const int64_t per_chunk = (int64_t)sizeof chunk / size;
    for (int64_t done = 0; done < count; done += per_chunk) {
        int64_t n = count - done < per_chunk ? count - done : per_chunk;
        for (int64_t i = 0; i < n; i++) {
            if (dtype == NERVE_DTYPE_I64)
                store_u64_le(chunk + 8 * i, (uint64_t)llroundf(data[done + i]));
            else
                store_f32_le(chunk + 4 * i, data[done + i]);
        }
        if (fwrite(chunk, (size_t)size, (size_t)n, stream) != (size_t)n) return;
    }
}

nerve_status nerve_safetensors_write(const char *path, const nerve_named_tensor *tensors, int count,
                                     const char *const *metadata, nerve_error *err)
{
    if (count < 0 || (count > 0 && !tensors))
        return nerve_error_set(err, NERVE_ERR_INVALID, "%s: invalid tensor list", path);
    json_t *header = NULL;
    nerve_status status = build_header(path, tensors, count, metadata, &header, err);
    if (status) return status;
    char *text = json_dumps(header, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(header);
    if (!text) return nerve_error_set(err, NERVE_ERR_NOMEM, "%s: out of memory", path);
    size_t text_size = strlen(text);
    size_t padding = (HEADER_ALIGNMENT - text_size % HEADER_ALIGNMENT) % HEADER_ALIGNMENT;

    nerve_atomic_file file;
    status = nerve_atomic_file_open(&file, path, err);
    if (status) {
        free(text);
        return status;
    }
    unsigned char prefix[8];
    store_u64_le(prefix, text_size + padding);
    fwrite(prefix, 1, sizeof prefix, file.stream);
    fwrite(text, 1, text_size, file.stream);
    for (size_t i = 0; i < padding; i++) fputc(' ', file.stream);
    free(text);
    /* A failed fwrite sets the stream's error flag, which commit reports. */
    for (int i = 0; i < count && !ferror(file.stream); i++)
        write_values(file.stream, tensors[i].data, nerve_shape_numel(&tensors[i].shape),
                     tensors[i].dtype);
    return nerve_atomic_file_commit(&file, err);
}
