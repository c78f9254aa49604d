/* Initialisers as torch.nn.init (PyTorch 1.13). A descriptor resolves to the
 * distribution torch draws from, its bounds and standard deviations computed
 * in torch's order of operations so that they agree with torch's to the last
 * bit of float32 (tests/test_init.c). Sources: Glorot & Bengio (2010) for
 * Xavier, He et al. (2015) for Kaiming, LeCun et al. (1998) for LeCun, Saxe
 * et al. (2014) for orthogonal. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/init.h"

const char *const nerve_nonlinearity_names[] = {"linear", "sigmoid",    "tanh",
                                                 "relu",   "leaky_relu", "selu", NULL};

/* Each kind's name, as torch.nn.init and the cfg spell it. */
static const char *const kind_names[NERVE_INIT_KIND_COUNT] = {
    "default",        "zeros",          "ones",          "constant",     "uniform",
    "normal",         "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal",
    "lecun_uniform",  "lecun_normal",   "orthogonal",    "eye",
};

const char *nerve_init_kind_name(nerve_init_kind kind)
{
    return (unsigned)kind < NERVE_INIT_KIND_COUNT ? kind_names[kind] : "unknown";
}

nerve_init nerve_init_of(nerve_init_kind kind)
{
    nerve_init init = {.kind = kind,
                       .b = 1,
                       .std = 1,
                       .gain = 1,
                       .mode = NERVE_FAN_IN,
                       .nonlinearity = NERVE_NONLINEARITY_LEAKY_RELU};
    return init;
}

/* The kinds that read a weight's fans or rows and columns: torch refuses
 * them for tensors of fewer than 2 dimensions. */
static bool needs_a_weight(nerve_init_kind kind)
{
    switch (kind) {
    case NERVE_INIT_XAVIER_UNIFORM:
    case NERVE_INIT_XAVIER_NORMAL:
    case NERVE_INIT_KAIMING_UNIFORM:
    case NERVE_INIT_KAIMING_NORMAL:
    case NERVE_INIT_LECUN_UNIFORM:
    case NERVE_INIT_LECUN_NORMAL:
    case NERVE_INIT_ORTHOGONAL:
        return true;
    default:
        return false;
    }
}

nerve_status nerve_init_check(const nerve_init *init, const char *name, nerve_error *err)
{
    switch (init->kind) {
    case NERVE_INIT_DEFAULT:
    case NERVE_INIT_ZEROS:
    case NERVE_INIT_ONES:
    case NERVE_INIT_LECUN_UNIFORM:
    case NERVE_INIT_LECUN_NORMAL:
    case NERVE_INIT_EYE:
        return NERVE_OK;
    case NERVE_INIT_CONSTANT:
        if (isfinite(init->val)) return NERVE_OK;
        break;
    case NERVE_INIT_UNIFORM:
        if (!isfinite(init->a) || !isfinite(init->b)) break;
        if (init->a > init->b)
            return nerve_error_set(err, NERVE_ERR_INVALID, "uniform: a (%g) is greater than b (%g)",
                                   init->a, init->b);
        return NERVE_OK;
    case NERVE_INIT_NORMAL:
        if (!isfinite(init->mean) || !isfinite(init->std)) break;
        if (init->std < 0)
            return nerve_error_set(err, NERVE_ERR_INVALID, "normal: std (%g) is negative",
                                   init->std);
        return NERVE_OK;
    case NERVE_INIT_XAVIER_UNIFORM:
    case NERVE_INIT_XAVIER_NORMAL:
    case NERVE_INIT_ORTHOGONAL:
        if (isfinite(init->gain)) return NERVE_OK;
        break;
    case NERVE_INIT_KAIMING_UNIFORM:
    case NERVE_INIT_KAIMING_NORMAL:
        if (!isfinite(init->a)) break;
        if ((unsigned)init->mode > NERVE_FAN_OUT ||
            (unsigned)init->nonlinearity > NERVE_NONLINEARITY_SELU)
            return nerve_error_set(err, NERVE_ERR_INVALID, "%s: unknown mode or nonlinearity",
                                   name);
        /* torch ignores a unless the nonlinearity is leaky_relu; a value
         * that would be ignored is a mistake worth reporting. */
        if (init->a != 0 && init->nonlinearity != NERVE_NONLINEARITY_LEAKY_RELU)
            return nerve_error_set(err, NERVE_ERR_INVALID,
                                   "%s: a (leaky_relu's negative slope) only applies with "
                                   "nonlinearity leaky_relu, not %s",
                                   name, nerve_nonlinearity_names[init->nonlinearity]);
        return NERVE_OK;
    default:
        return nerve_error_set(err, NERVE_ERR_INVALID, "unknown initialiser kind %d",
                               (int)init->kind);
    }
    return nerve_error_set(err, NERVE_ERR_INVALID, "%s: an argument is not a finite number", name);
}

