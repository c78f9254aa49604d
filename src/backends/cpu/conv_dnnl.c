/* 2-D convolution through oneDNN's convolution primitives (float32 only; the
 * float64 engine of the gradient checks keeps the im2col kernels of conv.c,
 * which stay the reference).
 *
 * Why: on AVX-512 oneDNN's direct convolution ("jit:avx512_core") runs 2-4x
 * faster than im2col + GEMM on the target layers (3x3 and 5x5, 32-64
 * channels, 14x14-28x28 images), forward and both backward passes. It wants
 * its own blocked layouts (nChw16c and a blocked weight); reordering nerve's
 * NCHW tensors into them and back costs about a tenth of the convolution, so
 * every call reorders its operands through the workspace, and the rest of
 * nerve keeps NCHW. The layouts are oneDNN's choice ("format_tag_any"):
 * where plain NCHW is its best (1 input channel), nothing is reordered.
 *
 * Convolutions too small to split (batch 1) run on one thread, as small
 * GEMMs do (NERVE_CPU_PARALLEL_MIN_MACS). Every pass runs on the threads a
 * busy machine leaves free (nerve_cpu_team) and gives the same bits on
 * fewer (test_team): a forward pass, whose every output is one thread's
 * whole sum whatever the split, takes a one-thread entry made with the
 * other; the backward passes run on the batch cut into parts
 * (conv_parts below).
 *
 * Creating a primitive generates code (milliseconds), so they are made once
 * per geometry, batch size and thread count, when a graph is planned for that
 * batch (conv_workspace), and kept in a process-wide cache: the training
 * batch, the last partial batch, the evaluation batch and batch 1 each make
 * their own. The cache never shrinks; one lock guards it and the runs, whose
 * memory objects it shares. Anything oneDNN cannot run is cached as
 * unusable and goes to im2col. A primitive's
 * own scratch (Winograd's transformed tiles) is nerve's too, in the
 * workspace after the operands (user scratchpad mode). A run
 * allocates nothing of nerve's; oneDNN's execute makes a few small heap
 * objects per call (its argument map), which its C API cannot avoid. */
#include "backends/cpu/conv_dnnl.h"
#include "backends/cpu/blocked16.h"

#ifdef NERVE_CPU_DNNL
#include <dnnl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>

/* The workspace's pieces start on cache lines, as the graph's arena does. */
#define SCRATCH_ALIGNMENT 64
enum { MAX_OPERANDS = 4 };

/* One operand of a primitive: nerve's buffer in its plain layout, and where
 * the primitive chose another layout, a copy in that layout in the workspace
 * and the reorders between the two. */
typedef struct conv_operand {
    int arg;                      /* DNNL_ARG_* */
    dnnl_memory_t plain;          /* nerve's buffer: the handle is set per run */
    dnnl_memory_t inner;          /* the primitive's layout, in the workspace; NULL: plain */
    dnnl_primitive_t reorder;     /* input: plain -> inner; output: inner -> plain */
    dnnl_primitive_t reorder_sum; /* output only: plain += inner (accumulating kernels) */
    size_t bytes;                 /* of inner, rounded up to SCRATCH_ALIGNMENT */
    /* Output only: inner is nChw16c of [dims[0], dims[1], dims[2] x
     * dims[3]], which nerve adds into plain itself (blocked16.c), faster
     * than reorder_sum. */
    bool add_blocked16;
    int64_t dims[3];
} conv_operand;

/* A primitive and its operands, inputs first, the output last. */
typedef struct conv_pass {
    dnnl_primitive_t primitive;
    conv_operand operand[MAX_OPERANDS];
    int operand_count;
    /* The primitive's own scratch (Winograd's transformed tiles), in the
     * workspace after the operands: nerve's, shared by every convolution,
     * rather than memory oneDNN would hold per primitive. NULL: none. */
    dnnl_memory_t scratchpad;
    size_t scratchpad_bytes;
} conv_pass;

/* slot: which part of a batch split into parts (conv_parts) the entry
 * runs; parts run side by side, each on its own memory objects. */
typedef struct conv_key {
    nerve_conv_geometry geo;
    int64_t batch, threads, slot;
} conv_key;

typedef struct conv_entry {
    conv_key key;
    bool usable;
    dnnl_stream_t stream; /* the entry's own: parts run on several at once */
    dnnl_alg_kind_t alg; /* Winograd or direct */
    /* forward with and without bias, backward data, backward weights */
    conv_pass forward, forward_bias, backward_data, backward_weights;
    /* The forward passes with a ReLU post-op (inference folds: core/fold.c),
     * made on first use; relu_made: tried, usable or not. */
    conv_pass forward_relu, forward_bias_relu;
    bool relu_made, relu_usable;
    /* Both backward passes read the output's gradient in the same layout,
     * other than nerve's: conv_backward reorders it once for the two. */
    bool shared_gradient;
} conv_entry;

static struct {
    pthread_mutex_t lock;
    dnnl_engine_t engine;
    conv_entry **entries;
    int count, capacity;
} cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

static size_t aligned_bytes(const dnnl_memory_desc_t *md)
{
    size_t bytes = dnnl_memory_desc_get_size(md);
    return (bytes + SCRATCH_ALIGNMENT - 1) / SCRATCH_ALIGNMENT * SCRATCH_ALIGNMENT;
}

/* The plain layouts nerve keeps: image [N, C, H, W], columns [N, C', H', W'],
 * weight [C', C / groups, kh, kw] (oneDNN's goihw with groups), bias [C']. */
