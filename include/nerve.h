/*
 * nerve.h: the one public header of nerve, a neural-network library in C11.
 *
 * The library is organised in two layers (as kann's engine / API split):
 *   - the engine: tensors of up to 5 dimensions, a computation graph built once
 *     and executed many times, reverse-mode autodiff over it, one flat buffer
 *     for all parameters and one for all their gradients;
 *   - the model API: layers, losses and optimizers built from a .cfg file or in
 *     code, datasets, weights in safetensors.
 *
 * Conventions (as SQLite): every function that can fail returns a nerve_status
 * and writes a one-line message into a caller-supplied nerve_error. Nothing in
 * the library prints or calls exit().
 */
#ifndef NERVE_H
#define NERVE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NERVE_VERSION "0.1.0"

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
 * against, far slower). A new graph runs on the backend the environment
 * variable NERVE_BACKEND names, or "cpu" without it; nerve_graph_set_backend
 * chooses one for a graph. */
NERVE_API int nerve_backend_count(void);
/* The i-th backend's name, NULL outside 0..nerve_backend_count() - 1. */
NERVE_API const char *nerve_backend_name(int i);

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

/* ---------------------------------------------------------------- communicators */

/* A group of processes that train one model (docs/distributed.md): rank
 * 0..size-1, and the collectives data-parallel training needs. Two
 * implementations: one process (nerve_comm_single, every collective a copy
 * or nothing) and MPI (nerve_comm_mpi, when nerve is built with it). Every
 * rank must call the same collectives in the same order with the same
 * counts; a failed collective returns NERVE_ERR_IO. */
typedef struct nerve_comm nerve_comm;

typedef enum nerve_comm_type {
    NERVE_COMM_FLOAT = 0,
    NERVE_COMM_DOUBLE
} nerve_comm_type;

/* nerve_real's type: float, or double in the float64 engine. */
#ifdef NERVE_F64
#define NERVE_COMM_REAL NERVE_COMM_DOUBLE
#else
#define NERVE_COMM_REAL NERVE_COMM_FLOAT
#endif

/* The one-process communicator (static; nerve_comm_free ignores it). */
NERVE_API nerve_comm *nerve_comm_single(void);
/* Whether this build has MPI, and whether the process was started by an MPI
 * launcher (mpirun, srun): OMPI_COMM_WORLD_SIZE, PMIX_RANK or PMI_SIZE is set. */
NERVE_API bool nerve_comm_mpi_available(void);
NERVE_API bool nerve_comm_mpi_launched(void);
/* MPI_COMM_WORLD's processes (MPI initialised here, finalised by
 * nerve_comm_free); NERVE_ERR_INVALID in a build without MPI. */
NERVE_API nerve_status nerve_comm_mpi(nerve_comm **out, nerve_error *err);
NERVE_API void nerve_comm_free(nerve_comm *c);
NERVE_API int nerve_comm_rank(const nerve_comm *c);
NERVE_API int nerve_comm_size(const nerve_comm *c);

/* Sums buf (count values of type) over every rank, in place. */
NERVE_API nerve_status nerve_comm_allreduce(nerve_comm *c, void *buf, int64_t count,
                                            nerve_comm_type type, nerve_error *err);
/* send holds sum(counts) values on every rank; recv gets rank r's block
 * (counts[r] values from offset counts[0] + ... + counts[r-1]) summed over
 * every rank. */
NERVE_API nerve_status nerve_comm_reduce_scatter(nerve_comm *c, const void *send, void *recv,
                                                 const int64_t *counts, nerve_comm_type type,
                                                 nerve_error *err);
/* Each rank's counts[r] values of send are concatenated in rank order into
 * recv (sum(counts) values) on every rank. send NULL: in place, rank r's
 * block is already at its offset in recv. */
NERVE_API nerve_status nerve_comm_allgather(nerve_comm *c, const void *send, void *recv,
                                            const int64_t *counts, nerve_comm_type type,
                                            nerve_error *err);
/* root's buf to every rank. */
NERVE_API nerve_status nerve_comm_broadcast(nerve_comm *c, void *buf, int64_t count,
                                            nerve_comm_type type, int root, nerve_error *err);

/* A started all-reduce (caller-owned; no allocation). It progresses only
 * inside MPI calls (Open MPI has no progress thread): test it between pieces
 * of work, and wait for it before reading buf. */
typedef struct nerve_comm_request {
    nerve_comm *comm;
    bool active;
    uint64_t handle[2];
} nerve_comm_request;
NERVE_API nerve_status nerve_comm_iallreduce(nerve_comm *c, void *buf, int64_t count,
                                             nerve_comm_type type, nerve_comm_request *request,
                                             nerve_error *err);
/* *done: whether the all-reduce has finished (the request is then inactive). */
NERVE_API nerve_status nerve_comm_test(nerve_comm_request *request, bool *done, nerve_error *err);
NERVE_API nerve_status nerve_comm_wait(nerve_comm_request *request, nerve_error *err);

/* ---------------------------------------------------------------- graph */

typedef struct nerve_graph nerve_graph;
typedef int nerve_node; /* index of a node in its graph; -1 is "none" */

/* Element-wise activation kinds: one kernel pair each in the backend. The
 * settings each reads are named beside it (nerve_activation_params);
 * docs/reference.md gives every formula and its PyTorch equivalent. */
typedef enum nerve_activation {
    NERVE_ACT_IDENTITY = 0,
    NERVE_ACT_SIGMOID,
    NERVE_ACT_TANH,
    NERVE_ACT_RELU,
    NERVE_ACT_LEAKY_RELU,      /* negative_slope */
    NERVE_ACT_ELU,             /* alpha */
    NERVE_ACT_SELU,            /* the fixed constants of Klambauer et al. (2017), as torch */
    NERVE_ACT_SOFTPLUS,        /* beta, threshold */
    NERVE_ACT_SWISH,           /* beta: x * sigmoid(beta * x); beta = 1 is SiLU */
    NERVE_ACT_GELU,            /* exact: x * Phi(x), Phi the normal CDF (erf) */
    NERVE_ACT_GELU_TANH,       /* GELU's tanh approximation (approximate='tanh') */
    NERVE_ACT_HARDTANH,        /* min_val, max_val */
    NERVE_ACT_BINARY_STEP,     /* 1 for x >= 0, else 0; zero gradient */
    NERVE_ACT_BINARY_STEP_STE, /* the same step; gradient passed straight through */
    NERVE_ACT_COUNT
} nerve_activation;

/* Settings of the element-wise activations; nerve_activation_defaults()
 * gives PyTorch's defaults, shown here. Each kind reads only its own. */
typedef struct nerve_activation_params {
    double negative_slope;   /* leaky_relu: 0.01 */
    double alpha;            /* elu: 1 */
    double beta;             /* softplus, swish: 1 */
    double threshold;        /* softplus: 20; linear where beta * x > threshold */
    double min_val, max_val; /* hardtanh: -1, 1 */
} nerve_activation_params;

NERVE_API nerve_activation_params nerve_activation_defaults(void);
NERVE_API const char *nerve_activation_name(nerve_activation kind);
/* Looks a name ("relu", "leaky_relu", ...) up; false if unknown. */
NERVE_API bool nerve_activation_from_name(const char *name, nerve_activation *kind);

NERVE_API nerve_graph *nerve_graph_new(void);
/* Runs g on the backend called name (nerve_backend_name), chosen on a new
 * graph before any node is added (their memory is the backend's): an
 * unknown name is an error naming the backends there are, and so is a
 * graph that has nodes. Replaces NERVE_BACKEND's choice. */
NERVE_API nerve_status nerve_graph_set_backend(nerve_graph *g, const char *name, nerve_error *err);
/* The name of the backend g runs on. */
NERVE_API const char *nerve_graph_backend(const nerve_graph *g);
NERVE_API void nerve_graph_free(nerve_graph *g);

/* Graph construction. Shapes of inputs are per sample: the batch dimension is
 * prepended when the graph is planned. Each builder returns the new node, or
 * -1 with a message in err (bad input node, shapes that do not agree). */
NERVE_API nerve_node nerve_input(nerve_graph *g, const char *name, nerve_shape sample_shape,
                                 nerve_error *err);
/* Makes backward also compute d(loss)/d(input), read with nerve_node_grad
 * after nerve_graph_backward (or _from): how a gradient leaves a graph to be
 * handed to another one's nerve_graph_backward_from. Set it before
 * nerve_graph_plan, which gives the gradient its place in the arena. */
NERVE_API nerve_status nerve_graph_set_input_grad(nerve_graph *g, nerve_node input, bool takes_grad,
                                                  nerve_error *err);
/* A trainable tensor, stored in the graph's flat parameter buffer. */
NERVE_API nerve_node nerve_param(nerve_graph *g, const char *name, nerve_shape shape,
                                 nerve_error *err);
/* A buffer: a parameter that is state, not learned (batch norm's running
 * statistics). It is saved and loaded with the parameters, never has a
 * gradient, and stays frozen whatever nerve_node_set_frozen asks. */
NERVE_API nerve_node nerve_buffer(nerve_graph *g, const char *name, nerve_shape shape,
                                  nerve_error *err);
/* A buffer of whole numbers (batch norm's num_batches_tracked): a real in
 * the graph like every parameter, saved as int64 (safetensors I64, PyTorch's
 * long tensors) and loaded from I64. float32 counts exactly up to 2^24. */
NERVE_API nerve_node nerve_integer_buffer(nerve_graph *g, const char *name, nerve_shape shape,
                                          nerve_error *err);

/* y = x W^T + b, x [N, in], W [out, in] (PyTorch Linear layout), b [out] or -1.
 * As nn.Linear, x may have more dimensions, [N, ..., in] -> [N, ..., out]
 * (a sequence [N, T, in]): every leading position is a row of one GEMM. */
NERVE_API nerve_node nerve_linear(nerve_graph *g, nerve_node x, nerve_node weight, nerve_node bias,
                                  nerve_error *err);
/* y = f(x) element-wise; params NULL means PyTorch's defaults. */
NERVE_API nerve_node nerve_activate(nerve_graph *g, nerve_node x, nerve_activation kind,
                                    const nerve_activation_params *params, nerve_error *err);
/* PReLU (He et al. 2015), as torch.nn.PReLU: y = x where x > 0, else a * x,
 * with weight a of shape [1] (shared) or [C], one per channel: dim 1 of x
 * (the feature of [N, C], the channel of NCHW). */
NERVE_API nerve_node nerve_prelu(nerve_graph *g, nerve_node x, nerve_node weight, nerve_error *err);
/* Swish with a learnable beta of shape [1]: y = x * sigmoid(beta * x). */
NERVE_API nerve_node nerve_swish_learnable(nerve_graph *g, nerve_node x, nerve_node beta,
                                           nerve_error *err);
/* RReLU (Xu et al. 2015), as torch.nn.RReLU: y = x where x > 0, else a * x.
 * Training: a ~ U(lower, upper) per element, drawn at every forward from the
 * graph's noise position (nerve_graph_set_position); eval: a = (lower +
 * upper) / 2. */
NERVE_API nerve_node nerve_rrelu(nerve_graph *g, nerve_node x, float lower, float upper,
                                 nerve_error *err);
/* CReLU: concat(relu(x), relu(-x)) along dim 1, which doubles it. */
NERVE_API nerve_node nerve_crelu(nerve_graph *g, nerve_node x, nerve_error *err);
/* Maxout's reduction: [N, units * pieces] -> [N, units], the max over each
 * run of `pieces` consecutive features (feature u * pieces + k is piece k of
 * unit u). The gradient goes to the first maximum, as torch.max(dim). */
NERVE_API nerve_node nerve_maxout_reduce(nerve_graph *g, nerve_node x, int64_t pieces,
                                         nerve_error *err);
/* Softmax over the last axis. */
NERVE_API nerve_node nerve_softmax(nerve_graph *g, nerve_node x, nerve_error *err);
/* Softmax and log-softmax along `axis` of x's full shape (0 is the batch;
 * negative counts from the end, -1 the last), as torch's dim. Both subtract
 * the maximum first, so any finite input gives finite outputs. */
NERVE_API nerve_node nerve_softmax_axis(nerve_graph *g, nerve_node x, int axis, nerve_error *err);
NERVE_API nerve_node nerve_log_softmax(nerve_graph *g, nerve_node x, int axis, nerve_error *err);
/* Flattens [N, ...] into [N, prod(...)]; shares the input's memory. */
NERVE_API nerve_node nerve_flatten(nerve_graph *g, nerve_node x, nerve_error *err);
/* Reshapes each sample of x [N, ...] to sample_shape, which may hold one -1
 * (inferred from the element count), as torch.reshape of the non-batch
 * dims; shares the input's memory. */
NERVE_API nerve_node nerve_reshape(nerve_graph *g, nerve_node x, nerve_shape sample_shape,
                                   nerve_error *err);
/* y = x; shares the input's memory (it costs nothing). */
NERVE_API nerve_node nerve_identity(nerve_graph *g, nerve_node x, nerve_error *err);
/* The joins name their node (NULL: "node<i>"), so that a shape error names
 * the join and the inputs that do not agree.
 * The element-wise sum of 2..8 inputs of one shape (a residual shortcut);
 * an input may appear more than once. */
NERVE_API nerve_node nerve_add(nerve_graph *g, const char *name, const nerve_node *inputs,
                               int count, nerve_error *err);
/* Concatenation of 2..8 inputs along dim 1 (the channels of [N, C, ...],
 * the features of [N, F]), as torch.cat(dim=1); all other dims must agree. */
NERVE_API nerve_node nerve_concat(nerve_graph *g, const char *name, const nerve_node *inputs,
                                  int count, nerve_error *err);
/* The same along `axis` (1 or more; negative counts from the end, -1 the
 * last), as torch.cat(dim=axis): [N, T, F_k] along -1 joins per-step
 * features (a bidirectional layer's two directions). */
NERVE_API nerve_node nerve_concat_axis(nerve_graph *g, const char *name, const nerve_node *inputs,
                                       int count, int axis, nerve_error *err);