/* ------------------------------------------------------------ formulas */

double nerve_init_gain(nerve_nonlinearity nonlinearity, double param)
{
    switch (nonlinearity) {
    case NERVE_NONLINEARITY_LINEAR:
    case NERVE_NONLINEARITY_SIGMOID:
        return 1;
    case NERVE_NONLINEARITY_TANH:
        return 5.0 / 3;
    case NERVE_NONLINEARITY_RELU:
        return sqrt(2.0);
    case NERVE_NONLINEARITY_LEAKY_RELU:
        return sqrt(2.0 / (1 + param * param));
    case NERVE_NONLINEARITY_SELU:
        return 3.0 / 4; /* torch's value, found empirically (pytorch#50664) */
    }
    return NAN;
}

nerve_status nerve_init_fans(nerve_shape shape, int64_t *fan_in, int64_t *fan_out,
                             nerve_error *err)
{
    char buf[96];
    if (shape.ndim < 2 || nerve_shape_numel(&shape) < 1)
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "fan-in and fan-out need a non-empty tensor of at least 2 "
                               "dimensions, not [%s]",
                               nerve_shape_format(&shape, buf, sizeof buf));
    int64_t receptive_field = 1;
    for (int d = 2; d < shape.ndim; d++) receptive_field *= shape.dim[d];
    *fan_in = shape.dim[1] * receptive_field;
    *fan_out = shape.dim[0] * receptive_field;
    return NERVE_OK;
}

/* N(0, std^2), or the uniform law of the same variance: U(-bound, bound)
 * with bound = sqrt(3) * std, as torch computes it. */
static nerve_init zero_mean_law(bool normal, double std)
{
    nerve_init law = nerve_init_of(normal ? NERVE_INIT_NORMAL : NERVE_INIT_UNIFORM);
    if (normal) {
        law.std = std;
    } else {
        law.b = sqrt(3.0) * std;
        law.a = -law.b;
    }
    return law;
}

static nerve_init constant_law(double val)
{
    nerve_init law = nerve_init_of(NERVE_INIT_CONSTANT);
    law.val = val;
    return law;
}