static void plain_descs(const conv_key *key, dnnl_memory_desc_t *image, dnnl_memory_desc_t *cols,
                        dnnl_memory_desc_t *weight, dnnl_memory_desc_t *bias)
{
    const nerve_conv_geometry *g = &key->geo;
    dnnl_dims_t image_dims = {key->batch, g->channels, g->height, g->width};
    dnnl_dims_t cols_dims = {key->batch, g->col_channels, g->col_height, g->col_width};
    dnnl_dims_t bias_dims = {g->col_channels};
    dnnl_memory_desc_init_by_tag(image, 4, image_dims, dnnl_f32, dnnl_nchw);
    dnnl_memory_desc_init_by_tag(cols, 4, cols_dims, dnnl_f32, dnnl_nchw);
    dnnl_memory_desc_init_by_tag(bias, 1, bias_dims, dnnl_f32, dnnl_x);
    if (g->groups == 1) {
        dnnl_dims_t dims = {g->col_channels, g->channels, g->kernel[0], g->kernel[1]};
        dnnl_memory_desc_init_by_tag(weight, 4, dims, dnnl_f32, dnnl_oihw);
    } else {
        dnnl_dims_t dims = {g->groups, g->col_channels / g->groups, g->channels / g->groups,
                            g->kernel[0], g->kernel[1]};
        dnnl_memory_desc_init_by_tag(weight, 5, dims, dnnl_f32, dnnl_goihw);
    }
}

/* The same shapes with the layout left to oneDNN. */
static void any_desc(const dnnl_memory_desc_t *plain, dnnl_memory_desc_t *any)
{
    dnnl_memory_desc_init_by_tag(any, plain->ndims, plain->dims, dnnl_f32, dnnl_format_tag_any);
}

/* The channel block b of oneDNN's aBcd<b>b layout (8 or 16) when md is it
 * with no padding (the channels a multiple of b), else 0. */
static int64_t channel_block_of(const dnnl_memory_desc_t *md)
{
    if (md->ndims != 4 || md->data_type != dnnl_f32) return 0;
    const int64_t blocks[] = {16, 8};
    const dnnl_format_tag_t tags[] = {dnnl_aBcd16b, dnnl_aBcd8b};
    for (int k = 0; k < 2; k++) {
        dnnl_memory_desc_t blocked;
        if (md->dims[1] % blocks[k] ||
            dnnl_memory_desc_init_by_tag(&blocked, 4, md->dims, dnnl_f32, tags[k]) !=
                dnnl_success)
            continue;
        if (dnnl_memory_desc_equal(md, &blocked)) return blocks[k];
    }
    return 0;
}

static dnnl_status_t make_reorder(const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to,
                                  bool sum, dnnl_primitive_t *reorder)
{
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t post_ops = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t st = dnnl_success;
    if (sum) {
        st = dnnl_primitive_attr_create(&attr);
        if (st == dnnl_success) st = dnnl_post_ops_create(&post_ops);
        if (st == dnnl_success) st = dnnl_post_ops_append_sum(post_ops, 1.0f);
        if (st == dnnl_success) st = dnnl_primitive_attr_set_post_ops(attr, post_ops);
    }
    if (st == dnnl_success)
        st = dnnl_reorder_primitive_desc_create(&pd, from, cache.engine, to, cache.engine, attr);
    if (st == dnnl_success) st = dnnl_primitive_create(reorder, pd);
    dnnl_primitive_desc_destroy(pd);
    dnnl_post_ops_destroy(post_ops);
    dnnl_primitive_attr_destroy(attr);
    return st;
}

/* The operand list of each pass, in the order the kernels pass their
 * buffers: the argument, where pd tells its layout (query and index), and
 * nerve's layout. */
typedef struct operand_spec {
    int arg;
    dnnl_query_t what;
    int index;
    const dnnl_memory_desc_t *plain;
} operand_spec;

static dnnl_status_t add_operand(conv_pass *pass, dnnl_primitive_desc_t pd,
                                 const operand_spec *spec, bool output)
{
    conv_operand *op = &pass->operand[pass->operand_count++];
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, spec->what, spec->index);
    const dnnl_memory_desc_t *plain = spec->plain;
    int arg = spec->arg;
    op->arg = arg;
    dnnl_status_t st = dnnl_memory_create(&op->plain, plain, cache.engine, DNNL_MEMORY_NONE);
    if (st != dnnl_success) return st;
    bool same = dnnl_memory_desc_equal(md, plain);
    /* An output always gets an inner copy: accumulating kernels compute into
     * it and add it to nerve's buffer. */
    if (same && !output) return dnnl_success;
    op->bytes = aligned_bytes(md);
    st = dnnl_memory_create(&op->inner, md, cache.engine, DNNL_MEMORY_NONE);
    if (st == dnnl_success && !same)
        st = output ? make_reorder(md, plain, false, &op->reorder)
                    : make_reorder(plain, md, false, &op->reorder);
    if (st == dnnl_success && output) st = make_reorder(md, plain, true, &op->reorder_sum);
#ifdef NERVE_CPU_BLOCKED16
    op->add_blocked16 = output && channel_block_of(md) == 16 && plain->ndims == 4;
    op->dims[0] = md->dims[0];
    op->dims[1] = md->dims[1];
    op->dims[2] = md->dims[2] * md->dims[3];