/* 2-D pooling over x [N, C, H, W], as torch.nn.functional.max_pool2d and
 * avg_pool2d (docs/reference.md, "Pooling", gives the output size and the
 * divisor). Each pair is (height, width). */
typedef struct nerve_pool2d_options {
    int64_t kernel[2];        /* >= 1 */
    int64_t stride[2];        /* >= 1 (defaults: the kernel) */
    int64_t padding[2];       /* implicit -inf (max) or 0 (avg), at most kernel / 2 (0) */
    int64_t dilation[2];      /* max only: >= 1 (1) */
    bool ceil_mode;           /* round the output size up; a window must still start
                                 inside the input or the left padding (false) */
    bool count_include_pad;   /* avg only: padding counts in the divisor (true) */
    int64_t divisor_override; /* avg only: the divisor of every window; 0: none (0) */
} nerve_pool2d_options;

/* PyTorch's defaults, shown above, for a kernel_h x kernel_w window. */
NERVE_API nerve_pool2d_options nerve_pool2d_defaults(int64_t kernel_h, int64_t kernel_w);
/* The maximum of each window; its gradient goes to the window's first
 * maximum in row-major order, as torch on the CPU (overlapping windows add). */
NERVE_API nerve_node nerve_max_pool2d(nerve_graph *g, nerve_node x,
                                      const nerve_pool2d_options *options, nerve_error *err);
NERVE_API nerve_node nerve_avg_pool2d(nerve_graph *g, nerve_node x,
                                      const nerve_pool2d_options *options, nerve_error *err);
/* The mean of each channel: [N, C, H, W] (or any [N, C, ...]) -> [N, C],
 * as nn.AdaptiveAvgPool2d(1) followed by flatten. */
NERVE_API nerve_node nerve_global_avg_pool(nerve_graph *g, nerve_node x, nerve_error *err);
/* Batch normalisation (Ioffe & Szegedy 2015), as F.batch_norm: per channel
 * (dim 1 of x: the feature of [N, C], the channel of [N, C, L] and
 * [N, C, H, W]), y = (x - mean) / sqrt(var + eps) * weight + bias.
 * In training (nerve_graph_training) mean and var are the batch's, over every
 * dimension but 1, var biased; the running statistics, when given, move
 * towards them, running = (1 - momentum) * running + momentum * batch, with
 * the unbiased variance for running_var, and num_batches_tracked counts the
 * updates. A training batch with a single value per channel (an error in
 * PyTorch) leaves them as they are. In eval mode the running statistics
 * normalise; without them, the batch's do.
 * weight and bias [C] or -1 (1 and 0); running_mean and running_var [C]
 * buffers, or both -1; num_batches_tracked an integer buffer of one element,
 * or -1. eps > 0, momentum in [0, 1]. */
NERVE_API nerve_node nerve_batch_norm(nerve_graph *g, nerve_node x, nerve_node weight,
                                      nerve_node bias, nerve_node running_mean,
                                      nerve_node running_var, nerve_node num_batches_tracked,
                                      double eps, double momentum, nerve_error *err);
/* Inverted dropout, as nn.Dropout: in training each element is zeroed with
 * probability p and the others scaled by 1 / (1 - p) (p = 1 zeroes all);
 * the identity in eval mode. The mask is drawn at every training forward from
 * the graph's noise position (nerve_graph_set_position) and kept for
 * backward. p in [0, 1]. */
NERVE_API nerve_node nerve_dropout(nerve_graph *g, nerve_node x, double p, nerve_error *err);
/* Channel dropout, as nn.Dropout2d: the same, but each (sample, channel)
 * plane of x [N, C, H, W] is zeroed or scaled whole. x [N, C, L] is read as
 * PyTorch 1.13 reads it, C channels of length L (it warns that this will
 * change). Other ranks are refused: on [N, C] PyTorch warns and does plain
 * dropout, which nerve_dropout is. */
NERVE_API nerve_node nerve_dropout2d(nerve_graph *g, nerve_node x, double p, nerve_error *err);

/* 2-D convolutions on NCHW images, as torch.nn.functional.conv2d and
 * conv_transpose2d. Pairs are (height, width). nerve_conv2d_options_default
 * gives PyTorch's defaults: stride 1, padding 0, dilation 1, groups 1,
 * output_padding 0; NULL options mean the same. */
typedef struct nerve_conv2d_options {
    int64_t stride[2];
    int64_t padding[2];        /* zeros on both sides of each spatial dimension */
    /* conv2d only: zeros added at the bottom and right beyond padding. PyTorch's
     * padding='same' with an odd total, d * (k - 1), pads total / 2 before and
     * the one left over after: padding = total / 2, padding_extra = total % 2. */
    int64_t padding_extra[2];
    int64_t dilation[2];
    int64_t groups;            /* channel groups: in and out channels divisible by it */
    /* conv_transpose2d only: rows and columns added to the output's bottom and
     * right, each below stride or dilation (PyTorch's rule). */
    int64_t output_padding[2];
} nerve_conv2d_options;

NERVE_API nerve_conv2d_options nerve_conv2d_options_default(void);
/* y = conv2d(x, weight) + bias: x [N, C_in, H, W], weight [C_out, C_in /
 * groups, kh, kw] (nn.Conv2d's layout), bias [C_out] or -1; y [N, C_out,
 * H_out, W_out] with H_out = (H + 2 padding + padding_extra - dilation (kh -
 * 1) - 1) / stride + 1, and W_out likewise. */
NERVE_API nerve_node nerve_conv2d(nerve_graph *g, nerve_node x, nerve_node weight, nerve_node bias,
                                  const nerve_conv2d_options *options, nerve_error *err);
/* The transpose (gradient) of conv2d, as nn.ConvTranspose2d: x [N, C_in, H,
 * W], weight [C_in, C_out / groups, kh, kw], bias [C_out] or -1; H_out = (H -
 * 1) stride - 2 padding + dilation (kh - 1) + output_padding + 1. */
NERVE_API nerve_node nerve_conv_transpose2d(nerve_graph *g, nerve_node x, nerve_node weight,
                                            nerve_node bias, const nerve_conv2d_options *options,
                                            nerve_error *err);

/* Token ids: reals holding integer ids, e.g. [N, T] for N sequences of T
 * tokens. An id outside [0, vocab) (or [0, classes)) gives a row of NaN;
 * data are checked before they get there (nerve_model_check_tokens). The
 * ids take no gradient.
 * Embedding lookup, as F.embedding: ids [N, ...] pick rows of weight
 * [vocab, dim], y [N, ..., dim]. The gradient adds each position's dy into
 * its id's row, except for padding_idx's row (-1: none). */
NERVE_API nerve_node nerve_embedding(nerve_graph *g, nerve_node ids, nerve_node weight,
                                     int64_t padding_idx, nerve_error *err);
/* F.one_hot(ids, classes) as reals: ids [N, ...] -> [N, ..., classes]. */
NERVE_API nerve_node nerve_one_hot(nerve_graph *g, nerve_node ids, int64_t classes,
                                   nerve_error *err);
/* Recurrent layers over batch-first sequences x [N, T, F] (T steps of F
 * features), as torch.nn.RNN, LSTM and GRU with batch_first=True. H is the
 * hidden size, G the cell's gate count; weights are PyTorch's [G H, F] and
 * [G H, H], the gates stacked in PyTorch's order. */
typedef enum nerve_recurrent_cell {
    NERVE_CELL_RNN_TANH = 0, /* G = 1: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) */
    NERVE_CELL_RNN_RELU,     /* G = 1: the same with relu */
    NERVE_CELL_LSTM,         /* G = 4: gates i, f, g, o; c' = f c + i g, h' = o tanh(c') */
    NERVE_CELL_GRU           /* G = 3: gates r, z, n; n = tanh(W_in x + b_in + r (W_hn h + b_hn)),
                                h' = (1 - z) n + z h */
} nerve_recurrent_cell;

/* The cell's gate count G: rnn 1, lstm 4, gru 3. */
NERVE_API int64_t nerve_recurrent_gate_count(nerve_recurrent_cell cell);

/* One direction of one recurrent layer over the whole sequence:
 * y [N, T, H] holds h_t for every step t (last: y [N, H] is the final
 * state h_T alone). reverse runs from step T - 1 down to 0, as the
 * backward half of a bidirectional layer (its final state is then the one
 * after step 0). weight_ih [G H, F], weight_hh [G H, H]; bias_ih and
 * bias_hh [G H], both or neither (-1).
 * The initial state is zero, or with nerve_graph_set_carry_state the final
 * state of this node's previous forward, held constant (no gradient flows
 * into it). Backward is backpropagation through all T steps. */
NERVE_API nerve_node nerve_recurrent(nerve_graph *g, nerve_recurrent_cell cell, nerve_node x,
                                     nerve_node weight_ih, nerve_node weight_hh, nerve_node bias_ih,
                                     nerve_node bias_hh, bool reverse, bool last, nerve_error *err);

/* Losses: scalar nodes with PyTorch's semantics (docs/reference.md, "Losses",
 * gives each formula). Every builder takes options; NULL means PyTorch's
 * defaults (nerve_loss_options_default). Class labels are an input of
 * per-sample shape [] holding class indices as reals; a label outside
 * [0, classes) makes the loss NaN. The builders copy options->weights.
 * Sequences: the class-label losses also take scores [N, T, C] with labels
 * [N, T] (per-sample shape [T]), every step a row: torch's loss on the
 * permuted scores [N, C, T], the mean over the N * T steps (weighted by
 * the steps' label weights where torch's is). Class weights, alpha and
 * pos_weight go along the last dimension; the per-element losses take any
 * shape. */
typedef enum nerve_reduction {
    NERVE_REDUCTION_MEAN = 0,  /* as each PyTorch loss's reduction='mean' */
    NERVE_REDUCTION_SUM
} nerve_reduction;

typedef struct nerve_loss_options {
    nerve_reduction reduction;
    double delta;              /* huber: where quadratic turns linear, > 0 (1) */
    double beta;               /* smooth_l1: the same, >= 0 (1) */
    double label_smoothing;    /* softmax_cross_entropy: in [0, 1] (0) */
    double gamma;              /* focal: the focusing exponent, >= 0 (2) */
    double temperature;        /* distillation: T > 0 (1) */
    double soft_weight;        /* distillation with labels: alpha in [0, 1], the soft
                                  term's weight; the hard term's is 1 - alpha (0.9) */
    int margin;                /* large_margin_softmax: m in 1..4 (2) */
    double lambda;             /* large_margin_softmax: the paper's beta, >= 0 (0) */
    /* One value per class (or per output for bce_with_logits), or NULL:
     * softmax_cross_entropy and nll: class weights; focal: alpha;
     * bce_with_logits: pos_weight (weight_count 1 applies to every output). */
    const float *weights;
    int64_t weight_count;
} nerve_loss_options;

NERVE_API nerve_loss_options nerve_loss_options_default(void);

/* Fused softmax + cross-entropy on logits [N, C] (torch CrossEntropyLoss):
 * weights, label_smoothing. Max-subtracted: stable for any finite logits. */
NERVE_API nerve_node nerve_softmax_cross_entropy(nerve_graph *g, nerve_node logits,
                                                 nerve_node labels,
                                                 const nerve_loss_options *options,
                                                 nerve_error *err);
/* Negative log-likelihood of log-probabilities [N, C] (torch NLLLoss): weights. */
NERVE_API nerve_node nerve_nll(nerve_graph *g, nerve_node log_probs, nerve_node labels,
                               const nerve_loss_options *options, nerve_error *err);
/* Multi-class focal loss on logits [N, C] (Lin et al. 2017): gamma, weights as alpha. */
NERVE_API nerve_node nerve_focal(nerve_graph *g, nerve_node logits, nerve_node labels,
                                 const nerve_loss_options *options, nerve_error *err);
/* Hinton's distillation, T^2 KL(softmax(teacher/T) || softmax(student/T)),
 * on student and teacher logits of one shape [N, C]: temperature. */
NERVE_API nerve_node nerve_distillation(nerve_graph *g, nerve_node student_logits,
                                        nerve_node teacher_logits,
                                        const nerve_loss_options *options, nerve_error *err);
/* Hinton's mix of soft and hard targets: alpha * distillation (above) +
 * (1 - alpha) * softmax cross-entropy of the student's logits (at T = 1)
 * with class labels [N]: temperature, soft_weight (alpha), reduction. */
NERVE_API nerve_node nerve_distillation_with_labels(nerve_graph *g, nerve_node student_logits,
                                                    nerve_node teacher_logits, nerve_node labels,
                                                    const nerve_loss_options *options,
                                                    nerve_error *err);
/* L-Softmax (Liu et al. 2016): logits must be nerve_linear(x, W, no bias);
 * the loss reads x and W from that node. margin, lambda. */
NERVE_API nerve_node nerve_large_margin_softmax(nerve_graph *g, nerve_node logits,
                                                nerve_node labels,
                                                const nerve_loss_options *options,
                                                nerve_error *err);
/* Element-wise losses between a prediction and a target of the same shape. */
NERVE_API nerve_node nerve_mse(nerve_graph *g, nerve_node pred, nerve_node target,
                               const nerve_loss_options *options, nerve_error *err);
NERVE_API nerve_node nerve_l1(nerve_graph *g, nerve_node pred, nerve_node target,
                              const nerve_loss_options *options, nerve_error *err);
NERVE_API nerve_node nerve_huber(nerve_graph *g, nerve_node pred, nerve_node target,
                                 const nerve_loss_options *options, nerve_error *err);
NERVE_API nerve_node nerve_smooth_l1(nerve_graph *g, nerve_node pred, nerve_node target,
                                     const nerve_loss_options *options, nerve_error *err);
/* Binary cross-entropy on probabilities in [0, 1] (torch BCELoss, logs
 * clamped at -100) and on logits (BCEWithLogitsLoss: weights as pos_weight). */