nerve_status nerve_init_resolve(const nerve_init *init, nerve_shape shape, nerve_init *law,
                                nerve_error *err)
{
    const char *name = nerve_init_kind_name(init->kind);
    nerve_status st = nerve_init_check(init, name, err);
    if (st != NERVE_OK) return st;
    char buf[96];
    int64_t fan_in = 0, fan_out = 0;
    if (needs_a_weight(init->kind)) {
        nerve_error fan_err = {0};
        if (nerve_init_fans(shape, &fan_in, &fan_out, &fan_err) != NERVE_OK)
            return nerve_error_set(err, NERVE_ERR_SHAPE,
                                   "%s needs a weight of at least 2 dimensions, not a tensor of "
                                   "shape [%s]",
                                   name, nerve_shape_format(&shape, buf, sizeof buf));
    }
    if (init->kind == NERVE_INIT_EYE && shape.ndim != 2)
        return nerve_error_set(err, NERVE_ERR_SHAPE,
                               "eye needs a matrix (2 dimensions), not a tensor of shape [%s]",
                               nerve_shape_format(&shape, buf, sizeof buf));
    /* The expressions follow torch/nn/init.py term by term. */
    double std, fan;
    switch (init->kind) {
    case NERVE_INIT_DEFAULT:
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "default: the layer type decides what default means (e.g. "
                               "nerve_dense_default_weight_init)");
    case NERVE_INIT_ZEROS:
        *law = constant_law(0);
        return NERVE_OK;
    case NERVE_INIT_ONES:
        *law = constant_law(1);
        return NERVE_OK;
    case NERVE_INIT_XAVIER_UNIFORM:
    case NERVE_INIT_XAVIER_NORMAL:
        std = init->gain * sqrt(2.0 / (double)(fan_in + fan_out));
        *law = zero_mean_law(init->kind == NERVE_INIT_XAVIER_NORMAL, std);
        return NERVE_OK;
    case NERVE_INIT_KAIMING_UNIFORM:
    case NERVE_INIT_KAIMING_NORMAL:
        fan = (double)(init->mode == NERVE_FAN_IN ? fan_in : fan_out);
        std = nerve_init_gain(init->nonlinearity, init->a) / sqrt(fan);
        *law = zero_mean_law(init->kind == NERVE_INIT_KAIMING_NORMAL, std);
        return NERVE_OK;
    case NERVE_INIT_LECUN_UNIFORM:
    case NERVE_INIT_LECUN_NORMAL:
        /* torch's kaiming_*(nonlinearity='linear'): gain 1, fan_in. */
        std = 1.0 / sqrt((double)fan_in);
        *law = zero_mean_law(init->kind == NERVE_INIT_LECUN_NORMAL, std);
        return NERVE_OK;
    default: /* constant, uniform, normal, orthogonal and eye are laws already */
        *law = *init;
        return NERVE_OK;
    }
}

/* ------------------------------------------------------------ sampling */

/* torch.nn.init.orthogonal_: a [rows, cols] matrix of N(0, 1) draws (cols =
 * the product of the other dimensions), transposed when wide so that A is
 * tall, [m, n] with m >= n; A = QR; Q's columns multiplied by the signs of R's
 * diagonal, which makes the factorisation unique and Q uniformly (Haar)
 * distributed (Mezzadri 2007); transposed back and scaled by gain. Rows come
 * out orthonormal when rows <= cols, columns otherwise.
 *
 * Householder QR in double: reflection k maps A[k:, k] onto alpha_k e_k
 * (alpha_k = R[k][k]); its vector is kept below A's diagonal, with its first
 * element in head[k]. Q = H_0 ... H_{n-1} [I; 0] is then accumulated
 * backwards. Both sweeps walk rows, A being row-major. */