#endif
    return st;
}

static void destroy_pass(conv_pass *pass)
{
    for (int i = 0; i < pass->operand_count; i++) {
        conv_operand *op = &pass->operand[i];
        dnnl_memory_destroy(op->plain);
        dnnl_memory_destroy(op->inner);
        dnnl_primitive_destroy(op->reorder);
        dnnl_primitive_destroy(op->reorder_sum);
    }
    dnnl_primitive_destroy(pass->primitive);
    dnnl_memory_destroy(pass->scratchpad);
    memset(pass, 0, sizeof *pass);
}

static void destroy_passes(conv_entry *e)
{
    destroy_pass(&e->forward);
    destroy_pass(&e->forward_bias);
    destroy_pass(&e->backward_data);
    destroy_pass(&e->backward_weights);
    destroy_pass(&e->forward_relu);
    destroy_pass(&e->forward_bias_relu);
    e->shared_gradient = false;
}

static dnnl_status_t make_pass(conv_pass *pass, dnnl_primitive_desc_t pd,
                               const operand_spec *specs, int count)
{
    dnnl_status_t st = dnnl_primitive_create(&pass->primitive, pd);
    for (int i = 0; i < count && st == dnnl_success; i++)
        st = add_operand(pass, pd, &specs[i], i == count - 1);
    const dnnl_memory_desc_t *scratchpad =
        dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    if (st == dnnl_success && scratchpad && dnnl_memory_desc_get_size(scratchpad) > 0) {
        pass->scratchpad_bytes = aligned_bytes(scratchpad);
        st = dnnl_memory_create(&pass->scratchpad, scratchpad, cache.engine, DNNL_MEMORY_NONE);
    }
    return st;
}

/* Winograd's F(4x4, 3x3) (oneDNN's wino_4x3, AVX-512 only: elsewhere the
 * primitives cannot be made and the direct ones are): 2.25x fewer
 * multiplications than the direct convolution, for the 3x3, stride-1
 * layers of 16 or more channels a side that the CNNs spend their time in
 * (the BN-CNN's training step 15 % faster, its inference at batch 256 20 %),
 * at a rounding error a few times the direct sum's (test_backend_ops).
 * Not for channel counts outside 16-blocks, which it pads (a 1-channel input
 * costs 16 times the work), nor for single samples. */
static bool winograd_pays(const conv_key *key)
{
    const nerve_conv_geometry *g = &key->geo;
    return g->kernel[0] == 3 && g->kernel[1] == 3 && g->stride[0] == 1 && g->stride[1] == 1 &&
           g->dilation[0] == 1 && g->dilation[1] == 1 && g->groups == 1 &&
           g->channels % 16 == 0 && g->col_channels % 16 == 0 && key->batch > 1;
}

/* What oneDNN is told of an entry's convolution. */
typedef struct conv_descs {
    dnnl_memory_desc_t image, cols, weight, bias, image_any, cols_any, weight_any;
    dnnl_dims_t strides, dilates, pad_l, pad_r;
} conv_descs;

static dnnl_status_t describe(const conv_key *key, conv_descs *d)
{
    const nerve_conv_geometry *g = &key->geo;
    plain_descs(key, &d->image, &d->cols, &d->weight, &d->bias);
    any_desc(&d->image, &d->image_any);
    any_desc(&d->cols, &d->cols_any);
    any_desc(&d->weight, &d->weight_any);
    int64_t image_size[2] = {g->height, g->width}, out_size[2] = {g->col_height, g->col_width};
    for (int i = 0; i < 2; i++) {
        d->strides[i] = g->stride[i];
        d->dilates[i] = g->dilation[i] - 1;
        d->pad_l[i] = g->padding[i];
        /* The right padding that makes oneDNN's output size nerve's: the rows
         * and columns past the image that the last window reaches. Below zero
         * where the last rows are never reached (a 1x1, stride-2 convolution
         * of an even-sized image, the ResNet's shortcuts): oneDNN takes that
         * down to minus the stride, and its backward data writes those rows'
         * zeros (test_backend_ops' odd widths). */
        int64_t span = (g->kernel[i] - 1) * g->dilation[i] + 1;
        d->pad_r[i] = (out_size[i] - 1) * g->stride[i] + span - image_size[i] - g->padding[i];
        if (d->pad_r[i] + g->stride[i] <= 0) return dnnl_unimplemented;
    }
    return dnnl_success;
}

/* Nerve's workspace holds the primitive's scratch, and with relu the
 * primitive applies max(0, y) to its output (an eltwise post-op). */
static dnnl_status_t make_attr(bool relu, dnnl_primitive_attr_t *attr)
{
    dnnl_post_ops_t post_ops = NULL;
    dnnl_status_t st = dnnl_primitive_attr_create(attr);
    if (st == dnnl_success)
        st = dnnl_primitive_attr_set_scratchpad_mode(*attr, dnnl_scratchpad_mode_user);
    if (st == dnnl_success && relu) {
        st = dnnl_post_ops_create(&post_ops);
        if (st == dnnl_success)
            st = dnnl_post_ops_append_eltwise(post_ops, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f);
        if (st == dnnl_success) st = dnnl_primitive_attr_set_post_ops(*attr, post_ops);
    }
    dnnl_post_ops_destroy(post_ops);
    return st;
}

/* A forward pass, with or without bias and ReLU (pass NULL: its description
 * only); *pd (kept for the backward passes' hint) is the caller's to
 * destroy, NULL if not wanted. */
