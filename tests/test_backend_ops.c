/* Backend parity, kernel by kernel (after ggml's test-backend-ops): every
 * kernel of every backend runs on the same inputs as the reference backend
 * ("ref", src/backends/ref), on odd and even sizes (1, 7, 64, 1003), and
 * its outputs must match the reference's within the kernel's tolerance
 * (the table `tolerances` below). Every buffer lives in the device's own
 * memory, between guard bytes that must come back untouched: a kernel that
 * writes out of bounds fails even where its values are right.
 *
 * A backend that leaves a composite kernel to the generic one shows as
 * "falls back" (the generic version is what runs, and is checked); one that
 * has no kernel at all as "missing", a failure. The table printed at the
 * end is kernel x backend. Built twice: float32 against the library, and
 * float64 against the gradient checks' engine (test_backend_ops_f64), with
 * tolerances scaled down to double precision. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/registry.h"

#define GUARD 16              /* elements of guard on each side of a buffer */
#define GUARD_BYTE 0xA5       /* their content: a float of -2.9e-16, a double of -4.8e-299 */
#define MAX_BUFFERS 160
#define SIZE_COUNT 4
static const int64_t sizes[SIZE_COUNT] = {1, 7, 64, 1003};

/* ---------------------------------------------------------------- tolerances
 * Relative to max(1, |reference|), per kernel, for float32; float64 uses
 * them times F64_SCALE. Exact kernels (copies, selections, scatter of whole
 * values) get 0. Reductions over up to 1003 terms that the reference sums in
 * double and a fast backend in float get 1e-4; transcendental maps computed
 * in float by one and in double by the other 2e-5 (a few ulp of each
 * rounding, and the CPU's exp polynomial in the recurrent gates 2 ulp). */
#ifdef NERVE_F64
#define F64_SCALE 1e-8
#else
#define F64_SCALE 1
#endif

static double tolerance(nerve_kernel_id id)
{
    switch (id) {
    case NERVE_KERNEL_map: /* one definition, kernels.h's nerve_map_apply */
    case NERVE_KERNEL_copy_block:
    case NERVE_KERNEL_add_block:
    case NERVE_KERNEL_scale_rows:
    case NERVE_KERNEL_max_pool2d_forward:
    case NERVE_KERNEL_max_pool2d_backward:
    case NERVE_KERNEL_fill_rows:
    case NERVE_KERNEL_maxout_forward:
    case NERVE_KERNEL_maxout_backward:
    case NERVE_KERNEL_crelu_forward:
    case NERVE_KERNEL_crelu_backward:
    case NERVE_KERNEL_one_hot:
    case NERVE_KERNEL_embedding_forward:
    case NERVE_KERNEL_prelu_forward:
    case NERVE_KERNEL_dropout_mask: /* one definition, core/noise.c */
    case NERVE_KERNEL_uniform_noise:
    case NERVE_KERNEL_all_finite:
    case NERVE_KERNEL_add_relu_backward: /* a select and one addition */
        return 0;
    case NERVE_KERNEL_activation_forward:
    case NERVE_KERNEL_activation_backward:
    case NERVE_KERNEL_softmax:
    case NERVE_KERNEL_softmax_backward:
    case NERVE_KERNEL_log_softmax:
    case NERVE_KERNEL_log_softmax_backward:
    case NERVE_KERNEL_scale_rows_backward: /* generic: the product rounded before the add */
    case NERVE_KERNEL_add_scaled_difference:
    case NERVE_KERNEL_absolute_error_backward:
    case NERVE_KERNEL_smooth_l1_backward:
    case NERVE_KERNEL_binary_cross_entropy_backward:
    case NERVE_KERNEL_bce_with_logits_backward:
    case NERVE_KERNEL_batch_norm_forward:
    case NERVE_KERNEL_batch_norm_relu_forward:
    case NERVE_KERNEL_embedding_backward:
    case NERVE_KERNEL_avg_pool2d_backward:
    case NERVE_KERNEL_mean_rows_backward:
        return 2e-5;
    /* The CPU's Winograd convolution (16 channels, AVX-512) sums its
     * backward weights in the transformed domain: at width 1005 a weight's
     * gradient of 10^4 products of size 1 comes out 1e-4 off a value near
     * 0.5, about 3e-6 of the sum's spread. */
    case NERVE_KERNEL_conv_backward:
    case NERVE_KERNEL_conv_batch_norm_forward:
    case NERVE_KERNEL_conv_batch_norm_backward:
    case NERVE_KERNEL_conv_hand_over: /* two Winograd convolutions in a row */
        return 3e-4;
    case NERVE_KERNEL_recurrent_forward:
    case NERVE_KERNEL_recurrent_backward:
    case NERVE_KERNEL_large_margin_logits:
    case NERVE_KERNEL_large_margin_backward:
        return 2e-4;
    default: /* sums: GEMM, convolution, pooling, normalisation, losses */
        return 1e-4;
    }
}

/* ---------------------------------------------------------------- buffers */

/* One buffer of a run: device memory with GUARD elements either side, and
 * the host copy its values were set from and come back to. */
typedef struct buffer {
    nerve_real *device; /* the allocation; the kernel sees device + GUARD */
    nerve_real *host;   /* n + 2 GUARD */
    int64_t n;
    bool output;
} buffer;

typedef struct run {
    nerve_kernel_ctx ctx;
    nerve_kernels table;
    nerve_error err;
    buffer buffers[MAX_BUFFERS];
    int count;
    double scalars[16]; /* host results (all_finite's flag), compared exactly */
    int scalar_count;
    uint64_t seed; /* inputs: the same sequence for every backend */
    bool failed;   /* a device call failed (message in err) */
} run;

