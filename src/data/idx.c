/* IDX files (http://yann.lecun.com/exdb/mnist/, also Fashion-MNIST): two zero
 * bytes, an element-type byte, a dimension-count byte, one big-endian uint32
 * per dimension, then the elements in row-major order. The files are usually
 * shipped gzip-compressed; zlib reads plain files transparently, so both go
 * through gzread. */
#define _DEFAULT_SOURCE /* madvise, MADV_HUGEPAGE */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <zlib.h>

#include "nerve.h"
#include "data/gzip_file.h"
#include "data/prefault.h"

#define IDX_TYPE_UBYTE 0x08
#define IDX_MAX_DIMS 3
/* No IDX data set comes near this; a header that claims more is corrupt or
 * hostile, and is refused before anything is allocated. */
#define IDX_DATA_LIMIT ((uint64_t)4 << 30)
/* deflate's largest expansion: one compressed byte never stands for more than
 * 1032 bytes, so a gzip file of n bytes holds at most 1032 n. */
#define GZIP_MAX_RATIO 1032
/* Transparent huge pages' size on x86-64 (madvise below). */
#define IDX_HUGE_PAGE ((uintptr_t)2 << 20)
/* gzread takes an unsigned int length. */
#define IDX_READ_CHUNK ((size_t)1 << 30)
/* With a prefault helper, the data is read this much at a time, each read
 * first asking the helper for the pages ahead of it. */
#define IDX_FILL_CHUNK ((size_t)2 << 20)

/* What a file must hold: images (count x height x width) or labels (count). */
typedef struct idx_kind {
    int ndim;
    const char *layout;
} idx_kind;

static const idx_kind idx_images = {3, "images (count x height x width)"};
static const idx_kind idx_labels = {1, "labels (count)"};

typedef struct idx_file {
    const char *path;
    gzFile stream;
    bool compressed;
    int64_t file_size;
    int ndim;
    uint64_t dim[IDX_MAX_DIMS];
    uint64_t data_size; /* product of dim, in bytes (one byte per element) */
    unsigned char *data;
} idx_file;

static const char *idx_type_name(int type)
{
    switch (type) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    }
    return NULL;
}

static void idx_close(idx_file *file)
{
    if (file->stream) gzclose(file->stream);
    free(file->data);
    file->stream = NULL;
    file->data = NULL;
}

static nerve_status idx_open(idx_file *file, const char *path, nerve_error *err)
{
    memset(file, 0, sizeof *file);
    file->path = path;
    return nerve_gzip_open(path, &file->stream, &file->file_size, err);
}

/* Reads up to size bytes into buffer, whose pages prefault (NULL: none)
 * faults in ahead of the reads; returns how many were read (fewer at the
 * end of the data, including a gzip stream cut short), or -1 on corrupt
 * data. */
static int64_t idx_fill(idx_file *file, void *buffer, size_t size, nerve_prefault *prefault)
{
    size_t done = 0, most = prefault ? IDX_FILL_CHUNK : IDX_READ_CHUNK;
    while (done < size) {
        size_t chunk = size - done < most ? size - done : most;
        nerve_prefault_advance(prefault, done + chunk);
        int n = gzread(file->stream, (unsigned char *)buffer + done, (unsigned)chunk);
        if (n <= 0) break;
        done += (size_t)n;
    }
    int code;
    gzerror(file->stream, &code);
    if (code != Z_OK && code != Z_BUF_ERROR) return -1;
    return (int64_t)done;
}

static int64_t idx_read_bytes(idx_file *file, void *buffer, size_t size)
{
    return idx_fill(file, buffer, size, NULL);
}

static nerve_status idx_stream_error(idx_file *file, nerve_error *err)
{
    int code;
    const char *message = gzerror(file->stream, &code);
    /* zlib prefixes the stream's name, here "<fd:N>": the path is ours to give. */
    const char *separator = strstr(message, ": ");
    if (separator) message = separator + 2;
    if (code == Z_ERRNO)
        return nerve_error_set(err, NERVE_ERR_IO, "%s: read failed: %s", file->path,
                               strerror(errno));
    return nerve_error_set(err, NERVE_ERR_FORMAT, "%s: corrupt gzip data: %s", file->path,
                           message);
}