static nerve_status fill_orthogonal(nerve_real *w, nerve_shape shape, double gain, nerve_rng *rng,
                                    nerve_error *err)
{
    int64_t rows = shape.dim[0], cols = nerve_shape_numel(&shape) / rows;
    bool wide = rows < cols;
    int64_t m = wide ? cols : rows, n = wide ? rows : cols;
    double *a = malloc((size_t)(m * n) * sizeof *a), *q = calloc((size_t)(m * n), sizeof *q);
    double *head = malloc((size_t)n * sizeof *head), *norm2 = malloc((size_t)n * sizeof *norm2);
    double *sign = malloc((size_t)n * sizeof *sign), *dot = malloc((size_t)n * sizeof *dot);
    if (!a || !q || !head || !norm2 || !sign || !dot) {
        free(a), free(q), free(head), free(norm2), free(sign), free(dot);
        return nerve_error_set(err, NERVE_ERR_NOMEM, "orthogonal: out of memory for a %lldx%lld "
                               "matrix", (long long)rows, (long long)cols);
    }
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++)
            a[wide ? c * n + r : r * n + c] = nerve_rng_normal(rng);

    for (int64_t k = 0; k < n; k++) {
        double column2 = 0;
        for (int64_t i = k; i < m; i++) column2 += a[i * n + k] * a[i * n + k];
        /* alpha takes the sign opposite to A[k][k]: v = x - alpha e_k then
         * suffers no cancellation. */
        double alpha = a[k * n + k] >= 0 ? -sqrt(column2) : sqrt(column2);
        head[k] = a[k * n + k] - alpha;
        norm2[k] = column2 - a[k * n + k] * a[k * n + k] + head[k] * head[k];
        sign[k] = alpha < 0 ? -1 : 1;
        if (norm2[k] == 0) continue; /* the column is already alpha e_k */
        for (int64_t j = k + 1; j < n; j++) dot[j] = head[k] * a[k * n + j];
        for (int64_t i = k + 1; i < m; i++)
            for (int64_t j = k + 1; j < n; j++) dot[j] += a[i * n + k] * a[i * n + j];
        for (int64_t j = k + 1; j < n; j++) {
            double f = 2 * dot[j] / norm2[k];
            a[k * n + j] -= f * head[k];
            dot[j] = f;
        }
        for (int64_t i = k + 1; i < m; i++)
            for (int64_t j = k + 1; j < n; j++) a[i * n + j] -= dot[j] * a[i * n + k];
    }

    for (int64_t j = 0; j < n; j++) q[j * n + j] = 1;
    for (int64_t k = n - 1; k >= 0; k--) {
        if (norm2[k] == 0) continue;
        /* Columns left of k are still e_j, which H_k leaves alone. */
        for (int64_t j = k; j < n; j++) dot[j] = head[k] * q[k * n + j];
        for (int64_t i = k + 1; i < m; i++)
            for (int64_t j = k; j < n; j++) dot[j] += a[i * n + k] * q[i * n + j];
        for (int64_t j = k; j < n; j++) {
            dot[j] = 2 * dot[j] / norm2[k];
            q[k * n + j] -= dot[j] * head[k];
        }
        for (int64_t i = k + 1; i < m; i++)
            for (int64_t j = k; j < n; j++) q[i * n + j] -= dot[j] * a[i * n + k];
    }

    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++) {
            int64_t i = wide ? c : r, j = wide ? r : c;
            w[r * cols + c] = (nerve_real)(gain * sign[j] * q[i * n + j]);
        }
    free(a), free(q), free(head), free(norm2), free(sign), free(dot);
    return NERVE_OK;
}

nerve_status nerve_init_fill(nerve_real *w, nerve_shape shape, const nerve_init *init,
                             nerve_rng *rng, nerve_error *err)
{
    nerve_init law;
    nerve_status st = nerve_init_resolve(init, shape, &law, err);
    if (st != NERVE_OK) return st;
    int64_t count = nerve_shape_numel(&shape);
    if (count < 0) return nerve_error_set(err, NERVE_ERR_SHAPE, "invalid shape");
    switch (law.kind) {
    case NERVE_INIT_CONSTANT:
        for (int64_t i = 0; i < count; i++) w[i] = (nerve_real)law.val;
        return NERVE_OK;
    case NERVE_INIT_UNIFORM: /* torch's uniform_: a + (b - a) * U[0, 1) */
        for (int64_t i = 0; i < count; i++)
            w[i] = (nerve_real)(law.a + (law.b - law.a) * nerve_rng_uniform(rng));
        return NERVE_OK;
    case NERVE_INIT_NORMAL:
        for (int64_t i = 0; i < count; i++)
            w[i] = (nerve_real)(law.mean + law.std * nerve_rng_normal(rng));
        return NERVE_OK;
    case NERVE_INIT_ORTHOGONAL:
        return fill_orthogonal(w, shape, law.gain, rng, err);
    case NERVE_INIT_EYE: /* torch's eye_: ones on the diagonal of [rows, cols], no draw */
        for (int64_t i = 0; i < count; i++) w[i] = 0;
        for (int64_t i = 0; i < shape.dim[0] && i < shape.dim[1]; i++) w[i * shape.dim[1] + i] = 1;
        return NERVE_OK;
    default:
        return nerve_error_set(err, NERVE_ERR_INVALID, "%s did not resolve to a distribution",
                               nerve_init_kind_name(init->kind));
    }
}