static dnnl_status_t make_forward(conv_entry *e, const conv_descs *d, bool with_bias, bool relu,
                                  conv_pass *pass, dnnl_primitive_desc_t *pd_out)
{
    dnnl_convolution_desc_t desc;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_status_t st = make_attr(relu, &attr);
    if (st == dnnl_success)
        st = dnnl_dilated_convolution_forward_desc_init(
            &desc, dnnl_forward_training, e->alg, &d->image_any, &d->weight_any,
            with_bias ? &d->bias : NULL, &d->cols_any, d->strides, d->dilates, d->pad_l,
            d->pad_r);
    if (st == dnnl_success) st = dnnl_primitive_desc_create(&pd, &desc, attr, cache.engine, NULL);
    if (st == dnnl_success && pass) {
        operand_spec specs[] = {{DNNL_ARG_SRC, dnnl_query_src_md, 0, &d->image},
                                {DNNL_ARG_WEIGHTS, dnnl_query_weights_md, 0, &d->weight},
                                {DNNL_ARG_BIAS, dnnl_query_weights_md, 1, &d->bias},
                                {DNNL_ARG_DST, dnnl_query_dst_md, 0, &d->cols}};
        if (!with_bias) specs[2] = specs[3];
        st = make_pass(pass, pd, specs, with_bias ? 4 : 3);
    }
    dnnl_primitive_attr_destroy(attr);
    if (pd_out && st == dnnl_success)
        *pd_out = pd;
    else
        dnnl_primitive_desc_destroy(pd);
    return st;
}

/* Creates the passes of the entry with algorithm alg: the backward ones on
 * one-thread entries only (the backward passes run in parts, each on one
 * thread), the forward ones on slot 0's only (no forward asks for another
 * part's); anything but dnnl_success leaves it unusable. */
static dnnl_status_t make_passes_with(conv_entry *e, dnnl_alg_kind_t alg)
{
    const bool backward = e->key.threads == 1, forward = e->key.slot == 0;
    conv_descs d;
    dnnl_status_t st = describe(&e->key, &d);
    e->alg = alg;
    dnnl_convolution_desc_t desc;
    dnnl_primitive_desc_t fwd = NULL, bwd_data = NULL, bwd_weights = NULL;
    dnnl_primitive_attr_t attr = NULL;
    if (st == dnnl_success)
        st = make_forward(e, &d, false, false, forward ? &e->forward : NULL, &fwd);
    if (st == dnnl_success && forward)
        st = make_forward(e, &d, true, false, &e->forward_bias, NULL);
    if (st == dnnl_success && backward) st = make_attr(false, &attr);
    if (st == dnnl_success && backward)
        st = dnnl_dilated_convolution_backward_data_desc_init(
            &desc, alg, &d.image_any, &d.weight_any, &d.cols_any, d.strides, d.dilates, d.pad_l,
            d.pad_r);
    if (st == dnnl_success && backward)
        st = dnnl_primitive_desc_create(&bwd_data, &desc, attr, cache.engine, fwd);
    if (st == dnnl_success && backward)
        st = dnnl_dilated_convolution_backward_weights_desc_init(
            &desc, alg, &d.image_any, &d.weight_any, NULL, &d.cols_any, d.strides, d.dilates,
            d.pad_l, d.pad_r);
    if (st == dnnl_success && backward)
        st = dnnl_primitive_desc_create(&bwd_weights, &desc, attr, cache.engine, fwd);
    if (st == dnnl_success && backward) {
        operand_spec specs[] = {{DNNL_ARG_DIFF_DST, dnnl_query_diff_dst_md, 0, &d.cols},
                                {DNNL_ARG_WEIGHTS, dnnl_query_weights_md, 0, &d.weight},
                                {DNNL_ARG_DIFF_SRC, dnnl_query_diff_src_md, 0, &d.image}};
        st = make_pass(&e->backward_data, bwd_data, specs, 3);
    }
    if (st == dnnl_success && backward) {
        operand_spec specs[] = {{DNNL_ARG_SRC, dnnl_query_src_md, 0, &d.image},
                                {DNNL_ARG_DIFF_DST, dnnl_query_diff_dst_md, 0, &d.cols},
                                {DNNL_ARG_DIFF_WEIGHTS, dnnl_query_diff_weights_md, 0, &d.weight}};
        st = make_pass(&e->backward_weights, bwd_weights, specs, 3);
    }
    if (st == dnnl_success && backward) {
        const conv_operand *data = &e->backward_data.operand[0];
        const conv_operand *weights = &e->backward_weights.operand[1];
        e->shared_gradient = data->inner && weights->inner &&
                             dnnl_memory_desc_equal(dnnl_primitive_desc_query_md(
                                                        bwd_data, dnnl_query_diff_dst_md, 0),
                                                    dnnl_primitive_desc_query_md(
                                                        bwd_weights, dnnl_query_diff_dst_md, 0));
    }
    dnnl_primitive_desc_destroy(fwd);
    dnnl_primitive_desc_destroy(bwd_data);
    dnnl_primitive_desc_destroy(bwd_weights);
    dnnl_primitive_attr_destroy(attr);
    return st;
}

/* The ReLU passes of a usable entry, made on first use (inference only
 * asks for them), on the entry's threads. Called with the lock held. */