static uint64_t next_random(run *r)
{
    /* splitmix64 */
    uint64_t z = (r->seed += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi), rounded to a multiple of step when step > 0 (ties
 * for the max and sign tests). */
static double uniform(run *r, double lo, double hi, double step)
{
    double u = lo + (hi - lo) * (double)(next_random(r) >> 11) / 9007199254740992.0;
    return step > 0 ? floor(u / step) * step : u;
}

static nerve_real *add_buffer(run *r, int64_t n, bool output, const nerve_real *values)
{
    if (r->count == MAX_BUFFERS) {
        r->failed = true; /* a case with too many buffers: raise MAX_BUFFERS */
        nerve_kernel_fail(&r->ctx, NERVE_ERR_INVALID, "more than %d buffers", MAX_BUFFERS);
        return NULL;
    }
    buffer *b = &r->buffers[r->count++];
    size_t bytes = (size_t)(n + 2 * GUARD) * sizeof(nerve_real);
    b->n = n;
    b->output = output;
    b->host = malloc(bytes);
    memset(b->host, GUARD_BYTE, bytes);
    memcpy(b->host + GUARD, values, (size_t)n * sizeof(nerve_real));
    if (r->ctx.device->allocate(&r->ctx, bytes, (void **)&b->device) != NERVE_OK ||
        r->ctx.device->upload(&r->ctx, b->device, b->host, bytes) != NERVE_OK) {
        r->failed = true;
        return NULL;
    }
    return b->device + GUARD;
}

/* n values uniform in [lo, hi) (multiples of step where step > 0). */
static nerve_real *values(run *r, int64_t n, double lo, double hi, double step, bool output)
{
    nerve_real *v = calloc(n > 0 ? (size_t)n : 1, sizeof *v);
    for (int64_t i = 0; i < n; i++) v[i] = (nerve_real)uniform(r, lo, hi, step);
    nerve_real *device = add_buffer(r, n, output, v);
    free(v);
    return device;
}

#define IN(n) values(r, (n), -2, 2, 0, false)
#define IN_RANGE(n, lo, hi) values(r, (n), (lo), (hi), 0, false)
#define IN_STEPS(n) values(r, (n), -2, 2, 0.5, false) /* many ties and zeros */
/* Outputs start from values too: accumulating kernels add to them, and an
 * element a kernel forgets to write differs from the reference's. */
#define OUT(n) values(r, (n), -1, 1, 0, true)

/* A backend's scratch, of the size it asks for: zeros, drawn from no
 * random stream (the sizes differ between backends; the inputs must not). */
static nerve_real *scratch(run *r, int64_t n)
{
    nerve_real *v = calloc(n > 0 ? (size_t)n : 1, sizeof *v);
    nerve_real *device = add_buffer(r, n, false, v);
    free(v);
    return device;
}

/* An output a kernel must overwrite without reading (GEMM with beta 0). */
static nerve_real *out_nan(run *r, int64_t n)
{
    nerve_real *v = calloc(n > 0 ? (size_t)n : 1, sizeof *v);
    for (int64_t i = 0; i < n; i++) v[i] = NAN;
    nerve_real *device = add_buffer(r, n, true, v);
    free(v);
    return device;
}

/* Class labels in [0, classes), one outside (-1) from 7 rows on: the
 * kernels' NaN loss and skipped row. */
static nerve_real *labels(run *r, int64_t rows, int64_t classes)
{
    nerve_real *v = calloc(rows > 0 ? (size_t)rows : 1, sizeof *v);
    for (int64_t i = 0; i < rows; i++) v[i] = (nerve_real)(next_random(r) % (uint64_t)classes);
    if (rows >= 7) v[3] = -1;
    nerve_real *device = add_buffer(r, rows, false, v);
    free(v);
    return device;
}

/* rows one-hot rows of classes: the CPU's recurrent kernels gather (and
 * scatter-add) such an input rather than multiply it. */
static nerve_real *one_hot_rows(run *r, int64_t rows, int64_t classes)
{
    nerve_real *v = calloc(rows > 0 ? (size_t)(rows * classes) : 1, sizeof *v);
    for (int64_t i = 0; i < rows; i++) v[i * classes + next_random(r) % (uint64_t)classes] = 1;
    nerve_real *device = add_buffer(r, rows * classes, false, v);
    free(v);
    return device;
}

/* ---------------------------------------------------------------- cases
 * One per kernel: the inputs and outputs it is checked on at size s. */

#define CTX (&r->ctx)
#define RUN(name, ...) NERVE_KERNEL(CTX, name, __VA_ARGS__)
typedef nerve_status (*kernel_case)(run *r, int64_t s);

static nerve_status case_gemm(run *r, int64_t s)
{
    /* every transpose pair, beta 0 (C never read: NaN in it) and 0.5 */
    for (int t = 0; t < 4; t++) {
        bool ta = t & 1, tb = t & 2;
        int64_t m = s, n = 9, k = s;
        const nerve_real *a = IN(m * k), *b = IN(k * n);
        nerve_real *c0 = out_nan(r, m * n), *c1 = OUT(m * n);
        NERVE_TRY(RUN(gemm, ta, tb, m, n, k, (nerve_real)0.7, a, ta ? m : k, b, tb ? k : n, 0, c0,
                      n));
        NERVE_TRY(RUN(gemm, ta, tb, m, n, k, (nerve_real)0.7, a, ta ? m : k, b, tb ? k : n,
                      (nerve_real)0.5, c1, n));
    }
    return NERVE_OK;
}

/* x in [-4, 4] with the kinks (0, +-1) among the values. */
/* Every operation, on a with ties and zeros against b, a constant and a
 * device scalar; SELECT over an output it reads. */
static nerve_status case_map(run *r, int64_t s)
{
    const nerve_real *a = IN_STEPS(s), *b = IN_STEPS(s);
    for (int op = NERVE_MAP_ADD; op <= NERVE_MAP_FLOOR; op++) {
        NERVE_TRY(RUN(map, (nerve_map_op)op, a, b, 1, 0, OUT(s), s));
        NERVE_TRY(RUN(map, (nerve_map_op)op, a, NULL, 0, 0.5, OUT(s), s));
        NERVE_TRY(RUN(map, (nerve_map_op)op, a, b, 0, 0, OUT(s), s));
    }
    return NERVE_OK;
}

static const nerve_real *activation_input(run *r, int64_t n)
{
    nerve_real *x = calloc(n > 0 ? (size_t)n : 1, sizeof *x);
    for (int64_t i = 0; i < n; i++) x[i] = (nerve_real)uniform(r, -4, 4, 0);
    static const nerve_real kinks[] = {0, -1, 1, 0.5f};
    for (int64_t i = 0; i < n && i < 4; i++) x[i * 5 % n] = kinks[i];
    nerve_real *device = add_buffer(r, n, false, x);
    free(x);
    return device;
}

static nerve_activation_params activation_params(void)
{
    nerve_activation_params p = nerve_activation_defaults();
    p.negative_slope = 0.1, p.alpha = 0.7, p.beta = 1.5, p.threshold = 3;
    return p;
}

static nerve_status case_activation_forward(run *r, int64_t s)
{
    nerve_activation_params p = activation_params();
    for (int kind = 0; kind < NERVE_ACT_COUNT; kind++)
        NERVE_TRY(RUN(activation_forward, (nerve_activation)kind, &p, activation_input(r, s),
                      OUT(s), s));
    return NERVE_OK;
}

/* y is the forward's output, by the backend itself (backward may read it);
 * dx accumulated, and assigned (its starting values must not matter). */
static nerve_status case_activation_backward(run *r, int64_t s)
{
    nerve_activation_params p = activation_params();
    for (int kind = 0; kind < NERVE_ACT_COUNT; kind++)
        for (int accumulate = 0; accumulate < 2; accumulate++) {
            const nerve_real *x = activation_input(r, s);
            nerve_real *y = OUT(s);
            NERVE_TRY(RUN(activation_forward, (nerve_activation)kind, &p, x, y, s));
            NERVE_TRY(RUN(activation_backward, (nerve_activation)kind, &p, x, y, IN(s),
                          accumulate, OUT(s), s));
        }
    return NERVE_OK;
}

static nerve_status case_swish_beta_gradient(run *r, int64_t s)
{
    return RUN(swish_beta_gradient, IN(s), IN_RANGE(1, 0.5, 2), IN(s), s, OUT(1));
}

static nerve_status case_prelu_forward(run *r, int64_t s)
{
    return RUN(prelu_forward, IN_STEPS(2 * 3 * s), IN(3), OUT(2 * 3 * s), 2, 3, s);
}

static nerve_status case_prelu_backward(run *r, int64_t s)
{
    return RUN(prelu_backward, IN_STEPS(2 * 3 * s), IN(3), IN(2 * 3 * s), OUT(2 * 3 * s), OUT(3),
               2, 3, s);
}

/* Lines along the middle axis of [3, s, 2]; logits up to +-20. */
static nerve_status case_softmax(run *r, int64_t s)
{
    return RUN(softmax, IN_RANGE(3 * s * 2, -20, 20), OUT(3 * s * 2), 3, s, 2);
}

static nerve_status case_log_softmax(run *r, int64_t s)
{
    return RUN(log_softmax, IN_RANGE(3 * s * 2, -20, 20), OUT(3 * s * 2), 3, s, 2);
}

static nerve_status case_softmax_backward(run *r, int64_t s)
{
    return RUN(softmax_backward, IN_RANGE(3 * s * 2, 0, 1), IN(3 * s * 2), OUT(3 * s * 2), 3, s, 2);
}

static nerve_status case_log_softmax_backward(run *r, int64_t s)
{
    return RUN(log_softmax_backward, IN_RANGE(3 * s * 2, -8, 0), IN(3 * s * 2), OUT(3 * s * 2), 3,
               s, 2);
}

/* Strided rows (5 of 7 and 9), and at size 7 a source stride of 0. */
static nerve_status case_copy_block(run *r, int64_t s)
{
    int64_t src_stride = s == 7 ? 0 : 7;
    return RUN(copy_block, s, 5, IN(s * 7), src_stride, OUT(s * 9), 9);
}

static nerve_status case_add_block(run *r, int64_t s)
{
    return RUN(add_block, s, 5, IN(s * 7), 7, OUT(s * 9), 9);
}

static nerve_status case_scale_rows(run *r, int64_t s)
{
    return RUN(scale_rows, IN(s * 3), IN_STEPS(s), OUT(s * 3), s, 3);
}

static nerve_status case_scale_rows_backward(run *r, int64_t s)
{
    return RUN(scale_rows_backward, IN(s * 3), IN_STEPS(s), OUT(s * 3), s, 3);
}

static nerve_status case_sum_channels(run *r, int64_t s)
{
    return RUN(sum_channels, IN(2 * 4 * s), OUT(4), 2, 4, s);
}

/* Planes of 5 x (s + 2), a 3 x 2 window, stride 2 x 1, padding 1 x 1; odd
 * sizes dilate the columns by 2. */
static nerve_pool2d_geometry pool_geometry(int64_t s)
{
    nerve_pool2d_geometry p = {.planes = 2, .in_h = 5, .in_w = s + 2, .kernel_h = 3,
                               .kernel_w = 2, .stride_h = 2, .stride_w = 1, .pad_h = 1,
                               .pad_w = 1, .dilation_h = 1, .dilation_w = s % 2 ? 2 : 1};
    p.out_h = (p.in_h + 2 * p.pad_h - p.dilation_h * (p.kernel_h - 1) - 1) / p.stride_h + 1;
    p.out_w = (p.in_w + 2 * p.pad_w - p.dilation_w * (p.kernel_w - 1) - 1) / p.stride_w + 1;
    p.count_include_pad = s % 2;
    p.divisor_override = s == 64 ? 5 : 0;
    return p;
}

static int64_t pool_in(const nerve_pool2d_geometry *p) { return p->planes * p->in_h * p->in_w; }
static int64_t pool_out(const nerve_pool2d_geometry *p) { return p->planes * p->out_h * p->out_w; }

static nerve_status case_max_pool2d_forward(run *r, int64_t s)
{
    nerve_pool2d_geometry p = pool_geometry(s);
    return RUN(max_pool2d_forward, &p, IN_STEPS(pool_in(&p)), OUT(pool_out(&p)),
               OUT(pool_out(&p)));
}

/* argmax: any position of the plane (windows may share them). */
static nerve_status case_max_pool2d_backward(run *r, int64_t s)
{
    nerve_pool2d_geometry p = pool_geometry(s);
    const nerve_real *argmax = values(r, pool_out(&p), 0, (double)(p.in_h * p.in_w), 1, false);
    return RUN(max_pool2d_backward, &p, argmax, IN(pool_out(&p)), OUT(pool_in(&p)));
}

static nerve_status case_avg_pool2d_forward(run *r, int64_t s)
{
    nerve_pool2d_geometry p = pool_geometry(s);
    p.dilation_w = 1; /* average pooling has none */
    p.out_w = p.in_w + 2 * p.pad_w - p.kernel_w + 1;
    return RUN(avg_pool2d_forward, &p, IN(pool_in(&p)), OUT(pool_out(&p)));
}

static nerve_status case_avg_pool2d_backward(run *r, int64_t s)
{
    nerve_pool2d_geometry p = pool_geometry(s);
    p.dilation_w = 1;
    p.out_w = p.in_w + 2 * p.pad_w - p.kernel_w + 1;
    return RUN(avg_pool2d_backward, &p, IN(pool_out(&p)), OUT(pool_in(&p)));
}

/* [3, 4, s]: per channel over 3 s values, around a mean of 1. */
static nerve_status case_batch_norm_statistics(run *r, int64_t s)
{
    const nerve_real *x = IN_RANGE(3 * 4 * s, -1, 3);
    NERVE_TRY(RUN(batch_norm_statistics, x, OUT(4), OUT(4), 0.1, OUT(4), OUT(4), OUT(1), 3, 4, s));
    return RUN(batch_norm_statistics, x, OUT(4), OUT(4), 0.1, NULL, NULL, NULL, 3, 4, s);
}

static nerve_status case_batch_norm_forward(run *r, int64_t s)
{
    const nerve_real *x = IN(3 * 4 * s), *mean = IN(4), *var = IN_RANGE(4, 0.1, 2);
    NERVE_TRY(RUN(batch_norm_forward, x, mean, var, 1e-5, IN(4), IN(4), OUT(3 * 4 * s), 3, 4, s));
    return RUN(batch_norm_forward, x, mean, var, 1e-5, NULL, NULL, OUT(3 * 4 * s), 3, 4, s);
}

static nerve_status case_batch_norm_relu_forward(run *r, int64_t s)
{
    const nerve_real *x = IN(3 * 4 * s), *mean = IN(4), *var = IN_RANGE(4, 0.1, 2);
    NERVE_TRY(RUN(batch_norm_relu_forward, x, mean, var, 1e-5, IN(4), IN(4), OUT(3 * 4 * s), 3,
                  4, s));
    return RUN(batch_norm_relu_forward, x, mean, var, 1e-5, NULL, NULL, OUT(3 * 4 * s), 3, 4, s);
}

/* z from a ReLU (about half of it 0), dz overwritable. */
static nerve_status case_batch_norm_relu_backward(run *r, int64_t s)
{
    const nerve_real *x = IN(3 * 4 * s), *z = IN_RANGE(3 * 4 * s, -1, 1), *mean = IN(4);
    const nerve_real *var = IN_RANGE(4, 0.1, 2);
    for (int batch_statistics = 0; batch_statistics < 2; batch_statistics++)
        for (int accumulate = 0; accumulate < 2; accumulate++)
            NERVE_TRY(RUN(batch_norm_relu_backward, x, z, (nerve_real *)IN(3 * 4 * s), mean, var,
                          1e-5, IN(4), batch_statistics, accumulate, OUT(3 * 4 * s), OUT(4),
                          OUT(4), 3, 4, s));
    return RUN(batch_norm_relu_backward, x, z, (nerve_real *)IN(3 * 4 * s), mean, var, 1e-5, NULL,
               true, true, OUT(3 * 4 * s), NULL, NULL, 3, 4, s);
}

static nerve_status case_batch_norm_backward(run *r, int64_t s)
{
    const nerve_real *x = IN(3 * 4 * s), *dy = IN(3 * 4 * s), *mean = IN(4);
    const nerve_real *var = IN_RANGE(4, 0.1, 2);
    for (int batch_statistics = 0; batch_statistics < 2; batch_statistics++)
        for (int accumulate = 0; accumulate < 2; accumulate++)
            NERVE_TRY(RUN(batch_norm_backward, x, dy, mean, var, 1e-5, IN(4), batch_statistics,
                          accumulate, OUT(3 * 4 * s), OUT(4), OUT(4), 3, 4, s));
    return RUN(batch_norm_backward, x, dy, mean, var, 1e-5, NULL, true, true, OUT(3 * 4 * s),
               NULL, NULL, 3, 4, s);
}

/* 2 samples of 4 x 5 x (s + 2) through 6 column channels in 2 groups, a 3 x
 * 2 kernel, stride 1 x 2, padding 1 x 0; even sizes dilate the rows by 2. */
static nerve_conv_geometry conv_geometry(int64_t s)
{
    nerve_conv_geometry g = {.channels = 4, .height = 5, .width = s + 2, .col_channels = 6,
                             .kernel = {3, 2}, .stride = {1, 2}, .padding = {1, 0},
                             .dilation = {s % 2 ? 1 : 2, 1}, .groups = 2};
    g.col_height = (g.height + 2 * g.padding[0] - g.dilation[0] * (g.kernel[0] - 1) - 1) /
                       g.stride[0] + 1;
    g.col_width = (g.width - g.dilation[1] * (g.kernel[1] - 1) - 1) / g.stride[1] + 1;
    return g;
}

static int64_t conv_image_size(const nerve_conv_geometry *g)
{
    return 2 * g->channels * g->height * g->width;
}
static int64_t conv_cols_size(const nerve_conv_geometry *g)
{
    return 2 * g->col_channels * g->col_height * g->col_width;
}
static int64_t conv_weight_size(const nerve_conv_geometry *g)
{
    return g->col_channels * g->channels / g->groups * g->kernel[0] * g->kernel[1];
}

/* The workspace the backend asks for (its scratch: not compared). */
static nerve_real *conv_scratch(run *r, const nerve_conv_geometry *g, int64_t *size)
{
    if (RUN(conv_workspace, g, 2, size) != NERVE_OK) return NULL;
    return scratch(r, *size);
}

/* 2 samples of channels x 5 x (s + 2), 3 x 3 windows, padding 1: the
 * geometry oneDNN runs in its blocked layout (8 channels: the direct
 * convolution; 16: Winograd's, on AVX-512). */
static nerve_conv_geometry blocked_geometry(int64_t s, int64_t channels)
{
    return (nerve_conv_geometry){.channels = channels, .height = 5, .width = s + 2,
                                 .col_channels = channels, .col_height = 5, .col_width = s + 2,
                                 .kernel = {3, 3}, .stride = {1, 1}, .padding = {1, 1},
                                 .dilation = {1, 1}, .groups = 1};
}

/* conv_columns (with a bias, then accumulating without) or
 * conv_columns_relu (with and without a bias), on a plain and a
 * 16-channel geometry. */
static nerve_status conv_forward_cases(run *r, int64_t s, bool relu)
{
    nerve_conv_geometry geos[2] = {conv_geometry(s), blocked_geometry(s, 16)};
    for (int k = 0; k < 2; k++) {
        const nerve_conv_geometry *g = &geos[k];
        int64_t size;
        nerve_real *scratch = conv_scratch(r, g, &size);
        const nerve_real *image = IN(conv_image_size(g)), *weight = IN(conv_weight_size(g));
        const nerve_real *bias = IN(g->col_channels);
        for (int with_bias = 1; with_bias >= 0; with_bias--) {
            if (relu)
                NERVE_TRY(RUN(conv_columns_relu, g, 2, image, weight, with_bias ? bias : NULL,
                              OUT(conv_cols_size(g)), scratch, size));
            else
                NERVE_TRY(RUN(conv_columns, g, 2, image, weight, with_bias ? bias : NULL,
                              !with_bias, OUT(conv_cols_size(g)), scratch, size));
        }
    }
    return NERVE_OK;
}

static nerve_status case_conv_columns(run *r, int64_t s) { return conv_forward_cases(r, s, false); }

static nerve_status case_conv_columns_relu(run *r, int64_t s)
{
    return conv_forward_cases(r, s, true);
}

static nerve_status case_conv_image(run *r, int64_t s)
{
    nerve_conv_geometry g = conv_geometry(s);
    int64_t size;
    nerve_real *scratch = conv_scratch(r, &g, &size);
    const nerve_real *cols = IN(conv_cols_size(&g)), *weight = IN(conv_weight_size(&g));
    NERVE_TRY(RUN(conv_image, &g, 2, cols, weight, IN(4), false, OUT(conv_image_size(&g)),
                  scratch, size));
    return RUN(conv_image, &g, 2, cols, weight, NULL, true, OUT(conv_image_size(&g)), scratch,
               size);
}

static nerve_status case_conv_weight_gradient(run *r, int64_t s)
{
    nerve_conv_geometry g = conv_geometry(s);
    int64_t size;
    nerve_real *scratch = conv_scratch(r, &g, &size);
    return RUN(conv_weight_gradient, &g, 2, IN(conv_image_size(&g)), IN(conv_cols_size(&g)),
               OUT(conv_weight_size(&g)), scratch, size);
}

/* All three gradients (the input's assigned, then added), then each alone:
 * on the blocked geometries (8 channels: direct, 16: Winograd), where the
 * CPU's kernel shares the reordered dcols between its passes, and on the
 * one above (groups, strides, dilation). Inputs in [-1, 1]: the input's
 * gradient sums 72 (144) products, which float rounds 1e-4 off where they
 * cancel from larger values. */
static nerve_status case_conv_backward(run *r, int64_t s)
{
    nerve_conv_geometry geos[3] = {blocked_geometry(s, 8), blocked_geometry(s, 16),
                                   conv_geometry(s)};
    for (int k = 0; k < 3; k++) {
        const nerve_conv_geometry *g = &geos[k];
        int64_t size, images = conv_image_size(g), weights = conv_weight_size(g);
        int64_t channels = g->col_channels;
        nerve_real *scratch = conv_scratch(r, g, &size);
        const nerve_real *image = IN_RANGE(images, -1, 1), *weight = IN_RANGE(weights, -1, 1);
        const nerve_real *dcols = IN_RANGE(conv_cols_size(g), -1, 1);
        for (int accumulate = 0; accumulate < 2; accumulate++)
            NERVE_TRY(RUN(conv_backward, g, 2, image, weight, dcols, accumulate, OUT(images),
                          OUT(weights), OUT(channels), scratch, size));
        NERVE_TRY(RUN(conv_backward, g, 2, image, weight, dcols, false, OUT(images), NULL, NULL,
                      scratch, size));
        NERVE_TRY(RUN(conv_backward, g, 2, image, weight, dcols, false, NULL, OUT(weights), NULL,
                      scratch, size));
        NERVE_TRY(RUN(conv_backward, g, 2, image, weight, dcols, false, NULL, NULL, OUT(channels),
                      scratch, size));
    }
    return NERVE_OK;
}

/* The batch norm of a convolution + batch norm with `cols` elements of
 * output over `channels`: with relu and an affine map, or neither. */
static nerve_batch_norm_pass conv_bn_pass(run *r, int64_t channels, int64_t cols, bool relu)
{
    nerve_batch_norm_pass bn = {.mean = OUT(channels), .var = OUT(channels), .momentum = 0.1,
                                .eps = 1e-5, .running_mean = OUT(channels),
                                .running_var = OUT(channels), .counter = OUT(1), .relu = relu,
                                .y = OUT(cols)};
    if (relu) {
        bn.weight = IN(channels);
        bn.bias = IN(channels);
        bn.dweight = OUT(channels);
        bn.dbias = OUT(channels);
    }
    return bn;
}

/* conv_batch_norm_forward, and with `backward` conv_batch_norm_backward
 * over its output (every gradient, then accumulating into the input's
 * alone, then the weight's alone: a first layer's), on the 16-channel
 * geometry (the CPU's blocked layout on AVX-512) and the grouped one
 * (NCHW); without a bias with a ReLU, with one without. The
 * convolution's output and its gradient are in the backend's layout: not
 * compared. */
static nerve_status conv_batch_norm_cases(run *r, int64_t s, bool backward)
{
    nerve_conv_geometry geos[2] = {blocked_geometry(s, 16), conv_geometry(s)};
    for (int k = 0; k < 2; k++) {
        const nerve_conv_geometry *g = &geos[k];
        int64_t size, images = conv_image_size(g), weights = conv_weight_size(g);
        int64_t channels = g->col_channels, cols_size = conv_cols_size(g);
        nerve_real *work = conv_scratch(r, g, &size);
        const nerve_real *image = IN_RANGE(images, -1, 1), *weight = IN_RANGE(weights, -1, 1);
        const nerve_real *bias = IN(channels);
        for (int with_bias = 0; with_bias < 2; with_bias++) {
            const nerve_real *b = with_bias ? bias : NULL;
            nerve_batch_norm_pass bn = conv_bn_pass(r, channels, cols_size, !with_bias);
            nerve_real *cols = scratch(r, cols_size);
            NERVE_TRY(RUN(conv_batch_norm_forward, g, 2, image, weight, b, cols, &bn, work, size));
            if (!backward) continue;
            bn.dy = (nerve_real *)IN(cols_size);
            NERVE_TRY(RUN(conv_batch_norm_backward, g, 2, image, weight, b, cols,
                          scratch(r, cols_size), &bn, false, OUT(images), OUT(weights),
                          b ? OUT(channels) : NULL, work, size));
            bn.dy = (nerve_real *)IN(cols_size);
            NERVE_TRY(RUN(conv_batch_norm_backward, g, 2, image, weight, b, cols,
                          scratch(r, cols_size), &bn, true, OUT(images), NULL, NULL, work, size));
            bn.dy = (nerve_real *)IN(cols_size);
            NERVE_TRY(RUN(conv_batch_norm_backward, g, 2, image, weight, b, cols,
                          scratch(r, cols_size), &bn, false, NULL, OUT(weights), NULL, work,
                          size));
        }
    }
    return NERVE_OK;
}

static nerve_status case_conv_batch_norm_forward(run *r, int64_t s)
{
    return conv_batch_norm_cases(r, s, false);
}

static nerve_status case_conv_batch_norm_backward(run *r, int64_t s)
{
    return conv_batch_norm_cases(r, s, true);
}

/* Two 16-channel convolutions, the first's output the second's image,
 * handed over in the backend's layout where conv_hand_over says so (the
 * CPU's nChw16c: not compared), with and without bias and ReLU; the
 * second's output is NCHW either way, and compared. */
static nerve_status case_conv_hand_over(run *r, int64_t s)
{
    nerve_conv_geometry first = blocked_geometry(s, 16), second = blocked_geometry(s, 16);
    int64_t size, images = conv_image_size(&first), weights = conv_weight_size(&first);
    nerve_real *work = conv_scratch(r, &first, &size);
    bool ok = false;
    NERVE_TRY(RUN(conv_hand_over, &first, &second, 2, size, &ok));
    first.cols_private = second.image_private = ok;
    const nerve_real *image = IN_RANGE(images, -1, 1), *bias = IN(16);
    const nerve_real *w1 = IN_RANGE(weights, -1, 1), *w2 = IN_RANGE(weights, -1, 1);
    for (int variant = 0; variant < 2; variant++) {
        nerve_real *between = scratch(r, conv_cols_size(&first));
        const nerve_real *b = variant ? bias : NULL;
        if (variant)
            NERVE_TRY(RUN(conv_columns_relu, &first, 2, image, w1, b, between, work, size));
        else
            NERVE_TRY(RUN(conv_columns, &first, 2, image, w1, b, false, between, work, size));
        if (variant)
            NERVE_TRY(RUN(conv_columns_relu, &second, 2, between, w2, b, OUT(images), work, size));
        else
            NERVE_TRY(RUN(conv_columns, &second, 2, between, w2, b, false, OUT(images), work,
                          size));
    }
    return NERVE_OK;
}

static nerve_status case_conv_workspace(run *r, int64_t s)
{
    nerve_conv_geometry g = conv_geometry(s);
    int64_t size = -1;
    NERVE_TRY(RUN(conv_workspace, &g, 2, &size));
    return size >= 0 ? NERVE_OK : nerve_kernel_fail(CTX, NERVE_ERR_INVALID, "negative size");
}

/* ids over a vocabulary of 11 (one outside it from 7 rows on), rows of 5. */
static nerve_status case_embedding_forward(run *r, int64_t s)
{
    return RUN(embedding_forward, labels(r, s, 11), IN(11 * 5), OUT(s * 5), s, 11, 5);
}

static nerve_status case_embedding_backward(run *r, int64_t s)
{
    const nerve_real *ids = labels(r, s, 11), *dy = IN(s * 5);
    NERVE_TRY(RUN(embedding_backward, ids, dy, OUT(11 * 5), s, 11, 5, -1));
    return RUN(embedding_backward, ids, dy, OUT(11 * 5), s, 11, 5, 3);
}

static nerve_status case_one_hot(run *r, int64_t s)
{
    return RUN(one_hot, labels(r, s, 6), OUT(s * 6), s, 6);
}

static nerve_status case_crelu_forward(run *r, int64_t s)
{
    return RUN(crelu_forward, IN_STEPS(s * 3), OUT(s * 6), s, 3);
}

static nerve_status case_crelu_backward(run *r, int64_t s)
{
    return RUN(crelu_backward, IN_STEPS(s * 3), IN(s * 6), OUT(s * 3), s, 3);
}

/* Noise at step 3 of seed 9, stream 2, from global sample 40: s rows of 5
 * values (dropout p = 0.3, and p = 1 at size 7). */
static nerve_status case_dropout_mask(run *r, int64_t s)
{
    nerve_noise_at at = {.seed = 9, .step = 3, .first_sample = 40, .stream = 2};
    return RUN(dropout_mask, &at, s, 5, s == 7 ? 1.0 : 0.3, OUT(s * 5));
}

static nerve_status case_uniform_noise(run *r, int64_t s)
{
    nerve_noise_at at = {.seed = 9, .step = 3, .first_sample = 40, .stream = 2};
    return RUN(uniform_noise, &at, s, 5, 0.125, 0.5, OUT(s * 5));
}

/* s values, finite but for one (the last, to catch a short loop): +inf
 * where a byte mask leaves it out, then NaN where it keeps it. */
static nerve_status case_all_finite(run *r, int64_t s)
{
    nerve_real *x = calloc((size_t)s, sizeof *x), *mask_words;
    size_t words = ((size_t)s + sizeof *x - 1) / sizeof *x;
    unsigned char *mask = calloc(words, sizeof *x);
    for (int64_t i = 0; i < s; i++) {
        x[i] = (nerve_real)uniform(r, -2, 2, 0);
        mask[i] = i != s - 1 || s == 1;
    }
    const nerve_real *finite_x = add_buffer(r, s, false, x);
    x[s - 1] = INFINITY;
    const nerve_real *inf_x = add_buffer(r, s, false, x);
    x[s - 1] = NAN;
    const nerve_real *nan_x = add_buffer(r, s, false, x);
    mask_words = (nerve_real *)mask;
    const unsigned char *device_mask = (const unsigned char *)add_buffer(r, (int64_t)words, false,
                                                                         mask_words);
    free(x);
    free(mask);
    const nerve_real *inputs[] = {finite_x, inf_x, nan_x, nan_x};
    for (int k = 0; k < 4; k++) {
        bool finite = k == 0; /* the kernel must set it either way */
        NERVE_TRY(RUN(all_finite, inputs[k], k < 3 ? device_mask : NULL, s, &finite));
        r->scalars[r->scalar_count++] = finite;
    }
    return NERVE_OK;
}

/* Three steps of every optimizer kind (with weight decay, and clipping by
 * norm) over s * 3 parameters, on a graph of the device itself; the
 * parameters after them are the outputs. The float64 engine has no
 * optimizers: there the kernel is not run (the table says n/a). */
static nerve_status case_optimizer_step(run *r, int64_t s)
{
#ifndef NERVE_F64
    for (int kind = NERVE_OPTIMIZER_SGD; kind <= NERVE_OPTIMIZER_ADAMW; kind++) {
        nerve_graph *g = nerve_graph_new();
        nerve_status st = nerve_graph_set_backend(g, r->ctx.device->name, &r->err);
        nerve_node w = st ? -1 : nerve_param(g, "w", nerve_shape_1d(s * 3), &r->err);
        if (st == NERVE_OK) st = w >= 0 ? nerve_graph_plan(g, 1, &r->err) : NERVE_ERR_INVALID;
        nerve_real *host = calloc((size_t)s * 3, sizeof *host);
        for (int64_t i = 0; st == NERVE_OK && i < s * 3; i++) host[i] = (nerve_real)uniform(r, -2, 2, 0);
        if (st == NERVE_OK) st = nerve_node_write(g, w, host, s * 3, &r->err);
        nerve_optimizer_options o = nerve_optimizer_defaults((nerve_optimizer_kind)kind);
        o.lr = 0.05, o.weight_decay = 0.01, o.clip_norm = 0.5, o.momentum = 0.9;
        nerve_optimizer *opt = st == NERVE_OK ? nerve_optimizer_new(g, &o, &r->err) : NULL;
        if (st == NERVE_OK && !opt) st = NERVE_ERR_INVALID;
        for (int step = 0; st == NERVE_OK && step < 3; step++) {
            for (int64_t i = 0; i < s * 3; i++) host[i] = (nerve_real)uniform(r, -1, 1, 0);
            st = r->ctx.device->upload(&r->ctx, nerve_graph_grads(g), host,
                                       (size_t)s * 3 * sizeof *host);
            if (st == NERVE_OK) st = nerve_optimizer_step(opt);
        }
        if (st == NERVE_OK) st = nerve_node_read(g, w, host, s * 3, &r->err);
        if (st == NERVE_OK) add_buffer(r, s * 3, true, host);
        free(host);
        nerve_optimizer_free(opt);
        nerve_graph_free(g);
        NERVE_TRY(st);
    }
#endif
    return NERVE_OK;
}

/* ---------------------------------------------------------------- recurrent
 * Every cell, 2 sequences of s steps (3 features, 4 hidden); odd sizes run
 * in reverse, and backward takes the last state's gradient alone. The
 * LSTM's input is one-hot, as the char-LSTM's, the others' dense. */

typedef struct recurrent_case {
    nerve_recurrent_sequence seq;
    int64_t workspace;
} recurrent_case;

static nerve_status recurrent_setup(run *r, nerve_recurrent_cell cell, int64_t s, bool backward,
                                    recurrent_case *c)
{
    const int64_t N = 2, T = s, F = 3, H = 4, GH = nerve_recurrent_gate_count(cell) * H;
    NERVE_TRY(RUN(recurrent_workspace, cell, N, T, F, H, &c->workspace));
    nerve_recurrent_sequence q = {.cell = cell, .batch = N, .steps = T, .features = F,
                                  .hidden = H, .reverse = s % 2};
    q.x = cell == NERVE_CELL_LSTM ? one_hot_rows(r, N * T, F) : IN(N * T * F);
    q.weight_ih = IN_RANGE(GH * F, -0.6, 0.6);
    q.weight_hh = IN_RANGE(GH * H, -0.6, 0.6);
    q.bias = IN_RANGE(GH, -0.3, 0.3);
    q.bias_hn = IN_RANGE(H, -0.3, 0.3);
    q.h0 = IN_RANGE(N * H, -0.5, 0.5);
    q.c0 = IN_RANGE(N * H, -0.5, 0.5);
    if (!backward) {
        q.gates = OUT(N * T * GH);
        q.h = OUT(N * T * H);
        q.h_prev = OUT(N * T * H);
        q.c = OUT(N * T * H);
        q.tanh_c = OUT(N * T * H);
        q.hidden_n = OUT(N * T * H);
    } else {
        /* What a forward leaves, as valid values: gate activations in
         * (0, 1), the states and candidates in (-1, 1). */
        q.gates = values(r, N * T * GH, 0.02, 0.98, 0, true);
        q.h = IN_RANGE(N * T * H, -0.95, 0.95);
        q.h_prev = IN_RANGE(N * T * H, -0.95, 0.95);
        q.c = IN_RANGE(N * T * H, -1.5, 1.5);
        q.tanh_c = IN_RANGE(N * T * H, -0.9, 0.9);
        q.hidden_n = IN(N * T * H);
        q.dy_last_only = s % 2;
        q.dy = IN(q.dy_last_only ? N * H : N * T * H);
        q.dx = OUT(N * T * F);
        q.dweight_ih = OUT(GH * F);
        q.dweight_hh = OUT(GH * H);
        q.dbias_ih = OUT(GH);
        q.dbias_hh = OUT(GH);
    }
    q.workspace = scratch(r, c->workspace);
    c->seq = q;
    return r->failed ? NERVE_ERR_NOMEM : NERVE_OK;
}

static nerve_status case_recurrent_forward(run *r, int64_t s)
{
    for (int cell = NERVE_CELL_RNN_TANH; cell <= NERVE_CELL_GRU; cell++) {
        recurrent_case c;
        NERVE_TRY(recurrent_setup(r, (nerve_recurrent_cell)cell, s, false, &c));
        NERVE_TRY(RUN(recurrent_forward, &c.seq));
    }
    return NERVE_OK;
}

static nerve_status case_recurrent_backward(run *r, int64_t s)
{
    for (int cell = NERVE_CELL_RNN_TANH; cell <= NERVE_CELL_GRU; cell++) {
        recurrent_case c;
        NERVE_TRY(recurrent_setup(r, (nerve_recurrent_cell)cell, s, true, &c));
        NERVE_TRY(RUN(recurrent_backward, &c.seq));
    }
    return NERVE_OK;
}

static nerve_status case_recurrent_workspace(run *r, int64_t s)
{
    int64_t size = -1;
    NERVE_TRY(RUN(recurrent_workspace, NERVE_CELL_LSTM, 2, s, 3, 4, &size));
    return size >= 0 ? NERVE_OK : nerve_kernel_fail(CTX, NERVE_ERR_INVALID, "negative size");
}

/* ---------------------------------------------------------------- losses
 * s rows of 5 classes, reduced with a scale of 1/s (a mean). */

#define CLASSES 5

static nerve_status case_cross_entropy(run *r, int64_t s)
{
    const nerve_real *z = IN_RANGE(s * CLASSES, -6, 6), *y = labels(r, s, CLASSES);
    const nerve_real *w = IN_RANGE(CLASSES, 0.2, 2);
    NERVE_TRY(RUN(cross_entropy, z, y, NULL, 0, OUT(s * CLASSES), s, CLASSES, 1.0 / (double)s,
                  false, OUT(1), OUT(1)));
    return RUN(cross_entropy, z, y, w, (nerve_real)0.1, OUT(s * CLASSES), s, CLASSES, 1.0, true,
               OUT(1), OUT(1));
}

static nerve_status case_cross_entropy_backward(run *r, int64_t s)
{
    const nerve_real *p = IN_RANGE(s * CLASSES, 0, 1), *y = labels(r, s, CLASSES);
    const nerve_real *dloss = IN(1), *factor = IN(1);
    NERVE_TRY(RUN(cross_entropy_backward, p, y, NULL, 0, dloss, factor, OUT(s * CLASSES), s,
                  CLASSES));
    return RUN(cross_entropy_backward, p, y, IN_RANGE(CLASSES, 0.2, 2), (nerve_real)0.1, dloss,
               factor, OUT(s * CLASSES), s, CLASSES);
}

static nerve_status case_nll(run *r, int64_t s)
{
    const nerve_real *lp = IN_RANGE(s * CLASSES, -8, 0), *y = labels(r, s, CLASSES);
    NERVE_TRY(RUN(nll, lp, y, NULL, s, CLASSES, 1.0 / (double)s, false, OUT(1), OUT(1)));
    return RUN(nll, lp, y, IN_RANGE(CLASSES, 0.2, 2), s, CLASSES, 1.0, true, OUT(1), NULL);
}

static nerve_status case_nll_backward(run *r, int64_t s)
{
    return RUN(nll_backward, labels(r, s, CLASSES), IN_RANGE(CLASSES, 0.2, 2), IN(1), IN(1),
               OUT(s * CLASSES), s, CLASSES);
}

static nerve_status case_focal(run *r, int64_t s)
{
    const nerve_real *z = IN_RANGE(s * CLASSES, -6, 6), *y = labels(r, s, CLASSES);
    return RUN(focal, z, y, IN_RANGE(CLASSES, 0.2, 1), 2, OUT(s * CLASSES), OUT(s), s, CLASSES,
               1.0 / (double)s, OUT(1));
}

/* prob and log_pt consistent: the backend's own forward first. */
static nerve_status case_focal_backward(run *r, int64_t s)
{
    const nerve_real *z = IN_RANGE(s * CLASSES, -6, 6), *y = labels(r, s, CLASSES);
    const nerve_real *alpha = IN_RANGE(CLASSES, 0.2, 1);
    nerve_real *prob = OUT(s * CLASSES), *log_pt = OUT(s);
    NERVE_TRY(RUN(focal, z, y, alpha, (nerve_real)1.5, prob, log_pt, s, CLASSES, 1.0, OUT(1)));
    NERVE_TRY(RUN(focal_backward, prob, log_pt, y, alpha, (nerve_real)1.5, IN(1),
                  (nerve_real)0.5, OUT(s * CLASSES), s, CLASSES));
    return RUN(focal_backward, prob, log_pt, y, NULL, 0, NULL, 1, OUT(s * CLASSES), s, CLASSES);
}

static nerve_status case_distillation(run *r, int64_t s)
{
    return RUN(distillation, IN_RANGE(s * CLASSES, -6, 6), IN_RANGE(s * CLASSES, -6, 6), 3,
               OUT(s * CLASSES), OUT(s * CLASSES), s, CLASSES, 1.0 / (double)s, OUT(1));
}

/* dim 4; x and W random, so no angle is degenerate. */
static nerve_status case_large_margin_logits(run *r, int64_t s)
{
    const nerve_real *x = IN(s * 4), *w = IN(CLASSES * 4), *y = labels(r, s, CLASSES);
    nerve_real *logits = OUT(s * CLASSES);
    NERVE_TRY(RUN(gemm, false, true, s, CLASSES, 4, 1, x, 4, w, 4, 0, logits, CLASSES));
    for (int margin = 1; margin <= 4; margin++)
        NERVE_TRY(RUN(large_margin_logits, logits, x, w, y, margin, (nerve_real)0.5,
                      OUT(s * CLASSES), s, CLASSES, 4));
    return NERVE_OK;
}

static nerve_status case_large_margin_backward(run *r, int64_t s)
{
    const nerve_real *x = IN(s * 4), *w = IN(CLASSES * 4), *y = labels(r, s, CLASSES);
    nerve_real *logits = OUT(s * CLASSES);
    NERVE_TRY(RUN(gemm, false, true, s, CLASSES, 4, 1, x, 4, w, 4, 0, logits, CLASSES));
    for (int margin = 1; margin <= 4; margin++)
        NERVE_TRY(RUN(large_margin_backward, logits, x, w, y, margin, (nerve_real)0.5,
                      IN(s * CLASSES), OUT(s * CLASSES), OUT(s * 4), margin % 2 ? OUT(CLASSES * 4)
                                                                                : NULL,
                      s, CLASSES, 4));
    return NERVE_OK;
}

/* Element-wise losses over 3 s values, a and b equal in a few places. */
static const nerve_real *near(run *r, int64_t n) { return values(r, n, -2, 2, 0.25, false); }

static nerve_status case_squared_error(run *r, int64_t s)
{
    return RUN(squared_error, near(r, 3 * s), near(r, 3 * s), 3 * s, 0.5, OUT(1));
}

static nerve_status case_add_scaled_difference(run *r, int64_t s)
{
    const nerve_real *a = IN(3 * s), *b = IN(3 * s);
    NERVE_TRY(RUN(add_scaled_difference, 3 * s, IN(1), (nerve_real)0.3, a, b, OUT(3 * s)));
    return RUN(add_scaled_difference, 3 * s, NULL, (nerve_real)0.3, a, b, OUT(3 * s));
}

static nerve_status case_absolute_error(run *r, int64_t s)
{
    return RUN(absolute_error, near(r, 3 * s), near(r, 3 * s), 3 * s, 0.5, OUT(1));
}

static nerve_status case_absolute_error_backward(run *r, int64_t s)
{
    return RUN(absolute_error_backward, near(r, 3 * s), near(r, 3 * s), IN(1), (nerve_real)0.3,
               OUT(3 * s), 3 * s);
}

static nerve_status case_smooth_l1(run *r, int64_t s)
{
    const nerve_real *a = near(r, 3 * s), *b = near(r, 3 * s);
    NERVE_TRY(RUN(smooth_l1, a, b, (nerve_real)0.5, 3 * s, 0.5, OUT(1)));
    return RUN(smooth_l1, a, b, 0, 3 * s, 1.0, OUT(1));
}

static nerve_status case_smooth_l1_backward(run *r, int64_t s)
{
    const nerve_real *a = near(r, 3 * s), *b = near(r, 3 * s);
    NERVE_TRY(RUN(smooth_l1_backward, a, b, (nerve_real)0.5, IN(1), (nerve_real)0.3, OUT(3 * s),
                  3 * s));
    return RUN(smooth_l1_backward, a, b, 0, NULL, 1, OUT(3 * s), 3 * s);
}

/* p in [0, 1] with the ends among the values; y 0, 1 or between. */
static nerve_status case_binary_cross_entropy(run *r, int64_t s)
{
    return RUN(binary_cross_entropy, values(r, 3 * s, 0, 1.125, 0.125, false),
               values(r, 3 * s, 0, 1.5, 0.5, false), 3 * s, 0.5, OUT(1));
}

static nerve_status case_binary_cross_entropy_backward(run *r, int64_t s)
{
    return RUN(binary_cross_entropy_backward, IN_RANGE(3 * s, 0.01, 0.99),
               values(r, 3 * s, 0, 1.5, 0.5, false), IN(1), (nerve_real)0.3, OUT(3 * s), 3 * s);
}

static nerve_status case_bce_with_logits(run *r, int64_t s)
{
    const nerve_real *x = IN_RANGE(3 * s, -30, 30), *y = values(r, 3 * s, 0, 1.5, 0.5, false);
    NERVE_TRY(RUN(bce_with_logits, x, y, NULL, s, 3, 0.5, OUT(1)));
    return RUN(bce_with_logits, x, y, IN_RANGE(3, 0.5, 3), s, 3, 0.5, OUT(1));
}

static nerve_status case_bce_with_logits_backward(run *r, int64_t s)
{
    const nerve_real *x = IN_RANGE(3 * s, -30, 30), *y = values(r, 3 * s, 0, 1.5, 0.5, false);
    NERVE_TRY(RUN(bce_with_logits_backward, x, y, NULL, IN(1), (nerve_real)0.3, OUT(3 * s), s,
                  3));
    return RUN(bce_with_logits_backward, x, y, IN_RANGE(3, 0.5, 3), NULL, 1, OUT(3 * s), s, 3);
}

/* ---------------------------------------------------------------- composites */

static nerve_status case_fill_rows(run *r, int64_t s)
{
    return RUN(fill_rows, OUT(s * 5), IN(5), s, 5);
}

static nerve_status case_sum_rows(run *r, int64_t s)
{
    return RUN(sum_rows, IN(s * 5), OUT(5), s, 5);
}

static nerve_status case_mean_rows(run *r, int64_t s)
{
    return RUN(mean_rows, IN(3 * s), OUT(3), 3, s);
}

static nerve_status case_mean_rows_backward(run *r, int64_t s)
{
    return RUN(mean_rows_backward, IN(3), OUT(3 * s), 3, s);
}

static nerve_status case_add_forward(run *r, int64_t s)
{
    const nerve_real *x[3] = {IN(s), IN(s), IN(s)};
    NERVE_TRY(RUN(add_forward, x, 2, OUT(s), s));
    return RUN(add_forward, x, 3, OUT(s), s);
}

/* Into two inputs (assigned, then added) and into three (added, assigned,
 * added). */
static nerve_status case_add_relu_backward(run *r, int64_t s)
{
    const nerve_real *y = IN_STEPS(s), *dy = IN(s);
    nerve_real *two[2] = {OUT(s), OUT(s)}, *three[3] = {OUT(s), OUT(s), OUT(s)};
    NERVE_TRY(RUN(add_relu_backward, y, dy, two, (const bool[]){false, true}, 2, s));
    return RUN(add_relu_backward, y, dy, three, (const bool[]){true, false, true}, 3, s);
}

static nerve_status case_add_relu_forward(run *r, int64_t s)
{
    const nerve_real *x[3] = {IN(s), IN(s), IN(s)};
    NERVE_TRY(RUN(add_relu_forward, x, 2, OUT(s), s));
    return RUN(add_relu_forward, x, 3, OUT(s), s);
}

static nerve_status case_maxout_forward(run *r, int64_t s)
{
    return RUN(maxout_forward, IN_STEPS(s * 3), OUT(s), OUT(s), s, 3);
}

static nerve_status case_maxout_backward(run *r, int64_t s)
{
    return RUN(maxout_backward, values(r, s, 0, 3, 1, false), IN(s), OUT(s * 3), s, 3);
}

/* Every kernel's case, by id: the X-macro lists name them all, so a kernel
 * added to kernels.h without a case here does not compile. */
#define CASE_ENTRY(name, params) [NERVE_KERNEL_##name] = case_##name,
static const kernel_case cases[NERVE_KERNEL_COUNT] = {NERVE_ALL_KERNELS(CASE_ENTRY)};
#undef CASE_ENTRY

/* ---------------------------------------------------------------- the harness */

static void run_begin(run *r, const nerve_device *device, bool core_only, nerve_kernel_id id,
                      int64_t size)
{
    memset(r, 0, sizeof *r);
    if (core_only)
        nerve_kernels_core_only(device, &r->table);
    else
        nerve_kernels_complete(device, &r->table);
    r->ctx = (nerve_kernel_ctx){.device = device, .kernels = &r->table, .err = &r->err};
    r->seed = (uint64_t)id * 1000003u + (uint64_t)size;
}

/* Downloads the buffers; false (with a message) where a guard changed. */
static bool run_download(run *r, char *problem, size_t size)
{
    unsigned char guard[GUARD * sizeof(nerve_real)];
    memset(guard, GUARD_BYTE, sizeof guard);
    for (int i = 0; i < r->count; i++) {
        buffer *b = &r->buffers[i];
        size_t bytes = (size_t)(b->n + 2 * GUARD) * sizeof(nerve_real);
        if (r->ctx.device->download(&r->ctx, b->host, b->device, bytes) != NERVE_OK) {
            snprintf(problem, size, "%s: download: %s", r->ctx.device->name, r->err.message);
            return false;
        }
        if (memcmp(b->host, guard, sizeof guard) || memcmp(b->host + GUARD + b->n, guard, sizeof guard)) {
            snprintf(problem, size, "%s: buffer %d (%lld elements) written out of bounds",
                     r->ctx.device->name, i, (long long)b->n);
            return false;
        }
    }
    return true;
}

static void run_end(run *r)
{
    for (int i = 0; i < r->count; i++) {
        if (r->buffers[i].device) r->ctx.device->release(&r->ctx, r->buffers[i].device);
        free(r->buffers[i].host);
    }
}

static bool same(double a, double b, double tol)
{
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    if (isinf(a) || isinf(b)) return a == b;
    return fabs(a - b) <= tol * fmax(1, fabs(b));
}

/* Compares every output of r with the reference's; false with a message
 * naming the first difference. */
static bool run_compare(const run *r, const run *ref, double tol, char *problem, size_t size)
{
    for (int i = 0; i < r->scalar_count; i++) {
        if (r->scalars[i] != ref->scalars[i]) {
            snprintf(problem, size, "result %d: %g, the reference %g", i, r->scalars[i],
                     ref->scalars[i]);
            return false;
        }
    }
    for (int i = 0; i < r->count; i++) {
        const buffer *b = &r->buffers[i], *e = &ref->buffers[i];
        if (!b->output) continue;
        for (int64_t k = 0; k < b->n; k++) {
            double got = b->host[GUARD + k], want = e->host[GUARD + k];
            if (!same(got, want, tol)) {
                snprintf(problem, size, "output %d [%lld]: %.9g, the reference %.9g", i,
                         (long long)k, got, want);
                return false;
            }
        }
    }
    return true;
}

typedef enum verdict {
    VERDICT_OK,
    VERDICT_FALLS_BACK,
    VERDICT_FAIL,
    VERDICT_MISSING,
    VERDICT_NOT_RUN
} verdict;
static const char *const verdict_names[] = {"ok", "falls back", "FAIL", "missing", "n/a"};

/* One kernel on one device at one size (core_only: every composite the
 * generic one, on the device's core), against the reference device with
 * its own kernels. */
static bool check_one(const nerve_device *device, bool core_only,
                      const nerve_device *reference, nerve_kernel_id id, int64_t size)
{
    run *r = calloc(1, sizeof *r), *e = calloc(1, sizeof *e);
    char problem[1024] = "";
    run_begin(r, device, core_only, id, size);
    run_begin(e, reference, false, id, size);
    nerve_status st = cases[id](r, size), st_ref = cases[id](e, size);
    bool ok = st == NERVE_OK && st_ref == NERVE_OK && r->count == e->count &&
              r->scalar_count == e->scalar_count;
    if (!ok)
        snprintf(problem, sizeof problem, "%s", st ? r->err.message : st_ref ? e->err.message
                                                                       : "buffers differ");
    ok = ok && run_download(r, problem, sizeof problem) && run_download(e, problem, sizeof problem);
    ok = ok && run_compare(r, e, tolerance(id) * F64_SCALE, problem, sizeof problem);
    if (!ok)
        fprintf(stderr, "FAIL %s on %s%s, size %lld: %s\n", nerve_kernel_name(id),
                device->name, core_only ? " (core only)" : "", (long long)size, problem);
    run_end(r);
    run_end(e);
    free(r);
    free(e);
    return ok;
}

static bool is_core(nerve_kernel_id id)
{
    switch (id) {
#define CORE_CASE(name, params) case NERVE_KERNEL_##name:
        NERVE_CORE_KERNELS(CORE_CASE)
#undef CORE_CASE
        return true;
    default: return false;
    }
}

/* Two columns per backend: its own table (its kernels, the generic ones
 * where it leaves a composite NULL), and "core only": every composite's
 * generic version on its core, as a backend that writes only the core
 * runs them, against the reference's own (native) composites. */
int main(int argc, char **argv)
{
    /* With a backend's name: that backend alone, 77 (skipped) where it
     * cannot run here ("cuda" without a GPU); without: every one that can. */
    const char *only = argc > 1 ? argv[1] : NULL;
    if (only && (!nerve_device_find(only) || !nerve_device_usable(nerve_device_find(only)))) {
        printf("SKIP: backend '%s' cannot run on this machine (%s)\n", only,
               nerve_device_find(only) ? "no GPU" : "not built, or its module cannot be loaded");
        return 77;
    }
    const nerve_device *reference = nerve_device_find("ref");
    const nerve_device *list[4];
    int devices = 0, failures = 0, runs = 0;
    for (int d = 0; d < nerve_backend_count() && devices < 4; d++) {
        const char *name = nerve_backend_name(d);
        if (only && strcmp(name, only) != 0) continue;
        const nerve_device *device = nerve_device_find(name); /* NULL: cuda's module missing */
        if (!nerve_device_usable(device)) {
            printf("backend '%s' cannot run on this machine: not checked here\n", name);
            continue;
        }
        list[devices++] = device;
    }
    verdict table[NERVE_KERNEL_COUNT][8];
    for (int column = 0; column < 2 * devices; column++) {
        const nerve_device *device = list[column / 2];
        bool core_only = column % 2;
        for (int id = 0; id < NERVE_KERNEL_COUNT; id++) {
            nerve_kernel_support support = nerve_device_supports(device, (nerve_kernel_id)id);
            verdict v = support == NERVE_KERNEL_MISSING   ? VERDICT_MISSING
                        : support == NERVE_KERNEL_GENERIC ? VERDICT_FALLS_BACK
                                                          : VERDICT_OK;
            if (core_only) v = is_core((nerve_kernel_id)id) ? VERDICT_NOT_RUN : VERDICT_FALLS_BACK;
#ifdef NERVE_F64
            if (id == NERVE_KERNEL_optimizer_step) v = VERDICT_NOT_RUN; /* no optimizers here */
#endif
            for (int k = 0; v <= VERDICT_FALLS_BACK && k < SIZE_COUNT; k++, runs++)
                if (!check_one(device, core_only, reference, (nerve_kernel_id)id, sizes[k]))
                    v = VERDICT_FAIL;
            if (v == VERDICT_MISSING)
                fprintf(stderr, "FAIL %s: device '%s' has no such kernel\n",
                        nerve_kernel_name((nerve_kernel_id)id), device->name);
            failures += v == VERDICT_FAIL || v == VERDICT_MISSING;
            table[id][column] = v;
        }
    }
    printf("%-30s", "kernel");
    for (int c = 0; c < 2 * devices; c++) {
        char name[32];
        snprintf(name, sizeof name, "%s%s", list[c / 2]->name, c % 2 ? " core" : "");
        printf("  %-10s", name);
    }
    printf("\n");
    for (int id = 0; id < NERVE_KERNEL_COUNT; id++) {
        printf("%-30s", nerve_kernel_name((nerve_kernel_id)id));
        for (int c = 0; c < 2 * devices; c++) printf("  %-10s", verdict_names[table[id][c]]);
        printf("\n");
    }
    printf("%d kernels (%d core) x %d backends (each also core only) x %d sizes (%s): "
           "%d runs against ref, %d failures\n",
           NERVE_KERNEL_COUNT, NERVE_CORE_KERNEL_COUNT, devices, SIZE_COUNT,
           sizeof(nerve_real) == 8 ? "float64" : "float32", runs, failures);
    return failures ? 1 : 0;
}
