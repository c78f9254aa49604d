/* nerve/core.h, part of nerve.h (include that, or this part alone): the base of every part:
 * version, export macro, element type, errors, shapes, threads, backends, random numbers. */
#ifndef NERVE_PUBLIC_CORE_H
#define NERVE_PUBLIC_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this header (as sqlite3.h's SQLITE_VERSION): "X.Y.Z" and
 * X * 1000000 + Y * 1000 + Z. nerve_version() and nerve_version_number() give
 * the library's, which differs from the header's when a program runs
 * against a newer libnerve.so than it was compiled with (docs/api.md,
 * "Compatibility"). */
#define NERVE_VERSION_MAJOR 0
#define NERVE_VERSION_MINOR 2
#define NERVE_VERSION_PATCH 1
#define NERVE_VERSION "0.2.1"
#define NERVE_VERSION_NUMBER \
    (NERVE_VERSION_MAJOR * 1000000 + NERVE_VERSION_MINOR * 1000 + NERVE_VERSION_PATCH)

/* Marks the public functions: the library is compiled with
 * -fvisibility=hidden, so that libnerve.so exports these and nothing else
 * (tests/library_symbols.sh checks it). */
#if defined(__GNUC__)
#define NERVE_API __attribute__((visibility("default")))
#else
#define NERVE_API
#endif

/* The element type. The library is float32; the test suite also compiles the
 * engine with NERVE_F64 defined so that gradient checks run in double. */
#ifdef NERVE_F64
typedef double nerve_real;
#else
typedef float nerve_real;
#endif

/* The library's NERVE_VERSION and NERVE_VERSION_NUMBER. */
NERVE_API const char *nerve_version(void);
NERVE_API int nerve_version_number(void);

/* Structs that grow (sqlite3.h's habit, docs/api.md "Compatibility"). Every
 * struct a caller fills and hands to the library (the *_options structs,
 * nerve_schedule, nerve_activation_params) starts with `size`, the bytes of
 * the struct as the caller's header declares it:
 *     nerve_dense_options o = {NERVE_SIZED(nerve_dense_options), .units = 3};
 * or start from the function that returns its defaults, which sets it. The
 * library reads the fields that size covers and takes any field it has
 * beyond them at zero, and a field added in a later release is off (or its
 * default) at zero: a program built against an older nerve.h keeps working
 * with a newer libnerve. A size of 0 (a zeroed struct, {.units = 3}) stands
 * for the fields of nerve 0.2, where sizes began: such a struct keeps
 * working, but a field added after 0.2 is read only when size is set. A
 * size larger than the library's struct (a program built against a newer
 * nerve.h than the libnerve it runs with) is an error naming the function. */
#define NERVE_SIZED(type) .size = sizeof(type)

/* ---------------------------------------------------------------- errors */

typedef enum nerve_status {
    NERVE_OK = 0,
    NERVE_ERR_INVALID = 1, /* bad argument, bad config value, unknown key */
    NERVE_ERR_IO = 2,      /* a file could not be opened, read or written */
    NERVE_ERR_FORMAT = 3,  /* a file's contents are malformed or truncated */
    NERVE_ERR_SHAPE = 4,   /* tensor shapes do not agree */
    NERVE_ERR_NOMEM = 5,   /* allocation failed or a size would overflow */
    NERVE_ERR_NUMERIC = 6, /* a non-finite loss or gradient */
    NERVE_ERR_STOPPED = 7, /* training stopped on request (nerve_train_options.stop_flag) */
    NERVE_ERR_PEER = 8     /* another rank of a distributed run failed and reported why */
} nerve_status;

typedef struct nerve_error {
    nerve_status status;
    char message[512];
} nerve_error;

