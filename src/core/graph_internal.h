/* The engine's internal view of a graph: nodes, the op table, the memory plan.
 * Ops (src/ops) and layers see this; users see only nerve.h. */
#ifndef NERVE_GRAPH_INTERNAL_H
#define NERVE_GRAPH_INTERNAL_H

#include "nerve.h"
#include "backends/device.h"
#include "core/noise.h"
#include "core/state.h"

#define NERVE_MAX_INPUTS 8
/* The most parameters (elements, buffers included) one graph may hold: 2^30,
 * 4 GiB of float32 values and as much again for their gradients. */
#define NERVE_PARAM_LIMIT ((int64_t)1 << 30)
#define NERVE_NAME_MAX 64

typedef struct nerve_node_data nerve_node_data;

/* Everything an op knows about itself (kann's op-as-one-unit): the output
 * shape from the input shapes, the forward pass, the backward pass. */
typedef struct nerve_op {
    const char *name;
    /* Sets node->shape (batch already in the inputs' dim[0]) and, where the op
     * keeps per-batch state for backward, node->aux_size in elements. */
    nerve_status (*infer_shape)(nerve_graph *g, nerve_node_data *node, nerve_error *err);
    /* Both return the status of the kernels they run; a failing kernel has
     * written its message to g->ctx.err. */
    nerve_status (*forward)(nerve_graph *g, nerve_node_data *node);
    /* Accumulates into the gradients of those inputs that have one (or, with
     * assigns_grads, assigns where nerve_graph_grad_accumulate says so). */
    nerve_status (*backward)(nerve_graph *g, nerve_node_data *node);
    /* Forward FLOPs of one sample; NULL means one per output element. */
    int64_t (*flops)(const nerve_graph *g, const nerve_node_data *node);
    /* Output aliases input 0's memory (reshape-like ops). */
    bool aliases_input;
    /* Forward is element-wise over input 0, the same size as the output
     * (every backend's kernel reads x[i] before it writes y[i]), so it may
     * write its output over that input: the inference plan does so where
     * nothing reads the input afterwards (core/plan.c). */
    bool forward_in_place;
    /* Inference folding (core/fold.c): conv2d's forward can apply the
     * per-output-channel affine map of the op that alone reads its output
     * and writes over it (absorbs_channel_affine), and batch_norm in eval
     * mode is such a map (folds_into_input). */
    bool absorbs_channel_affine;
    bool folds_into_input;
    /* Folds (core/fold.c): batch_norm's and add's forward can also apply the
     * ReLU that alone reads their output, and their backward mask its
     * gradient (absorbs_relu); conv2d's forward can apply it in inference
     * plans (absorbs_relu_in_inference); the activation op is `activation`
     * (its attr.activation names the function). */
    bool absorbs_relu;
    bool absorbs_relu_in_inference;
    /* conv2d's forward and backward can run the training batch norm that
     * alone reads its output (conv_batch_norm_forward and _backward). */
    bool absorbs_batch_norm_in_training;
    bool activation;
    /* backward writes every element of each input gradient it touches and
     * asks nerve_graph_grad_accumulate, just before, whether to add into it
     * or to assign it (a GEMM's beta 0): the graph then does not zero those
     * gradients first, which saves a pass over each of them per step. */
    bool assigns_grads;
    /* Recurrent ops: zeroes the state carried between batches (NULL for
     * stateless ops); see nerve_graph_set_carry_state. */
    nerve_status (*reset_state)(nerve_graph *g, nerve_node_data *node);
    /* Recurrent ops: the state carried between batches, h (and *c, NULL but
     * for an LSTM) of the planned batch x *hidden values; NULL before the
     * plan (or for stateless ops). A checkpoint saves it (graph_state). */
    nerve_real *(*carried_state)(nerve_graph *g, nerve_node_data *node, nerve_real **c,
                                 int64_t *hidden);
    /* Batch norm: training normalises by the batch's statistics, which a
     * graph with a communicator (nerve_graph_set_comm) takes over every
     * rank's samples (dist/sync_batch_norm.c). */
    bool batch_statistics;
    /* Ops that read input 0 as token ids (embedding, one_hot): how many ids
     * they take, ids being integers in [0, limit); NULL for other ops. See
     * nerve_graph_token_limit. */
    int64_t (*token_limit)(const nerve_graph *g, const nerve_node_data *node);
    /* Losses: what the last batch's sum of terms was divided by (the samples
     * for a mean, the labels' summed class weights for a class-weighted mean;
     * 0 for reduction = sum), so that data-parallel training and evaluation
     * can weight each rank's and each batch's part exactly (loss_divisor).
     * NULL for other ops. */
    double (*divisor)(const nerve_graph *g, const nerve_node_data *node);
} nerve_op;