NERVE_API nerve_node nerve_binary_cross_entropy(nerve_graph *g, nerve_node probs, nerve_node target,
                                                const nerve_loss_options *options,
                                                nerve_error *err);
NERVE_API nerve_node nerve_bce_with_logits(nerve_graph *g, nerve_node logits, nerve_node target,
                                           const nerve_loss_options *options, nerve_error *err);

/* Allocates the parameter and gradient buffers (once: later calls are no-ops)
 * and the activation memory (the arena) for batches of up to max_batch
 * samples. Planning again with a larger max_batch, or after a forward-only
 * plan, replaces the arena (the old one is released first; on failure the
 * graph is unplanned). Shapes that do not agree are reported here.
 * The arena is a liveness plan (docs/architecture.md, "Memory"): every
 * value, op state and gradient-taking input's gradient has memory of its
 * own, but an op's gradient lives only from the backward of its last reader
 * to its own backward, and gradients whose lifetimes do not overlap share
 * memory; after nerve_graph_backward the gradients of parameters and of
 * gradient-taking inputs are readable, an op's only with
 * nerve_graph_set_keep_gradients. */
NERVE_API nerve_status nerve_graph_plan(nerve_graph *g, int64_t max_batch, nerve_error *err);
/* A forward-only plan for evaluation and prediction: no gradients, and the
 * values of ops share memory once their last reader has run, so the arena
 * holds little more than the largest activations. After
 * nerve_graph_forward(g, t) the values of t, of the inputs, of every node
 * that nothing reads, and of each node an op at or after t reads (the
 * logits a loss reads) are intact; other intermediate values may not be.
 * A plan of either kind for at least max_batch samples is kept (only the
 * batch is set); backward on a forward-only plan is an error. */
NERVE_API nerve_status nerve_graph_plan_inference(nerve_graph *g, int64_t max_batch,
                                                  nerve_error *err);
/* Whether g's arena is a training plan (nerve_graph_plan). */
NERVE_API bool nerve_graph_planned_for_training(const nerve_graph *g);
/* The bytes of the arena a training plan (training true) or a forward-only
 * plan of max_batch samples takes; plans nothing (nerve info prints both). */
NERVE_API nerve_status nerve_graph_plan_bytes(nerve_graph *g, int64_t max_batch, bool training,
                                              size_t *bytes, nerve_error *err);
/* Keep (true) each op's gradient in memory of its own, readable after
 * backward (gradient checks, parity tests); call it before the graph is
 * planned. Off by default: op gradients share memory. */
NERVE_API void nerve_graph_set_keep_gradients(nerve_graph *g, bool keep);
/* Sets the batch of the next runs (1 <= n <= planned max); allocates nothing. */
NERVE_API nerve_status nerve_graph_set_batch(nerve_graph *g, int64_t n, nerve_error *err);
NERVE_API int64_t nerve_graph_batch(const nerve_graph *g);

NERVE_API void nerve_graph_set_training(nerve_graph *g, bool training);
/* Recurrent state across batches. Off (the default), every recurrent layer
 * starts each batch from a zero state. On, each batch starts from the state
 * the previous one ended with (truncated BPTT over a stream, generation): the
 * carried state is a constant, so gradients stop at the batch border.
 * nerve_graph_reset_state zeroes the carried state (a new epoch, a new
 * evaluation, a new text to generate). */
NERVE_API void nerve_graph_set_carry_state(nerve_graph *g, bool carry);
/* Data-parallel training over c (NULL: none): in training mode batch norm
 * takes its statistics over the batches of every rank (the sums of x, x^2
 * and the count in forward, of dy and dy * xhat in backward), so each rank's
 * slice is normalised as the whole global batch would be and the running
 * statistics agree everywhere. A failed collective is kept and returned by
 * nerve_graph_comm_status (the forward and backward passes return nothing). */
NERVE_API void nerve_graph_set_comm(nerve_graph *g, nerve_comm *c);
NERVE_API nerve_status nerve_graph_comm_status(nerve_graph *g, nerve_error *err);
/* A rank whose slice of a global batch is empty runs no forward pass but
 * joins the collectives the others' forward and backward passes towards
 * loss make (batch norm's, contributing nothing), so that none waits. */
NERVE_API void nerve_graph_join_empty_step(nerve_graph *g, nerve_node loss);

NERVE_API bool nerve_graph_carries_state(const nerve_graph *g);
NERVE_API void nerve_graph_reset_state(nerve_graph *g);
NERVE_API bool nerve_graph_training(const nerve_graph *g);
/* The noise of dropout, dropout2d and rrelu is counter-based (Philox-4x32-10):
 * the values of batch row i at node n are a pure function of (seed, step,
 * first_sample + i, n), whatever the batch size, the row, the backend or the
 * thread count; docs/reference.md, "Random numbers". The same position gives
 * the same noise again, so a training loop sets a new position every step:
 * nerve_train sets its global step and the position in the epoch's sample
 * order of the batch's first sample. The defaults are all 0; a model built
 * from a cfg takes the seed from [net] seed. */
NERVE_API void nerve_graph_set_seed(nerve_graph *g, uint64_t seed);
NERVE_API void nerve_graph_set_position(nerve_graph *g, int64_t step, int64_t first_sample);

/* Runs the nodes needed for target (all nodes when target is -1). Fails
 * when a kernel fails or the graph's device lacks one: the message names
 * the op, the node, the kernel and the device. */
NERVE_API nerve_status nerve_graph_forward(nerve_graph *g, nerve_node target, nerve_error *err);
/* Reverse-mode autodiff from a scalar node: accumulates into parameter
 * gradients (see nerve_graph_zero_grad). Fails as nerve_graph_forward, or
 * when loss is not a node of g. */
NERVE_API nerve_status nerve_graph_backward(nerve_graph *g, nerve_node loss, nerve_error *err);
/* Reverse-mode autodiff from any op node, given upstream = dL/d(node): as
 * many values as the node has at the current batch (batch x per-sample, the
 * layout of nerve_node_value). Accumulates into parameter gradients and into
 * gradient-taking inputs exactly as nerve_graph_backward does from a scalar
 * with gradient 1. With nerve_graph_set_input_grad it chains two graphs:
 * forward G, copy G's output into D's input, forward and backward D, then
 * nerve_graph_backward_from(G, G's output, D's input gradient). Fails when
 * no trainable parameter or gradient-taking input feeds node. */
NERVE_API nerve_status nerve_graph_backward_from(nerve_graph *g, nerve_node node,
                                                 const nerve_real *upstream, nerve_error *err);
NERVE_API void nerve_graph_zero_grad(nerve_graph *g);

/* Introspection. Pointers stay valid until the next nerve_graph_plan. */
NERVE_API int nerve_graph_node_count(const nerve_graph *g);
NERVE_API nerve_node nerve_graph_find(const nerve_graph *g, const char *name);
/* Gives node n a new name, unique in the graph (at most 63 bytes). */
NERVE_API nerve_status nerve_graph_rename(nerve_graph *g, nerve_node n, const char *name,
                                          nerve_error *err);
NERVE_API const char *nerve_node_name(const nerve_graph *g, nerve_node n);
NERVE_API const char *nerve_node_op_name(const nerve_graph *g, nerve_node n);
NERVE_API nerve_shape nerve_node_shape(const nerve_graph *g, nerve_node n);
/* Where node n's value and gradient live. The pointers are host memory, to
 * read and write directly, only on a host device (the CPU); on any other
 * device use nerve_node_read and nerve_node_write. */
NERVE_API nerve_real *nerve_node_value(nerve_graph *g, nerve_node n);
NERVE_API nerve_real *nerve_node_grad(nerve_graph *g, nerve_node n); /* NULL if none */
/* Copies the first count values of node n (at most as many as it has at
 * the current batch, nerve_node_shape) to values, or from values into the
 * node: works on every device. Fails on a node without values (an input or
 * op of a graph not planned yet) or a count out of range. */
NERVE_API nerve_status nerve_node_read(nerve_graph *g, nerve_node n, nerve_real *values,
                                       int64_t count, nerve_error *err);
NERVE_API nerve_status nerve_node_write(nerve_graph *g, nerve_node n, const nerve_real *values,
                                        int64_t count, nerve_error *err);
NERVE_API bool nerve_node_is_param(const nerve_graph *g, nerve_node n); /* buffers included */
NERVE_API bool nerve_node_is_buffer(const nerve_graph *g, nerve_node n);
/* Freezing keeps a parameter out of backward and of optimizer updates. */
NERVE_API void nerve_node_set_frozen(nerve_graph *g, nerve_node n, bool frozen);
/* Freezes (or unfreezes) every parameter whose name starts with prefix
 * ("disc." for a discriminator's layers); buffers stay frozen. Returns how
 * many parameters it set. */
NERVE_API int nerve_graph_freeze_prefix(nerve_graph *g, const char *prefix, bool frozen);
NERVE_API bool nerve_node_frozen(const nerve_graph *g, nerve_node n);
/* Floating-point operations of one sample's forward pass through node n. */
NERVE_API int64_t nerve_node_flops(const nerve_graph *g, nerve_node n);

/* Finite-difference check of d(loss)/d(every trainable parameter) by central
 * differences of step eps; *max_error is the worst |numeric - analytic| /
 * max(1, |numeric| + |analytic|). Every forward starts from the graph RNG's
 * state at the call, so stochastic ops (dropout) draw the same masks each
 * time. Use the NERVE_F64 build for tight bounds. */
NERVE_API nerve_status nerve_gradcheck(nerve_graph *g, nerve_node loss, double eps,
                                       double *max_error, nerve_error *err);

/* The flat parameter and gradient buffers (valid after nerve_graph_plan). */
NERVE_API nerve_real *nerve_graph_params(nerve_graph *g);
NERVE_API nerve_real *nerve_graph_grads(nerve_graph *g);
NERVE_API size_t nerve_graph_param_count(const nerve_graph *g);
/* Trainability mask over the flat buffer: 1 where an optimizer may update. */
NERVE_API const unsigned char *nerve_graph_trainable_mask(nerve_graph *g);
/* How many token ids node n may hold: the smallest vocabulary (or number of
 * classes) of the embedding and one_hot ops that read n as ids, directly or
 * through ops that share its memory (reshape, flatten, identity); ids must
 * be integers in [0, limit). 0 when no op reads n as ids. */
NERVE_API int64_t nerve_graph_token_limit(const nerve_graph *g, nerve_node n);

/* ---------------------------------------------------------------- init */

/* Initialisers as torch.nn.init. A nerve_init is a descriptor: a kind and its
 * parameters, named as torch's arguments. docs/reference.md gives each formula. */
typedef enum nerve_init_kind {
    NERVE_INIT_DEFAULT = 0,     /* PyTorch's default for the layer type and tensor */
    NERVE_INIT_ZEROS,
    NERVE_INIT_ONES,
    NERVE_INIT_CONSTANT,        /* val */
    NERVE_INIT_UNIFORM,         /* U(a, b) */
    NERVE_INIT_NORMAL,          /* N(mean, std^2) */
    NERVE_INIT_XAVIER_UNIFORM,  /* gain */
    NERVE_INIT_XAVIER_NORMAL,   /* gain */
    NERVE_INIT_KAIMING_UNIFORM, /* a, mode, nonlinearity ("he_uniform" in a cfg too) */
    NERVE_INIT_KAIMING_NORMAL,  /* a, mode, nonlinearity ("he_normal" in a cfg too) */
    NERVE_INIT_LECUN_UNIFORM,   /* variance 1/fan_in */
    NERVE_INIT_LECUN_NORMAL,
    NERVE_INIT_ORTHOGONAL,      /* gain */
    NERVE_INIT_KIND_COUNT
} nerve_init_kind;

typedef enum nerve_fan_mode { NERVE_FAN_IN = 0, NERVE_FAN_OUT } nerve_fan_mode;

/* The nonlinearities torch.nn.init.calculate_gain knows. */
typedef enum nerve_nonlinearity {
    NERVE_NONLINEARITY_LINEAR = 0, /* gain 1 */
    NERVE_NONLINEARITY_SIGMOID,    /* 1 */
    NERVE_NONLINEARITY_TANH,       /* 5/3 */
    NERVE_NONLINEARITY_RELU,       /* sqrt(2) */
    NERVE_NONLINEARITY_LEAKY_RELU, /* sqrt(2 / (1 + slope^2)) */
    NERVE_NONLINEARITY_SELU        /* 3/4 */
} nerve_nonlinearity;

typedef struct nerve_init {
    nerve_init_kind kind;
    double val;                      /* constant */
    double a, b;                     /* uniform: [a, b); kaiming: a is leaky_relu's slope */
    double mean, std;                /* normal */
    double gain;                     /* xavier_*, orthogonal */
    nerve_fan_mode mode;             /* kaiming */
    nerve_nonlinearity nonlinearity; /* kaiming */
} nerve_init;

/* A descriptor of `kind` with torch's default arguments (uniform(0, 1),
 * normal(0, 1), gain 1, kaiming a=0, mode fan_in, nonlinearity leaky_relu).
 * A zeroed nerve_init is NERVE_INIT_DEFAULT. */
NERVE_API nerve_init nerve_init_of(nerve_init_kind kind);
NERVE_API const char *nerve_init_kind_name(nerve_init_kind kind);
/* Parses the cfg spelling: a name, optionally followed by arguments in
 * parentheses, positional (in torch's order) then keyword:
 * "xavier_uniform", "normal(0, 0.01)", "constant(0.1)",
 * "kaiming_normal(mode=fan_out, nonlinearity=relu)", "orthogonal(gain=relu)".
 * A gain may be a number or a nonlinearity (its calculate_gain value). */
NERVE_API nerve_status nerve_init_parse(const char *text, nerve_init *out, nerve_error *err);
/* torch.nn.init.calculate_gain; param is leaky_relu's negative slope
 * (torch's default when none is given: 0.01) and is ignored otherwise. */
NERVE_API double nerve_init_gain(nerve_nonlinearity nonlinearity, double param);
/* torch's _calculate_fan_in_and_fan_out for a weight [out, in, k...]:
 * fan_in = in * prod(k), fan_out = out * prod(k). Needs 2 or more dimensions. */