static bool make_relu_passes(conv_entry *e)
{
    if (e->relu_made) return e->relu_usable;
    e->relu_made = true;
    conv_descs d;
    int before = omp_get_max_threads();
    omp_set_num_threads((int)e->key.threads);
    e->relu_usable = describe(&e->key, &d) == dnnl_success &&
                     make_forward(e, &d, false, true, &e->forward_relu, NULL) == dnnl_success &&
                     make_forward(e, &d, true, true, &e->forward_bias_relu, NULL) == dnnl_success;
    omp_set_num_threads(before);
    if (!e->relu_usable) {
        destroy_pass(&e->forward_relu);
        destroy_pass(&e->forward_bias_relu);
    }
    return e->relu_usable;
}

/* Winograd where it pays and oneDNN has it, else the direct convolution. */
static dnnl_status_t make_passes(conv_entry *e)
{
    if (winograd_pays(&e->key)) {
        if (make_passes_with(e, dnnl_convolution_winograd) == dnnl_success) return dnnl_success;
        destroy_passes(e);
    }
    return make_passes_with(e, dnnl_convolution_direct);
}

/* The threads a convolution runs on: one where it is too small to split
 * (batch 1 inference), else all. */
static int conv_threads(const nerve_conv_geometry *geo, int64_t batch)
{
    int64_t macs = batch * geo->col_channels * geo->col_height * geo->col_width *
                   (geo->channels / geo->groups) * geo->kernel[0] * geo->kernel[1];
    return macs < NERVE_CPU_PARALLEL_MIN_MACS ? 1 : omp_get_max_threads();
}

/* Keys are compared byte for byte: no padding in the geometry. */
_Static_assert(sizeof(nerve_conv_geometry) == 16 * sizeof(int64_t), "padding in the geometry");

static conv_key make_key(const nerve_conv_geometry *geo, int64_t batch, int threads, int slot)
{
    conv_key key;
    memset(&key, 0, sizeof key);
    key.geo = *geo;
    key.geo.image_private = key.geo.cols_private = 0; /* the same primitives */
    key.batch = batch;
    key.threads = threads;
    key.slot = slot;
    return key;
}

/* The cached entry of (geo, batch) on `threads` for part `slot`, made on
 * first use; NULL when unusable. Called with the lock held. */
static conv_entry *find_slot(const nerve_conv_geometry *geo, int64_t batch, int threads, int slot)
{
    conv_key key = make_key(geo, batch, threads, slot);
    for (int i = 0; i < cache.count; i++)
        if (!memcmp(&cache.entries[i]->key, &key, sizeof key))
            return cache.entries[i]->usable ? cache.entries[i] : NULL;
    if (!cache.engine && dnnl_engine_create(&cache.engine, dnnl_cpu, 0) != dnnl_success)
        return NULL;
    if (cache.count == cache.capacity) {
        int capacity = cache.capacity ? 2 * cache.capacity : 16;
        conv_entry **entries = realloc(cache.entries, capacity * sizeof *entries);
        if (!entries) return NULL;
        cache.entries = entries;
        cache.capacity = capacity;
    }
    conv_entry *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->key = key;
    /* oneDNN sizes a primitive's work split by the threads at its creation. */
    int before = omp_get_max_threads();
    omp_set_num_threads((int)key.threads);
    e->usable = make_passes(e) == dnnl_success &&
                dnnl_stream_create(&e->stream, cache.engine, dnnl_stream_default_flags) ==
                    dnnl_success;
    omp_set_num_threads(before);
    if (!e->usable) destroy_passes(e);
    cache.entries[cache.count++] = e;
    return e->usable ? e : NULL;
}

static conv_entry *find_entry(const nerve_conv_geometry *geo, int64_t batch, int threads)
{
    return find_slot(geo, batch, threads, 0);
}

static size_t pass_bytes(const conv_pass *pass)
{
    size_t bytes = pass->scratchpad_bytes;
    for (int i = 0; i < pass->operand_count; i++) bytes += pass->operand[i].bytes;
    return bytes;
}

/* The backward passes run on the batch cut into parts. oneDNN's backward
 * weights sums the batch in per-thread partial sums, so its bits depend on
 * how many threads run it, and a busy machine's smaller team could not take
 * it. So a batch that conv_threads gives T threads is cut into T parts (at
 * most one per sample): each part runs one-thread primitives of its own (an
 * entry per slot: its own memory objects, stream and piece of the
 * workspace), the team's threads take the parts in turn, and the parts'
 * weight gradients are added in part order after. The cut depends on the
 * threads asked for, never on the team: a team of 1 gives the bits a team
 * of 2 does (test_team). Backward data writes each part's own samples.
 * The price, idle: each part pays a Winograd weight pass's fixed work
 * (about 1 ms at 64 channels), 1.5-2.6 % of the CNNs' steps here. */
#define MAX_PARTS 64
typedef struct conv_parts {
    int count;
    int64_t first[MAX_PARTS + 1]; /* part p: samples [first[p], first[p + 1]) */
    conv_entry *entry[MAX_PARTS];
    size_t region; /* workspace bytes of each part */
} conv_parts;

