/* nerve/ops.h, part of nerve.h (include that, or this part alone): the ops: one builder per
 * operation, activations and losses included. */
#ifndef NERVE_PUBLIC_OPS_H
#define NERVE_PUBLIC_OPS_H

#include "nerve/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

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
    size_t size; /* NERVE_SIZED(nerve_activation_params): see nerve/core.h */
    double negative_slope;   /* leaky_relu: 0.01 */
    double alpha;            /* elu: 1 */
    double beta;             /* softplus, swish: 1 */
    double threshold;        /* softplus: 20; linear where beta * x > threshold */
    double min_val, max_val; /* hardtanh: -1, 1 */
} nerve_activation_params;

NERVE_API void nerve_activation_defaults_sized(nerve_activation_params *out, size_t size);
static inline nerve_activation_params nerve_activation_defaults(void)
{
    nerve_activation_params o;
    nerve_activation_defaults_sized(&o, sizeof o);
    return o;
}
NERVE_API const char *nerve_activation_name(nerve_activation kind);
/* Looks a name ("relu", "leaky_relu", ...) up; false if unknown. */
NERVE_API bool nerve_activation_from_name(const char *name, nerve_activation *kind);

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
    size_t size; /* NERVE_SIZED(nerve_pool2d_options): see nerve/core.h */
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
NERVE_API void nerve_pool2d_defaults_sized(int64_t kernel_h, int64_t kernel_w,
                                           nerve_pool2d_options *out, size_t size);
static inline nerve_pool2d_options nerve_pool2d_defaults(int64_t kernel_h, int64_t kernel_w)
{
    nerve_pool2d_options o;
    nerve_pool2d_defaults_sized(kernel_h, kernel_w, &o, sizeof o);
    return o;
}
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
/* Activation noise (Santurkar et al. 2018's "noisy BatchNorm"): in
 * training, y[n, j] = x[n, j] s_j + b_j for every unit j of a sample (all
 * axes but the batch), with s_j ~ U(1 - scale, 1 + scale) and b_j ~
 * U(-shift, shift) drawn anew at each training step (the graph's position,
 * as dropout's masks) and shared by the batch's samples: a shift of the
 * distribution later layers see, from step to step. Eval mode is the
 * identity. 0 <= scale < 1, 0 <= shift. */
NERVE_API nerve_node nerve_activation_noise(nerve_graph *g, nerve_node x, double scale,
                                            double shift, nerve_error *err);

/* 2-D convolutions on NCHW images, as torch.nn.functional.conv2d and
 * conv_transpose2d. Pairs are (height, width). nerve_conv2d_options_default
 * gives PyTorch's defaults: stride 1, padding 0, dilation 1, groups 1,
 * output_padding 0; NULL options mean the same. */
typedef struct nerve_conv2d_options {
    size_t size; /* NERVE_SIZED(nerve_conv2d_options): see nerve/core.h */
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

NERVE_API void nerve_conv2d_options_default_sized(nerve_conv2d_options *out, size_t size);
static inline nerve_conv2d_options nerve_conv2d_options_default(void)
{
    nerve_conv2d_options o;
    nerve_conv2d_options_default_sized(&o, sizeof o);
    return o;
}
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

/* Start from nerve_loss_options_default() (or pass NULL): a zeroed struct
 * is not the defaults shown in brackets. Its zero delta, temperature and
 * margin are refused with a message, but a zero beta, gamma or soft_weight
 * is a valid setting (smooth_l1 as l1, focal as cross-entropy, distillation
 * on labels only), different from PyTorch's default. */
typedef struct nerve_loss_options {
    size_t size; /* NERVE_SIZED(nerve_loss_options): see nerve/core.h */
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
    /* large_margin_softmax's annealing (Liu et al. 2016's code): at training
     * step t, lambda_t = max(lambda_min, lambda (1 + lambda_gamma t)^-lambda_power);
     * lambda_gamma 0 (the default): lambda throughout. The trainer sets it. */
    double lambda_min, lambda_gamma, lambda_power;
    /* One value per class (or per output for bce_with_logits), or NULL:
     * softmax_cross_entropy and nll: class weights; focal: alpha;
     * bce_with_logits: pos_weight (weight_count 1 applies to every output). */
    const float *weights;
    int64_t weight_count;
    /* mse, l1, huber, smooth_l1, bce, bce_with_logits ([loss] one_hot, the
     * model's concern): class labels as targets, each turned into a one-hot
     * vector of the output's width, so that the network is a classifier
     * (accuracy reported) trained with that loss. */
    bool one_hot;
} nerve_loss_options;

NERVE_API void nerve_loss_options_default_sized(nerve_loss_options *out, size_t size);
static inline nerve_loss_options nerve_loss_options_default(void)
{
    nerve_loss_options o;
    nerve_loss_options_default_sized(&o, sizeof o);
    return o;
}

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

#ifdef __cplusplus
}
#endif
#endif /* NERVE_PUBLIC_OPS_H */