NERVE_API nerve_status nerve_init_fans(nerve_shape shape, int64_t *fan_in, int64_t *fan_out,
                                       nerve_error *err);
/* The distribution init draws from for a tensor of `shape`: a descriptor of
 * kind constant, uniform, normal or orthogonal with the bounds, std or gain
 * torch computes (e.g. xavier_uniform -> uniform(-b, b), b = gain *
 * sqrt(6 / (fan_in + fan_out))). Fails on NERVE_INIT_DEFAULT (the layer
 * resolves it), on bad arguments, and on fan-based kinds for 1-D tensors. */
NERVE_API nerve_status nerve_init_resolve(const nerve_init *init, nerve_shape shape,
                                          nerve_init *law, nerve_error *err);
/* Fills the tensor w of `shape` from rng. */
NERVE_API nerve_status nerve_init_fill(nerve_real *w, nerve_shape shape, const nerve_init *init,
                                       nerve_rng *rng, nerve_error *err);

/* ---------------------------------------------------------------- datasets */

/* A labelled data set in memory. inputs: count x sample_size, row-major;
 * targets: count x target_size. For classification target_size is 1 and
 * targets hold class indices.
 * Inputs are float32, or kept in their stored type: IDX images hold one byte
 * per pixel (Fashion-MNIST's training set 47 MB rather than 188 MB as
 * float32), and then inputs is NULL, pixels holds the bytes, and input
 * element k is pixel_values[pixels[k]]. nerve_dataset_scale and
 * _standardize transform the 256 pixel_values (each the float the same
 * arithmetic on a float32 copy gives, bit for bit), nerve_dataset_gather
 * converts the samples of a batch, and nerve_dataset_to_float turns the set
 * into float32 inputs for code that reads inputs directly. */
typedef struct nerve_dataset {
    int64_t count;
    nerve_shape sample_shape; /* per sample, e.g. 1x28x28 or 784 */
    int64_t sample_size;      /* numel(sample_shape) */
    float *inputs;            /* NULL when pixels holds the inputs */
    unsigned char *pixels;    /* the stored bytes, count x sample_size, or NULL */
    float pixel_values[256];  /* the input value of each byte value */
    int64_t target_size;
    float *targets;
    int num_classes;          /* 0 for regression targets */
    /* A stream (a text cut for truncated BPTT, [net] bptt): sample
     * j * lanes + b is chunk j of lane b, so that batch j of `lanes` samples
     * in order continues batch j - 1 lane by lane. 0: independent samples. */
    int64_t lanes;
} nerve_dataset;

/* IDX (MNIST / Fashion-MNIST) images and labels, plain or gzip (detected by
 * content). Checks magic, element type, that the dimensions match the file
 * size, and that both files agree in count. Pixels stay bytes (ds->pixels,
 * inputs NULL) with the values 0..255 unscaled; nerve_dataset_to_float
 * converts them. */
NERVE_API nerve_status nerve_idx_load(const char *images_path, const char *labels_path,
                                      nerve_dataset *out, nerve_error *err);

/* Images only (for prediction): target_size 0, targets NULL. */
NERVE_API nerve_status nerve_idx_load_images(const char *images_path, nerve_dataset *out,
                                             nerve_error *err);

#define NERVE_CSV_NO_LABEL (-2)

typedef struct nerve_csv_options {
    bool header;           /* skip the first row */
    int label_column;      /* classification: 0-based column, -1 = last,
                              NERVE_CSV_NO_LABEL: every column is a feature */
    int targets;           /* regression: the last `targets` columns (0 = classification) */
    /* (time, feature) blocks: consecutive rows with the same value in
     * sequence_column (0-based) are the time steps of one sample [T, F];
     * its label or targets are those of its last row. */
    bool sequences;
    int sequence_column;
} nerve_csv_options;

/* Numeric CSV. Errors name file:line:column. Class labels must be
 * non-negative integers; num_classes is max label + 1. */
NERVE_API nerve_status nerve_csv_load(const char *path, const nerve_csv_options *options,
                                      nerve_dataset *out, nerve_error *err);

NERVE_API void nerve_dataset_free(nerve_dataset *ds);
/* Moves the last `count` samples of ds into val (ds shrinks); as Keras'
 * validation_split, the hold-out is the end of the file. */
NERVE_API nerve_status nerve_dataset_split(nerve_dataset *ds, int64_t count, nerve_dataset *val,
                                           nerve_error *err);
/* Which samples a validation split holds out. */
typedef enum nerve_split {
    NERVE_SPLIT_END = 0,   /* the last count samples (nerve_dataset_split) */
    NERVE_SPLIT_RANDOM,    /* count samples drawn at random (seeded) */
    NERVE_SPLIT_STRATIFIED /* count samples drawn at random within each class, in proportion
                              to the classes' sizes (largest remainders), as scikit-learn's
                              train_test_split(stratify=y); classification data only */
} nerve_split;
/* nerve_dataset_split with the samples `kind` chooses, drawn from seed: the
 * chosen samples move to val in file order, the others stay in ds in file
 * order. */
NERVE_API nerve_status nerve_dataset_split_by(nerve_dataset *ds, int64_t count, nerve_split kind,
                                              uint64_t seed, nerve_dataset *val, nerve_error *err);
/* The smallest class that val holds and train lacks (the labels of a
 * classification data set, every step's for a per-step classifier), or -1
 * when there is none: a validation set from the end of a class-sorted file. */
NERVE_API int nerve_dataset_class_missing(const nerve_dataset *train, const nerve_dataset *val);
/* inputs /= divisor. */
NERVE_API void nerve_dataset_scale(nerve_dataset *ds, float divisor);
/* Mean and standard deviation over all input elements of ds. */
NERVE_API void nerve_dataset_moments(const nerve_dataset *ds, double *mean, double *std);
/* inputs = (inputs - mean) / std. */
NERVE_API void nerve_dataset_standardize(nerve_dataset *ds, double mean, double std);
/* Turns stored pixels into float32 inputs (each pixel_values[byte]); a
 * float data set is left as it is. */
NERVE_API nerve_status nerve_dataset_to_float(nerve_dataset *ds, nerve_error *err);
/* Copies samples index[0..n) into contiguous buffers (targets may be NULL),
 * converting stored pixels to their values. */
NERVE_API void nerve_dataset_gather(const nerve_dataset *ds, const int64_t *index, int64_t n,
                                    nerve_real *inputs, nerve_real *targets);

/* ---------------------------------------------------------------- text */

/* A text as Unicode code points (characters), from UTF-8 or ASCII. */
typedef struct nerve_text {
    uint32_t *chars;
    int64_t length;
} nerve_text;

/* Reads a UTF-8 text file, plain or gzip (detected by content); a leading
 * byte-order mark is dropped. Invalid UTF-8 (overlong forms, surrogates, a
 * sequence cut short), a NUL byte, an empty text and gzip data that is
 * corrupt or cut short are errors naming the file, line and byte offset. */
NERVE_API nerve_status nerve_text_load(const char *path, nerve_text *out, nerve_error *err);
/* Decodes size bytes of UTF-8 (no byte-order mark handling); name stands for
 * the bytes in messages. An empty input gives an empty text. */
NERVE_API nerve_status nerve_text_decode(const char *bytes, size_t size, const char *name,
                                         nerve_text *out, nerve_error *err);
NERVE_API void nerve_text_free(nerve_text *text);
/* Writes c as UTF-8 into out (4 bytes at most, no terminator); returns the
 * byte count. */
NERVE_API int nerve_utf8_encode(uint32_t c, char *out);
/* A character for messages: "'x' (U+0078)", or "U+000A" for a control
 * character. */
NERVE_API const char *nerve_char_describe(uint32_t c, char *buf, size_t size);

/* A character vocabulary: the distinct code points in increasing order; a
 * character's id is its index. */
typedef struct nerve_vocab {
    uint32_t *chars;
    int64_t size;
} nerve_vocab;

NERVE_API nerve_status nerve_vocab_build(const nerve_text *text, nerve_vocab *out,
                                         nerve_error *err);
/* The vocabulary whose characters, in order, are the UTF-8 string text (as
 * nerve_vocab_to_utf8 writes it): they must increase strictly. */
NERVE_API nerve_status nerve_vocab_from_utf8(const char *text, const char *name, nerve_vocab *out,
                                             nerve_error *err);
/* The characters as one malloc'ed, NUL-terminated UTF-8 string, or NULL when
 * out of memory. */
NERVE_API char *nerve_vocab_to_utf8(const nerve_vocab *vocab);
/* The id of c, or -1 when c is not in the vocabulary. */
NERVE_API int64_t nerve_vocab_id(const nerve_vocab *vocab, uint32_t c);
/* ids[i] = the id of chars[i]; returns -1, or the index of the first
 * character not in the vocabulary (ids then holds the ids before it). */
NERVE_API int64_t nerve_vocab_encode(const nerve_vocab *vocab, const uint32_t *chars, int64_t count,
                                     float *ids);
NERVE_API bool nerve_vocab_equal(const nerve_vocab *a, const nerve_vocab *b);
NERVE_API void nerve_vocab_free(nerve_vocab *vocab);

/* Token ids cut into samples of `steps` ids whose targets are the next
 * `steps` ids (the next character at every step); sample_shape [steps],
 * target_size steps, num_classes vocab_size. name stands for the text in
 * messages.
 * The stream cut, for truncated BPTT: the text is `lanes` contiguous lanes of
 * L = floor((length - 1) / (lanes * steps)) * steps characters, lane b
 * starting at b * L, and sample j * lanes + b is chunk j of lane b (the
 * dataset's lanes field); the last length - 1 - lanes * L ids are dropped. */
NERVE_API nerve_status nerve_text_stream(const float *ids, int64_t length, int64_t lanes,
                                         int64_t steps, int64_t vocab_size, const char *name,
                                         nerve_dataset *out, nerve_error *err);
/* The window cut: sample i starts at i * steps, floor((length - 1) / steps)
 * independent samples (lanes 0). */
NERVE_API nerve_status nerve_text_windows(const float *ids, int64_t length, int64_t steps,
                                          int64_t vocab_size, const char *name, nerve_dataset *out,
                                          nerve_error *err);

/* What a character model must beat: the cross-entropy, in nats per
 * character, of a text under the unigram and bigram models of another,
 * estimated with add-one (Laplace) smoothing over the vocabulary:
 * P(c) = (n(c) + 1) / (N + V), P(c | p) = (n(p c) + 1) / (n(p .) + V). */
typedef struct nerve_text_baseline {
    double unigram, bigram;
    bool held_out; /* measured on the validation text (else on the training text) */
} nerve_text_baseline;

/* Counts over train_ids[0..train_length); scores eval_ids[t] for t in
 * [1, eval_length) (the bigram's context eval_ids[t - 1]): eval_length >= 2.
 * Ids must be below vocab_size. */
NERVE_API nerve_status nerve_text_baselines(const float *train_ids, int64_t train_length,
                                            const float *eval_ids, int64_t eval_length,
                                            int64_t vocab_size, nerve_text_baseline *out,
                                            nerve_error *err);

/* ---------------------------------------------------------------- adding problem */

/* The adding problem (Hochreiter & Schmidhuber 1997, in the form of Le et
 * al. 2015 and later benchmarks): count samples of `length` steps, each
 * [length, 2] = (value ~ U(0, 1), marker); exactly two markers are 1, one
 * at a uniform step of the first half and one of the second; the target is
 * the sum of the two marked values (target_size 1, regression). Seeded:
 * the same seed gives the same samples everywhere. length >= 2. */
NERVE_API nerve_status nerve_adding_generate(int64_t length, int64_t count, uint64_t seed,
                                             nerve_dataset *out, nerve_error *err);
/* The mean squared error of always predicting 1 (the targets' mean) on ds:
 * about 1/6, the variance of the sum of two U(0, 1). */
NERVE_API double nerve_adding_baseline(const nerve_dataset *ds);

/* ---------------------------------------------------------------- augmentation */

/* On-the-fly augmentation of image batches [N, C, H, W], as torchvision's
 * transforms in the order RandomCrop(padding), RandomHorizontalFlip,
 * RandomAffine(degrees, translate), ColorJitter(brightness, contrast),
 * RandomErasing. Every transform is off at its zero value
 * (nerve_augment_defaults). Values are in the file's pixel units (0..255 for
 * IDX): the pipeline works on normalised batches and maps them through the
 * data's normalisation (nerve_augment_new), so it does exactly what the same
 * transforms do on the raw images, except that values are not clamped to a
 * pixel range. docs/config.md, [augment], gives the details. */
typedef struct nerve_augment_options {
    int64_t crop_padding;  /* RandomCrop(H, padding=P): pad P black pixels on every side,
                              take a random HxW window */
    double flip;           /* probability of a horizontal flip */
    double rotation;       /* degrees: the angle is uniform in [-rotation, rotation],
                              counter-clockwise about the centre, bilinear */
    double translate;      /* fraction: shifts round(U[-t*W, t*W]) and round(U[-t*H, t*H]) */
    double brightness;     /* pixels * U[max(0, 1-b), 1+b] */
    double contrast;       /* blend with the mean grey: mean + U[max(0, 1-c), 1+c] * (x - mean) */
    double erase;          /* probability of erasing a rectangle */
    double erase_scale[2]; /* its area as a fraction of the image: (0.02, 0.33) */
    double erase_ratio[2]; /* its aspect ratio h/w, log-uniform: (0.3, 3.3) */
    double erase_value;    /* the pixel value it is filled with: 0 */
} nerve_augment_options;

/* Every transform off; erasing's shape settings at RandomErasing's defaults. */
NERVE_API nerve_augment_options nerve_augment_defaults(void);
/* Whether any transform is on. */
NERVE_API bool nerve_augment_enabled(const nerve_augment_options *options);
/* True, with the option's name and the reason, when an option is out of its
 * range (probabilities in [0, 1], ...). */