/* Every part's entry; false when one is unusable. Called with the lock held. */
static bool find_parts(const nerve_conv_geometry *geo, int64_t batch, conv_parts *parts)
{
    int64_t count = conv_threads(geo, batch);
    if (count > batch) count = batch;
    if (count > MAX_PARTS) count = MAX_PARTS;
    parts->count = (int)count;
    parts->region = 0;
    for (int p = 0; p <= count; p++) parts->first[p] = batch * p / count;
    for (int p = 0; p < count; p++) {
        conv_entry *e = find_slot(geo, parts->first[p + 1] - parts->first[p], 1, p);
        if (!e) return false;
        parts->entry[p] = e;
        size_t bytes = pass_bytes(&e->backward_data);
        if (pass_bytes(&e->backward_weights) > bytes) bytes = pass_bytes(&e->backward_weights);
        if (bytes > parts->region) parts->region = bytes;
    }
    return true;
}

int64_t nerve_dnnl_conv_workspace(const nerve_conv_geometry *geo, int64_t batch)
{
    pthread_mutex_lock(&cache.lock);
    conv_entry *e = find_entry(geo, batch, conv_threads(geo, batch));
    conv_parts parts;
    size_t bytes = 0;
    if (e && find_parts(geo, batch, &parts)) {
        bytes = parts.count * parts.region;
        /* The busy machine's forward entry, made now rather than mid-run. */
        conv_entry *alone = e->key.threads > 1 ? find_entry(geo, batch, 1) : NULL;
        const conv_pass *passes[] = {&e->forward, &e->forward_bias,
                                     alone ? &alone->forward : NULL,
                                     alone ? &alone->forward_bias : NULL};
        for (int i = 0; i < 4; i++)
            if (passes[i] && pass_bytes(passes[i]) > bytes) bytes = pass_bytes(passes[i]);
    }
    pthread_mutex_unlock(&cache.lock);
    return (int64_t)((bytes + sizeof(nerve_real) - 1) / sizeof(nerve_real));
}

/* Runs pass on nerve's buffers data[] (in operand order): inputs in another
 * layout are reordered into the workspace first, and the output, computed
 * in the workspace where it must be, is reordered (or added) into nerve's;
 * with `keep`, it stays there in the primitive's layout. Where given[i] is
 * not NULL, operand i is there in the primitive's layout already (the
 * output: is computed there, with keep). */
static void run_pass(dnnl_stream_t stream, conv_pass *pass, void *const *data, bool accumulate,
                     bool keep, char *scratch, char *const *given)
{
    dnnl_exec_arg_t args[MAX_OPERANDS + 1];
    int last = pass->operand_count - 1;
    for (int i = 0; i <= last; i++) {
        conv_operand *op = &pass->operand[i];
        dnnl_memory_set_data_handle(op->plain, data[i]);
        bool inner = op->inner && (i < last || op->reorder || accumulate || keep);
        args[i] = (dnnl_exec_arg_t){op->arg, inner ? op->inner : op->plain};
        if (!inner) continue;
        if (given[i]) {
            dnnl_memory_set_data_handle(op->inner, given[i]);
            continue;
        }
        dnnl_memory_set_data_handle(op->inner, scratch);
        scratch += op->bytes;
        if (i < last) {
            dnnl_exec_arg_t reorder[] = {{DNNL_ARG_FROM, op->plain}, {DNNL_ARG_TO, op->inner}};
            dnnl_primitive_execute(op->reorder, stream, 2, reorder);
        }
    }
    int count = pass->operand_count;
    if (pass->scratchpad) {
        dnnl_memory_set_data_handle(pass->scratchpad, scratch);
        args[count++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, pass->scratchpad};
    }
    dnnl_primitive_execute(pass->primitive, stream, count, args);
    conv_operand *out = &pass->operand[last];
#ifdef NERVE_CPU_BLOCKED16
    if (args[last].memory == out->inner && !keep && accumulate && out->add_blocked16) {
        void *inner = NULL;
        dnnl_stream_wait(stream);
        dnnl_memory_get_data_handle(out->inner, &inner);
        nerve_cpu_add_from_blocked16(inner, data[last], out->dims[0], out->dims[1], out->dims[2]);
        return;
    }
#endif
    if (args[last].memory == out->inner && !keep) {
        dnnl_exec_arg_t reorder[] = {{DNNL_ARG_FROM, out->inner}, {DNNL_ARG_TO, out->plain}};
        dnnl_primitive_execute(accumulate ? out->reorder_sum : out->reorder, stream, 2, reorder);
    }
    dnnl_stream_wait(stream);
}

static bool fits(size_t bytes, int64_t workspace_size)
{
    return bytes <= (size_t)workspace_size * sizeof(nerve_real);
}

/* The forward pass of (geo, batch), with or without a bias and a ReLU, run
 * on data if the workspace holds its scratch; false (nothing done)
 * otherwise. It takes the one-thread entry while other processes keep a CPU
 * busy. */
static conv_pass *pick_forward(conv_entry *e, bool with_bias, bool relu)
{
    if (!e) return NULL;
    if (!relu) return with_bias ? &e->forward_bias : &e->forward;
    return make_relu_passes(e) ? (with_bias ? &e->forward_bias_relu : &e->forward_relu) : NULL;
}

/* With geo->cols_private the output is written in the primitive's layout
 * straight into nerve's buffer, and with geo->image_private the image is
 * read there (nerve_dnnl_conv_output_block, nerve_dnnl_conv_hand_over). */
