"""Initialiser fixtures: the numbers torch.nn.init computes, for tests/test_init.c.

init.safetensors -- every tensor has shape [1], float32.
    gain.<name>  torch.nn.init.calculate_gain(<name>) for linear, sigmoid, tanh,
        relu, selu, leaky_relu (no parameter: slope 0.01) and, as
        gain.leaky_relu_0.2, calculate_gain('leaky_relu', 0.2).
    For each weight shape S in 256x784, 10x128, 3x7, 1x5 and 16x3x5x5 (a
    convolution's [out, in, kh, kw]), under the prefix "S.":
        fan_in, fan_out     torch.nn.init._calculate_fan_in_and_fan_out
        <case>.low, <case>.high   the bounds torch passes to uniform_, or
        <case>.mean, <case>.std   the mean and std it passes to normal_,
    for each <case> below (the cfg spelling nerve parses, then torch's call):
        xavier_uniform                 xavier_uniform_(w)
        xavier_normal                  xavier_normal_(w)
        xavier_uniform_tanh            xavier_uniform_(w, gain=calculate_gain('tanh'))
        kaiming_uniform                kaiming_uniform_(w)
        kaiming_normal_fan_out_relu    kaiming_normal_(w, mode='fan_out', nonlinearity='relu')
        kaiming_uniform_leaky_0.2      kaiming_uniform_(w, a=0.2)
        kaiming_normal_selu            kaiming_normal_(w, nonlinearity='selu')
        kaiming_uniform_tanh_fan_out   kaiming_uniform_(w, mode='fan_out', nonlinearity='tanh')
        lecun_uniform                  kaiming_uniform_(w, nonlinearity='linear')
        lecun_normal                   kaiming_normal_(w, nonlinearity='linear')
    and, for the 2-D shapes [out, in] only, nn.Linear(in, out)'s own
    reset_parameters: linear.weight.low/high and linear.bias.low/high.

The bounds are recorded from torch itself: torch.Tensor.uniform_ and normal_
are wrapped while the initialiser runs, so the fixture holds the arguments
torch computed, not a re-derivation of its formulas.
"""

import contextlib

import torch
import torch.nn as nn
import torch.nn.init as init

GAINS = (("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None),
         ("selu", None), ("leaky_relu", None), ("leaky_relu_0.2", 0.2))

SHAPES = ((256, 784), (10, 128), (3, 7), (1, 5), (16, 3, 5, 5))

CASES = (
    ("xavier_uniform", lambda w: init.xavier_uniform_(w)),
    ("xavier_normal", lambda w: init.xavier_normal_(w)),
    ("xavier_uniform_tanh", lambda w: init.xavier_uniform_(w, gain=init.calculate_gain("tanh"))),
    ("kaiming_uniform", lambda w: init.kaiming_uniform_(w)),
    ("kaiming_normal_fan_out_relu",
     lambda w: init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")),
    ("kaiming_uniform_leaky_0.2", lambda w: init.kaiming_uniform_(w, a=0.2)),
    ("kaiming_normal_selu", lambda w: init.kaiming_normal_(w, nonlinearity="selu")),
    ("kaiming_uniform_tanh_fan_out",
     lambda w: init.kaiming_uniform_(w, mode="fan_out", nonlinearity="tanh")),
    ("lecun_uniform", lambda w: init.kaiming_uniform_(w, nonlinearity="linear")),
    ("lecun_normal", lambda w: init.kaiming_normal_(w, nonlinearity="linear")),
)


@contextlib.contextmanager
def recording_draws():
    """Yields a list that receives ("uniform", low, high) or ("normal", mean,
    std) for every uniform_/normal_ call torch makes meanwhile."""
    calls = []
    original_uniform, original_normal = torch.Tensor.uniform_, torch.Tensor.normal_

    def uniform_(self, a=0.0, b=1.0, **kwargs):
        calls.append(("uniform", a, b))
        return original_uniform(self, a, b, **kwargs)

    def normal_(self, mean=0.0, std=1.0, **kwargs):
        calls.append(("normal", mean, std))
        return original_normal(self, mean, std, **kwargs)

    torch.Tensor.uniform_, torch.Tensor.normal_ = uniform_, normal_
    try:
        yield calls
    finally:
        torch.Tensor.uniform_, torch.Tensor.normal_ = original_uniform, original_normal


def scalar(value):
    return torch.tensor([float(value)], dtype=torch.float64)


def record(tensors, prefix, call):
    kind, first, second = call
    names = ("low", "high") if kind == "uniform" else ("mean", "std")
    tensors[prefix + names[0]] = scalar(first)
    tensors[prefix + names[1]] = scalar(second)


def make_init():
    torch.manual_seed(7)
    tensors = {}
    for name, param in GAINS:
        nonlinearity = "leaky_relu" if name.startswith("leaky_relu") else name
        tensors["gain." + name] = scalar(init.calculate_gain(nonlinearity, param))
    for shape in SHAPES:
        prefix = "x".join(str(d) for d in shape) + "."
        weight = torch.empty(shape)
        fan_in, fan_out = init._calculate_fan_in_and_fan_out(weight)
        tensors[prefix + "fan_in"] = scalar(fan_in)
        tensors[prefix + "fan_out"] = scalar(fan_out)
        for case, initialise in CASES:
            with recording_draws() as calls:
                initialise(weight)
            assert len(calls) == 1, (case, calls)
            record(tensors, prefix + case + ".", calls[0])
        if len(shape) == 2:
            with recording_draws() as calls:
                nn.Linear(shape[1], shape[0])
            assert len(calls) == 2, calls
            record(tensors, prefix + "linear.weight.", calls[0])
            record(tensors, prefix + "linear.bias.", calls[1])
    # eye_ draws nothing: the identity's ones on the diagonal, wide and tall
    # (IRNN's recurrent weights).
    for shape in ((3, 5), (5, 3)):
        tensors["eye.%dx%d" % shape] = init.eye_(torch.empty(shape))
    return tensors


FIXTURES = [
    ("init.safetensors", make_init,
     "calculate_gain values; fans, bounds and stds of torch.nn.init and nn.Linear for a few shapes; eye_ on 3x5 and 5x3"),
]