NERVE_API bool nerve_augment_options_problem(const nerve_augment_options *options, const char **key,
                                             char *why, size_t size);

/* An augmentation pipeline for images of shape image (C, H, W). A batch
 * value is pixel * gain + offset: gain = 1 / scale and offset = 0 for [data]
 * normalize = scale; 1 / (scale * std) and -mean / std for standardize.
 * Everything it uses is allocated here (a work image per thread of
 * nerve_get_threads()): applying allocates nothing. */
typedef struct nerve_augment nerve_augment;

NERVE_API nerve_augment *nerve_augment_new(const nerve_augment_options *options, nerve_shape image,
                                           double gain, double offset, uint64_t seed,
                                           nerve_error *err);
/* Augments the n images of a batch in place. Image i's transforms are a pure
 * function of (seed, step, first_sample + i), drawn from the counter-based
 * generator of nerve_graph_set_position: the same sample at the same step is
 * augmented alike whatever batch or row it is in and however many threads
 * run. nerve_train passes its global step and the position of the batch's
 * first sample in the epoch's order. */
NERVE_API void nerve_augment_apply(nerve_augment *augment, nerve_real *images, int64_t n,
                                   int64_t step, int64_t first_sample);
NERVE_API void nerve_augment_free(nerve_augment *augment);

/* ---------------------------------------------------------------- safetensors */

/* A read-only view of a safetensors file. Tensors are exposed as float32
 * data: F32 as stored, F64 (fixtures) and I64 (PyTorch's integer buffers,
 * num_batches_tracked) converted on load; other dtypes are an error naming
 * the tensor. */
typedef struct nerve_safetensors nerve_safetensors;

NERVE_API nerve_status nerve_safetensors_open(const char *path, nerve_safetensors **out,
                                              nerve_error *err);
NERVE_API void nerve_safetensors_close(nerve_safetensors *st);
NERVE_API int nerve_safetensors_count(const nerve_safetensors *st);
NERVE_API const char *nerve_safetensors_name(const nerve_safetensors *st, int i);
/* Returns the tensor's shape and data (float32, owned by st), or NULL if absent. */
NERVE_API const float *nerve_safetensors_get(const nerve_safetensors *st, const char *name,
                                             nerve_shape *shape);
/* The dtype the file stores tensor `name` in ("F32", "F64", "I64"), or NULL
 * if absent. */
NERVE_API const char *nerve_safetensors_dtype(const nerve_safetensors *st, const char *name);
/* The "__metadata__" string value for key, or NULL. */
NERVE_API const char *nerve_safetensors_metadata(const nerve_safetensors *st, const char *key);

/* How a tensor is written. */
typedef enum nerve_dtype {
    NERVE_DTYPE_F32 = 0,
    NERVE_DTYPE_I64  /* the data rounded to the nearest integers */
} nerve_dtype;

/* One tensor to write; a zero dtype is F32. */
typedef struct nerve_named_tensor {
    const char *name;
    nerve_shape shape;
    const float *data;
    nerve_dtype dtype;
} nerve_named_tensor;

/* Writes atomically: a temporary file beside path, fsync, rename. metadata
 * is a NULL-terminated list of key, value pairs (or NULL). */
NERVE_API nerve_status nerve_safetensors_write(const char *path, const nerve_named_tensor *tensors,
                                               int count, const char *const *metadata,
                                               nerve_error *err);

/* Saves every parameter of g under its node name: float32 (F32), integer
 * buffers int64 (I64). */
NERVE_API nerve_status nerve_graph_save(nerve_graph *g, const char *path, nerve_error *err);
/* Loads every parameter of g from path: a missing tensor, a shape that
 * differs or a foreign dtype (I64 for an integer buffer, F32 or F64 for the
 * others) is an error naming the tensor; tensors in the file that g lacks are
 * an error too. Nothing is changed on error. */
NERVE_API nerve_status nerve_graph_load(nerve_graph *g, const char *path, nerve_error *err);

/* ---------------------------------------------------------------- config */

/* A parsed darknet-like INI file: sections in order, each with key = value
 * entries that remember their line. Comments start with # or ;. */
typedef struct nerve_config nerve_config;

typedef struct nerve_config_entry {
    const char *key;
    const char *value;
    int line;
    bool used; /* set by readers; unused entries are reported as unknown keys */
} nerve_config_entry;

typedef struct nerve_config_section {
    const char *type; /* "net", "dense", ... */
    int line;
    nerve_config_entry *entries;
    int entry_count;
} nerve_config_section;

NERVE_API nerve_status nerve_config_load(const char *path, nerve_config **out, nerve_error *err);
NERVE_API nerve_status nerve_config_parse(const char *text, const char *filename,
                                          nerve_config **out, nerve_error *err);
NERVE_API void nerve_config_free(nerve_config *cfg);
NERVE_API const char *nerve_config_filename(const nerve_config *cfg);
NERVE_API int nerve_config_section_count(const nerve_config *cfg);
NERVE_API nerve_config_section *nerve_config_section_at(nerve_config *cfg, int i);
/* Appends an empty section (line 0), e.g. an optional settings section that
 * overrides may then fill. */
NERVE_API nerve_config_section *nerve_config_add_section(nerve_config *cfg, const char *type,
                                                         nerve_error *err);
#define NERVE_CONFIG_NAME_MAX 64
/* Section i's name: its name= value, or by default its type followed by its
 * index among the sections of that type ("dense0", "dense1", "activation0").
 * buf (NERVE_CONFIG_NAME_MAX bytes) holds a default name. */
NERVE_API const char *nerve_config_section_name(const nerve_config *cfg, int i, char *buf,
                                                size_t size);
/* Applies "section.key=value" (from --set): section is a section type that
 * occurs once ("net", "optimizer") or a section's name (see
 * nerve_config_section_name). The key is
 * replaced or added; the entry's line is 0 and messages say "--set". */
NERVE_API nerve_status nerve_config_override(nerve_config *cfg, const char *assignment,
                                             nerve_error *err);

/* The name of names[0..count) nearest to word, for a "did you mean" after a
 * misspelt key, option or name: none for words of 2 characters, within one
 * edit for 3 or 4, two or a third of the word's length for longer ones (insertions,
 * deletions, substitutions, swaps of neighbours); NULL when none is that
 * close. count may be -1 for a NULL-terminated list. */
NERVE_API const char *nerve_closest_name(const char *word, const char *const *names, int count);

/* ---------------------------------------------------------------- layers */

/* Options structs: a zeroed struct (or one with only the required fields
 * set, {.units = 3}) means the documented defaults wherever the zero value
 * can, so switches that default to on are spelt as their negation (no_bias).
 * The structs whose defaults cannot be zero (a batch norm's eps, an
 * optimizer's betas, a schedule's gamma, ...) have a function that returns
 * them, named beside each: start from it. */
typedef struct nerve_dense_options {
    int64_t units;
    bool no_bias;                /* false (the default): a bias, as nn.Linear */
    nerve_init init;             /* weight initialiser (zeroed: the default below) */
    nerve_init bias_init;        /* bias initialiser (zeroed: the default below) */
    nerve_activation activation; /* NERVE_ACT_IDENTITY for none */
    const nerve_activation_params *activation_params; /* NULL: PyTorch's defaults */
} nerve_dense_options;

/* A fully connected layer: parameters <name>.weight [units, in] and
 * <name>.bias [units] (PyTorch nn.Linear), initialised from rng (weight
 * first), then the activation. A sequence [N, T, in] maps every step, as
 * nn.Linear does, to [N, T, units]; inputs of four or more dimensions
 * (images) are flattened first. */
NERVE_API nerve_node nerve_dense(nerve_graph *g, const char *name, nerve_node x,
                                 const nerve_dense_options *options, nerve_rng *rng,
                                 nerve_error *err);
/* What NERVE_INIT_DEFAULT means in a dense layer, as nn.Linear's
 * reset_parameters: the weight kaiming_uniform(a=sqrt(5)), i.e.
 * U(-1/sqrt(in), 1/sqrt(in)); the bias U(-1/sqrt(in), 1/sqrt(in)) with the
 * weight's fan-in, whatever the weight's initialiser. */
NERVE_API nerve_init nerve_dense_default_weight_init(void);
NERVE_API nerve_init nerve_dense_default_bias_init(int64_t fan_in);

/* Activations that own a parameter, as layers. Each returns the output node,
 * named `name`. PReLU: <name>.weight, [1] or [C] when per_channel (C = dim 1
 * of x), initialised to 0.25 as torch.nn.PReLU. Swish: <name>.beta [1],
 * initialised to beta. */
NERVE_API nerve_node nerve_prelu_layer(nerve_graph *g, const char *name, nerve_node x,
                                       bool per_channel, nerve_error *err);
NERVE_API nerve_node nerve_swish_layer(nerve_graph *g, const char *name, nerve_node x, float beta,
                                       nerve_error *err);

typedef struct nerve_maxout_options {
    int64_t units;
    int64_t pieces;   /* affine maps per unit, >= 1 */
    nerve_init init;  /* weight initialiser, as for dense */
} nerve_maxout_options;

/* Maxout (Goodfellow et al. 2013): an affine map to units * pieces, then the
 * max over each unit's pieces. Parameters <name>.weight [units * pieces, in]
 * and <name>.bias [units * pieces]; row u * pieces + k is piece k of unit u,
 * so nn.Linear(in, units * pieces), .view(N, units, pieces), .max(dim=2)
 * computes the same. Inputs of more than two dimensions are flattened. */
NERVE_API nerve_node nerve_maxout(nerve_graph *g, const char *name, nerve_node x,
                                  const nerve_maxout_options *options, nerve_rng *rng,
                                  nerve_error *err);

typedef struct nerve_batchnorm_options {
    double eps;               /* added to the variance, > 0 (1e-5) */
    double momentum;          /* of the running statistics, in [0, 1] (0.1) */
    bool affine;              /* a learned weight and bias per channel (true) */
    bool track_running_stats; /* keep running statistics for eval mode (true) */
} nerve_batchnorm_options;

/* PyTorch's defaults, shown above. */
NERVE_API nerve_batchnorm_options nerve_batchnorm_defaults(void);
/* Batch normalisation over dim 1 of x (nerve_batch_norm), as nn.BatchNorm1d
 * on [N, C] or [N, C, L] and nn.BatchNorm2d on [N, C, H, W], with its
 * state_dict: <name>.weight [C] (1) and <name>.bias [C] (0) when affine;
 * buffers <name>.running_mean [C] (0), <name>.running_var [C] (1) and the
 * integer buffer <name>.num_batches_tracked [] (0) when tracking running
 * statistics. options NULL: the defaults. The output node is named `name`. */
NERVE_API nerve_node nerve_batchnorm_layer(nerve_graph *g, const char *name, nerve_node x,
                                           const nerve_batchnorm_options *options,
                                           nerve_error *err);
typedef struct nerve_conv_layer_options {
    int64_t filters;             /* output channels */
    int64_t kernel[2];           /* (kh, kw) */
    nerve_conv2d_options conv;   /* stride, padding, dilation, groups, ...: start from
                                    nerve_conv2d_options_default (stride 1, dilation 1) */
    bool no_bias;                /* false (the default): a bias */
    nerve_init init;             /* weight initialiser (zeroed: PyTorch's default) */
    nerve_init bias_init;        /* bias initialiser (zeroed: PyTorch's default) */
} nerve_conv_layer_options;

/* filters and kernel 0 (to be set), nerve_conv2d_options_default, a bias,
 * default initialisers. */
NERVE_API nerve_conv_layer_options nerve_conv_layer_options_default(void);
/* nn.Conv2d: parameters <name>.weight [filters, C_in / groups, kh, kw] and
 * <name>.bias [filters], initialised from rng (weight first). The default
 * initialisers are nn.Conv2d's: the weight kaiming_uniform(a=sqrt(5)), i.e.
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the bias U(-1/sqrt(fan_in),
 * 1/sqrt(fan_in)), with fan_in = C_in / groups * kh * kw. The output node is
 * named `name`. */
NERVE_API nerve_node nerve_conv2d_layer(nerve_graph *g, const char *name, nerve_node x,
                                        const nerve_conv_layer_options *options, nerve_rng *rng,
                                        nerve_error *err);
/* nn.ConvTranspose2d: <name>.weight [C_in, filters / groups, kh, kw] and
 * <name>.bias [filters]; defaults as nn.ConvTranspose2d, whose fan_in is
 * computed from the weight's dim 1: filters / groups * kh * kw. */
NERVE_API nerve_node nerve_conv_transpose2d_layer(nerve_graph *g, const char *name, nerve_node x,
                                                  const nerve_conv_layer_options *options,
                                                  nerve_rng *rng, nerve_error *err);

typedef struct nerve_embedding_options {
    int64_t vocab;         /* token ids 0 .. vocab - 1 */
    int64_t dim;           /* the vector of each id */
    bool padding;          /* padding_idx is set */
    int64_t padding_idx;   /* in [-vocab, vocab), negative from the end, as torch: the row
                              starts at zero and gets no gradient */
    nerve_init init;       /* zeroed: N(0, 1), nn.Embedding's */
} nerve_embedding_options;

/* nn.Embedding: parameter <name>.weight [vocab, dim], initialised from rng;
 * ids [N, ...] -> [N, ..., dim] (nerve_embedding). The output node is named
 * `name`. */
NERVE_API nerve_node nerve_embedding_layer(nerve_graph *g, const char *name, nerve_node ids,
                                           const nerve_embedding_options *options, nerve_rng *rng,
                                           nerve_error *err);

typedef struct nerve_recurrent_options {
    nerve_recurrent_cell cell;
    int64_t hidden;     /* H, >= 1 */
    int64_t layers;     /* stacked layers, each reading the previous one's sequence (1) */
    bool bidirectional; /* a reverse direction beside each forward one (false) */
    bool last;          /* output the final state only, not the whole sequence (false) */
    double dropout;     /* dropout on every layer's output but the last, in [0, 1) (0) */
    bool no_bias;       /* false (the default): bias_ih and bias_hh */
    nerve_init init;    /* every weight's initialiser (zeroed: PyTorch's default) */
} nerve_recurrent_options;

