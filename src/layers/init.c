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

#include "nerve.h"

/* ------------------------------------------------------------ the cfg spelling */

typedef enum arg_type { ARG_NUMBER, ARG_GAIN, ARG_MODE, ARG_NONLINEARITY } arg_type;

typedef struct init_arg {
    const char *name; /* torch's argument name, also the nerve_init field */
    arg_type type;
    size_t offset;    /* into nerve_init */
} init_arg;

#define INIT_MAX_ARGS 3

typedef struct init_spec {
    const char *name;
    nerve_init_kind kind;
    int required; /* how many leading arguments must be given */
    init_arg args[INIT_MAX_ARGS];
} init_spec;

#define NUMBER_ARG(field) {#field, ARG_NUMBER, offsetof(nerve_init, field)}
#define GAIN_ARG {"gain", ARG_GAIN, offsetof(nerve_init, gain)}
#define KAIMING_ARGS                                                                              \
    {NUMBER_ARG(a), {"mode", ARG_MODE, offsetof(nerve_init, mode)},                               \
     {"nonlinearity", ARG_NONLINEARITY, offsetof(nerve_init, nonlinearity)}}

/* Arguments in torch's positional order. The first spelling of a kind is its
 * name; he_* are the names the examples used before kaiming_* existed. */
static const init_spec init_specs[] = {
    {"default", NERVE_INIT_DEFAULT, 0, {{0}}},
    {"zeros", NERVE_INIT_ZEROS, 0, {{0}}},
    {"ones", NERVE_INIT_ONES, 0, {{0}}},
    {"constant", NERVE_INIT_CONSTANT, 1, {NUMBER_ARG(val)}},
    {"uniform", NERVE_INIT_UNIFORM, 0, {NUMBER_ARG(a), NUMBER_ARG(b)}},
    {"normal", NERVE_INIT_NORMAL, 0, {NUMBER_ARG(mean), NUMBER_ARG(std)}},
    {"xavier_uniform", NERVE_INIT_XAVIER_UNIFORM, 0, {GAIN_ARG}},
    {"xavier_normal", NERVE_INIT_XAVIER_NORMAL, 0, {GAIN_ARG}},
    {"kaiming_uniform", NERVE_INIT_KAIMING_UNIFORM, 0, KAIMING_ARGS},
    {"kaiming_normal", NERVE_INIT_KAIMING_NORMAL, 0, KAIMING_ARGS},
    {"he_uniform", NERVE_INIT_KAIMING_UNIFORM, 0, KAIMING_ARGS},
    {"he_normal", NERVE_INIT_KAIMING_NORMAL, 0, KAIMING_ARGS},
    {"lecun_uniform", NERVE_INIT_LECUN_UNIFORM, 0, {{0}}},
    {"lecun_normal", NERVE_INIT_LECUN_NORMAL, 0, {{0}}},
    {"orthogonal", NERVE_INIT_ORTHOGONAL, 0, {GAIN_ARG}},
    {"eye", NERVE_INIT_EYE, 0, {{0}}},
};
#define INIT_SPEC_COUNT (int)(sizeof init_specs / sizeof init_specs[0])

static const char *const mode_names[] = {"fan_in", "fan_out", NULL};
static const char *const nonlinearity_names[] = {"linear", "sigmoid",    "tanh",
                                                 "relu",   "leaky_relu", "selu", NULL};

/* torch's calculate_gain('leaky_relu') without a parameter. */
#define DEFAULT_LEAKY_RELU_SLOPE 0.01

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

const char *nerve_init_kind_name(nerve_init_kind kind)
{
    for (int i = 0; i < INIT_SPEC_COUNT; i++)
        if (init_specs[i].kind == kind) return init_specs[i].name;
    return "unknown";
}

static int arg_count(const init_spec *spec)
{
    int n = 0;
    while (n < INIT_MAX_ARGS && spec->args[n].name) n++;
    return n;
}

static int find_name(const char *const *names, const char *name)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], name) == 0) return i;
    return -1;
}