/* Formats a message into err (if not NULL) and returns status. */
NERVE_API nerve_status nerve_error_set(nerve_error *err, nerve_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
NERVE_API const char *nerve_status_name(nerve_status status);

/* ---------------------------------------------------------------- shapes */

#define NERVE_MAX_DIMS 5

/* Row-major. Images are NCHW, sequences (N, T, C). */
typedef struct nerve_shape {
    int ndim;
    int64_t dim[NERVE_MAX_DIMS];
} nerve_shape;

NERVE_API nerve_shape nerve_shape_make(int ndim, const int64_t *dim);
NERVE_API nerve_shape nerve_shape_1d(int64_t d0);
NERVE_API nerve_shape nerve_shape_2d(int64_t d0, int64_t d1);
/* A sample's C x H x W, a sequence batch [N, T, C], or a batch of images
 * [N, C, H, W]: nerve_shape_3d(1, 28, 28), nerve_shape_4d(128, 1, 28, 28). */
NERVE_API nerve_shape nerve_shape_3d(int64_t d0, int64_t d1, int64_t d2);
NERVE_API nerve_shape nerve_shape_4d(int64_t d0, int64_t d1, int64_t d2, int64_t d3);
/* Number of elements; -1 if the product overflows int64 or a dim is negative. */
NERVE_API int64_t nerve_shape_numel(const nerve_shape *s);
NERVE_API bool nerve_shape_equal(const nerve_shape *a, const nerve_shape *b);
/* Writes e.g. "128x1x28x28" into buf. */
NERVE_API const char *nerve_shape_format(const nerve_shape *s, char *buf, size_t size);

/* ---------------------------------------------------------------- threads */

/* Number of threads used by GEMM and element-wise kernels (OpenMP). */
NERVE_API void nerve_set_threads(int n);
NERVE_API int nerve_get_threads(void);

/* ---------------------------------------------------------------- backends */

/* The backends compiled in, by name: "cpu" (oneDNN and OpenMP, the default)
 * and "ref" (plain C loops: the portable reference every backend is checked
 * against, far slower), and "cuda" in a build with the CUDA backend
 * (docs/cuda.md; "cuda:N" names GPU N wherever a backend name is taken).
 * A new graph runs on the backend the environment variable NERVE_BACKEND
 * names, or "cpu" without it; nerve_graph_set_backend chooses one for a
 * graph (for "cuda" it fails with NERVE_ERR_INVALID and one line where no
 * GPU is available). */
NERVE_API int nerve_backend_count(void);
/* The i-th backend's name, NULL outside 0..nerve_backend_count() - 1. */
NERVE_API const char *nerve_backend_name(int i);
/* The CUDA GPUs this process sees: 0 without the CUDA backend (its module,
 * loaded by the first call, docs/cuda.md), a GPU or its driver. GPU
 * `ordinal` described in text ("NVIDIA H100 80GB HBM3, 79.1 GiB, compute
 * capability 9.0"), or NERVE_ERR_INVALID when there is no such GPU, text
 * then saying why (the module's file and dlopen's message, or CUDA's). */
NERVE_API int nerve_cuda_device_count(void);
NERVE_API nerve_status nerve_cuda_device_describe(int ordinal, char *text, size_t size);

/* ---------------------------------------------------------------- random */

/* xoshiro256** seeded through splitmix64: the same seed gives the same
 * stream on every platform. */
typedef struct nerve_rng {
    uint64_t s[4];
} nerve_rng;

NERVE_API void nerve_rng_seed(nerve_rng *rng, uint64_t seed);
NERVE_API uint64_t nerve_rng_next(nerve_rng *rng);
NERVE_API double nerve_rng_uniform(nerve_rng *rng);              /* [0, 1) */
NERVE_API double nerve_rng_normal(nerve_rng *rng);               /* N(0, 1) */
NERVE_API uint64_t nerve_rng_below(nerve_rng *rng, uint64_t n);  /* [0, n), unbiased */
NERVE_API void nerve_rng_shuffle(nerve_rng *rng, int64_t *index, int64_t n);

#ifdef __cplusplus
}
#endif
#endif /* NERVE_PUBLIC_CORE_H */