/* PyTorch's defaults, shown above, for a cell of `hidden` units. */
NERVE_API nerve_recurrent_options nerve_recurrent_options_default(nerve_recurrent_cell cell,
                                                                  int64_t hidden);
/* nn.RNN / nn.LSTM / nn.GRU(batch_first=True) on x [N, T, F], with their
 * state_dict: <name>.weight_ih_l<k> [G H, F or D H], <name>.weight_hh_l<k>
 * [G H, H], <name>.bias_ih_l<k>, <name>.bias_hh_l<k> [G H] for layer k, and
 * the same with the suffix _reverse for the reverse directions (D = 2 when
 * bidirectional, else 1). Every tensor is initialised from rng in that
 * order, by default from U(-1/sqrt(H), 1/sqrt(H)) as PyTorch; options->init
 * replaces that law for the weights (the biases keep it). The output, named
 * `name`, is [N, T, D H] (each step's forward state, then its reverse
 * state), or with options->last [N, D H]: PyTorch's h_n of the last layer,
 * forward then reverse. Layer k's ops are <name>_l<k> and
 * <name>_l<k>_reverse (see nerve_recurrent for the carried state); below
 * the top, its output is <name>_l<k>_out when bidirectional, then
 * <name>_l<k>_dropout with dropout. Dropout with one layer does nothing,
 * as in PyTorch. */
NERVE_API nerve_node nerve_recurrent_layer(nerve_graph *g, const char *name, nerve_node x,
                                           const nerve_recurrent_options *options, nerve_rng *rng,
                                           nerve_error *err);

/* ---------------------------------------------------------------- optimizers */

/* An optimizer updates the trainable entries of a graph's flat parameter
 * buffer from its flat gradient buffer with one of torch.optim's algorithms
 * (docs/reference.md gives each formula). It allocates its state once, when
 * created: no step allocates. */
typedef struct nerve_optimizer nerve_optimizer;

typedef enum nerve_optimizer_kind {
    NERVE_OPTIMIZER_SGD = 0,  /* torch.optim.SGD: momentum, dampening, nesterov */
    NERVE_OPTIMIZER_ADAGRAD,  /* torch.optim.Adagrad */
    NERVE_OPTIMIZER_RMSPROP,  /* torch.optim.RMSprop */
    NERVE_OPTIMIZER_ADAM,     /* torch.optim.Adam: weight decay added to the gradient (L2) */
    NERVE_OPTIMIZER_ADAMW     /* torch.optim.AdamW: decoupled weight decay */
} nerve_optimizer_kind;

/* The hyperparameters of every optimizer, named as PyTorch's arguments (betas
 * as beta1, beta2); each kind reads those it has. Start from
 * nerve_optimizer_defaults, which gives PyTorch's defaults. */
typedef struct nerve_optimizer_options {
    nerve_optimizer_kind kind;
    double lr;
    double weight_decay;              /* L2: weight_decay * w added to the gradient;
                                         AdamW: w *= 1 - lr * weight_decay */
    double momentum;                  /* sgd, rmsprop */
    double dampening;                 /* sgd */
    bool nesterov;                    /* sgd: needs momentum > 0 and dampening 0 */
    double lr_decay;                  /* adagrad */
    double initial_accumulator_value; /* adagrad */
    double alpha;                     /* rmsprop: smoothing constant */
    bool centered;                    /* rmsprop */
    double beta1, beta2;              /* adam, adamw */
    bool amsgrad;                     /* adam, adamw */
    bool no_bias_correction;          /* adam, adamw: skip the 1 - beta^t corrections
                                         ([optimizer] bias_correction = 0) */
    double eps;                       /* adagrad, rmsprop, adam, adamw */
    /* Regularisation and gradient control, in PyTorch's order: an L1 penalty
     * on the loss adds l1 * sign(w) to the gradient; then the gradient is
     * clipped (clip_grad_value_ or clip_grad_norm_, one or the other); then
     * the optimizer applies weight_decay in its update. */
    double l1;
    double clip_value;                /* > 0: clamp each element to [-clip_value, clip_value] */
    double clip_norm;                 /* > 0: scale all by clip_norm / (norm + 1e-6) when below 1 */
    bool decay_bias;                  /* false: biases (<layer>.bias) get neither weight_decay
                                         nor l1 */
} nerve_optimizer_options;

/* PyTorch's defaults for kind: lr 0.01 (sgd, adagrad, rmsprop) or 0.001 (adam,
 * adamw), weight_decay 0 (adamw: 0.01), alpha 0.99, betas 0.9 and 0.999, eps
 * 1e-10 (adagrad) or 1e-8, decay_bias on, everything else 0 / off. */
NERVE_API nerve_optimizer_options nerve_optimizer_defaults(nerve_optimizer_kind kind);
/* An optimizer over g's parameters (g's parameters must all be declared).
 * Bad options are an error naming the option. */
NERVE_API nerve_optimizer *nerve_optimizer_new(nerve_graph *g,
                                               const nerve_optimizer_options *options,
                                               nerve_error *err);

typedef struct nerve_sgd_options {
    double lr;
    double momentum; /* 0 for plain SGD */
} nerve_sgd_options;

/* Shorthand for nerve_optimizer_new with SGD's defaults, lr and momentum:
 * v = momentum * v + g, p -= lr * v (torch.optim.SGD, dampening 0). */
NERVE_API nerve_optimizer *nerve_sgd_new(nerve_graph *g, const nerve_sgd_options *options,
                                         nerve_error *err);
/* Per-parameter regularisation, as a PyTorch parameter group: weight_decay
 * and l1 for parameter node `param` replace the options' values (a layer's
 * override). Biases stay exempt when decay_bias is off. */
NERVE_API nerve_status nerve_optimizer_set_regularization(nerve_optimizer *opt, nerve_node param,
                                                          double weight_decay, double l1,
                                                          nerve_error *err);
/* One update of every trainable parameter, run by the graph's device: the
 * status of its optimizer_step kernel (NERVE_OK on the CPU). */
NERVE_API nerve_status nerve_optimizer_step(nerve_optimizer *opt);
NERVE_API void nerve_optimizer_set_lr(nerve_optimizer *opt, double lr);
NERVE_API double nerve_optimizer_lr(const nerve_optimizer *opt);
NERVE_API int64_t nerve_optimizer_steps(const nerve_optimizer *opt);
/* The global 2-norm of the gradients the last step used, before clipping and
 * with the L1 term: what torch.nn.utils.clip_grad_norm_ returns. */
NERVE_API double nerve_optimizer_grad_norm(const nerve_optimizer *opt);
/* Bytes of state (momentum, moments, ...) this process keeps: for every
 * parameter, or with ZeRO-1 (nerve_train_options.zero) for its shard. */
NERVE_API size_t nerve_optimizer_state_bytes(const nerve_optimizer *opt);
NERVE_API const char *nerve_optimizer_name(const nerve_optimizer *opt);
NERVE_API void nerve_optimizer_free(nerve_optimizer *opt);

/* Learning-rate schedules, torch.optim.lr_scheduler's. t counts intervals
 * (epochs, or optimizer steps with NERVE_SCHEDULE_PER_STEP) from 0. */
typedef enum nerve_schedule_kind {
    NERVE_SCHEDULE_CONSTANT = 0,
    NERVE_SCHEDULE_STEP,            /* StepLR: lr * gamma^floor(t / step_size) */
    NERVE_SCHEDULE_MULTISTEP,       /* MultiStepLR: lr * gamma^(milestones reached) */
    NERVE_SCHEDULE_EXPONENTIAL,     /* ExponentialLR: lr * gamma^t */
    NERVE_SCHEDULE_COSINE,          /* CosineAnnealingLR(T_max, eta_min) */
    NERVE_SCHEDULE_COSINE_RESTARTS, /* CosineAnnealingWarmRestarts(T_0, T_mult, eta_min) */
    NERVE_SCHEDULE_PLATEAU          /* ReduceLROnPlateau on the validation loss (per epoch) */
} nerve_schedule_kind;

typedef enum nerve_schedule_interval {
    NERVE_SCHEDULE_PER_EPOCH = 0,
    NERVE_SCHEDULE_PER_STEP
} nerve_schedule_interval;

#define NERVE_SCHEDULE_MAX_MILESTONES 32

typedef struct nerve_schedule {
    nerve_schedule_kind kind;
    int64_t step_size;              /* step */
    double gamma;                   /* step, multistep, exponential */
    nerve_schedule_interval interval;
    int64_t milestones[NERVE_SCHEDULE_MAX_MILESTONES]; /* multistep: increasing */
    int milestone_count;
    int64_t t_max;                  /* cosine */
    int64_t t_0, t_mult;            /* cosine_restarts */
    double eta_min;                 /* cosine, cosine_restarts */
    /* Linear warm-up in front of any schedule (LinearLR chained by
     * SequentialLR): lr * (f + (1 - f) * t / warmup) for t < warmup, then the
     * schedule from its own t = 0. */
    int64_t warmup;
    double warmup_start_factor;     /* f, in (0, 1] */
    /* plateau: reduce lr by factor after more than `patience` epochs without
     * a relative improvement of threshold, then wait cooldown epochs */
    double factor, threshold, min_lr;
    int64_t patience, cooldown;
} nerve_schedule;

/* PyTorch's defaults for kind: gamma 0.1, T_mult 1, eta_min 0, warm-up off
 * with start factor 1/3, factor 0.1, patience 10, threshold 1e-4, cooldown 0,
 * min_lr 0; per epoch. Required values (step_size, milestones, T_max, T_0)
 * are left 0. */
NERVE_API nerve_schedule nerve_schedule_defaults(nerve_schedule_kind kind);
/* The learning rate of interval t in closed form (the plateau schedule: its
 * rate before any reduction; nerve_scheduler follows the reductions). */
NERVE_API double nerve_schedule_lr(const nerve_schedule *s, double base_lr, int64_t t);

/* The schedule in one line of cfg words, e.g. "cosine, interval step, T_max 12,
 * eta_min 0" (only the keys its type reads; warmup when on). Two schedules
 * with the same text give the same rates. Returns buf. */
NERVE_API const char *nerve_schedule_describe(const nerve_schedule *s, char *buf, size_t size);

/* A schedule being followed: the rate of the current interval, and the
 * plateau schedule's memory of the validation loss. */
typedef struct nerve_scheduler {
    nerve_schedule schedule;
    double base_lr;
    int64_t t;             /* intervals completed */
    double lr;             /* the rate of interval t */
    double best;           /* plateau: the best metric so far */
    int64_t bad_intervals, cooldown_left;
} nerve_scheduler;

NERVE_API void nerve_scheduler_init(nerve_scheduler *s, const nerve_schedule *schedule,
                                    double base_lr);
/* Ends interval t (metric: its validation loss, read by plateau only) and
 * returns the rate of interval t + 1. */
NERVE_API double nerve_scheduler_step(nerve_scheduler *s, double metric);

/* ---------------------------------------------------------------- models */

/* A model is a network read from a .cfg file: its graph (input, layers,
 * loss), and the [net], [data], [optimizer] and [loss] settings that say how
 * to train it. docs/config.md documents every key. */
typedef struct nerve_model nerve_model;

/* The [loss] types; their cfg spellings are nerve_loss_name's. */
typedef enum nerve_loss_kind {
    NERVE_LOSS_SOFTMAX_CROSS_ENTROPY = 0,
    NERVE_LOSS_MSE,
    NERVE_LOSS_L1,
    NERVE_LOSS_HUBER,
    NERVE_LOSS_SMOOTH_L1,
    NERVE_LOSS_BCE,
    NERVE_LOSS_BCE_WITH_LOGITS,
    NERVE_LOSS_NLL,
    NERVE_LOSS_FOCAL,
    NERVE_LOSS_DISTILLATION,
    NERVE_LOSS_LARGE_MARGIN_SOFTMAX,
    NERVE_LOSS_COUNT
} nerve_loss_kind;

/* "softmax_cross_entropy", "mse", "l1", ...; "unknown" out of range. */
NERVE_API const char *nerve_loss_name(nerve_loss_kind kind);

typedef enum nerve_normalize {
    NERVE_NORMALIZE_SCALE = 0, /* inputs / scale */
    NERVE_NORMALIZE_STANDARDIZE, /* (inputs / scale - mean) / std, from the training set */
    NERVE_NORMALIZE_MINUS_ONE_ONE /* inputs / scale * 2 - 1: [0, scale] to a tanh's [-1, 1] */
} nerve_normalize;

typedef struct nerve_data_settings {
    char format[8];           /* "idx", "csv", "text" or "adding" */
    char train[1024], train_labels[1024], test[1024], test_labels[1024];
    double scale;
    nerve_normalize normalize;
    int64_t validation;       /* samples (text: characters) held out of train */
    nerve_split validation_split; /* idx, csv: which samples `validation` holds out */
    char validation_file[1024], validation_labels[1024]; /* idx, csv: a validation set of
                                 its own, instead of `validation` */
    int64_t train_limit, test_limit; /* idx, csv: train on the first N of the rest (0: all),
                                      * test on the first N of test (0: all) */
    nerve_csv_options csv;
    int64_t length;           /* adding: steps per sample */
    int64_t train_samples, test_samples; /* adding: samples generated */
} nerve_data_settings;

typedef struct nerve_model_settings {
    nerve_shape input;        /* per sample: 784 or 1x28x28 */
    int64_t batch;            /* 0: the whole training set (batch = full) */
    int64_t bptt;             /* truncated BPTT over a text stream cut into `batch`
                                 lanes, chunks of bptt characters; 0: off */
    int epochs;
    uint64_t seed;
    char backend[16];         /* [net] backend (nerve_backend_name); "": not set */
    nerve_data_settings data;
    nerve_optimizer_options optimizer; /* [optimizer]: type, lr, regularisation, clipping */
    nerve_schedule schedule;
    nerve_loss_kind loss;
    nerve_loss_options loss_options; /* weights are owned by the model */
    nerve_augment_options augment;   /* [augment]: applied to training batches only */
    int64_t patience;         /* [train] patience: epochs without improvement before
                                 stopping; 0: no early stopping */
    bool monitor_accuracy;    /* [train] monitor: val_accuracy (else val_loss) */
} nerve_model_settings;