typedef enum nerve_node_kind {
    NERVE_NODE_INPUT,
    NERVE_NODE_PARAM,
    NERVE_NODE_OP
} nerve_node_kind;

/* batch_norm's settings, and the input slots of its optional inputs, 0
 * where absent (slot 0 is x). */
typedef struct nerve_batch_norm_attr {
    double eps, momentum;
    int weight, bias, running_mean, running_var, num_batches_tracked;
} nerve_batch_norm_attr;

struct nerve_node_data {
    nerve_node_kind kind;
    const nerve_op *op;                  /* NULL for inputs and params */
    char name[NERVE_NAME_MAX];
    int input[NERVE_MAX_INPUTS];
    int input_count;
    union {                              /* small per-op attributes */
        struct { nerve_activation kind; nerve_activation_params params; } activation;
        int64_t i[4];
        double f[4];
        struct { nerve_reduction reduction; int margin; double param, soft_weight; } loss;
        nerve_pool2d_options pool;
        nerve_batch_norm_attr batch_norm;
        nerve_conv2d_options conv;
    } attr;
    nerve_real *constants;               /* per-op constant data (class weights), owned */
    int64_t constant_count;
    nerve_shape sample_shape;            /* inputs: per sample */
    nerve_shape shape;                   /* current shape, batch included */
    int64_t capacity;                    /* elements planned for value/grad */
    int64_t aux_size;                    /* elements of per-op state */
    /* Elements of scratch the op needs only while its forward or backward
     * runs (im2col columns): set by infer_shape, one graph-wide buffer of the
     * largest size serves every op in turn (nerve_graph.workspace). */
    int64_t workspace_size;
    bool needs_grad;                     /* a gradient flows into this node */
    bool frozen;                         /* params only */
    bool takes_grad;                     /* inputs only: backward fills grad */
    bool buffer;                         /* params only: state, never trained (running_mean) */
    bool integer;                        /* buffers only: a count, saved as int64 */
    bool batched;                        /* dim[0] is the batch */
    /* What an op's forward decided for its backward, kept on the host so
     * that neither reads device memory: dropout applied its mask,
     * batch_norm used the batch's statistics. */
    bool forward_flag;
    bool forward_synchronised; /* batch norm: statistics across ranks (src/dist) */
    /* Folds (core/fold.c): 1 + the index of the op whose forward this op's
     * forward applies as well (0: none): the batch_norm folded into a
     * convolution (inference plans; in training plans its backward too),
     * the ReLU folded into a convolution (inference), a batch_norm or an
     * add. On that op, whether this forward's producer applied it already
     * (its own forward, and in training its backward, are then skipped). */
    int fold_consumer;
    bool forward_folded;
    /* Inference plans (core/fold.c): 1 + the index of the convolution that
     * alone reads this convolution's output (through its folds, in place),
     * to which it may hand it in the backend's layout (conv_hand_over), or
     * 0; on that convolution, whether this forward's input came so. */
    int layout_consumer;
    bool input_private;
    /* A batch_norm or add whose ReLU is folded: this backward's ReLU left
     * its gradient for the producer to mask. */
    bool grad_from_relu;
    size_t param_offset;                 /* params: offset in the flat buffers */
    nerve_real *value;
    nerve_real *grad;                    /* NULL if !needs_grad */
    nerve_real *aux;
    double profile_seconds[2];           /* ops: forward, backward (core/profile.c) */
};

struct nerve_graph {
    nerve_node_data *nodes;
    int node_count, node_capacity;
    /* flat parameter storage: one buffer for values, one for gradients */
    nerve_real *params, *param_grads;
    unsigned char *trainable;
    size_t param_count;
    /* activation storage for max_batch samples */
    unsigned char *needed;               /* scratch: nodes a run needs */
    nerve_real *arena;
    size_t arena_size;
    nerve_real *workspace;                /* in the arena: the largest node->workspace_size */
    int64_t workspace_size;
    int64_t max_batch, batch;
    bool plan_training;                   /* the arena holds gradients (nerve_graph_plan) */
    int forward_target;                   /* the running (or last) forward's target */
    bool keep_gradients;                  /* each op's gradient its own memory (plan.c) */
    bool training;
    /* Monte-Carlo dropout: dropout draws its masks in eval mode too. */
    bool dropout_in_eval;
    bool carry_state;                     /* recurrent ops start from the last batch's state */
    bool profiling;                       /* time every op (core/profile.c) */
    /* Recurrent ops keep dL/dh_t of every step (ops/recurrent.h); set by
     * nerve_graph_set_record_state_gradients. */
    bool record_state_gradients;
    /* The stochastic ops' noise position (core/noise.h): the key, the
     * training step and the global index of the batch's first sample. */
    uint64_t noise_seed;
    int64_t noise_step, noise_first_sample;
    /* Where the numbers live and run: the device, its kernels (composites
     * completed) and the context every kernel call gets. */
    const nerve_device *device;
    nerve_kernels kernels;
    nerve_kernel_ctx ctx;
    nerve_error error; /* ctx.err: what the last failing call said */
    /* The name NERVE_BACKEND gave when it names no backend, or one that
     * cannot run here (cuda without a GPU): planning fails. */
    char unknown_backend[NERVE_NAME_MAX];
    struct graph_sync *sync; /* data-parallel batch norm (src/dist), or NULL */
    /* Called after each node of a backward pass, in reverse graph order,
     * with its index (op or not, run or not): data-parallel training starts
     * the all-reduce of the gradients backward has completed
     * (src/dist/buckets.c). NULL: none. */
    void (*backward_hook)(nerve_graph *g, int node, void *user);
    void *backward_hook_user;
};