/* "a, b, c" into buf. */
static const char *join(const char *const *names, char *buf, size_t size)
{
    buf[0] = '\0';
    for (int i = 0; names[i]; i++) {
        size_t used = strlen(buf);
        snprintf(buf + used, size - used, "%s%s", i ? ", " : "", names[i]);
    }
    return buf;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = '\0';
    return s;
}

static bool is_identifier(const char *s)
{
    if (!*s || (*s >= '0' && *s <= '9')) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

static bool parse_number(const char *text, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(text, &end);
    if (end == text || *end || errno == ERANGE || !isfinite(x)) return false;
    *out = x;
    return true;
}

/* Stores one argument's value into init. */
static nerve_status parse_value(const init_spec *spec, const init_arg *arg, const char *value,
                                nerve_init *init, nerve_error *err)
{
    char list[128];
    void *field = (char *)init + arg->offset;
    int k;
    switch (arg->type) {
    case ARG_NUMBER:
        if (parse_number(value, (double *)field)) return NERVE_OK;
        return nerve_error_set(err, NERVE_ERR_INVALID, "%s: %s: '%s' is not a finite number",
                               spec->name, arg->name, value);
    case ARG_GAIN:
        if (parse_number(value, (double *)field)) return NERVE_OK;
        if ((k = find_name(nonlinearity_names, value)) >= 0) {
            *(double *)field = nerve_init_gain((nerve_nonlinearity)k, DEFAULT_LEAKY_RELU_SLOPE);
            return NERVE_OK;
        }
        return nerve_error_set(err, NERVE_ERR_INVALID,
                               "%s: %s: '%s' is neither a number nor a nonlinearity (%s)",
                               spec->name, arg->name, value,
                               join(nonlinearity_names, list, sizeof list));
    case ARG_MODE:
        if ((k = find_name(mode_names, value)) >= 0) {
            *(nerve_fan_mode *)field = (nerve_fan_mode)k;
            return NERVE_OK;
        }
        return nerve_error_set(err, NERVE_ERR_INVALID, "%s: %s: '%s' is not one of: %s",
                               spec->name, arg->name, value, join(mode_names, list, sizeof list));
    case ARG_NONLINEARITY:
        if ((k = find_name(nonlinearity_names, value)) >= 0) {
            *(nerve_nonlinearity *)field = (nerve_nonlinearity)k;
            return NERVE_OK;
        }
        return nerve_error_set(err, NERVE_ERR_INVALID, "%s: %s: '%s' is not one of: %s",
                               spec->name, arg->name, value,
                               join(nonlinearity_names, list, sizeof list));
    }
    return nerve_error_set(err, NERVE_ERR_INVALID, "%s: bad argument type", spec->name);
}

/* "takes no arguments" / "takes at most 2 arguments (a, b)". */
static const char *describe_arguments(const init_spec *spec, char *buf, size_t size)
{
    int n = arg_count(spec);
    if (n == 0) return "takes no arguments";
    int used = snprintf(buf, size, "takes at most %d argument%s (", n, n > 1 ? "s" : "");
    for (int i = 0; i < n; i++)
        used += snprintf(buf + used, size - (size_t)used, "%s%s", i ? ", " : "",
                         spec->args[i].name);
    snprintf(buf + used, size - (size_t)used, ")");
    return buf;
}

/* The comma-separated arguments between the parentheses (list is writable). */
static nerve_status parse_arguments(const init_spec *spec, char *list, nerve_init *init,
                                    bool given[INIT_MAX_ARGS], nerve_error *err)
{
    char about[128];
    int count = arg_count(spec), position = 0;
    bool keywords = false;
    if (!*trim(list)) return NERVE_OK;
    for (char *item = list, *next; item; item = next) {
        next = strchr(item, ',');
        if (next) *next++ = '\0';
        item = trim(item);
        if (!*item)
            return nerve_error_set(err, NERVE_ERR_INVALID, "%s: an argument is empty", spec->name);
        char *equals = strchr(item, '=');
        const char *value = item;
        int index;
        if (equals) {
            *equals = '\0';
            const char *key = trim(item);
            value = trim(equals + 1);
            for (index = 0; index < count && strcmp(spec->args[index].name, key) != 0; index++) {}
            if (index == count)
                return nerve_error_set(err, NERVE_ERR_INVALID, "%s has no argument '%s' (it %s)",
                                       spec->name, key,
                                       describe_arguments(spec, about, sizeof about));
            if (!*value)
                return nerve_error_set(err, NERVE_ERR_INVALID, "%s: %s: no value after '='",
                                       spec->name, key);
            keywords = true;
        } else {
            if (keywords)
                return nerve_error_set(err, NERVE_ERR_INVALID,
                                       "%s: positional argument '%s' after a keyword argument",
                                       spec->name, item);
            if (position == count)
                return nerve_error_set(err, NERVE_ERR_INVALID, "%s %s; '%s' is one too many",
                                       spec->name, describe_arguments(spec, about, sizeof about),
                                       item);
            index = position++;
        }
        if (given[index])
            return nerve_error_set(err, NERVE_ERR_INVALID, "%s: argument '%s' given twice",
                                   spec->name, spec->args[index].name);
        given[index] = true;
        nerve_status st = parse_value(spec, &spec->args[index], value, init, err);
        if (st != NERVE_OK) return st;
    }
    return NERVE_OK;
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

/* The arguments' own constraints, as torch checks them; messages say `name`
 * (the spelling the user wrote). */
static nerve_status check_arguments(const nerve_init *init, const char *name, nerve_error *err)
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
                                   name, nonlinearity_names[init->nonlinearity]);
        return NERVE_OK;
    default:
        return nerve_error_set(err, NERVE_ERR_INVALID, "unknown initialiser kind %d",
                               (int)init->kind);
    }
    return nerve_error_set(err, NERVE_ERR_INVALID, "%s: an argument is not a finite number", name);
}