/* Parses and validates path with the "section.key=value" overrides applied
 * (NULL-terminated list, may be NULL), builds the graph and initialises the
 * weights from [net] seed. Every error names file:line. */
NERVE_API nerve_status nerve_model_load(const char *path, const char *const *overrides,
                                        nerve_model **out, nerve_error *err);
NERVE_API void nerve_model_free(nerve_model *m);
NERVE_API const nerve_model_settings *nerve_model_settings_of(const nerve_model *m);
/* For command-line flags applied after loading (--epochs, --lr, ...). */
NERVE_API nerve_model_settings *nerve_model_settings_mut(nerve_model *m);
NERVE_API nerve_graph *nerve_model_graph(nerve_model *m);
/* The optimizer nerve_train made for m ([optimizer]), NULL before the first
 * training. */
NERVE_API nerve_optimizer *nerve_model_optimizer(nerve_model *m);
NERVE_API nerve_node nerve_model_input(const nerve_model *m);
NERVE_API nerve_node nerve_model_output(const nerve_model *m);  /* logits or predictions */
NERVE_API nerve_node nerve_model_target(const nerve_model *m);  /* labels or regression targets */
NERVE_API nerve_node nerve_model_loss(const nerve_model *m);
/* What prediction reports: softmax(output) for the class-label losses (and
 * distillation), sigmoid(output) for bce_with_logits, output otherwise. */
NERVE_API nerve_node nerve_model_prediction(const nerve_model *m);
/* Layers in cfg order: name, type ("dense", "activation", ...) and output node. */
NERVE_API int nerve_model_layer_count(const nerve_model *m);
NERVE_API const char *nerve_model_layer_name(const nerve_model *m, int i);
NERVE_API const char *nerve_model_layer_type(const nerve_model *m, int i);
NERVE_API nerve_node nerve_model_layer_node(const nerve_model *m, int i);
/* Output classes: the last layer's width (its last dimension) for the
 * class-label losses, 2 for bce and bce_with_logits with one output; 0 for
 * regression, distillation and multi-label bce (no accuracy). */
NERVE_API int nerve_model_classes(const nerve_model *m);
/* Class labels per sample: T for a per-step classifier (output [N, T, C],
 * targets [N, T]: a label per step), 1 for other classifiers, 0 without
 * classes. Accuracy and the confusion matrix count every label. */
NERVE_API int64_t nerve_model_label_steps(const nerve_model *m);

/* Loads the train (with its validation split) and test sets that [data]
 * names, normalised as configured: the test set and validation split use the
 * training set's statistics. Any of the out pointers may be NULL. */
NERVE_API nerve_status nerve_model_load_data(const nerve_model *m, nerve_dataset *train,
                                             nerve_dataset *val, nerve_dataset *test,
                                             nerve_error *err);
/* When the model's input is token ids (it feeds an [embedding] or
 * [one_hot]: nerve_graph_token_limit), checks that each value of the count
 * samples in inputs (count x the input's elements) is an integer id in
 * [0, limit); otherwise an error "<source>: sample i, step t: token id ...".
 * NERVE_OK for any other model. nerve_model_load_data, nerve_train,
 * nerve_evaluate and nerve_predict check their data with it; a reader that
 * makes data sets of its own can call it with its file name. */
NERVE_API nerve_status nerve_model_check_tokens(const nerve_model *m, const float *inputs,
                                                int64_t count, const char *source,
                                                nerve_error *err);
/* Normalises ds as the training data were (after nerve_model_load_data or
 * with the statistics saved in the weights' metadata). */
NERVE_API void nerve_model_normalize(const nerve_model *m, nerve_dataset *ds);
/* The normalisation as one affine map: the network's input is
 * pixel * gain + offset (pixel as the file holds it). */
NERVE_API void nerve_model_input_transform(const nerve_model *m, double *gain, double *offset);
/* The normalisation statistics, to save beside the weights. */
NERVE_API void nerve_model_normalization(const nerve_model *m, double *mean, double *std);
NERVE_API void nerve_model_set_normalization(nerve_model *m, double mean, double std);

/* Text models: the vocabulary of the training text, set by
 * nerve_model_load_data or restored from the weights; size 0 otherwise. */
NERVE_API const nerve_vocab *nerve_model_vocab(const nerve_model *m);
/* Replaces the model's vocabulary with a copy of vocab. */
NERVE_API nerve_status nerve_model_set_vocab(nerve_model *m, const nerve_vocab *vocab,
                                             nerve_error *err);
/* Text data: the corpus baselines nerve_model_load_data measured (on the
 * validation text, or the training text without one); false otherwise. */
NERVE_API bool nerve_model_text_baseline(const nerve_model *m, nerve_text_baseline *out);
/* Whether [data] has a test set: a test file, or generated test samples. */
NERVE_API bool nerve_model_has_test_data(const nerve_model *m);

/* The [augment] pipeline for the model's training data (normalised as
 * nerve_model_load_data does); its stream is derived from seed ([net] seed)
 * apart from the weights' and the shuffling's. An error when [augment]
 * enables nothing. */
NERVE_API nerve_augment *nerve_model_augment_new(const nerve_model *m, uint64_t seed,
                                                 nerve_error *err);

/* Weights: the graph's parameters plus metadata (normalisation statistics,
 * a text model's vocabulary), names as PyTorch's state_dict. */
NERVE_API nerve_status nerve_model_save_weights(nerve_model *m, const char *path, nerve_error *err);
NERVE_API nerve_status nerve_model_load_weights(nerve_model *m, const char *path, nerve_error *err);

/* ONNX (docs/onnx.md). Export writes the network in eval mode as standard
 * ONNX operators, atomically: input "input" [N, sample...] as the data files
 * hold it (the normalisation applied inside unless no_normalize), output
 * "probabilities" (what nerve_predict reports) or, with logits (or for
 * regression), "output". Parameters keep their names. Layers ONNX cannot
 * express are an error naming the layer. */
typedef struct nerve_onnx_export_options {
    int opset;          /* 13..17; 0: 17 */
    bool logits;        /* the last layer's output instead of the prediction */
    bool no_normalize;  /* leave the [data] normalisation to the caller */
    int64_t batch;      /* a fixed batch size; 0: dynamic ("N") */
} nerve_onnx_export_options;
NERVE_API nerve_status nerve_model_export_onnx(nerve_model *m, const char *path,
                                               const nerve_onnx_export_options *options,
                                               nerve_error *err);
/* Import: an ONNX model nerve can express, as a .cfg (cfg_path) and its
 * weights (weights_path, safetensors). Anything else is an error naming the
 * node, its operator and the opset. */
NERVE_API nerve_status nerve_onnx_import(const char *onnx_path, const char *cfg_path,
                                         const char *weights_path, nerve_error *err);

/* ---------------------------------------------------------------- generation */

/* An index drawn from softmax(logits / temperature) over n logits with rng
 * (max-subtracted, in double); temperature 0 takes the argmax (the first
 * largest) and draws nothing. */
NERVE_API int64_t nerve_sample_logits(const nerve_real *logits, int64_t n, double temperature,
                                      nerve_rng *rng);

typedef struct nerve_generate_options {
    const uint32_t *prime;   /* characters fed first (may be NULL with prime_length 0) */
    int64_t prime_length;
    int64_t length;          /* characters to draw after the prime */
    double temperature;      /* >= 0; 0: always the most likely character */
    uint64_t seed;
    /* Called with every character, the prime's included, in order. */
    void (*emit)(uint32_t c, void *user);
    void *user;
} nerve_generate_options;

/* Samples text from a character model built with an input of one token
 * ([net] input = 1) and a vocabulary (from its weights): in eval mode, the
 * recurrent state carried from character to character after a reset, it
 * feeds the prime one character at a time, then draws `length` characters
 * from its output, each fed back in. Without a prime the first character is
 * drawn uniformly from the vocabulary. The last layer must output one logit
 * per character of the vocabulary. A prime character outside the vocabulary
 * is an error naming it. */
NERVE_API nerve_status nerve_model_generate(nerve_model *m, const nerve_generate_options *options,
                                            nerve_error *err);

/* ---------------------------------------------------------------- training */

typedef struct nerve_progress {
    int epoch, epochs;          /* 1-based */
    int64_t step, steps_per_epoch; /* 1-based within the epoch */
    int64_t global_step;
    double loss, accuracy;      /* running means over this epoch */
    double samples_per_second;
    double elapsed_seconds;
} nerve_progress;

typedef struct nerve_epoch_report {
    int epoch;
    double train_loss, train_accuracy;
    double val_loss, val_accuracy; /* NaN without a validation set */
    double lr;                     /* the rate of the epoch's last step */
    double seconds, samples_per_second;
    double grad_norm;              /* mean over the epoch's steps of the gradient norm
                                      before clipping (nerve_optimizer_grad_norm) */
} nerve_epoch_report;

/* What training does with a step whose loss or gradients are not finite
 * (checked before the update). */
typedef enum nerve_on_nan {
    /* Stop with NERVE_ERR_NUMERIC, naming the step and the first layer whose
     * output (or, if all outputs are finite, the gradient) is not finite. */
    NERVE_ON_NAN_STOP = 0,
    /* Skip the update (warning through on_warning); stop as above after
     * NERVE_MAX_NAN_SKIPS consecutive skipped steps. */
    NERVE_ON_NAN_SKIP
} nerve_on_nan;

#define NERVE_MAX_NAN_SKIPS 10

typedef struct nerve_train_options {
    int epochs;
    /* Early stopping on the validation set: stop after `patience` epochs in a
     * row without a better val_loss (or val_accuracy with monitor_accuracy);
     * 0: off. save_best_path: the best epoch's weights, saved atomically at
     * each improvement; restore_best: end with the best epoch's weights. */
    int64_t patience;
    bool monitor_accuracy, restore_best;
    const char *save_best_path;
    int64_t batch;           /* 0: the whole training set (batch gradient descent) */
    int64_t max_steps;       /* stop after this many steps in all (0: no limit) */
    bool shuffle;            /* reshuffle every epoch (seeded); zeroed: off, so start from
                                nerve_train_options_from, which turns it on */
    uint64_t seed;
    const char *log_path;    /* CSV metrics log (docs/cli.md, "nerve train"), or NULL */
    int64_t log_every;       /* also a log row every N steps (0: per epoch only) */
    void (*on_progress)(const nerve_progress *p, void *user);
    void (*on_epoch)(const nerve_epoch_report *r, void *user);
    /* Called with each training batch's sample indices once it is loaded,
     * before its forward pass: the place to fill inputs of the caller's own
     * (a teacher's logits for distillation). NULL: none. */
    void (*on_batch)(const int64_t *index, int64_t n, void *user);
    void *user;
    /* The node trained on (e.g. a loss built on the model's output); 0: the
     * model's loss. Validation always reports the model's loss. */
    nerve_node loss;
    /* Checkpoints (nerve_checkpoint_save): written to checkpoint_path, when
     * not NULL, every checkpoint_every steps (0: at every epoch's end) and
     * when training ends or stops. */
    const char *checkpoint_path;
    int64_t checkpoint_every;
    /* A checkpoint to continue from (nerve_checkpoint_load), or NULL. */
    const char *resume_path;
    /* A non-finite loss or gradient: stop (the default) or skip the step. */
    nerve_on_nan on_nan;
    /* Polled after every step: when *stop_flag is non-zero, training writes
     * the checkpoint (if any) and returns NERVE_ERR_STOPPED. The library
     * installs no signal handler: the caller's handler sets the flag. */
    volatile sig_atomic_t *stop_flag;
    /* Called with a one-line warning (a skipped step), or NULL. */
    void (*on_warning)(const char *message, void *user);
    /* Data-parallel training (docs/distributed.md): every rank of comm
     * calls nerve_train with the same model, data and options, and they
     * train one model. batch is the global batch: each rank takes a
     * contiguous slice of it, batch norm is synchronised, gradients are
     * summed weighted by slice size, and the step's loss, non-finite check
     * and stop flag are reduced, so every rank takes the same decisions.
     * Only rank 0 writes the log and the checkpoint. NULL: this process
     * alone. batch_per_rank: batch is each rank's (the global batch is
     * size x batch, Horovod's convention). */
    nerve_comm *comm;
    bool batch_per_rank;
    /* 1: ZeRO stage 1 over comm's ranks: each keeps the optimizer state of
     * 1/size of the parameters (gradients reduce-scattered, the shard
     * updated, the parameters all-gathered); the same training as 0.
     * Checkpoints hold the whole state and resume with or without it. */
    int zero;
} nerve_train_options;

/* Options from the model's settings: epochs, batch, seed; shuffle on. */
NERVE_API nerve_train_options nerve_train_options_from(const nerve_model *m);

/* Mini-batch training over train (last partial batch included); val may be
 * NULL (not with a plateau schedule). The [schedule] steps after every epoch,
 * or after every step when its interval is per step. Allocates everything up
 * front: no allocation inside a step (checkpoints may allocate). Stops with
 * NERVE_ERR_NUMERIC on a non-finite loss or gradient (options->on_nan), and
 * with NERVE_ERR_STOPPED when *options->stop_flag is set, after the current
 * step and its checkpoint. With options->resume_path it continues the run a
 * checkpoint holds, up to options->epochs (and max_steps, counted from the
 * start of the run); the checkpoint must match the model (tensor names and
 * shapes), the optimizer kind, the batch, the training set's size and the
 * seed, and the error names the file and what differs. The model's
 * [optimizer] lr and [schedule] may differ from the checkpoint's: the rate
 * is recomputed at the run's position and used from the resumed step on. A
 * checkpoint already at options->epochs or max_steps is an error (nothing to
 * train); nerve_checkpoint_info_read gives the epochs the run had.
 * A stream (train->lanes > 0, a text cut for [net] bptt) trains in its order,
 * never shuffled, with batches of exactly `lanes` samples (options->batch 0
 * or lanes), carrying the recurrent state from batch to batch
 * (nerve_graph_set_carry_state), reset at every epoch's start; carrying is
 * off again when training ends. */