/* Runs kernel `name` on g's device: NERVE_TRY(NERVE_RUN(g, gemm, ...)). */
#define NERVE_RUN(g, name, ...) NERVE_KERNEL(&(g)->ctx, name, __VA_ARGS__)
/* Per-op timing (core/profile.c): start is the clock when profiling is on;
 * stop waits for the device and adds the seconds since start to n's forward
 * (pass 0) or backward (pass 1) total. It returns status, or the device's
 * if waiting failed. */
double nerve_profile_start(nerve_graph *g);
nerve_status nerve_profile_stop(nerve_graph *g, nerve_node_data *n, int pass, double start,
                                nerve_status status);
/* For a backward with assigns_grads, just before it writes input's gradient:
 * false the first time in a backward pass that the gradient's memory is
 * written (assign: it holds whatever an earlier buffer left there), true
 * after that and always for a parameter (add: the step's contributions, and
 * gradient accumulation over micro-batches, add up). */
bool nerve_graph_grad_accumulate(nerve_graph *g, const nerve_node_data *input);
/* The same for a kernel that can only add into input's gradient: zeroes it
 * where this is its first write. */
nerve_status nerve_graph_grad_prepare_add(nerve_graph *g, const nerve_node_data *input);
/* x[0..n) = 0, and dst[0..n) = src[0..n), on g's device. */
nerve_status nerve_graph_zero(nerve_graph *g, nerve_real *x, int64_t n);
nerve_status nerve_graph_copy(nerve_graph *g, nerve_real *dst, const nerve_real *src, int64_t n);
/* x[0..n) = value: one value uploaded, then repeated by a device copy. */
nerve_status nerve_graph_fill(nerve_graph *g, nerve_real *x, int64_t n, nerve_real value);
/* n values from g's device to the host, and from the host to the device. */
nerve_status nerve_graph_download(nerve_graph *g, nerve_real *host, const nerve_real *device,
                                  int64_t n);
nerve_status nerve_graph_upload(nerve_graph *g, nerve_real *device, const nerve_real *host,
                                int64_t n);
/* A host view of count values at `device`, g's memory, for host code that
 * reads or fills them in place: the pointer itself on a host-memory device
 * (no copy), else a host copy, downloaded first where `read`. End it with
 * nerve_graph_host_view_end, which uploads the copy back where `write` and
 * frees it. NULL with err set on failure. */
nerve_real *nerve_graph_host_view(nerve_graph *g, nerve_real *device, int64_t count, bool read,
                                  nerve_error *err);
nerve_status nerve_graph_host_view_end(nerve_graph *g, nerve_real *device, nerve_real *host,
                                       int64_t count, bool write, nerve_error *err);
/* dst[0..n) of graph `to` = src[0..n) of graph `from` (each its own
 * device's memory): through the host, one copy where `to` has host memory. */
nerve_status nerve_graph_transfer(nerve_graph *to, nerve_real *dst, nerve_graph *from,
                                  const nerve_real *src, int64_t n, nerve_error *err);
/* The same for node n's whole value (the graph planned). */
nerve_real *nerve_node_host_view(nerve_graph *g, nerve_node n, bool read, nerve_error *err);
nerve_status nerve_node_host_view_end(nerve_graph *g, nerve_node n, nerve_real *host, bool write,
                                      nerve_error *err);
/* *finite = every trainable parameter's gradient is finite (the device's
 * all_finite kernel). */
nerve_status nerve_graph_gradients_finite(nerve_graph *g, bool *finite, nerve_error *err);
/* status, with the message of the device call that failed (g->error) copied
 * into err. */