nerve_status nerve_init_parse(const char *text, nerve_init *out, nerve_error *err)
{
    char buf[256], names[400];
    if (strlen(text) >= sizeof buf)
        return nerve_error_set(err, NERVE_ERR_INVALID, "initialiser longer than %zu characters",
                               sizeof buf - 1);
    strcpy(buf, text);
    char *open = strchr(buf, '('), *list = NULL;
    if (open) {
        char *close = strchr(open, ')');
        if (!close)
            return nerve_error_set(err, NERVE_ERR_INVALID, "'%s': missing ')'", text);
        if (*trim(close + 1))
            return nerve_error_set(err, NERVE_ERR_INVALID, "'%s': unexpected '%s' after ')'", text,
                                   trim(close + 1));
        *open = *close = '\0';
        list = open + 1;
    }
    const char *name = trim(buf);
    const init_spec *spec = NULL;
    for (int i = 0; i < INIT_SPEC_COUNT && !spec; i++)
        if (strcmp(init_specs[i].name, name) == 0) spec = &init_specs[i];
    if (!spec) {
        const char *all[INIT_SPEC_COUNT + 1];
        for (int i = 0; i < INIT_SPEC_COUNT; i++) all[i] = init_specs[i].name;
        all[INIT_SPEC_COUNT] = NULL;
        return nerve_error_set(err, NERVE_ERR_INVALID, "unknown initialiser '%s' (one of: %s)",
                               is_identifier(name) ? name : text, join(all, names, sizeof names));
    }
    nerve_init init = nerve_init_of(spec->kind);
    bool given[INIT_MAX_ARGS] = {false};
    nerve_status st = list ? parse_arguments(spec, list, &init, given, err) : NERVE_OK;
    for (int i = 0; st == NERVE_OK && i < spec->required; i++)
        if (!given[i])
            st = nerve_error_set(err, NERVE_ERR_INVALID, "%s requires the argument '%s'",
                                 spec->name, spec->args[i].name);
    if (st == NERVE_OK) st = check_arguments(&init, spec->name, err);
    if (st == NERVE_OK) *out = init;
    return st;
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
    nerve_status st = check_arguments(init, name, err);
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