NERVE_API nerve_status nerve_train(nerve_model *m, const nerve_dataset *train,
                                   const nerve_dataset *val, const nerve_train_options *options,
                                   nerve_error *err);

/* ---------------------------------------------------------------- GANs */

/* A generative adversarial network (Goodfellow et al. 2014) is two models
 * trained against each other, each with its own graph and its own
 * [optimizer]: a generator G turns noise z ~ N(0, 1) (its input, [net]
 * input = 100) into a sample of the discriminator's input shape; the
 * discriminator D ([loss] type = bce_with_logits, one output: a logit) tells
 * real samples (target 1) from generated ones (target 0). */
typedef enum nerve_gan_loss {
    /* G minimises -log D(G(z)) (BCE against target 1): strong gradients
     * while D wins, the usual choice. */
    NERVE_GAN_NON_SATURATING = 0,
    /* G minimises log(1 - D(G(z))) = -softplus(logit), the original minimax
     * game; its gradient on the logit, -sigmoid(logit), vanishes when D
     * confidently rejects the fakes. */
    NERVE_GAN_MINIMAX
} nerve_gan_loss;

typedef struct nerve_gan_report {
    int epoch;                  /* 1-based */
    int64_t step;               /* generator steps so far, in all */
    /* Means over the epoch (or, in a per-step log row, the last step):
     * D's loss is BCE on the real batch plus BCE on the fake one; G's is its
     * objective above (negative for minimax). */
    double discriminator_loss, generator_loss;
    /* D's accuracy on the real samples (logit > 0) and on the fakes
     * (logit <= 0), measured in its training steps. */
    double real_accuracy, fake_accuracy;
    double seconds;
} nerve_gan_report;

typedef struct nerve_gan_options {
    int epochs;                 /* passes over the real samples */
    int64_t batch;              /* real samples per D step, and as many fakes */
    int k;                      /* D steps per G step (>= 1) */
    nerve_gan_loss loss;
    uint64_t seed;              /* the noise and the real samples' order */
    int64_t max_steps;          /* stop after this many G steps (0: no limit) */
    const char *log_path;       /* CSV: a row per epoch (docs/cli.md, "nerve gan"), or NULL */
    int64_t log_every;          /* also a row every N G steps (0: per epoch only) */
    /* After each epoch; a status other than NERVE_OK (with err set) stops
     * training and is returned. NULL: none. */
    nerve_status (*on_epoch)(const nerve_gan_report *r, void *user, nerve_error *err);
    void *user;
} nerve_gan_options;

/* epochs, batch and seed from D's [net]; k = 1, non-saturating. */
NERVE_API nerve_gan_options nerve_gan_options_from(const nerve_model *discriminator);

/* Trains G and D on the real samples (normalised as D's input, e.g. [data]
 * normalize = minus_one_one for a tanh generator; the last partial batch of
 * each shuffled epoch is left out). Each D step: fakes G(z) (G in training
 * mode), D's BCE on a real batch against 1 and on the fakes against 0, both
 * backward passes adding into D's gradients, one D optimizer step. Every
 * k-th D step is followed by a G step on the same fakes: D (its parameters
 * frozen) scores them, the gradient of G's loss reaches D's input
 * (nerve_graph_set_input_grad) and goes on into G
 * (nerve_graph_backward_from); G's optimizer steps. D must not have been
 * planned yet, or planned with its input taking a gradient. Everything is
 * allocated before the first step. [schedule] is not applied. */
NERVE_API nerve_status nerve_train_gan(nerve_model *generator, nerve_model *discriminator,
                                       const nerve_dataset *real, const nerve_gan_options *options,
                                       nerve_error *err);

/* G's samples for count noise vectors (count x G's input size, in eval
 * mode), written as D's input values (count x G's output size). */
NERVE_API nerve_status nerve_gan_sample(nerve_model *generator, const float *noise, int64_t count,
                                        float *samples, nerve_error *err);

/* How a classifier sees a set of inputs (an Inception-score-like check of
 * generated images): from its class probabilities p(y|x), the mean of
 * max_y p(y|x) (confidence), the entropy in nats of the mean distribution
 * p(y) (spread over the classes: ln C when even), and
 * exp(E_x KL(p(y|x) || p(y))) (1 to C: high when each input is confidently
 * one class and the classes are evenly used). */
typedef struct nerve_class_score {
    int64_t count;
    int classes;
    double mean_max_probability;
    double class_entropy;
    double inception_score;
} nerve_class_score;

/* Scores count inputs, already normalised for the classifier (nerve_predict). */
NERVE_API nerve_status nerve_class_score_of(nerve_model *classifier, const float *inputs,
                                            int64_t count, nerve_class_score *out,
                                            nerve_error *err);

/* ---------------------------------------------------------------- checkpoints */

/* A checkpoint is a safetensors file holding the whole state of a training
 * run: the parameters and buffers under their names (so it loads as weights,
 * nerve_model_load_weights), the optimizer's state as
 * "optimizer.<param>.<state>" (PyTorch's names: exp_avg, exp_avg_sq,
 * max_exp_avg_sq, momentum_buffer, square_avg, grad_avg, sum), a stream's
 * carried recurrent state as "state.<node>.h" / ".c", and in the metadata
 * the position (epoch, step), the optimizer's step count and rate, the
 * schedule's state, the shuffling generator, the partial epoch's totals, and
 * the normalisation and vocabulary. The sample order is not stored: it is
 * replayed from the seed and checked against the stored shuffling
 * generator. Dropout's, rrelu's and the augmentation's noise has no state:
 * it is a function of the seed and the position (nerve_graph_set_position).
 * Format 2 (this noise) replaced format 1 (sequential dropout and
 * augmentation generators, stored); a format 1 checkpoint is refused.
 * nerve_train writes checkpoints (nerve_train_options.checkpoint_path)
 * atomically and resumes from one (resume_path) bit-identically, with the
 * same thread count. docs/cli.md, "Checkpoints", gives the details. */
#define NERVE_CHECKPOINT_FORMAT "2"

/* The position a checkpoint file holds, read from its metadata only: the
 * epoch in progress (from 1), the steps done in it and in all; and the
 * settings of the run that wrote it, which a resumed run may change
 * (docs/cli.md, "What a resume may change"). A checkpoint of an older nerve
 * has no settings: epochs is 0 then. */
typedef struct nerve_checkpoint_info {
    int epoch;
    int64_t epoch_step, global_step;
    int epochs;                /* the run's epochs (nerve_train_options.epochs); 0: unknown */
    double base_lr;            /* [optimizer] lr, the rate the schedule starts from */
    double lr;                 /* the rate of the next step */
    double clip_norm, clip_value;
    nerve_on_nan on_nan;
    char schedule[256];        /* nerve_schedule_describe */
} nerve_checkpoint_info;

NERVE_API nerve_status nerve_checkpoint_info_read(const char *path, nerve_checkpoint_info *info,
                                                  nerve_error *err);

typedef struct nerve_evaluation {
    int64_t count;           /* samples */
    int64_t labels;          /* labels scored: count, or count x T for a per-step classifier */
    double loss;
    double accuracy;         /* classification only */
    double error_rate;       /* the 0-1 loss averaged: 1 - accuracy */
    int classes;
    double *class_accuracy;  /* [classes] */
    int64_t *confusion;      /* [classes][classes], row = true class */
} nerve_evaluation;

/* In eval mode, batch by batch (batch 0: [net] batch). A stream
 * (ds->lanes > 0) is read in order in batches of its lanes, its state
 * carried from a reset at the start (and reset again at the end). */
NERVE_API nerve_status nerve_evaluate(nerve_model *m, const nerve_dataset *ds, int64_t batch,
                                      nerve_evaluation *out, nerve_error *err);
NERVE_API void nerve_evaluation_free(nerve_evaluation *e);
/* nerve_evaluate over the ranks of comm: each evaluates a contiguous shard
 * of ds and the sums (loss, confusion counts) are all-reduced, so every rank
 * gets the whole set's evaluation. A stream is evaluated whole everywhere. */
NERVE_API nerve_status nerve_evaluate_sharded(nerve_model *m, const nerve_dataset *ds,
                                              int64_t batch, nerve_comm *comm,
                                              nerve_evaluation *out, nerve_error *err);

/* Runs the network in eval mode on count samples (inputs as in a dataset,
 * already normalised) and writes count x nerve_model_output_size values:
 * class probabilities (softmax of the logits over the last dimension: T x C
 * per sample for a per-step classifier) for classifiers, raw outputs for
 * regression. */
NERVE_API nerve_status nerve_predict(nerve_model *m, const float *inputs, int64_t count,
                                     float *outputs, nerve_error *err);
/* Width of one prediction row: every output value of one sample (the
 * output's per-sample shape flattened, T x C for a per-step classifier). */
NERVE_API int64_t nerve_model_output_size(const nerve_model *m);

/* One member of an ensemble: a model with its weights loaded, and the
 * evaluation samples normalised for it (every member's data hold the same
 * samples and targets in the same order; normalisation may differ). */
typedef struct nerve_ensemble_member {
    nerve_model *model;
    const nerve_dataset *data;
    const char *name;        /* in error messages, e.g. "b.cfg:b.safetensors" */
} nerve_ensemble_member;

typedef struct nerve_ensemble_evaluation {
    int count;
    nerve_evaluation *members; /* [count]: each member alone, as nerve_evaluate */
    /* The ensemble: the members' predictions (nerve_model_prediction:
     * probabilities for classifiers) averaged. Its loss is the negative log of
     * the averaged probability of the true class (per label) for classifiers,
     * the mean squared error of the averaged outputs otherwise. */
    nerve_evaluation ensemble;
} nerve_ensemble_evaluation;

/* Evaluates count >= 1 members on their data in eval mode, batch by batch
 * (batch 0: the first member's [net] batch), a buffer of one batch of
 * averaged predictions allocated once. The members must agree on the output
 * width, the classes and the samples' count and targets; a mismatch is an
 * error naming the member. */
NERVE_API nerve_status nerve_evaluate_ensemble(const nerve_ensemble_member *members, int count,
                                               int64_t batch, nerve_ensemble_evaluation *out,
                                               nerve_error *err);
NERVE_API void nerve_ensemble_evaluation_free(nerve_ensemble_evaluation *e);

/* ---------------------------------------------------------------- pre-training */

/* Greedy layer-wise pre-training (Hinton & Salakhutdinov 2006; Bengio et al.
 * 2007, "Greedy layer-wise training of deep networks"), docs/cli.md, "nerve
 * pretrain". Each hidden dense layer, bottom up, becomes the encoder of a
 * one-hidden-layer autoencoder trained to reconstruct the layer's input: the
 * training set passed, in eval mode, through the layers below it (already
 * pre-trained). The encoder has the layer's shape, bias and activation= and
 * starts from its current weights; the decoder is a dense layer back to the
 * input width, with a sigmoid when every input value lies in [0, 1] (pixels
 * scaled to [0, 1], a sigmoid layer's codes) and linear otherwise. It is
 * trained on the squared error against the clean input summed over a row's
 * values and averaged over the batch; reports give it per value (the MSE).
 * After its epochs the encoder's weights are copied into the layer. */
typedef struct nerve_pretrain_report {
    const char *layer;          /* the model's layer name */
    int index, count;           /* 1-based among the layers pre-trained */
    int64_t inputs, units;      /* the layer's input and output widths */
    bool sigmoid_decoder;       /* false: a linear decoder */
    int epoch, epochs;          /* the epoch just done (on_layer: epochs) */
    double loss;                /* the epoch's training error per value (noisy inputs) */
    /* The reconstruction error (MSE) of the clean training inputs, over the
     * whole set, before the first epoch and after the last (on_layer; NaN in
     * on_epoch's reports). */
    double start_loss, end_loss;
    double seconds;             /* since the layer's start */
} nerve_pretrain_report;

typedef struct nerve_pretrain_options {
    int epochs;        /* per layer, >= 1 */
    int64_t batch;     /* mini-batch; 0: the whole training set */
    double noise;      /* masking noise (denoising autoencoder, Vincent et al. 2008): each
                          input value zeroed with this probability while training, in [0, 1) */
    double lr;         /* > 0; the other settings of the model's [optimizer] apply as they are */
    uint64_t seed;     /* the shuffling, the noise and the decoder's initial weights */
    /* Called after each epoch and after each layer with its report (either may be NULL). */
    void (*on_epoch)(const nerve_pretrain_report *r, void *user);
    void (*on_layer)(const nerve_pretrain_report *r, void *user);
    void *user;
} nerve_pretrain_options;

/* [net] epochs, [net] batch, no noise, [optimizer] lr and [net] seed. */
NERVE_API nerve_pretrain_options nerve_pretrain_options_from(const nerve_model *m);
/* Pre-trains every layer with trainable parameters below the last one (the
 * output layer, which stays as initialised), in cfg order, on train
 * (normalised, as nerve_model_load_data leaves it). Those layers must be
 * dense layers whose activation, if any, is a fixed element-wise function
 * (nerve_activate's: not prelu, a learnable swish, rrelu or crelu); the encoder
 * takes the activation = of the [dense] section only (a separate
 * [activation] layer after it is applied to the codes passed up, but not
 * trained through), so write it there. Any other trainable layer below the
 * output layer is an error naming it, as is a model with no such hidden
 * layer. Layers without parameters (activations, dropout, flatten, ...) run
 * in eval mode in the codes passed up. The model's graph is left planned for
 * options->batch and in eval mode. */
NERVE_API nerve_status nerve_pretrain(nerve_model *m, const nerve_dataset *train,
                                      const nerve_pretrain_options *options, nerve_error *err);

#ifdef __cplusplus
}
#endif
#endif /* NERVE_H */
