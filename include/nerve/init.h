/* nerve/init.h, part of nerve.h (include that, or this part alone): initialisers, as
 * torch.nn.init. */
#ifndef NERVE_PUBLIC_INIT_H
#define NERVE_PUBLIC_INIT_H

#include "nerve/core.h"

#ifdef __cplusplus
extern "C" {
#endif

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
    NERVE_INIT_EYE,             /* the identity matrix (torch's eye_; 2-D only): IRNN */
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

#ifdef __cplusplus
}
#endif
#endif /* NERVE_PUBLIC_INIT_H */