static bool run_forward(const nerve_conv_geometry *geo, int64_t batch, bool with_bias, bool relu,
                        void *const *data, bool accumulate, nerve_real *workspace,
                        int64_t workspace_size)
{
    pthread_mutex_lock(&cache.lock);
    int full = conv_threads(geo, batch);
    conv_entry *e = NULL;
    conv_pass *pass = NULL;
    bool ok = false;
    for (int alone = full > 1 && nerve_cpu_team() < full; !ok && alone >= 0; alone--) {
        e = find_entry(geo, batch, alone ? 1 : full);
        pass = pick_forward(e, with_bias, relu);
        ok = pass && fits(pass_bytes(pass), workspace_size);
    }
    if (ok) {
        int threads = omp_get_max_threads();
        omp_set_num_threads((int)e->key.threads);
        char *given[MAX_OPERANDS] = {geo->image_private ? data[0] : NULL};
        if (geo->cols_private) given[pass->operand_count - 1] = data[pass->operand_count - 1];
        run_pass(e->stream, pass, data, accumulate, geo->cols_private, (char *)workspace, given);
        omp_set_num_threads(threads);
    }
    pthread_mutex_unlock(&cache.lock);
    return ok;
}

bool nerve_dnnl_conv_columns(const nerve_conv_geometry *geo, int64_t batch,
                             const nerve_real *image, const nerve_real *weight,
                             const nerve_real *bias, bool accumulate, bool relu,
                             nerve_real *cols, nerve_real *workspace, int64_t workspace_size)
{
    if (bias) {
        void *data[] = {(void *)image, (void *)weight, (void *)bias, cols};
        return run_forward(geo, batch, true, relu, data, accumulate, workspace, workspace_size);
    }
    void *data[] = {(void *)image, (void *)weight, cols};
    return run_forward(geo, batch, false, relu, data, accumulate, workspace, workspace_size);
}

/* What a backward run computes: dimage (= or +=, per accumulate) and
 * dweight (+=), either NULL when not wanted. */
typedef struct backward_job {
    const nerve_conv_geometry *geo;
    const nerve_real *image, *weight, *dcols;
    nerve_real *dimage, *dweight;
    bool accumulate;
    char *workspace;
    const conv_parts *parts;
} backward_job;

/* Part p of the job, in its own region of the workspace. Where both
 * passes read the output's gradient in the same layout, other than
 * nerve's, it is reordered once, to the front of the region. The weight
 * gradient stays in the region for add_weight_parts. */
static void backward_part(const backward_job *job, int p)
{
    const nerve_conv_geometry *g = job->geo;
    conv_entry *e = job->parts->entry[p];
    int64_t first = job->parts->first[p];
    int64_t image_size = g->channels * g->height * g->width;
    const nerve_real *dcols = job->dcols + first * g->col_channels * g->col_height * g->col_width;
    char *scratch = job->workspace + p * job->parts->region, *gradient = NULL;
    if (g->cols_private) { /* in the passes' layout (nerve_dnnl_conv_output_block) */
        gradient = (char *)dcols;
    } else if (job->dimage && job->dweight && e->shared_gradient) {
        conv_operand *grad = &e->backward_data.operand[0];
        dnnl_memory_set_data_handle(grad->plain, (void *)dcols);
        dnnl_memory_set_data_handle(grad->inner, scratch);
        dnnl_exec_arg_t reorder[] = {{DNNL_ARG_FROM, grad->plain}, {DNNL_ARG_TO, grad->inner}};
        dnnl_primitive_execute(grad->reorder, e->stream, 2, reorder);
        gradient = scratch;
        scratch += grad->bytes;
    }
    if (job->dimage) {
        void *data[] = {(void *)dcols, (void *)job->weight, job->dimage + first * image_size};
        char *given[MAX_OPERANDS] = {gradient};
        run_pass(e->stream, &e->backward_data, data, job->accumulate, false, scratch, given);
    }
    if (job->dweight) {
        void *data[] = {(void *)(job->image + first * image_size), (void *)dcols, job->dweight};
        char *given[MAX_OPERANDS] = {NULL, gradient};
        run_pass(e->stream, &e->backward_weights, data, true, true, scratch, given);
    }
}

/* dweight += each part's weight gradient, in part order. */
static void add_weight_parts(const conv_parts *parts, nerve_real *dweight)
{
    for (int p = 0; p < parts->count; p++) {
        conv_entry *e = parts->entry[p];
        conv_operand *out = &e->backward_weights.operand[e->backward_weights.operand_count - 1];
        dnnl_memory_set_data_handle(out->plain, dweight);
        dnnl_exec_arg_t sum[] = {{DNNL_ARG_FROM, out->inner}, {DNNL_ARG_TO, out->plain}};
        dnnl_primitive_execute(out->reorder_sum, e->stream, 2, sum);
        dnnl_stream_wait(e->stream);
    }
}

static int last_backward_team; /* under the lock */

int nerve_dnnl_conv_backward_team(void)
{
    pthread_mutex_lock(&cache.lock);
    int team = last_backward_team;
    pthread_mutex_unlock(&cache.lock);
    return team;
}

/* The job on (geo, batch)'s parts, run by the team; false (nothing done)
 * where oneDNN cannot run them or the workspace cannot hold them. */
