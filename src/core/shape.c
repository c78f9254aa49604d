#include <stdio.h>
#include <string.h>

#include "nerve.h"

nerve_shape nerve_shape_make(int ndim, const int64_t *dim)
{
    nerve_shape s = {0};
    s.ndim = ndim;
    for (int i = 0; i < ndim && i < NERVE_MAX_DIMS; i++) s.dim[i] = dim[i];
    return s;
}

nerve_shape nerve_shape_1d(int64_t d0) { return nerve_shape_make(1, &d0); }

nerve_shape nerve_shape_2d(int64_t d0, int64_t d1)
{
    int64_t d[2] = {d0, d1};
    return nerve_shape_make(2, d);
}

nerve_shape nerve_shape_3d(int64_t d0, int64_t d1, int64_t d2)
{
    int64_t d[3] = {d0, d1, d2};
    return nerve_shape_make(3, d);
}

nerve_shape nerve_shape_4d(int64_t d0, int64_t d1, int64_t d2, int64_t d3)
{
    int64_t d[4] = {d0, d1, d2, d3};
    return nerve_shape_make(4, d);
}

int64_t nerve_shape_numel(const nerve_shape *s)
{
    int64_t n = 1;
    if (s->ndim < 0 || s->ndim > NERVE_MAX_DIMS) return -1;
    for (int i = 0; i < s->ndim; i++) {
        if (s->dim[i] < 0) return -1;
        if (s->dim[i] && n > INT64_MAX / s->dim[i]) return -1;
        n *= s->dim[i];
    }
    return n;
}

bool nerve_shape_equal(const nerve_shape *a, const nerve_shape *b)
{
    if (a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->dim[i] != b->dim[i]) return false;
    return true;
}

const char *nerve_shape_format(const nerve_shape *s, char *buf, size_t size)
{
    size_t used = 0;
    if (size == 0) return buf;
    buf[0] = '\0';
    if (s->ndim == 0) {
        snprintf(buf, size, "scalar");
        return buf;
    }
    for (int i = 0; i < s->ndim && used < size; i++) {
        int w = snprintf(buf + used, size - used, i ? "x%lld" : "%lld", (long long)s->dim[i]);
        if (w < 0) break;
        used += (size_t)w;
    }
    return buf;
}
