/* nerve/layers.h, part of nerve.h (include that, or this part alone): layers: builders that own
 * their parameters (PyTorch names). */
#ifndef NERVE_PUBLIC_LAYERS_H
#define NERVE_PUBLIC_LAYERS_H

#include "nerve/init.h"
#include "nerve/ops.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- layers */

/* Options structs: a zeroed struct (or one with only the required fields
 * set, {.units = 3}) means the documented defaults wherever the zero value
 * can, so switches that default to on are spelt as their negation (no_bias).
 * The structs whose defaults cannot be zero (a batch norm's eps, an
 * optimizer's betas, a schedule's gamma, ...) have a function that returns
 * them, named beside each: start from it. */
typedef struct nerve_dense_options {
    size_t size; /* NERVE_SIZED(nerve_dense_options): see nerve/core.h */
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
    size_t size; /* NERVE_SIZED(nerve_maxout_options): see nerve/core.h */
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
    size_t size; /* NERVE_SIZED(nerve_batchnorm_options): see nerve/core.h */
    double eps;               /* added to the variance, > 0 (1e-5) */
    double momentum;          /* of the running statistics, in [0, 1] (0.1) */
    /* Off switches, so that a struct filled in part keeps PyTorch's
     * affine = True and track_running_stats = True: */
    bool no_affine;           /* no learned weight and bias per channel (false) */
    bool no_running_stats;    /* no running statistics: batch statistics in eval mode too (false) */
} nerve_batchnorm_options;

/* PyTorch's defaults, shown above. */
NERVE_API void nerve_batchnorm_defaults_sized(nerve_batchnorm_options *out, size_t size);
static inline nerve_batchnorm_options nerve_batchnorm_defaults(void)
{
    nerve_batchnorm_options o;
    nerve_batchnorm_defaults_sized(&o, sizeof o);
    return o;
}
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
    size_t size; /* NERVE_SIZED(nerve_conv_layer_options): see nerve/core.h */
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
NERVE_API void nerve_conv_layer_options_default_sized(nerve_conv_layer_options *out, size_t size);
static inline nerve_conv_layer_options nerve_conv_layer_options_default(void)
{
    nerve_conv_layer_options o;
    nerve_conv_layer_options_default_sized(&o, sizeof o);
    return o;
}
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
    size_t size; /* NERVE_SIZED(nerve_embedding_options): see nerve/core.h */
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
    size_t size; /* NERVE_SIZED(nerve_recurrent_options): see nerve/core.h */
    nerve_recurrent_cell cell;
    int64_t hidden;     /* H, >= 1 */
    int64_t layers;     /* stacked layers, each reading the previous one's sequence (1) */
    bool bidirectional; /* a reverse direction beside each forward one (false) */
    bool last;          /* output the final state only, not the whole sequence (false) */
    double dropout;     /* dropout on every layer's output but the last, in [0, 1) (0) */
    bool no_bias;       /* false (the default): bias_ih and bias_hh */
    nerve_init init;    /* every weight's initialiser (zeroed: PyTorch's default) */
    /* weight_hh's own initialiser (zeroed: init's), e.g. eye for an IRNN (Le
     * et al. 2015), and the biases' (zeroed: PyTorch's U(+-1/sqrt(H))). */
    nerve_init init_hh, bias_init;
} nerve_recurrent_options;

/* PyTorch's defaults, shown above, for a cell of `hidden` units. */
NERVE_API void nerve_recurrent_options_default_sized(nerve_recurrent_cell cell, int64_t hidden,
                                                     nerve_recurrent_options *out, size_t size);
static inline nerve_recurrent_options nerve_recurrent_options_default(nerve_recurrent_cell cell,
                                                                      int64_t hidden)
{
    nerve_recurrent_options o;
    nerve_recurrent_options_default_sized(cell, hidden, &o, sizeof o);
    return o;
}
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

#ifdef __cplusplus
}
#endif
#endif /* NERVE_PUBLIC_LAYERS_H */