/* Appended to "truncated" messages: a download cut short is the usual cause. */
static const char *idx_cut_short_note(idx_file *file)
{
    int code;
    gzerror(file->stream, &code);
    return code == Z_BUF_ERROR ? " (the gzip stream ends early)" : "";
}

static uint32_t load_u32_be(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

static nerve_status idx_read_magic(idx_file *file, const idx_kind *kind, nerve_error *err)
{
    unsigned char magic[4];
    int64_t got = idx_read_bytes(file, magic, sizeof magic);
    if (got < 0) return idx_stream_error(file, err);
    /* zlib knows whether the content was gzip only once reading has begun. */
    file->compressed = !gzdirect(file->stream);
    if (got < (int64_t)sizeof magic)
        return nerve_error_set(err, NERVE_ERR_FORMAT,
                               "%s: truncated header: %lld of 4 magic bytes%s", file->path,
                               (long long)got, idx_cut_short_note(file));
    if (magic[0] != 0 || magic[1] != 0)
        return nerve_error_set(err, NERVE_ERR_FORMAT,
                               "%s: not an IDX file (magic bytes %02x %02x %02x %02x, expected "
                               "00 00 <type> <dims>)",
                               file->path, magic[0], magic[1], magic[2], magic[3]);
    const char *type_name = idx_type_name(magic[2]);
    if (!type_name)
        return nerve_error_set(err, NERVE_ERR_FORMAT, "%s: unknown IDX element type 0x%02x",
                               file->path, magic[2]);
    if (magic[2] != IDX_TYPE_UBYTE)
        return nerve_error_set(err, NERVE_ERR_FORMAT,
                               "%s: unsupported element type 0x%02x (%s); only unsigned byte "
                               "(0x08) is supported",
                               file->path, magic[2], type_name);
    if (magic[3] != kind->ndim)
        return nerve_error_set(err, NERVE_ERR_FORMAT, "%s: expected %d dimensions for %s, found %d",
                               file->path, kind->ndim, kind->layout, magic[3]);
    file->ndim = magic[3];
    return NERVE_OK;
}

static const char *idx_format_dims(const idx_file *file, char *buffer, size_t size)
{
    int64_t dims[IDX_MAX_DIMS];
    for (int i = 0; i < file->ndim; i++) dims[i] = (int64_t)file->dim[i];
    nerve_shape shape = nerve_shape_make(file->ndim, dims);
    return nerve_shape_format(&shape, buffer, size);
}

static nerve_status idx_read_dims(idx_file *file, nerve_error *err)
{
    unsigned char bytes[4 * IDX_MAX_DIMS];
    size_t size = 4 * (size_t)file->ndim;
    int64_t got = idx_read_bytes(file, bytes, size);
    if (got < 0) return idx_stream_error(file, err);
    if (got < (int64_t)size)
        return nerve_error_set(err, NERVE_ERR_FORMAT,
                               "%s: truncated header: %lld of %zu dimension bytes%s",
                               file->path, (long long)got, size, idx_cut_short_note(file));
    uint64_t product = 1;
    bool has_zero = false, overflow = false;
    for (int i = 0; i < file->ndim; i++) {
        file->dim[i] = load_u32_be(bytes + 4 * i);
        if (file->dim[i] == 0) has_zero = true;
        else if (product > UINT64_MAX / file->dim[i]) overflow = true;
        else product *= file->dim[i];
    }
    char dims[64];
    if (has_zero)
        return nerve_error_set(err, NERVE_ERR_FORMAT, "%s: dimensions %s include a zero",
                               file->path, idx_format_dims(file, dims, sizeof dims));
    if (overflow)
        return nerve_error_set(err, NERVE_ERR_FORMAT,
                               "%s: dimensions %s overflow a 64-bit element count", file->path,
                               idx_format_dims(file, dims, sizeof dims));
    file->data_size = product;
    return NERVE_OK;
}

/* A plain file's size is known: the header must account for it exactly. */
static nerve_status idx_check_plain_size(const idx_file *file, nerve_error *err)
{
    uint64_t header_size = 4 + 4 * (uint64_t)file->ndim;
    uint64_t available = (uint64_t)file->file_size - header_size;
    if (available < file->data_size)
        return nerve_error_set(err, NERVE_ERR_FORMAT,
                               "%s: truncated data: the header announces %llu bytes, the file "
                               "holds %llu",
                               file->path, (unsigned long long)file->data_size,
                               (unsigned long long)available);
    if (available > file->data_size)
        return nerve_error_set(err, NERVE_ERR_FORMAT,
                               "%s: %llu trailing bytes after the %llu data bytes the header "
                               "announces",
                               file->path, (unsigned long long)(available - file->data_size),
                               (unsigned long long)file->data_size);
    return NERVE_OK;
}

/* The buffer for the announced data, allocated whole: a gzip file's real
 * size is unknown until it is read, but the header's claim has been checked
 * against the file's size and the limit, and pages that no data reaches are
 * never touched (the prefault helper keeps within NERVE_PREFAULT_AHEAD of
 * the data read), so a lying header costs at most that much more memory
 * than the data that backs it. (It grew by doubling before: copies, and first touches of
 * 4 KiB pages, 25% of loading Fashion-MNIST, which huge pages, where the
 * kernel offers them on request, turn into a few dozen.) */
static nerve_status idx_allocate(idx_file *file, nerve_error *err)
{
    file->data = malloc(file->data_size ? (size_t)file->data_size : 1);
    if (!file->data)
        return nerve_error_set(err, NERVE_ERR_NOMEM, "%s: cannot allocate %llu bytes",
                               file->path, (unsigned long long)file->data_size);
#ifdef MADV_HUGEPAGE
    uintptr_t begin = ((uintptr_t)file->data + IDX_HUGE_PAGE - 1) & ~(IDX_HUGE_PAGE - 1);
    uintptr_t end = ((uintptr_t)file->data + (size_t)file->data_size) & ~(IDX_HUGE_PAGE - 1);
    if (end > begin) madvise((void *)begin, end - begin, MADV_HUGEPAGE); /* a hint: may fail */
#endif
    return NERVE_OK;
}

static nerve_status idx_read_data(idx_file *file, nerve_error *err)
{
    nerve_status status = idx_allocate(file, err);
    if (status != NERVE_OK) return status;
    /* First touches of the pages (the kernel zeroing them: a third of
     * loading Fashion-MNIST here) run on a helper, beside inflate. */
    nerve_prefault *prefault = nerve_prefault_start(file->data, (size_t)file->data_size);
    int64_t got = idx_fill(file, file->data, (size_t)file->data_size, prefault);
    nerve_prefault_stop(prefault);
    if (got < 0) return idx_stream_error(file, err);
    size_t size = (size_t)got;
    if (size < file->data_size)
        return nerve_error_set(err, NERVE_ERR_FORMAT,
                               "%s: truncated data: the header announces %llu bytes, the file "
                               "holds %zu%s",
                               file->path, (unsigned long long)file->data_size, size,
                               idx_cut_short_note(file));
    unsigned char extra;
    got = idx_read_bytes(file, &extra, 1);
    if (got < 0) return idx_stream_error(file, err);
    if (got > 0)
        return nerve_error_set(err, NERVE_ERR_FORMAT,
                               "%s: trailing bytes after the %llu data bytes the header announces",
                               file->path, (unsigned long long)file->data_size);
    return NERVE_OK;
}

/* Opens path and reads a whole IDX file of unsigned bytes of the given kind
 * into file (closed by the caller with idx_close). */
static nerve_status idx_load(idx_file *file, const char *path, const idx_kind *kind,
                             nerve_error *err)
{
    nerve_status status = idx_open(file, path, err);
    if (status == NERVE_OK) status = idx_read_magic(file, kind, err);
    if (status == NERVE_OK) status = idx_read_dims(file, err);
    if (status == NERVE_OK && !file->compressed) status = idx_check_plain_size(file, err);
    if (status == NERVE_OK && file->data_size > IDX_DATA_LIMIT)
        status = nerve_error_set(err, NERVE_ERR_FORMAT,
                                 "%s: the header announces %llu bytes, over the %llu-byte limit",
                                 path, (unsigned long long)file->data_size,
                                 (unsigned long long)IDX_DATA_LIMIT);
    if (status == NERVE_OK && file->compressed &&
        file->data_size > (uint64_t)file->file_size * GZIP_MAX_RATIO)
        status = nerve_error_set(err, NERVE_ERR_FORMAT,
                                 "%s: the header announces %llu bytes, more than a gzip file of "
                                 "%lld bytes can hold",
                                 path, (unsigned long long)file->data_size,
                                 (long long)file->file_size);
    if (status == NERVE_OK) status = idx_read_data(file, err);
    return status;
}

static float *bytes_to_floats(const unsigned char *bytes, size_t count)
{
    float *values = malloc(count * sizeof *values);
    if (!values) return NULL;
    for (size_t i = 0; i < count; i++) values[i] = bytes[i];
    return values;
}

/* Sets out's inputs (count x 1 x height x width) from an images file: its
 * bytes, taken over as they are (read to exactly data_size bytes), each
 * worth its unscaled value. */
static nerve_status idx_set_images(idx_file *images, nerve_dataset *out, nerve_error *err)
{
    out->count = (int64_t)images->dim[0];
    int64_t sample_dims[3] = {1, (int64_t)images->dim[1], (int64_t)images->dim[2]};
    out->sample_shape = nerve_shape_make(3, sample_dims);
    out->sample_size = sample_dims[1] * sample_dims[2];
    out->pixels = images->data;
    images->data = NULL;
    for (int v = 0; v < 256; v++) out->pixel_values[v] = (float)v;
    return NERVE_OK;
}

/* Sets out's targets (one class index per sample) from a labels file. */
static nerve_status idx_set_labels(const idx_file *labels, nerve_dataset *out, nerve_error *err)
{
    out->target_size = 1;
    out->targets = bytes_to_floats(labels->data, (size_t)labels->data_size);
    if (!out->targets)
        return nerve_error_set(err, NERVE_ERR_NOMEM, "%s: cannot allocate %llu floats",
                               labels->path, (unsigned long long)labels->data_size);
    int max_label = 0;
    for (uint64_t i = 0; i < labels->data_size; i++)
        if (labels->data[i] > max_label) max_label = labels->data[i];
    out->num_classes = max_label + 1;
    return NERVE_OK;
}

static nerve_status idx_load_images(const char *images_path, nerve_dataset *out,
                                    nerve_error *err)
{
    idx_file images;
    nerve_status status = idx_load(&images, images_path, &idx_images, err);
    if (status == NERVE_OK) status = idx_set_images(&images, out, err);
    idx_close(&images);
    return status;
}

static nerve_status idx_load_labels(const char *images_path, const char *labels_path,
                                    nerve_dataset *out, nerve_error *err)
{
    idx_file labels;
    nerve_status status = idx_load(&labels, labels_path, &idx_labels, err);
    if (status == NERVE_OK && (int64_t)labels.dim[0] != out->count)
        status = nerve_error_set(err, NERVE_ERR_FORMAT,
                                 "%s holds %lld images but %s holds %llu labels", images_path,
                                 (long long)out->count, labels_path,
                                 (unsigned long long)labels.dim[0]);
    if (status == NERVE_OK) status = idx_set_labels(&labels, out, err);
    idx_close(&labels);
    return status;
}

nerve_status nerve_idx_load(const char *images_path, const char *labels_path,
                            nerve_dataset *out, nerve_error *err)
{
    memset(out, 0, sizeof *out);
    nerve_status status = idx_load_images(images_path, out, err);
    if (status == NERVE_OK) status = idx_load_labels(images_path, labels_path, out, err);
    if (status != NERVE_OK) nerve_dataset_free(out);
    return status;
}

nerve_status nerve_idx_load_images(const char *images_path, nerve_dataset *out, nerve_error *err)
{
    memset(out, 0, sizeof *out);
    nerve_status status = idx_load_images(images_path, out, err);
    if (status != NERVE_OK) nerve_dataset_free(out);
    return status;
}