nerve_status nerve_graph_pass_error(const nerve_graph *g, nerve_status status, nerve_error *err);

/* For op builders: appends an op node with the given inputs and attributes
 * already in *proto, and checks its shape at batch 1. Returns the node or -1. */
nerve_node nerve_graph_add_op(nerve_graph *g, const nerve_op *op, const int *inputs,
                              int input_count, const nerve_node_data *proto, nerve_error *err);
/* For builders that name their node: proto->name = name (NULL keeps the
 * default, "node<i>"); a name too long for a node is an error. */
nerve_status nerve_graph_name_op(nerve_node_data *proto, const char *op, const char *name,
                                 nerve_error *err);
/* An error when g's backend is still the unknown one NERVE_BACKEND named
 * (nerve_graph_set_backend not called since): planning checks it, and so
 * does loading a model, so that the message comes before any work. */
nerve_status nerve_graph_check_backend(const nerve_graph *g, nerve_error *err);
/* Gives op node n a copy of values (class weights, ...) as node->constants. */
nerve_status nerve_graph_set_constants(nerve_graph *g, nerve_node n, const float *values,
                                       int64_t count, nerve_error *err);
static inline nerve_node_data *nerve_graph_node(nerve_graph *g, int i) { return &g->nodes[i]; }
static inline nerve_node_data *nerve_node_input(nerve_graph *g, const nerve_node_data *n, int k)
{
    return &g->nodes[n->input[k]];
}
/* Where node's draws are at the graph's position (its stream is its index,
 * so that two stochastic nodes draw apart); returns the samples its value
 * holds, the batch's rows. A tensor without a batch (a parameter) is one
 * sample, number 0. */
static inline int64_t nerve_graph_noise_at(const nerve_graph *g, const nerve_node_data *node,
                                           nerve_noise_at *at)
{
    *at = (nerve_noise_at){g->noise_seed, g->noise_step, g->noise_first_sample,
                           (uint32_t)(node - g->nodes)};
    if (node->batched) return node->shape.dim[0];
    at->first_sample = 0;
    return 1;
}
/* Rows (dim 0) and columns (the rest) of a shape. */
static inline int64_t nerve_shape_rows(const nerve_shape *s) { return s->ndim ? s->dim[0] : 1; }
static inline int64_t nerve_shape_cols(const nerve_shape *s)
{
    int64_t c = 1;
    for (int i = 1; i < s->ndim; i++) c *= s->dim[i];
    return c;
}

/* After a plan's layout: which op's forward each op applies as well
 * (fold_consumer): in inference plans batch norms folded into the
 * convolutions before them and ReLUs into the convolution, batch norm or
 * add before them, in training plans ReLUs into the batch norm or add
 * before them and batch norms (forward and backward) into the convolutions
 * before them. */
void nerve_graph_plan_folds(nerve_graph *g);
/* In a training plan, the convolution that batch norm node `bn` is
 * folded into, or -1. The plan keeps the batch norm's gradient (its ReLU's, where
 * that is folded too) alive until the convolution's backward, which reads
 * it. */
int nerve_fold_batch_norm_producer(const nerve_graph *g, int bn);
/* Training plans: the batch_norm or add that ReLU node `relu` is folded
 * into, or -1. The plan gives the two one value and one gradient, alive
 * until the producer's backward, which reads it. */
int nerve_fold_relu_producer(const nerve_graph *g, int relu);
/* The op folded into `producer` (its fold_consumer) where this forward
 * needs it, or NULL; marks that op's forward_folded to match, so that its
 * own forward is skipped exactly when the producer applies it. */
nerve_node_data *nerve_fold_take(nerve_graph *g, const nerve_node_data *producer);

/* Marks in g->needed target and every node it depends on. */
void nerve_graph_mark_needed(nerve_graph *g, nerve_node target);

/* Lowers (or, with 0, restores) the parameter limit for every graph of the
 * process: the fuzz targets, whose memory is capped, use it so that a cfg
 * asking for a large but legal network is refused rather than reported as an
 * over-allocation. Not thread-safe; call it before building graphs. */
void nerve_graph_set_param_limit(int64_t limit);

/* The graph's state for a checkpoint (graph_state.c): while it carries
 * state, its recurrent ops' carried state of `rows` rows. */
void graph_state(nerve_graph *g, int64_t rows, state_list *s);

/* Recurrent ops keep the gradient reaching each step's state in their
 * memory, for nerve_recurrent_state_gradient_norms: more op state, so a
 * change unplans the graph (the next nerve_graph_plan lays it out anew). */
void nerve_graph_set_record_state_gradients(nerve_graph *g, bool record);

#endif