static bool run_backward(backward_job *job, int64_t batch, nerve_real *workspace,
                         int64_t workspace_size)
{
    pthread_mutex_lock(&cache.lock);
    conv_parts parts;
    bool ok = find_parts(job->geo, batch, &parts) &&
              fits(parts.count * parts.region, workspace_size);
    if (ok) {
        job->parts = &parts;
        job->workspace = (char *)workspace;
        int threads = omp_get_max_threads(), team = nerve_cpu_team();
        if (team > parts.count) team = parts.count;
        last_backward_team = team;
        /* On one thread, oneDNN's reorders run on it alone too; inside the
         * region each part runs on its own thread alone. */
        omp_set_num_threads(1);
#pragma omp parallel for schedule(dynamic, 1) num_threads(team) if (team > 1)
        for (int p = 0; p < parts.count; p++) backward_part(job, p);
        if (job->dweight) add_weight_parts(&parts, job->dweight);
        omp_set_num_threads(threads);
    }
    pthread_mutex_unlock(&cache.lock);
    return ok;
}

bool nerve_dnnl_conv_image(const nerve_conv_geometry *geo, int64_t batch, const nerve_real *cols,
                           const nerve_real *weight, const nerve_real *bias, bool accumulate,
                           nerve_real *image, nerve_real *workspace, int64_t workspace_size)
{
    backward_job job = {.geo = geo, .weight = weight, .dcols = cols, .dimage = image,
                        .accumulate = accumulate};
    if (!run_backward(&job, batch, workspace, workspace_size)) return false;
    /* oneDNN's backward data has no bias: conv_transpose2d's is added here. */
    if (bias) {
        int64_t plane = geo->height * geo->width;
#pragma omp parallel for collapse(2) schedule(static) num_threads(nerve_cpu_team()) \
    if (batch * geo->channels * plane > NERVE_CPU_PARALLEL_MIN)
        for (int64_t n = 0; n < batch; n++)
            for (int64_t c = 0; c < geo->channels; c++) {
                nerve_real *p = image + (n * geo->channels + c) * plane;
                for (int64_t k = 0; k < plane; k++) p[k] += bias[c];
            }
    }
    return true;
}

bool nerve_dnnl_conv_weight_gradient(const nerve_conv_geometry *geo, int64_t batch,
                                     const nerve_real *image, const nerve_real *cols,
                                     nerve_real *dweight, nerve_real *workspace,
                                     int64_t workspace_size)
{
    backward_job job = {.geo = geo, .image = image, .dcols = cols, .dweight = dweight};
    return run_backward(&job, batch, workspace, workspace_size);
}

static int64_t operand_block(const conv_operand *op)
{
    const dnnl_memory_desc_t *md = NULL;
    if (!op->inner || dnnl_memory_get_memory_desc(op->inner, &md) != dnnl_success) return 0;
    return channel_block_of(md);
}

/* The channel block that operand `which` (0: the image, else the output)
 * has in every forward pass of (geo, batch) a run may take (with and
 * without bias, with `relu` also with a ReLU, on every thread count), or 0
 * where they differ or one does not fit the workspace. Called with the lock
 * held. */
static int64_t forward_block(const nerve_conv_geometry *geo, int64_t batch, int which, bool relu,
                             int64_t workspace_size)
{
    int full = conv_threads(geo, batch);
    int64_t block = -1;
    for (int alone = 0; alone <= (full > 1); alone++) {
        conv_entry *e = find_entry(geo, batch, alone ? 1 : full);
        if (!e || (relu && !make_relu_passes(e))) return 0;
        conv_pass *passes[] = {&e->forward, &e->forward_bias, &e->forward_relu,
                               &e->forward_bias_relu};
        for (int k = 0; k < (relu ? 4 : 2); k++) {
            int operand = which ? passes[k]->operand_count - 1 : 0;
            int64_t b = operand_block(&passes[k]->operand[operand]);
            if ((block >= 0 && b != block) || !fits(pass_bytes(passes[k]), workspace_size))
                return 0;
            block = b;
        }
    }
    return block;
}

bool nerve_dnnl_conv_hand_over(const nerve_conv_geometry *producer,
                               const nerve_conv_geometry *consumer, int64_t batch,
                               int64_t workspace_size)
{
    pthread_mutex_lock(&cache.lock);
    bool ok = forward_block(producer, batch, 1, true, workspace_size) == 16 &&
              forward_block(consumer, batch, 0, true, workspace_size) == 16;
    pthread_mutex_unlock(&cache.lock);
    return ok;
}

int64_t nerve_dnnl_conv_output_block(const nerve_conv_geometry *geo, int64_t batch,
                                     int64_t workspace_size)
{
    if (nerve_dnnl_conv_workspace(geo, batch) > workspace_size) return 0;
    pthread_mutex_lock(&cache.lock);
    /* and every part's backward passes read the output's gradient so */
    int64_t block = forward_block(geo, batch, 1, false, workspace_size);
    conv_parts parts;
    if (!find_parts(geo, batch, &parts)) block = 0;
    for (int p = 0; block && p < parts.count; p++)
        if (operand_block(&parts.entry[p]->backward_data.operand[0]) != block ||
            operand_block(&parts.entry[p]->backward_weights.operand[1]) != block)
            block = 0;
    pthread_mutex_unlock(&cache.lock);
    return block;
}

bool nerve_dnnl_conv_backward(const nerve_conv_geometry *geo, int64_t batch,
                              const nerve_real *image, const nerve_real *weight,
                              const nerve_real *dcols, bool accumulate, nerve_real *dimage,
                              nerve_real *dweight, nerve_real *workspace, int64_t workspace_size)
{
    backward_job job = {.geo = geo, .image = image, .weight = weight, .dcols = dcols,
                        .dimage = dimage, .dweight = dweight, .accumulate = accumulate};
    return run_backward(&job, batch, workspace, workspace_size);
}
#endif
